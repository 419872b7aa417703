import { v5 as uuidV5 } from 'uuid';
import { NO_STREAM, StreamVersionConflictError, type EventStore } from '../../platform/eventSourcing/eventStore';
import { planRefresh, type PlannedRegion, type RefreshPlan } from '../domain/refreshPlan';
import type { ForecastRefreshRequest } from './forecastRefreshRequests';
import { FORECAST_EVENT_TTL_SECONDS, regionDecider, toRegionStreamId, type RegionCommand } from '../domain/region';
import type { RegionViews } from './regionViews';
import type { LocationForecast, WeatherProvider } from './weatherProvider';
import { regionForecastKey, type RegionForecastView } from '../projection/regionForecastDocument';

export interface ForecastRefreshDeps {
  readonly eventStore: EventStore;
  readonly views: RegionViews;
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
  /**
   * How long each request sent to the provider took (retries included), for latency percentiles.
   * Optional: results recorded in an orchestration history before it existed have none.
   */
  readonly requestMs?: readonly number[];
}

/** Plans one refresh cycle from the region forecast views (the planActivity of the orchestration). */
export async function planForecastCycle(deps: ForecastRefreshDeps, at: Date): Promise<CyclePlan> {
  const plan = planRefresh(await deps.views.regionRefreshStates(), at, {
    ...deps.forecast,
    batchSize: deps.weather.maxLocationsPerRequest,
  });
  return { ...plan, refreshMinutes: deps.forecast.refreshMinutes, parallelism: deps.forecast.parallelism, source: deps.weather.name };
}

/**
 * Fetches one batch of regions (one provider request for Open-Meteo) and records each outcome. Never
 * throws for a region's failure — a durable fan-out has no allSettled — so every region comes back as
 * updated, failed or already recorded.
 */
export async function refreshForecastBatch(
  deps: ForecastRefreshDeps,
  cycleId: string,
  regions: readonly PlannedRegion[],
): Promise<BatchOutcome> {
  const started = Date.now();
  const requestMs: number[] = [];
  const outcomes = await deps.weather.fetchForecasts(regions, { onRequest: (ms) => requestMs.push(ms) });
  const providerMs = Date.now() - started;
  const updated: string[] = [];
  const failed: { region: string; reason: string }[] = [];
  const alreadyRecorded: string[] = [];
  await forEachBounded(regions, RECORDS_IN_PARALLEL, async ({ region }) => {
    const outcome = outcomes.find((candidate) => candidate.region === region) ?? {
      region,
      ok: false as const,
      reason: 'The provider gave no forecast for this region.',
    };
    try {
      const recorded = await recordForecastOutcome(deps, outcome, cycleId);
      if (!recorded) alreadyRecorded.push(region);
      else if (outcome.ok) updated.push(region);
      else failed.push({ region, reason: outcome.reason });
    } catch (error) {
      // The store refused (or the region is unknown): the region stays due and the next cycle tries again.
      failed.push({
        region,
        reason: `${outcome.ok ? 'Fetched, but could not record' : outcome.reason}: ${error instanceof Error ? error.message : String(error)}`,
      });
    }
  });
  return { updated, failed, alreadyRecorded, providerMs, requestMs };
}

export type RefreshNowOutcome = 'updated' | 'failed' | 'alreadyFresh';

/**
 * The `forecast-refresh-requests` consumer: fetches one region's forecast now unless it was recorded
 * at or after the request, or this very request was recorded before (a redelivered message).
 */
export async function refreshRegionNow(deps: ForecastRefreshDeps, request: ForecastRefreshRequest): Promise<RefreshNowOutcome> {
  const cycleId = `request:${request.requestedAt}`;
  const { hasEvent } = await deps.eventStore.probe(toRegionStreamId(request.region), forecastEventId(request.region, cycleId));
  if (hasEvent) return 'alreadyFresh';
  // The view may lag the stream a little; a forecast it already shows as newer than the request is enough.
  const updatedAt = (await deps.views.read<RegionForecastView>(regionForecastKey(request.region)))?.document.updatedAt;
  if (updatedAt && Date.parse(updatedAt) >= Date.parse(request.requestedAt)) return 'alreadyFresh';
  const [outcome] = await deps.weather.fetchForecasts([
    { region: request.region, latitude: request.centre.latitude, longitude: request.centre.longitude },
  ]);
  const recorded = await recordForecastOutcome(
    deps,
    outcome ?? { region: request.region, ok: false, reason: 'The provider gave no forecast for this region.' },
    cycleId,
    request.correlationId,
  );
  if (!recorded) return 'alreadyFresh';
  return outcome?.ok ? 'updated' : 'failed';
}

/** Namespace of forecast event ids: one id per (region, cycle), whoever appends it. */
const FORECAST_EVENTS_NAMESPACE = '8c1f4e2a-3b7d-5e90-a6c2-4d8b1f0e7a35';
const RECORDS_IN_PARALLEL = 8;

export function forecastEventId(region: string, cycleId: string): string {
  return uuidV5(`forecast:${region}:${cycleId}`, FORECAST_EVENTS_NAMESPACE);
}

const MAX_RECORD_ATTEMPTS = 5;

/**
 * Appends the outcome to the region's stream once per (region, cycle); false when it was already
 * there. The stream holds up to two days of large forecasts, so instead of reading and folding it
 * (hundreds of kilobytes per region per cycle), the decider's state comes from a probe: the stream's
 * version and whether this cycle's event id is in it. A region stream exists only once
 * RegionActivated started it, so an existing stream is an active region.
 */
export async function recordForecastOutcome(
  deps: Pick<ForecastRefreshDeps, 'eventStore' | 'clock'>,
  outcome: LocationForecast,
  cycleId: string,
  correlationId = cycleId,
): Promise<boolean> {
  const command: RegionCommand = outcome.ok
    ? {
        type: 'RecordForecast',
        data: { region: outcome.region, cycleId, source: outcome.source, issuedAt: outcome.issuedAt, hourly: outcome.hourly },
      }
    : { type: 'RecordForecastFailure', data: { region: outcome.region, cycleId, reason: outcome.reason } };
  const streamId = toRegionStreamId(outcome.region);
  const eventId = forecastEventId(outcome.region, cycleId);
  for (let attempt = 1; ; attempt++) {
    const { version, hasEvent } = await deps.eventStore.probe(streamId, eventId);
    // The probe stands in for reading the stream: it starts with the activation, and the event id says whether this cycle is in.
    const decided = regionDecider.decide(command, { active: version > NO_STREAM, recordedCycles: new Set(hasEvent ? [cycleId] : []) });
    if (decided.length === 0) return false;
    const metadata = { eventId, correlationId, causationId: cycleId, occurredAt: deps.clock().toISOString() };
    try {
      await deps.eventStore.append(
        streamId,
        decided.map((event) => ({ ...event, metadata, ttlSeconds: FORECAST_EVENT_TTL_SECONDS })),
        version,
      );
      return true;
    } catch (error) {
      // Another cycle's outcome (or this one's, from a concurrent retry) got there first: probe again.
      if (!(error instanceof StreamVersionConflictError) || attempt >= MAX_RECORD_ATTEMPTS) throw error;
    }
  }
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
