import { registerActivity } from '../shared/platform/composition/durableRegistration';
import { BATCH_ACTIVITY, PLAN_ACTIVITY } from './forecastRefresh.orchestration';

registerActivity(PLAN_ACTIVITY, async () => (await import('../handlers/forecastRefresh.activities')).planForecastRefreshActivity);
registerActivity(BATCH_ACTIVITY, async () => (await import('../handlers/forecastRefresh.activities')).refreshForecastBatchActivity);
