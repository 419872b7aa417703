/**
 * A simulated stretch of days of the demand-driven forecast refresh, in simulated time. It drives the
 * application code the functions run — planForecastCycle (the plan activity: states and demand in
 * one read, the pure planner, the call ledger), refreshForecastBatch (the batch activity),
 * refreshRegionNow (the fetch-now queue consumer) and SearchDemandRecorder (what a search notes) —
 * over the in-memory adapters. What it stands in for: the durable orchestration's timing (a cycle
 * starts up to `cycleLateMs` after its timer, its batches land in waves), the queue's latency, the
 * change feed's projection of a recorded forecast (written to the region's view at once), and the
 * weather provider (every fetch succeeds).
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
  readonly repeatSearches: readonly RepeatSearch[];
  /** First searches (none of the region in the window before): how old the forecast they saw was. */
  readonly firstSearchAges: readonly number[];
  /** The oldest any region's forecast got after the warm-up (checked each time one was replaced, and at the end). */
  readonly maxAgeMinutes: number;
  /** Region fetches per UTC day, as the ledger counted them and as the simulated provider saw them. */
  readonly ledgerCalls: ReadonlyMap<string, number>;
  readonly providerCalls: ReadonlyMap<string, number>;
  readonly cycles: number;
  readonly deferred: number;
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
  const weather: WeatherProvider = {
    name: 'simulated',
    maxLocationsPerRequest: settings.batchSize,
    fetchForecasts: (locations, options) => {
      options?.onRequest?.(0);
      providerCalls.set(utcDay(clock()), (providerCalls.get(utcDay(clock())) ?? 0) + locations.length);
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
  let warmedUpAt = Number.POSITIVE_INFINITY;
  let maxAgeMinutes = 0;
  const recorded = async (region: string) => {
    const previous = updatedAt.get(region);
    if (previous !== undefined && now >= warmedUpAt) maxAgeMinutes = Math.max(maxAgeMinutes, (now - previous) / 60_000);
    updatedAt.set(region, now);
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
        if (outcome === 'updated') await recorded(request.region);
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

  // Searches.
  const searches = simulatedSearches(regions, settings.demand, start, end);
  const lastSearched = new Map<string, number>();
  const repeatSearches: RepeatSearch[] = [];
  const firstSearchAges: number[] = [];
  for (const search of searches)
    timeline.add(search.at, () => {
      const fetchedAt = updatedAt.get(search.region);
      const ageMinutes = fetchedAt === undefined ? null : (now - fetchedAt) / 60_000;
      const previous = lastSearched.get(search.region);
      if (now >= warmedUpAt && ageMinutes !== null) {
        if (previous !== undefined && previous > now - SEARCHED_WINDOW_HOURS * 3_600_000)
          repeatSearches.push({ at: now, region: search.region, ageMinutes, fetchInFlight: (inFlight.get(search.region) ?? 0) > 0 });
        else firstSearchAges.push(ageMinutes);
      }
      lastSearched.set(search.region, now);
      // As the nearby search answers: the forecast's age in whole minutes.
      recorder.searched([{ region: search.region, forecastAgeMinutes: ageMinutes === null ? null : Math.floor(ageMinutes) }], log);
      return Promise.resolve();
    });

  // The eternal orchestration: plan, batches in waves, the next cycle a cycle after this one started.
  let cycles = 0;
  let deferred = 0;
  const cycle = async (): Promise<void> => {
    cycles++;
    const cycleId = `${clock().toISOString()}#${cycles}`;
    const started = now;
    const plan = await planForecastCycle(deps, clock());
    deferred += plan.deferred;
    plan.batches.forEach((batch, index) => {
      const landsAt = started + settings.firstWaveMs + Math.floor(index / settings.forecast.parallelism) * settings.perWaveMs;
      timeline.add(landsAt, async () => {
        const outcome = await refreshForecastBatch(deps, cycleId, batch, plan.callsDay);
        for (const region of outcome.updated) await recorded(region);
        if (cycles === 1 && index === plan.batches.length - 1) warmedUpAt = now;
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
    repeatSearches,
    firstSearchAges,
    maxAgeMinutes,
    ledgerCalls,
    providerCalls,
    cycles,
    deferred,
    fetchNow,
    warnings,
  };
}
