import { dailyCallLimit } from './callBudget';
import { FORECAST_EVENT_TTL_SECONDS } from './forecastRetention';
import { DEMAND_FLUSH_SECONDS, searchedRecently, searchesSince, SEARCHED_WINDOW_HOURS, type RegionDemand } from './searchDemand';

/** A stream's newest event as a view saw it: its version, and when it occurred. */
export interface StreamPosition {
  readonly version: number;
  readonly at: string;
}

/** What the planner knows of one active region (its forecast view and its search demand). */
export interface RegionRefreshState {
  readonly region: string;
  readonly centre: { readonly latitude: number; readonly longitude: number };
  /** When its latest forecast was recorded; null when it never had one. */
  readonly updatedAt: string | null;
  /** When its latest fetch failed; absent or null when none did. */
  readonly lastFailedAt?: string | null;
  /** Its searches over the last day; absent when it had none. */
  readonly demand?: RegionDemand;
  /** Its stream's newest event as its view saw it (version, occurredAt); absent when unknown. */
  readonly latestEvent?: StreamPosition;
}

/** How old forecasts may get: the freshness the refresh keeps, budget permitting. */
export interface FreshnessTargets {
  /** Any active region's forecast. */
  readonly maxAgeMinutes: number;
  /** The forecast of a region searched in the last {@link SEARCHED_WINDOW_HOURS} hours (never more than `maxAgeMinutes`). */
  readonly searchedMaxAgeMinutes: number;
}

export interface RefreshPlanSettings extends FreshnessTargets {
  /** Minutes between the starts of two cycles. */
  readonly cycleMinutes: number;
  /** Region fetches allowed per UTC day (a location in a multi-location request counts as one call). */
  readonly dailyCallBudget: number;
  /**
   * Region fetches the provider allows per minute: a cycle's fetches land within about a minute, so
   * this is also the most one cycle may fetch ({@link DEFAULT_CALLS_PER_MINUTE} unless set).
   */
  readonly callsPerMinute: number;
  /** Locations per request. */
  readonly batchSize: number;
}

export interface PlannedRegion {
  readonly region: string;
  readonly latitude: number;
  readonly longitude: number;
  /**
   * A version the region's stream has reached ({@link versionReached}): recording appends at it
   * straight away and probes the stream only when it has moved on since. Absent when unknown, and
   * in plans recorded before it existed.
   */
  readonly version?: number;
}

export interface RefreshPlan {
  /** Regions that must be fetched this cycle to stay within their target (or never had a forecast). */
  readonly due: number;
  /** Due regions left for a later cycle because of the budget or the per-minute cap. */
  readonly deferred: number;
  /**
   * Region fetches this cycle may make: what the day's paced budget has left, and at most
   * `callsPerMinute` (so `allowance < callLimit - callsToday` means the per-minute cap held it back).
   */
  readonly allowance: number;
  /** The regions to fetch now, in requests of at most `batchSize`: searched regions first, then the rest oldest first. */
  readonly batches: readonly (readonly PlannedRegion[])[];
  /** Of the due, the regions searched in the window: these come first. */
  readonly searchedDue: number;
  /** Of those, the ones the budget left for later. */
  readonly searchedDeferred: number;
  /** Regions whose latest fetch failed too recently to try again this cycle. */
  readonly retryLater: number;
  /** Region fetches counted today (UTC) before this plan. */
  readonly callsToday: number;
  /** Region fetches the day's budget allows by now ({@link dailyCallLimit}). */
  readonly callLimit: number;
}

/**
 * How long after a cycle starts its fetches may still be landing: the next cycle can start up to
 * ~30 s after its timer (the durable queues' polling), and its plan, fetch and record take up to a
 * minute or so more. A region is fetched in the last cycle that can still land it within its target.
 */
export const FETCH_LEAD_MINUTES = 2;

/**
 * How long the refresh may take to hear of a search and land a fetch for it: an instance reports its
 * searches within {@link DEMAND_FLUSH_SECONDS}, the next cycle starts within `cycleMinutes`, and its
 * fetch lands within {@link FETCH_LEAD_MINUTES}.
 */
export function demandNoticeMinutes(cycleMinutes: number): number {
  return DEMAND_FLUSH_SECONDS / 60 + cycleMinutes + FETCH_LEAD_MINUTES;
}

/**
 * Cycles are at least this long (0 in the settings is "as long as the refresh"). A cycle's fetches may
 * still be landing {@link FETCH_LEAD_MINUTES} after it starts: a shorter cycle would plan again regions
 * whose fetch is in flight, and let two cycles' fetches, each up to `callsPerMinute`, fall in one minute.
 */
export const MIN_CYCLE_MINUTES = FETCH_LEAD_MINUTES;

/** How old a searched region's forecast may get unless the settings say otherwise: the "at most an hour". */
export const DEFAULT_SEARCHED_MAX_AGE_MINUTES = 60;

/**
 * Open-Meteo's free tier: 600 calls a minute (and 5,000 an hour, 10,000 a day), a location in a
 * multi-location request counting as one call. A cycle's fetches go out within seconds, so a cycle
 * must not plan more than this.
 */
export const DEFAULT_CALLS_PER_MINUTE = 600;

/**
 * How young a forecast held to `targetMinutes` may be and still not be due, whatever the due rule
 * says: half the target, less the {@link FETCH_LEAD_MINUTES} a cycle's fetches may take to land.
 *
 * Why a floor: a cycle as long as the target (the defaults: 60-minute cycles, every region held to 60
 * minutes) finds every region due every cycle (`age + cycle + lead > target` always holds), so a
 * region a fetch-now updated seconds before a cycle would be fetched again at once.
 *
 * Why this one: it is the largest that never makes the rota itself late. With cycles shorter than half
 * the target the due rule only fires past `target - cycle - lead`, above the floor; with longer ones a
 * region the rota fetched is at least `cycle - lead` old at the next cycle, at or above the floor.
 * Only a fetch made between cycles (a fetch-now) can then wait past its target, by less than half of
 * it, and only when cycles are longer than half the target.
 */
export function notDueBeforeMinutes(targetMinutes: number): number {
  return targetMinutes / 2 - FETCH_LEAD_MINUTES;
}

/**
 * A region whose fetch failed is not tried again sooner than this: with cycles of 5 minutes or more
 * that is the next cycle, as ever; with shorter ones a location that keeps failing costs a call
 * every few minutes rather than every cycle. (A provider that is down is the circuit breaker's
 * business: its refused requests are never sent, and never counted.)
 */
export const RETRY_AFTER_FAILURE_MINUTES = 4;

/**
 * The age a region's forecast must stay within now, and whether that is the searched target: it is
 * while the region was searched in the last {@link SEARCHED_WINDOW_HOURS} hours.
 */
export function targetOf(state: RegionRefreshState, now: Date, targets: FreshnessTargets): { minutes: number; searched: boolean } {
  return searchedRecently(state.demand, now)
    ? { minutes: Math.min(targets.searchedMaxAgeMinutes, targets.maxAgeMinutes), searched: true }
    : { minutes: targets.maxAgeMinutes, searched: false };
}

/**
 * Plans one refresh cycle (pure). A region is due when waiting for the next cycle would let its
 * forecast get older than its target before that cycle's fetch lands (`age + cycleMinutes +`
 * {@link FETCH_LEAD_MINUTES} `> target`) and it is no younger than {@link notDueBeforeMinutes}, or
 * when it never had one. Regions searched in the last {@link SEARCHED_WINDOW_HOURS}
 * hours are held to the searched target and come first, the most searched first; the rest follow
 * oldest first. What the day's paced budget has left ({@link dailyCallLimit} minus `callsToday`), and
 * at most `callsPerMinute`, is all a cycle may fetch: when that is short, the regions held to the 6 h
 * cap give way first (the freshest of them), then the least searched.
 */
export function planRefresh(
  regions: readonly RegionRefreshState[],
  now: Date,
  settings: RefreshPlanSettings,
  callsToday: number,
): RefreshPlan {
  const at = now.getTime();
  const window = new Date(at - SEARCHED_WINDOW_HOURS * 3_600_000);
  const searchedDue: { state: RegionRefreshState; fetchedAt: number; searches: number }[] = [];
  const otherDue: { state: RegionRefreshState; fetchedAt: number }[] = [];
  let retryLater = 0;
  for (const state of regions) {
    const fetchedAt = timeOf(state.updatedAt);
    const target = targetOf(state, now, settings);
    const ageMinutes = (at - fetchedAt) / 60_000;
    if (!(ageMinutes + settings.cycleMinutes + FETCH_LEAD_MINUTES > target.minutes)) continue;
    if (ageMinutes < notDueBeforeMinutes(target.minutes)) continue;
    const failedAt = timeOf(state.lastFailedAt ?? null);
    if (failedAt > fetchedAt && at - failedAt < RETRY_AFTER_FAILURE_MINUTES * 60_000) {
      retryLater++;
      continue;
    }
    if (target.searched) searchedDue.push({ state, fetchedAt, searches: searchesSince(state.demand, window) });
    else otherDue.push({ state, fetchedAt });
  }
  searchedDue.sort((a, b) => b.searches - a.searches || oldestFirst(a, b));
  otherDue.sort(oldestFirst);

  const callLimit = dailyCallLimit(now, settings.dailyCallBudget);
  // The provider's per-minute limit comes after the day's pacing: both must hold, whichever is smaller.
  const allowance = Math.max(0, Math.min(callLimit - callsToday, settings.callsPerMinute));
  const selected = [...searchedDue, ...otherDue].slice(0, allowance).map(({ state }): PlannedRegion => ({
    region: state.region,
    latitude: state.centre.latitude,
    longitude: state.centre.longitude,
    ...versionReached(state, at),
  }));
  const batchSize = Math.max(1, settings.batchSize);
  const batches: PlannedRegion[][] = [];
  for (let i = 0; i < selected.length; i += batchSize) batches.push(selected.slice(i, i + batchSize));
  const due = searchedDue.length + otherDue.length;
  return {
    due,
    deferred: due - selected.length,
    allowance,
    batches,
    searchedDue: searchedDue.length,
    searchedDeferred: Math.max(0, searchedDue.length - allowance),
    retryLater,
    callsToday,
    callLimit,
  };
}

/**
 * The version of the newest event the region's view saw, while that event is certainly still stored
 * (younger than half the forecast events' TTL: clocks differ, and TTL deletion is never early), so the
 * stream is at that version or beyond. Never one it may not have reached: after every forecast has
 * expired the versions come round again, and an append at a version ahead of the stream could land
 * after an event of the same cycle — a retried activity would record its cycle twice.
 */
function versionReached({ latestEvent }: RegionRefreshState, at: number): { version?: number } {
  if (!latestEvent) return {};
  const age = at - Date.parse(latestEvent.at);
  return age >= 0 && age < (FORECAST_EVENT_TTL_SECONDS * 1000) / 2 ? { version: latestEvent.version } : {};
}

function oldestFirst(a: { state: RegionRefreshState; fetchedAt: number }, b: { state: RegionRefreshState; fetchedAt: number }): number {
  return a.fetchedAt === b.fetchedAt ? a.state.region.localeCompare(b.state.region) : a.fetchedAt < b.fetchedAt ? -1 : 1;
}

/** A time in ms; never (or an unreadable time) is the oldest of all. */
function timeOf(iso: string | null): number {
  const at = iso === null ? Number.NaN : Date.parse(iso);
  return Number.isNaN(at) ? Number.NEGATIVE_INFINITY : at;
}

/** When the cycle that started at `startedAt` is followed by the next one (pure, so orchestrators may use it). */
export function nextCycleAt(startedAt: Date, cycleMinutes: number): Date {
  return new Date(startedAt.getTime() + cycleMinutes * 60_000);
}
