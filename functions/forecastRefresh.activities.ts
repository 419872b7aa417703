import type { InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { z } from 'zod';
import { appServices } from '../shared/appServices';
import { planForecastCycle, refreshForecastBatch, type BatchOutcome, type CyclePlan, type ForecastRefreshDeps } from '../shared/application/refreshForecasts';
import { isRegion } from '../shared/regions/region';
import { BATCH_ACTIVITY, PLAN_ACTIVITY } from './forecastRefresh.orchestration';

const planInput = z.object({ cycleId: z.string().min(1), at: z.iso.datetime({ offset: true }) });
const batchInput = z.object({
  cycleId: z.string().min(1),
  regions: z
    .array(z.object({ region: z.string().refine(isRegion, { error: 'must be a geohash' }), latitude: z.number().min(-90).max(90), longitude: z.number().min(-180).max(180) }))
    .min(1),
});

function forecastDeps(): ForecastRefreshDeps {
  const services = appServices();
  return { ...services, forecast: services.config.forecast };
}

export function planForecastRefreshHandler(deps: () => ForecastRefreshDeps) {
  return async (input: unknown, context: InvocationContext): Promise<CyclePlan> => {
    const { cycleId, at } = planInput.parse(input);
    const plan = await planForecastCycle(deps(), new Date(at));
    context.log(`Forecast refresh ${cycleId}: ${plan.due} regions due, ${plan.due - plan.deferred} planned in ${plan.batches.length} requests, ${plan.deferred} deferred (allowance ${plan.allowance}).`);
    return plan;
  };
}

export function refreshForecastBatchHandler(deps: () => ForecastRefreshDeps) {
  return async (input: unknown, context: InvocationContext): Promise<BatchOutcome> => {
    const { cycleId, regions } = batchInput.parse(input);
    let outcome: BatchOutcome;
    try {
      outcome = await refreshForecastBatch(deps(), cycleId, regions);
    } catch (error) {
      // Whatever went wrong is this batch's outcome, not a failed activity: the orchestrator's fan-out
      // (Task.all) would otherwise lose the other batches of its wave.
      const reason = `The batch failed: ${error instanceof Error ? error.message : String(error)}`;
      outcome = { updated: [], alreadyRecorded: [], providerMs: 0, failed: regions.map(({ region }) => ({ region, reason })) };
    }
    // One line per batch in a fixed shape, so Application Insights can chart it (see docs/operations.md).
    context.log(
      `ForecastRefreshBatch cycle=${cycleId} regions=${regions.length} updated=${outcome.updated.length} failed=${outcome.failed.length} alreadyRecorded=${outcome.alreadyRecorded.length} providerMs=${outcome.providerMs}`,
    );
    for (const { region, reason } of outcome.failed) context.warn(`Forecast for region ${region} failed in ${cycleId}: ${reason}`);
    return outcome;
  };
}

df.app.activity(PLAN_ACTIVITY, { handler: planForecastRefreshHandler(forecastDeps) });
df.app.activity(BATCH_ACTIVITY, { handler: refreshForecastBatchHandler(forecastDeps) });
