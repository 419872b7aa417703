import { app } from '@azure/functions';
import { durableClientInput } from '../shared/platform/composition/durableRegistration';
import { lazyHandler } from '../shared/platform/composition/lazyHandler';

/**
 * Every ten minutes, and once at start-up: Azure runs a timer on one instance at a time, and an
 * ensure is one status read when the orchestration is alive. (runOnStartup is usually discouraged
 * because it fires on every restart and scale-out; here that is the point, and it is idempotent.)
 */
app.timer('ensureForecastRefresh', {
  schedule: '0 */10 * * * *',
  runOnStartup: true,
  extraInputs: [durableClientInput()],
  handler: lazyHandler(async () => (await import('../handlers/forecastRefresh.client')).ensureForecastRefreshFunction),
});

/**
 * GET /api/ops/forecast-refresh (admin): the orchestration's state and its latest cycle, and how
 * fresh the forecasts are by demand. Built field by field, so the durable management URLs and their
 * keys never reach the answer.
 */
app.http('forecastRefreshStatus', {
  methods: ['GET'],
  route: 'api/ops/forecast-refresh',
  authLevel: 'admin',
  extraInputs: [durableClientInput()],
  handler: lazyHandler(async () => (await import('../handlers/forecastRefresh.client')).forecastRefreshStatusFunction),
});
