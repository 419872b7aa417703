import type { InvocationContext, StorageQueueHandler } from '@azure/functions';
import { appServices } from '../shared/platform/composition/appServices';
import { refreshRegionNow, type ForecastRefreshDeps } from '../shared/regions/application/refreshForecasts';
import { errorSummary, withCorrelation } from '../shared/platform/logging';
import {
  FORECAST_REFRESH_QUEUE,
  parseForecastRefreshRequest,
  type ForecastRefreshRequest,
} from '../shared/regions/application/forecastRefreshRequests';

/**
 * forecast-refresh-requests → the region's forecast fetched and recorded now: a newly activated
 * region should not wait for the next scheduled cycle, nor should a region whose first search in a
 * while found an old forecast (so the next search is fresh). Idempotent: a redelivered request, or
 * one the scheduled refresh already answered, changes nothing; one the day's call budget cannot
 * afford is dropped (`overBudget`: the rota fetches the region when the budget allows). A malformed
 * message throws, so after maxDequeueCount tries it rests in the poison queue for someone to look at.
 */
export function fetchRegionForecastNowHandler(deps: () => ForecastRefreshDeps) {
  return async (message: unknown, context: InvocationContext): Promise<void> => {
    let request: ForecastRefreshRequest;
    try {
      request = parseForecastRefreshRequest(message);
    } catch (error) {
      // Thrown on: after maxDequeueCount tries the message rests in the poison queue.
      withCorrelation(context, correlationIdOfMessage(message) ?? 'unknown').error('ForecastRequestMalformed', {
        queue: FORECAST_REFRESH_QUEUE,
        error: errorSummary(error),
      });
      throw error;
    }
    const log = withCorrelation(context, request.correlationId);
    const started = Date.now();
    let outcome: Awaited<ReturnType<typeof refreshRegionNow>>;
    try {
      outcome = await refreshRegionNow(deps(), request);
    } catch (error) {
      // The event store refused: thrown on, so the queue delivers the message again (5 tries, then poison).
      log.warn('ForecastFetchNowFailed', { region: request.region, durationMs: Date.now() - started, error: errorSummary(error) });
      throw error;
    }
    // failed: recorded as ForecastFetchFailed; the next scheduled cycle tries again. overBudget: nothing fetched.
    const fields = {
      region: request.region,
      reason: request.reason,
      outcome,
      requestedAt: request.requestedAt,
      durationMs: Date.now() - started,
    };
    if (outcome === 'failed') log.warn('ForecastFetchNow', fields);
    else log.info('ForecastFetchNow', fields);
  };
}

function correlationIdOfMessage(message: unknown): string | undefined {
  let value: unknown = message;
  if (typeof message === 'string') {
    try {
      value = JSON.parse(message);
    } catch {
      return undefined;
    }
  }
  return typeof value === 'object' && value !== null && 'correlationId' in value && typeof value.correlationId === 'string'
    ? value.correlationId.slice(0, 200)
    : undefined;
}

export const fetchRegionForecastNowFunction: StorageQueueHandler = (message, context) => {
  const services = appServices();
  return fetchRegionForecastNowHandler(() => ({ ...services, forecast: services.config.forecast }))(message, context);
};
