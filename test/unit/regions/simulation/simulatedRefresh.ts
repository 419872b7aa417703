/**
 * A simulated stretch of days of the demand-driven forecast refresh, in simulated time. It drives the
 * application code the functions run — planForecastCycle (the plan activity: states and demand in
 * one read, the pure planner, the call ledger), refreshForecastBatch (the batch activity),
 * refreshRegionNow (the fetch-now queue consumer) and SearchDemandRecorder (what a search notes) —
 * over the in-memory adapters. What it stands in for: the durable orchestration's timing (a cycle
 * starts up to `cycleLateMs` after its timer, its batches land in waves), the queue's latency, the
 * change feed's projection of a recorded forecast (written to the region's view at once), and the
 * weather provider (every fetch succeeds; it counts the calls it gets per UTC day and in every rolling
 * minute and hour, as Open-Meteo limits them).
 */
import ngeohash from 'ngeohash';
import { seededRandom } from '../../../../local/seededRandom';
import type { CorrelatedLog } from '../../../../shared/platform/logging';
import { InMemoryEventStore } from '../../../../shared/platform/eventSourcing/adapters/inMemoryEventStore';
import { InMemoryViewStore } from '../../../../shared/platform/views/adapters/inMemoryViewStore';
import { utcDay } from '../../../../shared/regions/domain/callBudget';
import { regionCentre } from '../../../../shared/regions/domain/geohash';
import { emptyRegionForecastView } from '../../../../shared/regions/projection/regionForecastView';
import type { ForecastRefreshRequest } from '../../../../shared/regions/application/forecastRefreshRequests';
import {
  planForecastCycle,
  refreshForecastBatch,
  refreshRegionNow,
  type ForecastRefreshDeps,
  type RefreshNowOutcome,
} from '../../../../shared/regions/application/refreshForecasts';
import { demandFetchRuleOf, type ForecastSettings } from '../../../../shared/regions/application/forecastSettings';
import { SearchDemandRecorder } from '../../../../shared/regions/application/searchDemandRecorder';
import type { WeatherProvider } from '../../../../shared/regions/application/weatherProvider';
import { SEARCHED_WINDOW_HOURS } from '../../../../shared/regions/domain/searchDemand';
import { simulatedSearches, type DemandModel } from './searchDemandModel';

export interface SimulationSettings {
  readonly start: Date;
  readonly end: Date;
  readonly regions: number;
  readonly demand: DemandModel;
  readonly forecast: ForecastSettings;
  readonly batchSize: number;
  /** How late a cycle may start after its timer (durable queue polling), at most. */
  readonly cycleLateMs: number;
  /** When a cycle's first wave of batches lands after its start, and each further wave after that. */
  readonly firstWaveMs: number;
  readonly perWaveMs: number;
  /** From a search's fetch-now request to its forecast in the views (queue, fetch, change feed). */
  readonly fetchNowLatencyMs: number;
}

/** One search of a region searched in the window before it: the ones the target is promised for. */
export interface RepeatSearch {
  readonly at: number;
  readonly region: string;
  readonly ageMinutes: number;
  /** A fetch-now asked for by an earlier search of the region had not landed yet. */
  readonly fetchInFlight: boolean;
}

export interface SimulationReport {
  readonly regions: readonly string[];
  readonly searches: number;
  readonly tailSearches: number;
  /** Regions the searches noted, summed over searches (each search notes up to 3). */
  readonly searchedRegions: number;
  /** Of the regions noted, those searched in the window before: the ones the target is promised for. */
  readonly repeatSearches: readonly RepeatSearch[];
  /** Regions noted with none of the region in the window before: how old the forecast they saw was. */
  readonly firstSearchAges: readonly number[];
  /** When every region first had a forecast, and the cycle whose batch gave the last one its own; null if never. */
  readonly warmUp: { readonly at: Date; readonly cycle: number } | null;
  /** The oldest any region's forecast got after the warm-up (checked each time one was replaced, and at the end). */
  readonly maxAgeMinutes: number;
  /** How many replaced forecasts the maximum was taken over (the end's check of every region aside). */
  readonly ageChecks: number;
  /** Region fetches per UTC day, as the ledger counted them and as the simulated provider saw them. */
  readonly ledgerCalls: ReadonlyMap<string, number>;
  readonly providerCalls: ReadonlyMap<string, number>;
  /** The most calls the provider got within any 60 seconds, and within any 60 minutes (rolling windows, so clock minutes and hours hold no more). */
  readonly peakCallsPerMinute: number;
  readonly peakCallsPerHour: number;
  readonly cycles: number;
  /** Due regions left for a later cycle, summed over cycles: by the day's paced budget, and by the per-minute cap alone. */
  readonly deferredByBudget: number;
  readonly deferredByCap: number;
  readonly fetchNow: ReadonlyMap<RefreshNowOutcome, number>;
  readonly warnings: readonly string[];
}

interface Scheduled {
  readonly at: number;
  readonly order: number;
  readonly run: () => Promise<void>;
}

/** A small time-ordered queue of simulated happenings (ties in the order they were scheduled). */
class Timeline {
  private readonly items: Scheduled[] = [];
  private order = 0;

  add(at: number, run: () => Promise<void>): void {
    const item = { at, order: this.order++, run };
    let low = 0;
    let high = this.items.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      const other = this.items[middle] as Scheduled;
      if (other.at < at || (other.at === at && other.order < item.order)) low = middle + 1;
      else high = middle;
    }
    this.items.splice(low, 0, item);
  }

  next(): Scheduled | undefined {
    return this.items.shift();
  }
}

/** Distinct regions on a grid over England and Wales, about 11 km × 7 km apart. */
export function gridRegions(count: number, precision = 5): string[] {
  const regions = Array.from({ length: count }, (_, i) =>
    ngeohash.encode(50.6 + Math.floor(i / 50) * 0.1, -3.5 + (i % 50) * 0.1, precision),
  );
  if (new Set(regions).size !== count) throw new Error('The region grid has duplicates.');
  return regions;
}

export async function simulateDemandRefresh(settings: SimulationSettings): Promise<SimulationReport> {
  const start = settings.start.getTime();
  const end = settings.end.getTime();
  const random = seededRandom(settings.demand.seed + 1);
  let now = start;
  const clock = () => new Date(now);
  const timeline = new Timeline();

  const regions = gridRegions(settings.regions);
  const eventStore = new InMemoryEventStore();
  const views = new InMemoryViewStore();
  const updatedAt = new Map<string, number>();
  for (const region of regions) {
    const centre = regionCentre(region);
    await eventStore.append(
      `region-${region}`,
      [
        {
          type: 'RegionActivated',
          data: { region, centre },
          metadata: {
            eventId: `activated-${region}`,
            correlationId: 'simulation',
            causationId: 'simulation',
            occurredAt: clock().toISOString(),
          },
        },
      ],
      0,
    );
    await views.write({ ...emptyRegionForecastView(region), centre, version: 1 }, 'any');
  }

  const providerCalls = new Map<string, number>();
  const callLog: ProviderCalls[] = [];
  const weather: WeatherProvider = {
    name: 'simulated',
    maxLocationsPerRequest: settings.batchSize,
    fetchForecasts: (locations, options) => {
      options?.onRequest?.(0);
      providerCalls.set(utcDay(clock()), (providerCalls.get(utcDay(clock())) ?? 0) + locations.length);
      callLog.push({ at: now, calls: locations.length });
      return Promise.resolve(
        locations.map((location) => ({
          region: location.region,
          ok: true as const,
          source: 'simulated',
          issuedAt: clock().toISOString(),
          hourly: [],
        })),
      );
    },
  };
  const deps: ForecastRefreshDeps = { eventStore, views, weather, clock, forecast: settings.forecast };

  // The projection of a recorded forecast, without the change feed's second or two: the view shows it at once.
  // Warmed up once every region has had a forecast (the per-minute cap spreads the first round over cycles).
  let warmUp: { at: Date; cycle: number } | null = null;
  let maxAgeMinutes = 0;
  let ageChecks = 0;
  const recorded = async (region: string, cycle: number | null) => {
    const previous = updatedAt.get(region);
    if (previous !== undefined && warmUp !== null) {
      maxAgeMinutes = Math.max(maxAgeMinutes, (now - previous) / 60_000);
      ageChecks++;
    }
    updatedAt.set(region, now);
    if (warmUp === null && cycle !== null && updatedAt.size === regions.length) warmUp = { at: clock(), cycle };
    const stored = await views.read<ReturnType<typeof emptyRegionForecastView>>({
      id: `region-${region}`,
      partitionKey: 'regionForecasts',
    });
    if (stored) await views.write({ ...stored.document, updatedAt: clock().toISOString(), version: stored.document.version + 1 }, 'any');
  };

  const warnings: string[] = [];
  const log: CorrelatedLog = {
    correlationId: 'simulated-search',
    info: () => undefined,
    warn: (name, fields) => warnings.push(`${name} ${JSON.stringify(fields)}`),
    error: (name, fields) => warnings.push(`${name} ${JSON.stringify(fields)}`),
  };

  // Fetch-now requests: the consumer runs once the queue hands the message over.
  const fetchNow = new Map<RefreshNowOutcome, number>();
  const inFlight = new Map<string, number>();
  const queue = {
    send: (request: ForecastRefreshRequest) => {
      inFlight.set(request.region, (inFlight.get(request.region) ?? 0) + 1);
      timeline.add(now + settings.fetchNowLatencyMs, async () => {
        const outcome = await refreshRegionNow(deps, request);
        fetchNow.set(outcome, (fetchNow.get(outcome) ?? 0) + 1);
        if (outcome === 'updated') await recorded(request.region, null);
        inFlight.set(request.region, (inFlight.get(request.region) ?? 1) - 1);
      });
      return Promise.resolve();
    },
  };
  const recorder = new SearchDemandRecorder({
    demand: views,
    forecastRefreshQueue: queue,
    clock,
    rule: demandFetchRuleOf(settings.forecast),
    schedule: (flush, ms) =>
      timeline.add(now + ms, async () => {
        flush();
        await recorder.flush();
      }),
  });

  // Searches: each notes the regions of its first results, as the nearby search does.
  const searches = simulatedSearches(regions, settings.demand, start, end);
  const lastSearched = new Map<string, number>();
  const repeatSearches: RepeatSearch[] = [];
  const firstSearchAges: number[] = [];
  for (const search of searches)
    timeline.add(search.at, () => {
      const answered = search.regions.map((region) => {
        const fetchedAt = updatedAt.get(region);
        const ageMinutes = fetchedAt === undefined ? null : (now - fetchedAt) / 60_000;
        const previous = lastSearched.get(region);
        if (warmUp !== null && ageMinutes !== null) {
          if (previous !== undefined && previous > now - SEARCHED_WINDOW_HOURS * 3_600_000)
            repeatSearches.push({ at: now, region, ageMinutes, fetchInFlight: (inFlight.get(region) ?? 0) > 0 });
          else firstSearchAges.push(ageMinutes);
        }
        lastSearched.set(region, now);
        // As the nearby search answers: the forecast's age in whole minutes.
        return { region, forecastAgeMinutes: ageMinutes === null ? null : Math.floor(ageMinutes) };
      });
      recorder.searched(answered, log);
      return Promise.resolve();
    });

  // The eternal orchestration: plan, batches in waves, the next cycle a cycle after this one started.
  let cycles = 0;
  let deferredByBudget = 0;
  let deferredByCap = 0;
  const cycle = async (): Promise<void> => {
    // This cycle's number, kept by its batches: later cycles start before the last of them land.
    const cycleNumber = ++cycles;
    const cycleId = `${clock().toISOString()}#${cycleNumber}`;
    const started = now;
    const plan = await planForecastCycle(deps, clock());
    if (plan.callLimit - plan.callsToday > plan.allowance) deferredByCap += plan.deferred;
    else deferredByBudget += plan.deferred;
    plan.batches.forEach((batch, index) => {
      const landsAt = started + settings.firstWaveMs + Math.floor(index / settings.forecast.parallelism) * settings.perWaveMs;
      timeline.add(landsAt, async () => {
        const outcome = await refreshForecastBatch(deps, cycleId, batch, plan.callsDay);
        for (const region of outcome.updated) await recorded(region, cycleNumber);
      });
    });
    timeline.add(started + plan.cycleMinutes * 60_000 + random() * settings.cycleLateMs, cycle);
  };
  timeline.add(start, cycle);

  for (let item = timeline.next(); item && item.at < end; item = timeline.next()) {
    now = item.at;
    await item.run();
  }
  now = end;
  for (const fetchedAt of updatedAt.values()) maxAgeMinutes = Math.max(maxAgeMinutes, (now - fetchedAt) / 60_000);
  if (updatedAt.size < regions.length) maxAgeMinutes = Number.POSITIVE_INFINITY;

  const ledgerCalls = new Map<string, number>();
  for (let day = start; day < end; day += 86_400_000) {
    const name = utcDay(new Date(day));
    ledgerCalls.set(name, await views.callsOn(name));
  }
  return {
    regions,
    searches: searches.length,
    tailSearches: searches.filter((search) => !search.popular).length,
    searchedRegions: searches.reduce((sum, search) => sum + search.regions.length, 0),
    repeatSearches,
    firstSearchAges,
    warmUp,
    maxAgeMinutes,
    ageChecks,
    ledgerCalls,
    providerCalls,
    peakCallsPerMinute: peakWithin(callLog, 60_000),
    peakCallsPerHour: peakWithin(callLog, 3_600_000),
    cycles,
    deferredByBudget,
    deferredByCap,
    fetchNow,
    warnings,
  };
}

interface ProviderCalls {
  readonly at: number;
  readonly calls: number;
}

/** The most calls within any `windowMs` (a rolling window opening at each request; the log is in time order). */
function peakWithin(log: readonly ProviderCalls[], windowMs: number): number {
  let peak = 0;
  let inWindow = 0;
  let next = 0;
  for (const opening of log) {
    for (let entry = log[next]; entry !== undefined && entry.at < opening.at + windowMs; entry = log[++next]) inWindow += entry.calls;
    peak = Math.max(peak, inWindow);
    inWindow -= opening.calls;
  }
  return peak;
}
