import ngeohash from 'ngeohash';
import { activateRegion } from '../../shared/regions/application/activateRegion';
import { projectEvents, type ProjectionDeps } from '../../shared/platform/views/projectEvents';
import {
  forecastEventId,
  planForecastCycle,
  refreshForecastBatch,
  refreshForecastBatches,
  refreshRegionNow,
  type ForecastRefreshDeps,
} from '../../shared/regions/application/refreshForecasts';
import type { RecordedEvent } from '../../shared/kernel/event';
import type { EventStore } from '../../shared/platform/eventSourcing/eventStore';
import { InMemoryEventStore } from '../../shared/platform/eventSourcing/adapters/inMemoryEventStore';
import { FORECAST_EVENT_TTL_SECONDS } from '../../shared/regions/domain/region';
import { InMemoryForecastRefreshQueue } from '../../shared/regions/application/forecastRefreshRequests';
import { InMemoryDeadLetterStore } from '../../shared/platform/views/deadLetters';
import { InMemoryViewStore } from '../../shared/platform/views/adapters/inMemoryViewStore';
import type {
  FetchForecastsOptions,
  ForecastLocation,
  LocationForecast,
  WeatherProvider,
} from '../../shared/regions/application/weatherProvider';
import type { ForecastRefreshRequest } from '../../shared/regions/application/forecastRefreshRequests';
import { regionCentre } from '../../shared/regions/domain/geohash';
import { type HourlyForecast } from '../../shared/kernel/forecast';
import { regionForecast } from '../../shared/regions/application/regionQueries';
import { regionForecastKey, type RegionForecastView } from '../../shared/regions/projection/regionForecastDocument';

/** A provider whose answer per region the test decides; it counts what it was asked. */
class ScriptedProvider implements WeatherProvider {
  readonly name = 'open-meteo';
  readonly requests: string[][] = [];
  failing = new Set<string>();
  /** As an open circuit breaker: nothing is sent, every location fails. */
  circuitOpen = false;
  constructor(readonly maxLocationsPerRequest = 50) {}

  fetchForecasts(locations: readonly ForecastLocation[], options?: FetchForecastsOptions): Promise<LocationForecast[]> {
    if (this.circuitOpen)
      return Promise.resolve(locations.map((location) => ({ region: location.region, ok: false as const, reason: 'circuit open' })));
    options?.onRequest?.(5);
    this.requests.push(locations.map((location) => location.region));
    return Promise.resolve(
      locations.map((location): LocationForecast =>
        this.failing.has(location.region)
          ? { region: location.region, ok: false, reason: 'HTTP 503 (4 attempts)' }
          : {
              region: location.region,
              ok: true,
              source: this.name,
              issuedAt: '2026-11-27T09:00:00.000Z',
              hourly: hours(location.latitude),
            },
      ),
    );
  }
}

function hours(latitude: number): HourlyForecast[] {
  return Array.from({ length: 48 }, (_, i) => ({
    time: new Date(Date.parse('2026-11-27T00:00:00Z') + i * 3_600_000).toISOString(),
    temperatureC: Math.round(latitude) % 10,
    precipitationProbability: 30,
    precipitationMm: 0.1,
    weather: 'cloudy' as const,
    windKph: 10,
    gustKph: 18,
    uvIndex: 1,
  }));
}

const regions = ['gcw2h', 'gcw2j', 'gcw2k', 'gcqrx', 'gcpvj'];

async function setUp(options: { batchSize?: number; budget?: number; refreshMinutes?: number } = {}) {
  let now = new Date('2026-11-27T09:00:00Z');
  const eventStore = new InMemoryEventStore();
  const views = new InMemoryViewStore();
  const weather = new ScriptedProvider(options.batchSize ?? 2);
  const clock = () => now;
  const deps: ForecastRefreshDeps & ProjectionDeps & { views: InMemoryViewStore } = {
    eventStore,
    views,
    weather,
    clock,
    deadLetters: new InMemoryDeadLetterStore(),
    geohash: ngeohash.encode,
    // Every region within an hour, searched ones too; cycles every 5 minutes.
    forecast: { refreshMinutes: options.refreshMinutes ?? 60, cycleMinutes: 5, dailyCallBudget: options.budget ?? 5000, parallelism: 2 },
  };
  const queue = new InMemoryForecastRefreshQueue();
  for (const region of regions)
    await activateRegion({ eventStore, clock, forecastRefreshQueue: queue }, region, {
      eventId: `validated-${region}`,
      correlationId: 'setup',
    });
  const project = async () => {
    const all: RecordedEvent[] = [];
    for await (const page of eventStore.readAll()) all.push(...page);
    await projectEvents(deps, all);
  };
  await project();
  return {
    deps,
    weather,
    eventStore,
    views,
    queue,
    project,
    advance: (minutes: number) => (now = new Date(now.getTime() + minutes * 60_000)),
  };
}

async function forecastEvents(store: EventStore, region: string) {
  return (await store.read(`region-${region}`)).filter((event) => event.type !== 'RegionActivated');
}

describe('forecast refresh (application, in memory)', () => {
  it('several batches in one call: each fetched as soon as the one before is answered (one request in flight), all recorded, one outcome', async () => {
    const { deps, weather, eventStore } = await setUp();
    const plan = await planForecastCycle(deps, deps.clock());
    expect(plan.batchesPerActivity).toBe(2);
    let inFlight = 0;
    let peak = 0;
    const fetchForecasts = weather.fetchForecasts.bind(weather);
    weather.fetchForecasts = async (locations, options) => {
      peak = Math.max(peak, ++inFlight);
      await new Promise((resolve) => setTimeout(resolve, 5));
      inFlight--;
      return fetchForecasts(locations, options);
    };
    weather.failing.add(regions[4]!);
    const outcome = await refreshForecastBatches(deps, 'cycle-a', plan.batches);
    expect(peak).toBe(1);
    expect(weather.requests).toEqual(plan.batches.map((batch) => batch.map((planned) => planned.region)));
    expect(outcome).toMatchObject({
      updated: regions.slice(0, 4).toSorted(),
      failed: [{ region: regions[4] }],
      alreadyRecorded: [],
      calls: 5,
    });
    expect(outcome.requestMs).toHaveLength(3);
    for (const region of regions.slice(0, 4)) expect(await forecastEvents(eventStore, region)).toHaveLength(1);
    expect(await refreshForecastBatches(deps, 'cycle-a', plan.batches)).toMatchObject({
      updated: [],
      alreadyRecorded: [...regions].toSorted(),
    });
  });

  it('plans every active region in provider-sized batches, records one ForecastUpdated per region with a TTL, and the views show it', async () => {
    const { deps, weather, eventStore, views, project } = await setUp();
    const plan = await planForecastCycle(deps, deps.clock());
    expect(plan).toMatchObject({ due: 5, deferred: 0, cycleMinutes: 5, refreshMinutes: 60, parallelism: 2, source: 'open-meteo' });
    expect(plan.batches.map((batch) => batch.length)).toEqual([2, 2, 1]);

    for (const batch of plan.batches)
      expect(await refreshForecastBatch(deps, 'cycle-a', batch)).toMatchObject({
        updated: batch.map((planned) => planned.region),
        failed: [],
        alreadyRecorded: [],
      });
    expect(weather.requests).toHaveLength(3);
    for (const region of regions) {
      const events = await forecastEvents(eventStore, region);
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({
        type: 'ForecastUpdated',
        ttlSeconds: FORECAST_EVENT_TTL_SECONDS,
        data: { cycleId: 'cycle-a', region },
        metadata: { eventId: forecastEventId(region, 'cycle-a') },
      });
    }
    await project();
    const states = await views.regionRefreshStates();
    expect(states.map((state) => state.updatedAt)).toEqual(regions.map(() => '2026-11-27T09:00:00.000Z'));
    expect((await planForecastCycle(deps, deps.clock())).due).toBe(0);
  });

  it('a retried or replayed batch of the same cycle records nothing twice, whether its event is at the planned version or after it', async () => {
    const { deps, eventStore } = await setUp();
    const [batch] = (await planForecastCycle(deps, deps.clock())).batches;
    await refreshForecastBatch(deps, 'cycle-a', batch!);
    expect(await refreshForecastBatch(deps, 'cycle-a', batch!)).toMatchObject({
      updated: [],
      alreadyRecorded: batch!.map((planned) => planned.region),
    });
    await Promise.all([refreshForecastBatch(deps, 'cycle-b', batch!), refreshForecastBatch(deps, 'cycle-b', batch!)]);
    for (const { region } of batch!)
      expect((await forecastEvents(eventStore, region)).map((event) => event.data)).toMatchObject([
        { cycleId: 'cycle-a' },
        { cycleId: 'cycle-b' },
      ]);
    // Retried with the version planned before either: cycle-b's event is not right after it, but further on.
    expect(await refreshForecastBatch(deps, 'cycle-b', batch!)).toMatchObject({
      updated: [],
      alreadyRecorded: batch!.map((planned) => planned.region),
    });
    expect(batch!.every((planned) => planned.version === 1)).toBe(true);
  });

  it('records at the version the plan read from the view, without a probe; a stale version costs a conflict and a probe, and records once', async () => {
    const { deps, eventStore } = await setUp({ batchSize: 5 });
    const calls = { probe: 0, append: 0 };
    const counting: EventStore = {
      read: eventStore.read.bind(eventStore),
      readAll: eventStore.readAll.bind(eventStore),
      probe: (...args) => (calls.probe++, eventStore.probe(...args)),
      append: (...args) => (calls.append++, eventStore.append(...args)),
    };
    const [batch] = (await planForecastCycle(deps, deps.clock())).batches;
    expect(batch!.map((planned) => planned.version)).toEqual(regions.map(() => 1));
    expect((await refreshForecastBatch({ ...deps, eventStore: counting }, 'cycle-a', batch!)).updated).toHaveLength(regions.length);
    expect(calls).toEqual({ probe: 0, append: regions.length });

    // The same plan again (the views not projected since): every version is one behind the stream.
    calls.probe = calls.append = 0;
    expect((await refreshForecastBatch({ ...deps, eventStore: counting }, 'cycle-b', batch!)).updated).toHaveLength(regions.length);
    expect(calls).toEqual({ probe: regions.length, append: 2 * regions.length });
    for (const region of regions)
      expect(
        (await forecastEvents(eventStore, region)).map((event) => [event.version, (event.data as { cycleId: string }).cycleId]),
      ).toEqual([
        [2, 'cycle-a'],
        [3, 'cycle-b'],
      ]);

    // A version ahead of the stream (a view that saw versions since expired) is refused by the append too.
    const ahead = batch!.map((planned) => ({ ...planned, version: 9 }));
    expect((await refreshForecastBatch(deps, 'cycle-c', ahead)).updated).toHaveLength(regions.length);
    for (const region of regions) expect((await forecastEvents(eventStore, region)).map((event) => event.version)).toEqual([2, 3, 4]);
  });

  it('after every forecast expired and the versions came round, a retried batch still records its cycle once: the plan passes no version the stream may not have reached', async () => {
    const { deps, eventStore, views } = await setUp({ batchSize: 5 });
    // The views as a forecast recorded three days ago left them, since expired: the streams hold only
    // their activation, one version behind what the views saw. An append at the views' version would
    // be refused the first time (the probe then records at version 2), but taken on a retry — twice.
    const longAgo = new Date(deps.clock().getTime() - 3 * 24 * 3_600_000).toISOString();
    for (const region of regions) {
      const { document } = (await views.read<RegionForecastView>(regionForecastKey(region)))!;
      await views.write({ ...document, version: 2, latestEvent: { version: 2, at: longAgo } }, 'any');
    }
    const [batch] = (await planForecastCycle(deps, deps.clock())).batches;
    expect(batch!.map((planned) => planned.version)).toEqual(regions.map(() => undefined));
    expect((await refreshForecastBatch(deps, 'cycle-a', batch!)).updated).toHaveLength(regions.length);
    expect(await refreshForecastBatch(deps, 'cycle-a', batch!)).toMatchObject({
      updated: [],
      alreadyRecorded: batch!.map((p) => p.region),
    });
    for (const region of regions) expect((await forecastEvents(eventStore, region)).map((event) => event.version)).toEqual([2]);
  });

  it('records failures as ForecastFetchFailed, keeps those regions due, and the next cycle recovers them', async () => {
    const { deps, weather, eventStore, project, advance } = await setUp({ batchSize: 5 });
    weather.failing = new Set(['gcw2j', 'gcqrx']);
    const [batch] = (await planForecastCycle(deps, deps.clock())).batches;
    const outcome = await refreshForecastBatch(deps, 'cycle-a', batch!);
    expect(outcome.failed.toSorted((a, b) => a.region.localeCompare(b.region))).toEqual([
      { region: 'gcqrx', reason: 'HTTP 503 (4 attempts)' },
      { region: 'gcw2j', reason: 'HTTP 503 (4 attempts)' },
    ]);
    expect(await forecastEvents(eventStore, 'gcw2j')).toMatchObject([
      { type: 'ForecastFetchFailed', data: { cycleId: 'cycle-a', reason: 'HTTP 503 (4 attempts)' } },
    ]);
    await project();

    weather.failing.clear();
    advance(10);
    const next = await planForecastCycle(deps, deps.clock());
    expect(
      next.batches
        .flat()
        .map((planned) => planned.region)
        .sort(),
    ).toEqual(['gcqrx', 'gcw2j']);
    expect((await refreshForecastBatch(deps, 'cycle-b', next.batches[0]!)).updated.toSorted()).toEqual(['gcqrx', 'gcw2j']);
  });

  it('a store that refuses the append reports the region as failed instead of throwing', async () => {
    const { deps } = await setUp();
    const store = deps.eventStore;
    const broken: EventStore = {
      read: store.read.bind(store),
      readAll: store.readAll.bind(store),
      probe: store.probe.bind(store),
      append: () => Promise.reject(new Error('Cosmos said 503')),
    };
    const outcome = await refreshForecastBatch({ ...deps, eventStore: broken }, 'cycle-a', [
      { region: 'gcw2h', latitude: 53.4, longitude: -2.2 },
    ]);
    expect(outcome.failed).toEqual([{ region: 'gcw2h', reason: 'Fetched, but could not record: Cosmos said 503' }]);
  });

  it('the queue consumer fetches a new region now, once, however often the request is delivered', async () => {
    const { deps, weather, eventStore, queue } = await setUp();
    const [request] = queue.requests();
    expect(await refreshRegionNow(deps, request!)).toBe('updated');
    expect(await refreshRegionNow(deps, request!)).toBe('alreadyFresh');
    expect(weather.requests).toHaveLength(1);
    expect(await forecastEvents(eventStore, request!.region)).toHaveLength(1);
  });

  it('the queue consumer does nothing when the scheduled refresh already recorded a forecast after the request', async () => {
    const { deps, weather, queue, advance, project } = await setUp();
    const [request] = queue.requests();
    advance(1);
    await refreshForecastBatch(deps, 'cycle-a', [
      { region: request!.region, latitude: request!.centre.latitude, longitude: request!.centre.longitude },
    ]);
    // The consumer judges freshness by the region view (the stream's forecasts are too big to read for it).
    await project();
    expect(await refreshRegionNow(deps, request!)).toBe('alreadyFresh');
    expect(weather.requests).toHaveLength(1);
  });

  it('the region forecast shows when it was recorded and how old it is', async () => {
    const { deps, project, advance } = await setUp();
    for (const batch of (await planForecastCycle(deps, deps.clock())).batches) await refreshForecastBatch(deps, 'cycle-a', batch);
    await project();
    advance(30);
    expect(await regionForecast(deps, 'gcw2h')).toMatchObject({
      source: 'open-meteo',
      updatedAt: '2026-11-27T09:00:00.000Z',
      ageMinutes: 30,
      hourly: expect.any(Array),
    });
  });
  describe('the daily call budget and search demand', () => {
    const today = '2026-11-27';
    const searchedRequest = (region: string, requestedAt: string): ForecastRefreshRequest => ({
      region,
      centre: regionCentre(region),
      reason: 'searched',
      correlationId: 'parent',
      requestedAt,
    });

    it("counts a cycle's fetches in the day's ledger before they are made; a batch gives back those that never reached the provider", async () => {
      const { deps, weather, views } = await setUp();
      const plan = await planForecastCycle(deps, deps.clock());
      expect(plan).toMatchObject({ callsDay: today, callsToday: 0 });
      expect(await views.callsOn(today)).toBe(5);
      weather.circuitOpen = true;
      expect((await refreshForecastBatch(deps, 'cycle-a', plan.batches[0]!, plan.callsDay)).calls).toBe(0);
      expect(await views.callsOn(today)).toBe(3);
      weather.circuitOpen = false;
      for (const batch of plan.batches.slice(1))
        expect((await refreshForecastBatch(deps, 'cycle-a', batch, plan.callsDay)).calls).toBe(batch.length);
      expect(await views.callsOn(today)).toBe(3);
    });

    it('never plans beyond the paced budget: searched regions first, the rest wait', async () => {
      // 6 a day, paced: 3 by 09:00.
      const { deps, views } = await setUp({ budget: 6 });
      await views.addSearches(
        [{ region: 'gcpvj', hours: { '2026-11-27T08': 2 }, lastSearchedAt: '2026-11-27T08:50:00.000Z' }],
        deps.clock(),
      );
      const plan = await planForecastCycle(deps, deps.clock());
      expect(plan).toMatchObject({ due: 5, allowance: 3, deferred: 2, searchedDue: 1, searchedDeferred: 0, callLimit: 3 });
      expect(plan.batches.flat()[0]?.region).toBe('gcpvj');
      expect(await planForecastCycle(deps, deps.clock())).toMatchObject({ allowance: 0, batches: [], deferred: 5, callsToday: 3 });
    });

    it("a search's fetch-now: once per region and slot whichever instance asks, counted, and not once a fresher forecast came", async () => {
      // Searched regions within the hour, the rest within 6 hours: a search gives notice 8 minutes ahead (5-minute cycles).
      const { deps, weather, views, project, advance } = await setUp({ refreshMinutes: 360 });
      for (const batch of (await planForecastCycle(deps, deps.clock())).batches) await refreshForecastBatch(deps, 'cycle-a', batch, today);
      await project();
      advance(57);
      const sent = weather.requests.length;
      expect(await refreshRegionNow(deps, searchedRequest('gcw2h', deps.clock().toISOString()))).toBe('updated');
      advance(1);
      // Another instance's request in the same 10-minute slot.
      expect(await refreshRegionNow(deps, searchedRequest('gcw2h', deps.clock().toISOString()))).toBe('alreadyFresh');
      expect(weather.requests.length).toBe(sent + 1);
      expect(await views.callsOn(today)).toBe(6);

      // Asked for at 09:58; the rota recorded one at 09:59 before the message was taken.
      const asked = searchedRequest('gcw2j', deps.clock().toISOString());
      advance(1);
      await refreshForecastBatch(deps, 'cycle-b', [{ region: 'gcw2j', latitude: 53.5, longitude: -2.2 }]);
      await project();
      expect(await refreshRegionNow(deps, asked)).toBe('alreadyFresh');
      expect(weather.requests.length).toBe(sent + 2);
    });

    it('a fetch-now the budget cannot afford makes no call; the rota takes the region when it can', async () => {
      const { deps, weather, views } = await setUp({ budget: 6 });
      await planForecastCycle(deps, deps.clock());
      const sent = weather.requests.length;
      expect(await refreshRegionNow(deps, searchedRequest('gcw2h', deps.clock().toISOString()))).toBe('overBudget');
      expect(weather.requests.length).toBe(sent);
      expect(await views.callsOn(today)).toBe(3);
    });
  });
});
