import { v5 as uuidV5 } from 'uuid';
import { readTyped, type EventStore } from '../eventStore/eventStore';
import { FORECAST_EVENT_TTL_SECONDS, isRegionStreamEvent, regionForecastDecider, type ForecastCommand } from '../forecasts/forecastRecording';
import { planRefresh, type PlannedRegion, type RefreshPlan } from '../forecasts/refreshPlan';
import type { ForecastRefreshRequest } from '../queues/forecastRefreshRequests';
import { toRegionStreamId } from '../regions/region';
import type { ViewStore } from '../views/viewStore';
import type { LocationForecast, WeatherProvider } from '../weather/weatherProvider';
import { handleCommand } from './handleCommand';

export interface ForecastRefreshDeps {
  readonly eventStore: EventStore;
  readonly views: ViewStore;
  readonly weather: WeatherProvider;
  readonly clock: () => Date;
  readonly forecast: { readonly refreshMinutes: number; readonly dailyCallBudget: number; readonly parallelism: number };
}

/** A cycle's plan as the orchestrator gets it: everything it needs, so the orchestrator reads no settings. */
export interface CyclePlan extends RefreshPlan {
  readonly refreshMinutes: number;
  readonly parallelism: number;
  readonly source: string;
}

export interface BatchOutcome {
  /** Regions whose forecast this run recorded. */
  readonly updated: readonly string[];
  /** Regions whose fetch failed (recorded as ForecastFetchFailed when the store allowed). */
  readonly failed: readonly { readonly region: string; readonly reason: string }[];
  /** Regions this cycle had already recorded (a retried or replayed activity). */
  readonly alreadyRecorded: readonly string[];
  /** Time spent waiting for the weather provider. */
  readonly providerMs: number;
}

/** Plans one refresh cycle from the region forecast views (the planActivity of the orchestration). */
export async function planForecastCycle(deps: ForecastRefreshDeps, at: Date): Promise<CyclePlan> {
  const plan = planRefresh(await deps.views.regionRefreshStates(), at, { ...deps.forecast, batchSize: deps.weather.maxLocationsPerRequest });
  return { ...plan, refreshMinutes: deps.forecast.refreshMinutes, parallelism: deps.forecast.parallelism, source: deps.weather.name };
}

/**
 * Fetches one batch of regions (one provider request for Open-Meteo) and records each outcome. Never
 * throws for a region's failure — a durable fan-out has no allSettled — so every region comes back as
 * updated, failed or already recorded.
 */
export async function refreshForecastBatch(deps: ForecastRefreshDeps, cycleId: string, regions: readonly PlannedRegion[]): Promise<BatchOutcome> {
  const started = Date.now();
  const outcomes = await deps.weather.fetchForecasts(regions);
  const providerMs = Date.now() - started;
  const updated: string[] = [];
  const failed: { region: string; reason: string }[] = [];
  const alreadyRecorded: string[] = [];
  await forEachBounded(regions, RECORDS_IN_PARALLEL, async ({ region }) => {
    const outcome = outcomes.find((candidate) => candidate.region === region) ?? { region, ok: false as const, reason: 'The provider gave no forecast for this region.' };
    try {
      const recorded = await recordForecastOutcome(deps, outcome, cycleId);
      if (!recorded) alreadyRecorded.push(region);
      else if (outcome.ok) updated.push(region);
      else failed.push({ region, reason: outcome.reason });
    } catch (error) {
      // The store refused (or the region is unknown): the region stays due and the next cycle tries again.
      failed.push({ region, reason: `${outcome.ok ? 'Fetched, but could not record' : outcome.reason}: ${error instanceof Error ? error.message : String(error)}` });
    }
  });
  return { updated, failed, alreadyRecorded, providerMs };
}

export type RefreshNowOutcome = 'updated' | 'failed' | 'alreadyFresh';

/**
 * The `forecast-refresh-requests` consumer: fetches one region's forecast now unless it was recorded
 * at or after the request, or this very request was recorded before (a redelivered message).
 */
export async function refreshRegionNow(deps: ForecastRefreshDeps, request: ForecastRefreshRequest): Promise<RefreshNowOutcome> {
  const cycleId = `request:${request.requestedAt}`;
  const { events } = await readTyped(deps.eventStore, toRegionStreamId(request.region), isRegionStreamEvent);
  const requestedAt = Date.parse(request.requestedAt);
  const fresh = events.some(
    (event) => (event.type === 'ForecastUpdated' && Date.parse(event.metadata.occurredAt) >= requestedAt) || ((event.type === 'ForecastUpdated' || event.type === 'ForecastFetchFailed') && event.data.cycleId === cycleId),
  );
  if (fresh) return 'alreadyFresh';
  const [outcome] = await deps.weather.fetchForecasts([{ region: request.region, latitude: request.centre.latitude, longitude: request.centre.longitude }]);
  const recorded = await recordForecastOutcome(deps, outcome ?? { region: request.region, ok: false, reason: 'The provider gave no forecast for this region.' }, cycleId, request.correlationId);
  if (!recorded) return 'alreadyFresh';
  return outcome?.ok ? 'updated' : 'failed';
}

/** Namespace of forecast event ids: one id per (region, cycle), whoever appends it. */
const FORECAST_EVENTS_NAMESPACE = '8c1f4e2a-3b7d-5e90-a6c2-4d8b1f0e7a35';
const RECORDS_IN_PARALLEL = 8;

export function forecastEventId(region: string, cycleId: string): string {
  return uuidV5(`forecast:${region}:${cycleId}`, FORECAST_EVENTS_NAMESPACE);
}

/** Appends the outcome to the region's stream once per (region, cycle); false when it was already there. */
export async function recordForecastOutcome(deps: Pick<ForecastRefreshDeps, 'eventStore' | 'clock'>, outcome: LocationForecast, cycleId: string, correlationId = cycleId): Promise<boolean> {
  const command: ForecastCommand = outcome.ok
    ? { type: 'RecordForecast', data: { region: outcome.region, cycleId, source: outcome.source, issuedAt: outcome.issuedAt, hourly: outcome.hourly } }
    : { type: 'RecordForecastFailure', data: { region: outcome.region, cycleId, reason: outcome.reason } };
  const result = await handleCommand(
    deps.eventStore,
    toRegionStreamId(outcome.region),
    regionForecastDecider,
    isRegionStreamEvent,
    command,
    { correlationId, causationId: cycleId, now: deps.clock(), eventId: () => forecastEventId(outcome.region, cycleId) },
    { ttlSeconds: () => FORECAST_EVENT_TTL_SECONDS },
  );
  return result.appended.length > 0;
}

async function forEachBounded<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await work(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
