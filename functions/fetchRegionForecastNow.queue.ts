import { app, type InvocationContext } from '@azure/functions';
import { appServices } from '../shared/appServices';
import { refreshRegionNow, type ForecastRefreshDeps } from '../shared/application/refreshForecasts';
import { FORECAST_REFRESH_QUEUE, parseForecastRefreshRequest } from '../shared/queues/forecastRefreshRequests';

/**
 * forecast-refresh-requests → the region's forecast fetched and recorded now (a newly activated
 * region should not wait for the next scheduled cycle). Idempotent: a redelivered request, or one
 * the scheduled refresh already answered, changes nothing. A malformed message throws, so after
 * maxDequeueCount tries it rests in the poison queue for someone to look at.
 */
export function fetchRegionForecastNowHandler(deps: () => ForecastRefreshDeps) {
  return async (message: unknown, context: InvocationContext): Promise<void> => {
    const request = parseForecastRefreshRequest(message);
    const outcome = await refreshRegionNow(deps(), request);
    const text = { updated: 'forecast updated', failed: 'fetch failed (recorded as ForecastFetchFailed; the next cycle retries)', alreadyFresh: 'already fresh, nothing to do' }[outcome];
    const line = `Region ${request.region} (${request.reason}, correlation ${request.correlationId}): ${text}.`;
    if (outcome === 'failed') context.warn(line);
    else context.log(line);
  };
}

app.storageQueue('fetchRegionForecastNow', {
  queueName: FORECAST_REFRESH_QUEUE,
  connection: 'AzureWebJobsStorage',
  handler: (message, context) => {
    const services = appServices();
    return fetchRegionForecastNowHandler(() => ({ ...services, forecast: services.config.forecast }))(message, context);
  },
});
