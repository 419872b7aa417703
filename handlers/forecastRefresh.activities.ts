import type { InvocationContext } from '@azure/functions';
import { z } from 'zod';
import { BATCH_METRIC, batchMetricFields, REGION_FAILED_METRIC } from '../shared/regions/application/forecastRefreshMetrics';
import {
  planForecastCycle,
  refreshForecastBatch,
  refreshForecastBatches,
  type BatchOutcome,
  type CyclePlan,
  type ForecastRefreshDeps,
} from '../shared/regions/application/refreshForecasts';
import { errorSummary, withCorrelation } from '../shared/platform/logging';
import { isRegion } from '../shared/regions/domain/region';
import { appServices } from '../shared/platform/composition/appServices';

const planInput = z.object({ cycleId: z.string().min(1), at: z.iso.datetime({ offset: true }) });
const plannedBatch = z
  .array(
    z.object({
      region: z.string().refine(isRegion, { error: 'must be a geohash' }),
      latitude: z.number().min(-90).max(90),
      longitude: z.number().min(-180).max(180),
      version: z.number().int().min(0).optional(),
    }),
  )
  .min(1);
/** One batch (`regions`, as plans without batchesPerActivity send it) or several fetched in turn (`batches`). */
const batchInput = z.union([
  z.object({ cycleId: z.string().min(1), callsDay: z.iso.date().optional(), regions: plannedBatch }),
  z.object({ cycleId: z.string().min(1), callsDay: z.iso.date().optional(), batches: z.array(plannedBatch).min(1) }),
]);

function forecastDeps(): ForecastRefreshDeps {
  const services = appServices();
  return { ...services, forecast: services.config.forecast };
}

export function planForecastRefreshHandler(deps: () => ForecastRefreshDeps) {
  return async (input: unknown, context: InvocationContext): Promise<CyclePlan> => {
    const { cycleId, at } = planInput.parse(input);
    // The cycle id is the correlation id of everything the cycle does (its events carry it too).
    const log = withCorrelation(context, cycleId);
    const plan = await planForecastCycle(deps(), new Date(at));
    log.info('ForecastRefreshPlanned', {
      cycle: cycleId,
      due: plan.due,
      planned: plan.due - plan.deferred,
      batches: plan.batches.length,
      deferred: plan.deferred,
      allowance: plan.allowance,
      source: plan.source,
      searchedDue: plan.searchedDue,
      searchedDeferred: plan.searchedDeferred,
      retryLater: plan.retryLater,
      callsToday: plan.callsToday,
      callLimit: plan.callLimit,
    });
    return plan;
  };
}

export function refreshForecastBatchHandler(deps: () => ForecastRefreshDeps) {
  return async (input: unknown, context: InvocationContext): Promise<BatchOutcome> => {
    const parsed = batchInput.parse(input);
    const { cycleId, callsDay } = parsed;
    const regions = 'batches' in parsed ? parsed.batches.flat() : parsed.regions;
    const log = withCorrelation(context, cycleId);
    let outcome: BatchOutcome;
    try {
      outcome =
        'batches' in parsed
          ? await refreshForecastBatches(deps(), cycleId, parsed.batches, callsDay)
          : await refreshForecastBatch(deps(), cycleId, regions, callsDay);
    } catch (error) {
      // Whatever went wrong is this batch's outcome, not a failed activity: the orchestrator's fan-out
      // (Task.all) would otherwise lose the other batches of its wave.
      const reason = `The batch failed: ${errorSummary(error)}`;
      log.error('ForecastRefreshBatchFailed', { cycle: cycleId, regions: regions.length, reason }, error);
      outcome = {
        updated: [],
        alreadyRecorded: [],
        providerMs: 0,
        requestMs: [],
        failed: regions.map(({ region }) => ({ region, reason })),
      };
    }
    // One line per batch in a fixed shape, so Application Insights can chart it (see docs/operations.md).
    log.info(
      BATCH_METRIC,
      batchMetricFields({
        cycleId,
        regions: regions.length,
        updated: outcome.updated.length,
        failed: outcome.failed.length,
        alreadyRecorded: outcome.alreadyRecorded.length,
        providerMs: outcome.providerMs,
        requestMs: outcome.requestMs ?? [],
      }),
    );
    for (const { region, reason } of outcome.failed) log.warn(REGION_FAILED_METRIC, { cycle: cycleId, region, reason });
    return outcome;
  };
}

export const planForecastRefreshActivity = planForecastRefreshHandler(forecastDeps);
export const refreshForecastBatchActivity = refreshForecastBatchHandler(forecastDeps);
