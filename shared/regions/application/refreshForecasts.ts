import { v5 as uuidV5 } from 'uuid';
import { forEachBounded } from '../../platform/forEachBounded';
import { NO_STREAM, StreamVersionConflictError, type EventStore } from '../../platform/eventSourcing/eventStore';
import { dailyCallLimit, utcDay } from '../domain/callBudget';
import { planRefresh, type PlannedRegion, type RefreshPlan, type RefreshPlanSettings } from '../domain/refreshPlan';
import { demandFetchCycleId, demandFetchStillWanted } from '../domain/searchDemand';
import { callsPerMinuteOf, cycleMinutesOf, demandFetchRuleOf, freshnessTargetsOf, type ForecastSettings } from './forecastSettings';
import type { ForecastRefreshRequest } from './forecastRefreshRequests';
import { hoursWorthKeeping } from '../domain/forecastColumns';
import { FORECAST_EVENT_TTL_SECONDS, regionDecider, toRegionStreamId, type RegionCommand } from '../domain/region';
import type { RegionViews } from './regionViews';
import type { LocationForecast, WeatherProvider } from './weatherProvider';
import { regionForecastKey, type RegionForecastView } from '../projection/regionForecastDocument';

export interface ForecastRefreshDeps {
  readonly eventStore: EventStore;
  /** The forecast views, the search demand beside them, and the day's call ledger. */
  readonly views: RegionViews;
  readonly weather: WeatherProvider;
  readonly clock: () => Date;
  readonly forecast: ForecastSettings;
}

/** A cycle's plan as the orchestrator gets it: everything it needs, so the orchestrator reads no settings. */
export interface CyclePlan extends RefreshPlan {
  /**
   * Minutes from this cycle's start to the next's. (Plans recorded before cycles had a setting of
   * their own have only `refreshMinutes`, which was the cycle then.)
   */
  readonly cycleMinutes: number;
  /** How old any region's forecast may get. */
  readonly refreshMinutes: number;
  readonly parallelism: number;
  readonly source: string;
  /** The UTC day the planned fetches were counted on, for the batches to give back the ones they did not make. */
  readonly callsDay: string;
  /**
   * Batches one batch activity fetches in turn, each fetch sent while the batch before is recorded, so
   * recording overlaps the provider's latency instead of adding to it. Absent in plans recorded before
   * it existed: one.
   */
  readonly batchesPerActivity?: number;
}

/**
 * At most this many batches per activity: a crashed activity's retry then repeats a bounded amount of
 * work, and the status moves on at least every parallelism × 10 batches.
 */
export const MAX_BATCHES_PER_ACTIVITY = 10;

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
  /** Region fetches the batch made (counted in the call ledger); optional for the same reason. */
  readonly calls?: number;
}

/** A plan that could not count its fetches after this many tries (fetch-now requests counting at the same moment) fetches nothing. */
const MAX_RESERVE_ATTEMPTS = 3;

/**
 * Plans one refresh cycle (the plan activity of the orchestration): the regions' states and demand
 * in one query, the day's calls so far, then the pure planner; the planned fetches are counted in
 * the ledger before the plan is handed over, so fetch-now requests can never take the same calls.
 */
export async function planForecastCycle(deps: ForecastRefreshDeps, at: Date): Promise<CyclePlan> {
  const settings: RefreshPlanSettings = {
    cycleMinutes: cycleMinutesOf(deps.forecast),
    dailyCallBudget: deps.forecast.dailyCallBudget,
    callsPerMinute: callsPerMinuteOf(deps.forecast),
    batchSize: deps.weather.maxLocationsPerRequest,
    ...freshnessTargetsOf(deps.forecast),
  };
  const day = utcDay(at);
  const states = await deps.views.regionRefreshStates();
  let plan = planRefresh(states, at, settings, await deps.views.callsOn(day));
  for (let attempt = 1; ; attempt++) {
    const planned = plan.batches.reduce((sum, batch) => sum + batch.length, 0);
    if (planned === 0 || (await deps.views.reserveCalls(day, planned, plan.callLimit))) break;
    if (attempt >= MAX_RESERVE_ATTEMPTS) {
      plan = { ...plan, batches: [], deferred: plan.due, searchedDeferred: plan.searchedDue };
      break;
    }
    plan = planRefresh(states, at, settings, await deps.views.callsOn(day));
  }
  const parallelism = Math.max(1, deps.forecast.parallelism);
  return {
    ...plan,
    cycleMinutes: settings.cycleMinutes,
    refreshMinutes: deps.forecast.refreshMinutes,
    parallelism: deps.forecast.parallelism,
    source: deps.weather.name,
    callsDay: day,
    // Every activity slot busy for the whole cycle: one wave when the batches allow.
    batchesPerActivity: Math.min(MAX_BATCHES_PER_ACTIVITY, Math.max(1, Math.ceil(plan.batches.length / parallelism))),
  };
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
  callsDay?: string,
): Promise<BatchOutcome> {
  return recordBatch(deps, cycleId, regions, await fetchBatch(deps, regions, callsDay));
}

/**
 * Several batches in turn, as one outcome: each batch's fetch is sent as soon as the one before has
 * its answer, so it is in flight while that batch is recorded, and there is never more than one
 * request of this call in flight. Never throws for a region's failure, as {@link refreshForecastBatch}.
 */
export async function refreshForecastBatches(
  deps: ForecastRefreshDeps,
  cycleId: string,
  batches: readonly (readonly PlannedRegion[])[],
  callsDay?: string,
): Promise<BatchOutcome> {
  const outcomes: BatchOutcome[] = [];
  let next = batches[0] && fetchBatch(deps, batches[0], callsDay);
  for (let index = 0; next; index++) {
    const fetched = await next;
    const following = batches[index + 1];
    next = following && fetchBatch(deps, following, callsDay);
    // Should recording throw, the fetch in flight is abandoned: its failure must not go unhandled.
    next?.catch(() => undefined);
    outcomes.push(await recordBatch(deps, cycleId, batches[index] ?? [], fetched));
  }
  return {
    updated: outcomes.flatMap((outcome) => outcome.updated),
    failed: outcomes.flatMap((outcome) => outcome.failed),
    alreadyRecorded: outcomes.flatMap((outcome) => outcome.alreadyRecorded),
    providerMs: outcomes.reduce((sum, outcome) => sum + outcome.providerMs, 0),
    requestMs: outcomes.flatMap((outcome) => outcome.requestMs ?? []),
    calls: outcomes.reduce((sum, outcome) => sum + (outcome.calls ?? 0), 0),
  };
}

interface FetchedBatch {
  readonly outcomes: readonly LocationForecast[];
  readonly providerMs: number;
  readonly requestMs: readonly number[];
  readonly calls: number;
}

async function fetchBatch(
  deps: ForecastRefreshDeps,
  regions: readonly PlannedRegion[],
  callsDay: string | undefined,
): Promise<FetchedBatch> {
  const started = Date.now();
  const requestMs: number[] = [];
  const outcomes = await deps.weather.fetchForecasts(regions, { onRequest: (ms) => requestMs.push(ms) });
  const providerMs = Date.now() - started;
  const calls = callsMade(deps.weather, regions.length, outcomes, requestMs.length);
  // Histories recorded before the ledger have no day: nothing was counted for them.
  if (callsDay !== undefined) await releaseUnmade(deps.views, callsDay, regions.length - calls);
  return { outcomes, providerMs, requestMs, calls };
}

async function recordBatch(
  deps: ForecastRefreshDeps,
  cycleId: string,
  regions: readonly PlannedRegion[],
  { outcomes, providerMs, requestMs, calls }: FetchedBatch,
): Promise<BatchOutcome> {
  const updated: string[] = [];
  const failed: { region: string; reason: string }[] = [];
  const alreadyRecorded: string[] = [];
  await forEachBounded(regions, RECORDS_IN_PARALLEL, async ({ region, version }) => {
    const outcome = outcomes.find((candidate) => candidate.region === region) ?? {
      region,
      ok: false as const,
      reason: 'The provider gave no forecast for this region.',
    };
    try {
      const recorded = await recordForecastOutcome(deps, outcome, cycleId, { knownVersion: version });
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
  return { updated, failed, alreadyRecorded, providerMs, requestMs, calls };
}

/**
 * How many of `planned` region fetches reached the provider: a location in a request it was sent
 * counts as one call. A request the open circuit refused is never told (WeatherProvider's
 * `onRequest`), so a batch with no request told and no forecast made none.
 */
function callsMade(weather: WeatherProvider, planned: number, outcomes: readonly LocationForecast[], requestsTold: number): number {
  const forecasts = outcomes.filter((outcome) => outcome.ok).length;
  if (requestsTold === 0 && forecasts === 0) return 0;
  return Math.max(forecasts, Math.min(planned, requestsTold * weather.maxLocationsPerRequest));
}

async function releaseUnmade(ledger: RegionViews, day: string, unmade: number): Promise<void> {
  if (unmade <= 0) return;
  try {
    await ledger.releaseCalls(day, unmade);
  } catch {
    // Left counted: the ledger then errs on the safe side, and the budget is never overspent for it.
  }
}

export type RefreshNowOutcome = 'updated' | 'failed' | 'alreadyFresh' | 'overBudget';

/**
 * The `forecast-refresh-requests` consumer: fetches one region's forecast now, within the day's call
 * budget, unless this very request was recorded before (a redelivered message) or a forecast
 * recorded since makes it moot: for a new region, any recorded at or after the request; after a
 * search, one younger than a search would have asked about. A search's requests share one cycle id
 * per region and {@link demandFetchCycleId} slot, so copies from several instances fetch once.
 */
export async function refreshRegionNow(deps: ForecastRefreshDeps, request: ForecastRefreshRequest): Promise<RefreshNowOutcome> {
  const cycleId = request.reason === 'searched' ? demandFetchCycleId(request.requestedAt) : `request:${request.requestedAt}`;
  const { version, hasEvent } = await deps.eventStore.probe(toRegionStreamId(request.region), forecastEventId(request.region, cycleId));
  if (hasEvent) return 'alreadyFresh';
  // The view may lag the stream a little; a forecast it already shows as recent enough is enough.
  const updatedAt = (await deps.views.read<RegionForecastView>(regionForecastKey(request.region)))?.document.updatedAt ?? null;
  if (!stillWanted(request, updatedAt, deps.forecast)) return 'alreadyFresh';
  const now = deps.clock();
  const day = utcDay(now);
  if (!(await deps.views.reserveCalls(day, 1, dailyCallLimit(now, deps.forecast.dailyCallBudget)))) return 'overBudget';
  const requestMs: number[] = [];
  const [outcome] = await deps.weather.fetchForecasts(
    [{ region: request.region, latitude: request.centre.latitude, longitude: request.centre.longitude }],
    { onRequest: (ms) => requestMs.push(ms) },
  );
  await releaseUnmade(deps.views, day, 1 - callsMade(deps.weather, 1, outcome ? [outcome] : [], requestMs.length));
  const recorded = await recordForecastOutcome(
    deps,
    outcome ?? { region: request.region, ok: false, reason: 'The provider gave no forecast for this region.' },
    cycleId,
    { correlationId: request.correlationId, knownVersion: version },
  );
  if (!recorded) return 'alreadyFresh';
  return outcome?.ok ? 'updated' : 'failed';
}

function stillWanted(request: ForecastRefreshRequest, updatedAt: string | null, forecast: ForecastSettings): boolean {
  if (request.reason === 'searched') return demandFetchStillWanted(updatedAt, request.requestedAt, demandFetchRuleOf(forecast));
  return updatedAt === null || Date.parse(updatedAt) < Date.parse(request.requestedAt);
}

/** Namespace of forecast event ids: one id per (region, cycle), whoever appends it. */
const FORECAST_EVENTS_NAMESPACE = '8c1f4e2a-3b7d-5e90-a6c2-4d8b1f0e7a35';
const RECORDS_IN_PARALLEL = 8;

export function forecastEventId(region: string, cycleId: string): string {
  return uuidV5(`forecast:${region}:${cycleId}`, FORECAST_EVENTS_NAMESPACE);
}

const MAX_RECORD_ATTEMPTS = 5;

export interface RecordOptions {
  /** Default: the cycle id. */
  readonly correlationId?: string;
  /**
   * A version the stream has reached (the plan's, from the region's view; a probe just made): the
   * first append is made at it without probing. One it has since moved on from costs a conflict and
   * the probe that follows. Never one the stream may not have reached: an append there could land
   * after this cycle's own event and record the cycle twice.
   */
  readonly knownVersion?: number;
}

/**
 * Appends the outcome to the region's stream once per (region, cycle); false when it was already
 * there. The stream holds up to two days of large forecasts, so instead of reading and folding it
 * (hundreds of kilobytes per region per cycle), the decider's state comes from a probe: the stream's
 * version and whether this cycle's event id is in it — or, first, from `knownVersion`, taken as a
 * stream without this cycle's event: if the event is there after all (a retried activity), the
 * append either meets it at that very position (the store says it was already stored) or conflicts
 * and the probe finds it. A region stream exists only once RegionActivated started it, so an
 * existing stream is an active region.
 */
export async function recordForecastOutcome(
  deps: Pick<ForecastRefreshDeps, 'eventStore' | 'clock'>,
  outcome: LocationForecast,
  cycleId: string,
  { correlationId = cycleId, knownVersion }: RecordOptions = {},
): Promise<boolean> {
  const command: RegionCommand = outcome.ok
    ? {
        type: 'RecordForecast',
        data: {
          region: outcome.region,
          cycleId,
          source: outcome.source,
          issuedAt: outcome.issuedAt,
          hourly: hoursWorthKeeping(outcome.hourly, deps.clock()),
        },
      }
    : { type: 'RecordForecastFailure', data: { region: outcome.region, cycleId, reason: outcome.reason } };
  const streamId = toRegionStreamId(outcome.region);
  const eventId = forecastEventId(outcome.region, cycleId);
  // A stream at version 0 has no activation: only the probe may say so (and the decider refuse).
  let known = knownVersion !== undefined && knownVersion > NO_STREAM ? knownVersion : undefined;
  // The append at the known version comes on top of the probed attempts.
  for (let attempt = known === undefined ? 1 : 0; ; attempt++) {
    const { version, hasEvent } =
      known === undefined ? await deps.eventStore.probe(streamId, eventId) : { version: known, hasEvent: false };
    known = undefined;
    // The probe stands in for reading the stream: it starts with the activation, and the event id says whether this cycle is in.
    const decided = regionDecider.decide(command, { active: version > NO_STREAM, recordedCycles: new Set(hasEvent ? [cycleId] : []) });
    if (decided.length === 0) return false;
    const metadata = { eventId, correlationId, causationId: cycleId, occurredAt: deps.clock().toISOString() };
    try {
      const { alreadyStored } = await deps.eventStore.append(
        streamId,
        decided.map((event) => ({ ...event, metadata, ttlSeconds: FORECAST_EVENT_TTL_SECONDS })),
        version,
      );
      // Already stored: this very append was made before (a retried activity; rarely the SDK's own
      // retry of a write that landed), so it counts as already recorded.
      return !alreadyStored;
    } catch (error) {
      // Another cycle's outcome (or this one's, from a concurrent retry) got there first: probe again.
      if (!(error instanceof StreamVersionConflictError) || attempt >= MAX_RECORD_ATTEMPTS) throw error;
    }
  }
}
