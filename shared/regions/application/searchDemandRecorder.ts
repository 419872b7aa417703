import type { CorrelatedLog } from '../../platform/logging';
import { regionCentre } from '../domain/geohash';
import {
  DEMAND_FETCH_SLOT_MINUTES,
  DEMAND_FLUSH_SECONDS,
  demandFetchWanted,
  hourKey,
  SEARCHED_WINDOW_HOURS,
  type DemandFetchRule,
} from '../domain/searchDemand';
import type { ForecastRefreshQueue } from './forecastRefreshRequests';
import type { SearchDemandStore } from './searchDemand';

/** A region a search answered with, and how old its forecast was then. */
export interface SearchedRegion {
  readonly region: string;
  /** Null when the answer showed no forecast for it. */
  readonly forecastAgeMinutes: number | null;
}

/**
 * The region a parent searches: that of the first result, where they are looking. Each region noted
 * is held to the searched target for 6 hours, about 5 calls more a day; noting every result's region
 * (or the first three's) would hold a whole town's cells to it for each search, more than the free
 * tier's daily calls pay for (test/unit/regions/demandRefreshSimulation.test.ts).
 */
export function searchedRegionsOf(
  results: readonly { readonly region: string; readonly forecast: { readonly ageMinutes: number | null } | null }[],
): SearchedRegion[] {
  const first = results[0];
  return first ? [{ region: first.region, forecastAgeMinutes: first.forecast?.ageMinutes ?? null }] : [];
}

export interface SearchDemandRecorderDeps {
  readonly demand: SearchDemandStore;
  readonly forecastRefreshQueue: ForecastRefreshQueue;
  readonly clock: () => Date;
  /** When a search asks for a fetch now: refreshForecasts.ts `demandFetchRuleOf(settings)`, the rule the consumer applies too. */
  readonly rule: DemandFetchRule;
  /** Runs `flush` after `ms`; by default an unref'd timer, so a pending flush never holds a process open. */
  readonly schedule?: (flush: () => void, ms: number) => void;
}

/** A buffer holding this many regions is flushed at once rather than when the timer fires. */
export const FLUSH_AT_REGIONS = 500;
/** Regions buffered at most (while the store refuses, say): past it a search's new regions are dropped, and counted as dropped. */
export const MAX_BUFFERED_REGIONS = 10_000;
/** Fetch-now requests one search may send at most (its nearest places' regions come first). */
export const MAX_FETCH_REQUESTS_PER_SEARCH = 5;
/** Regions remembered for deciding on fetch-now requests; the least recently searched are forgotten first. */
const MAX_REMEMBERED_REGIONS = 20_000;

interface Buffered {
  readonly hours: Map<string, number>;
  lastSearchedAt: number;
}

/**
 * Records which regions parents' searches answered with, cheaply: counts per region and hour are
 * buffered in the instance and written at most every {@link DEMAND_FLUSH_SECONDS} (one small write
 * per region searched since the last flush, whatever the number of searches). A search that finds a
 * region's forecast too old for the searched target asks the `forecast-refresh-requests` queue to
 * fetch it now, so the next search of it is fresh (at most once per region per
 * {@link DEMAND_FETCH_SLOT_MINUTES} from this instance; the consumer also drops other instances'
 * copies and counts the fetch against the daily budget). Nothing here throws at, or waits for, the
 * search: failures are reported in the log of the next search that comes along.
 */
export class SearchDemandRecorder {
  private buffer = new Map<string, Buffered>();
  private readonly searchedAt = new Map<string, number>();
  private readonly requestedAt = new Map<string, number>();
  private flushScheduled = false;
  private flushing: Promise<void> | undefined;
  /** After a failed write, a full buffer waits for the timer rather than retrying on every search. */
  private noEarlyFlushBefore = Number.NEGATIVE_INFINITY;
  private readonly failures = { flush: 0, fetchRequest: 0, dropped: 0, lastError: '' };

  constructor(private readonly deps: SearchDemandRecorderDeps) {}

  /** Notes the regions of one search's answer (nearest first). Returns at once; never throws. */
  searched(regions: readonly SearchedRegion[], log: CorrelatedLog): void {
    this.reportFailures(log);
    const now = this.deps.clock();
    const at = now.getTime();
    const hour = hourKey(now);
    let requests = 0;
    for (const { region, forecastAgeMinutes } of unique(regions)) {
      const knownSearched = (this.searchedAt.get(region) ?? Number.NEGATIVE_INFINITY) > at - SEARCHED_WINDOW_HOURS * 3_600_000;
      remember(this.searchedAt, region, at);
      this.count(region, hour, 1, at);
      const wanted = demandFetchWanted({ ageMinutes: forecastAgeMinutes, knownSearched }, this.deps.rule);
      const askedLately = (this.requestedAt.get(region) ?? Number.NEGATIVE_INFINITY) > at - DEMAND_FETCH_SLOT_MINUTES * 60_000;
      if (wanted && !askedLately && requests < MAX_FETCH_REQUESTS_PER_SEARCH) {
        requests++;
        this.requestFetch(region, now, log.correlationId);
      }
    }
    if (this.buffer.size >= FLUSH_AT_REGIONS && !this.flushing && at >= this.noEarlyFlushBefore) void this.flush();
    else this.scheduleFlush();
  }

  /** Writes what is buffered (also called by the timer). Never rejects: a failed write is kept for the next flush. */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
    if (this.buffer.size === 0) return;
    const batch = this.buffer;
    this.buffer = new Map();
    this.flushing = this.write(batch);
    try {
      await this.flushing;
    } finally {
      this.flushing = undefined;
    }
  }

  private async write(batch: Map<string, Buffered>): Promise<void> {
    const counts = [...batch].map(([region, { hours, lastSearchedAt }]) => ({
      region,
      hours: Object.fromEntries(hours),
      lastSearchedAt: new Date(lastSearchedAt).toISOString(),
    }));
    try {
      await this.deps.demand.addSearches(counts, this.deps.clock());
    } catch (error) {
      // Kept whole for the next flush, even the regions already written: demand then errs on the high
      // side, which only moves a region up the order, never lets a search go uncounted.
      this.fail('flush', error);
      this.noEarlyFlushBefore = this.deps.clock().getTime() + DEMAND_FLUSH_SECONDS * 1000;
      for (const [region, { hours, lastSearchedAt }] of batch)
        for (const [hour, searches] of hours) this.count(region, hour, searches, lastSearchedAt);
      this.scheduleFlush();
    }
  }

  private count(region: string, hour: string, searches: number, at: number): void {
    let buffered = this.buffer.get(region);
    if (!buffered) {
      if (this.buffer.size >= MAX_BUFFERED_REGIONS) {
        this.failures.dropped += searches;
        return;
      }
      buffered = { hours: new Map(), lastSearchedAt: at };
      this.buffer.set(region, buffered);
    }
    buffered.hours.set(hour, (buffered.hours.get(hour) ?? 0) + searches);
    buffered.lastSearchedAt = Math.max(buffered.lastSearchedAt, at);
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    const schedule = this.deps.schedule ?? ((flush: () => void, ms: number) => setTimeout(flush, ms).unref());
    schedule(() => {
      this.flushScheduled = false;
      void this.flush();
    }, DEMAND_FLUSH_SECONDS * 1000);
  }

  private requestFetch(region: string, now: Date, correlationId: string): void {
    let centre;
    try {
      centre = regionCentre(region);
    } catch {
      return; // Not a region the refresh could fetch for: nothing to ask.
    }
    remember(this.requestedAt, region, now.getTime());
    this.deps.forecastRefreshQueue
      .send({ region, centre, reason: 'searched', correlationId, requestedAt: now.toISOString() })
      .catch((error: unknown) => this.fail('fetchRequest', error));
  }

  private fail(what: 'flush' | 'fetchRequest', error: unknown): void {
    this.failures[what]++;
    this.failures.lastError = error instanceof Error ? error.message : String(error);
  }

  private reportFailures(log: CorrelatedLog): void {
    const { flush, fetchRequest, dropped, lastError } = this.failures;
    if (flush + fetchRequest + dropped === 0) return;
    log.warn('SearchDemandFailures', { flushFailures: flush, fetchRequestFailures: fetchRequest, droppedSearches: dropped, lastError });
    Object.assign(this.failures, { flush: 0, fetchRequest: 0, dropped: 0, lastError: '' });
  }
}

/** Each region once, as the first result from it had it. */
function unique(regions: readonly SearchedRegion[]): SearchedRegion[] {
  const byRegion = new Map<string, SearchedRegion>();
  for (const searched of regions) if (!byRegion.has(searched.region)) byRegion.set(searched.region, searched);
  return [...byRegion.values()];
}

/** Keeps the map in recency order (most recent last) and bounded. */
function remember(map: Map<string, number>, region: string, at: number): void {
  map.delete(region);
  map.set(region, at);
  for (const oldest of map.keys()) {
    if (map.size <= MAX_REMEMBERED_REGIONS) break;
    map.delete(oldest);
  }
}
