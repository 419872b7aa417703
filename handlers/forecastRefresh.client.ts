import type { HttpRequest, HttpResponseInit, InvocationContext, Timer } from '@azure/functions';
import { durableClientOf } from '../shared/platform/composition/durableRegistration';
import type { DurableClient, DurableOrchestrationStatus } from 'durable-functions';
import type { ForecastRefreshStatusAnswer } from '../shared/regions/application/forecastRefreshStatus';
import { forecastFreshness, freshnessForStatus, type ForecastFreshness } from '../shared/regions/application/forecastFreshness';
import { problemResponse } from '../shared/platform/http/problem';
import { withProblemDetails } from '../shared/platform/http/httpHandler';
import { withCorrelation } from '../shared/platform/logging';
import {
  FORECAST_REFRESH_INSTANCE_ID,
  FORECAST_REFRESH_ORCHESTRATION,
  type CycleInput,
  type ForecastRefreshStatus,
} from '../functions/forecastRefresh.orchestration';

/** States in which the singleton is alive (or deliberately paused): ensuring it then does nothing. */
const ALIVE = new Set<string>(['Pending', 'Running', 'ContinuedAsNew', 'Suspended']);

export type EnsureOutcome = 'running' | 'started' | 'restarted';

/**
 * Makes sure the one forecast refresh orchestration exists and runs: starts it when it never ran,
 * starts it again when it completed, failed or was terminated, and leaves it alone otherwise. Two
 * ensures at once cannot make two instances: the id is fixed, and host.json's
 * `overridableExistingInstanceStates: NonRunningStates` makes the later start fail instead of
 * replacing the running instance — which is then read back as "running".
 */
export async function ensureForecastRefresh(client: DurableClient): Promise<EnsureOutcome> {
  const before = await statusOf(client);
  if (before && ALIVE.has(before.runtimeStatus)) return 'running';
  try {
    await client.startNew(FORECAST_REFRESH_ORCHESTRATION, {
      instanceId: FORECAST_REFRESH_INSTANCE_ID,
      input: { cycle: 1 } satisfies CycleInput,
    });
  } catch (error) {
    const now = await statusOf(client);
    if (now && ALIVE.has(now.runtimeStatus)) return 'running';
    throw error;
  }
  return before ? 'restarted' : 'started';
}

/** The instance's status without history or input; undefined when it never ran. */
export async function statusOf(client: DurableClient): Promise<DurableOrchestrationStatus | undefined> {
  try {
    return await client.getStatus(FORECAST_REFRESH_INSTANCE_ID, { showHistory: false, showHistoryOutput: false, showInput: false });
  } catch (error) {
    // durable-functions v3 reports an unknown instance only as an Error naming the 404.
    if (error instanceof Error && /HTTP 404/.test(error.message)) return undefined;
    throw error;
  }
}

/**
 * GET /api/ops/forecast-refresh (admin): the orchestration's state and its latest cycle, and how
 * fresh the forecasts are by demand. Built field by field, so the durable management URLs and their
 * keys never reach the answer.
 */
export async function forecastRefreshStatusHandler(
  client: DurableClient,
  freshness: () => Promise<ForecastFreshness>,
): Promise<HttpResponseInit> {
  const status = await statusOf(client);
  if (!status)
    return problemResponse(404, 'The forecast refresh has not started yet: it starts with the app and is checked every 10 minutes.', {
      type: 'forecast-refresh-not-started',
    });
  const fresh = await freshnessForStatus(freshness);
  const answer: ForecastRefreshStatusAnswer = {
    instanceId: FORECAST_REFRESH_INSTANCE_ID,
    runtimeStatus: status.runtimeStatus,
    createdTime: iso(status.createdTime),
    lastUpdatedTime: iso(status.lastUpdatedTime),
    // Only the orchestrator sets customStatus, always to a ForecastRefreshStatus.
    cycle: (status.customStatus as ForecastRefreshStatus | undefined) ?? null,
    ...fresh,
  };
  return { status: 200, jsonBody: answer };
}

function iso(value: unknown): string | null {
  if (value instanceof Date) return value.toISOString();
  return typeof value === 'string' ? value : null;
}

export async function ensureForecastRefreshFunction(_timer: Timer, context: InvocationContext): Promise<void> {
  // A timer run has no cause but itself: its invocation id is its correlation id.
  const outcome = await ensureForecastRefresh(await durableClientOf(context));
  if (outcome !== 'running')
    withCorrelation(context, context.invocationId).info('ForecastRefreshEnsured', { outcome, instanceId: FORECAST_REFRESH_INSTANCE_ID });
}

export const forecastRefreshStatusFunction = withProblemDetails(async (_request: HttpRequest, context: InvocationContext) => {
  // The composition root loads with the first status call, not with the start-up timer's ensure.
  const { appServices } = await import('../shared/platform/composition/appServices');
  const services = appServices();
  return forecastRefreshStatusHandler(await durableClientOf(context), () =>
    forecastFreshness({ ...services, forecast: services.config.forecast }),
  );
});
