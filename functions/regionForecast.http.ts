import { app } from '@azure/functions';
import { lazyHandler } from '../shared/platform/composition/lazyHandler';

app.http('regionForecast', {
  methods: ['GET'],
  route: 'api/regions/{region}/forecast',
  authLevel: 'anonymous',
  handler: lazyHandler(async () => (await import('../handlers/regionForecast.http')).regionForecastFunction),
});
