import { app } from '@azure/functions';
import type { FORECAST_REFRESH_QUEUE } from '../shared/regions/application/forecastRefreshRequests';
import { lazyHandler } from '../shared/platform/composition/lazyHandler';

app.storageQueue('fetchRegionForecastNow', {
  // Spelled out (and checked against the constant) so the worker does not load the request schemas at start.
  queueName: 'forecast-refresh-requests' satisfies typeof FORECAST_REFRESH_QUEUE,
  connection: 'AzureWebJobsStorage',
  handler: lazyHandler(async () => (await import('../handlers/fetchRegionForecastNow.queue')).fetchRegionForecastNowFunction),
});
