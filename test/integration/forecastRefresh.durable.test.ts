/**
 * The forecast refresh orchestration and its activities as the app registers them, run by the
 * devhost's durable engine against Azurite, fetching from the local Open-Meteo-compatible server
 * through the real adapter — with the app's services swapped for in-memory stores (jest.mock), so
 * cycles are quick and every event can be counted.
 */
import ngeohash from 'ngeohash';
import { app, type HttpRequest, type InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { startLocalOpenMeteo, type LocalOpenMeteo } from '../../local/weather/localOpenMeteo';
import { DurableStore } from 'functions-devhost/durable/store';
import { startAzurite, type RunningAzurite } from 'functions-devhost/storage/azurite';
import { activateRegion } from '../../shared/regions/application/activateRegion';
import { projectEvents, type ProjectionDeps } from '../../shared/platform/views/projectEvents';
import type { ForecastRefreshDeps } from '../../shared/regions/application/refreshForecasts';
import type { RecordedEvent } from '../../shared/kernel/event';
import { InMemoryEventStore } from '../../shared/platform/eventSourcing/adapters/inMemoryEventStore';
import { InMemoryForecastRefreshQueue } from '../../shared/regions/application/forecastRefreshRequests';
import { InMemoryDeadLetterStore } from '../../shared/platform/views/deadLetters';
import { InMemoryViewStore } from '../../shared/platform/views/adapters/inMemoryViewStore';
import { OpenMeteoProvider } from '../../shared/regions/adapters/weather/openMeteoProvider';
import { startDurableTestHost, TEST_KEYS, type DurableTestHost } from '../../packages/devhost/test/fixtures/harness';

interface TestServices extends Omit<ForecastRefreshDeps, 'views'>, Omit<ProjectionDeps, 'views'> {
  views: InMemoryViewStore;
  config: { forecast: ForecastRefreshDeps['forecast'] };
}
const services: { current?: TestServices } = {};

jest.mock('../../shared/platform/composition/appServices', () => ({
  appServices: () => {
    if (!services.current) throw new Error('The test has not set up its services yet.');
    return services.current;
  },
}));

// Imported after the mock (jest hoists jest.mock above imports): the app's own registrations.
import '../../functions/forecastRefresh.orchestration';
import '../../functions/forecastRefresh.activities';
import '../../functions/forecastRefresh.client';
import { ensureForecastRefresh, statusOf } from '../../handlers/forecastRefresh.client';
import { FORECAST_REFRESH_INSTANCE_ID, type ForecastRefreshStatus } from '../../functions/forecastRefresh.orchestration';

// A starter the test calls over HTTP, as the timer would: the real durable client does the work.
app.http('testEnsureForecastRefresh', {
  route: 'api/test/ensure-forecast-refresh',
  methods: ['POST'],
  authLevel: 'anonymous',
  extraInputs: [df.input.durableClient()],
  handler: async (_request: HttpRequest, context: InvocationContext) => ({
    jsonBody: { outcome: await ensureForecastRefresh(df.getClient(context)) },
  }),
});
app.http('testForecastRefreshStatus', {
  route: 'api/test/forecast-refresh-status',
  methods: ['GET'],
  authLevel: 'anonymous',
  extraInputs: [df.input.durableClient()],
  handler: async (_request: HttpRequest, context: InvocationContext) => ({ jsonBody: (await statusOf(df.getClient(context))) ?? null }),
});

/** 40 regions spread over England; batch size 1, so each is its own request and fault. */
const regions = Array.from({ length: 40 }, (_, i) => ngeohash.encode(51 + Math.floor(i / 8) * 0.25, -3 + (i % 8) * 0.3, 5));
/** Durable time 600× faster: a 5-minute cycle passes in half a second. */
const TIME_SCALE = 600;

let azurite: RunningAzurite;
let host: DurableTestHost;
let weather: LocalOpenMeteo;
let eventStore: InMemoryEventStore;
/** Read by every cycle's plan: a test may lengthen the cycle it is about to watch. */
const forecast: { refreshMinutes: number; cycleMinutes?: number; dailyCallBudget: number; parallelism: number } = {
  refreshMinutes: 5,
  dailyCallBudget: 1_000_000,
  parallelism: 4,
};

beforeAll(async () => {
  azurite = await startAzurite({ inMemory: true });
  weather = await startLocalOpenMeteo({ seed: 11 });
  eventStore = new InMemoryEventStore();
  const views = new InMemoryViewStore();
  const clock = () => new Date();
  services.current = {
    eventStore,
    views,
    clock,
    deadLetters: new InMemoryDeadLetterStore(),
    geohash: ngeohash.encode,
    forecast,
    config: { forecast },
    // The adapter as configured in the app, with a short policy: hangs time out in 400 ms.
    weather: new OpenMeteoProvider({
      baseUrl: weather.url,
      batchSize: 1,
      retry: { maxAttempts: 2, attemptTimeoutMs: 400, baseDelayMs: 20, maxDelayMs: 100, retryAfterCapMs: 300, deadlineMs: 3000 },
      circuitBreaker: { consecutiveFailures: 1000, halfOpenAfterMs: 1000 },
    }),
  };
  const queue = new InMemoryForecastRefreshQueue();
  for (const region of regions)
    await activateRegion({ eventStore, clock, forecastRefreshQueue: queue }, region, {
      eventId: `validated-${region}`,
      correlationId: 'setup',
    });
  const all: RecordedEvent[] = [];
  for await (const page of eventStore.readAll()) all.push(...page);
  await projectEvents(services.current, all);
  host = await startDurableTestHost({
    storageConnectionString: azurite.connectionString,
    hubName: 'ForecastRefreshTests',
    timeScale: TIME_SCALE,
    existingInstances: 'NonRunningStates',
  });
}, 60_000);

afterAll(async () => {
  await host.stop();
  await weather.stop();
  await azurite.stop();
});

const ensure = async () =>
  ((await (await fetch(`${host.url}/api/test/ensure-forecast-refresh`, { method: 'POST' })).json()) as { outcome: string }).outcome;
const refreshStatus = async () => (await host.status(FORECAST_REFRESH_INSTANCE_ID))?.customStatus as ForecastRefreshStatus | undefined;

async function cycleDone(cycle: number, timeoutMs = 60_000): Promise<ForecastRefreshStatus> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = await refreshStatus();
    if (status && status.cycle === cycle && status.phase === 'waiting') return status;
    if (status && status.cycle > cycle) throw new Error(`Missed the end of cycle ${cycle}: now ${JSON.stringify(status)}`);
    if (Date.now() > deadline) throw new Error(`Cycle ${cycle} did not finish; last: ${JSON.stringify(status)}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function outcomesOf(cycleId: string): Promise<Map<string, string[]>> {
  const outcomes = new Map<string, string[]>();
  for (const region of regions) {
    const events = (await eventStore.read(`region-${region}`)).filter((event) => (event.data as { cycleId?: string }).cycleId === cycleId);
    outcomes.set(
      region,
      events.map((event) => event.type),
    );
  }
  return outcomes;
}

describe('the forecast refresh orchestration in the durable engine', () => {
  it('five concurrent ensures make one instance; ensure on a running instance does nothing', async () => {
    const outcomes = await Promise.all(Array.from({ length: 5 }, ensure));
    expect(outcomes.filter((outcome) => outcome === 'started')).toHaveLength(1);
    expect(outcomes.filter((outcome) => outcome === 'running')).toHaveLength(4);
    const { statuses } = await host.durable.engine.query({ instanceIdPrefix: 'forecast-refresh' });
    expect(statuses.map((status) => status.instanceId)).toEqual([FORECAST_REFRESH_INSTANCE_ID]);
    expect(await ensure()).toBe('running');
  });

  it('a healthy cycle updates every region once, in one request per region (batch size 1)', async () => {
    const status = await cycleDone(1);
    expect(status).toMatchObject({
      due: regions.length,
      planned: regions.length,
      requests: regions.length,
      updated: regions.length,
      failed: 0,
      deferred: 0,
      nextRunAt: expect.any(String),
    });
    for (const [region, types] of await outcomesOf(status.cycleId))
      expect({ region, types }).toEqual({ region, types: ['ForecastUpdated'] });
  });

  it('under faults (30% 5xx, 10% hangs, a 429 burst) the cycle completes, reports failures in customStatus and as ForecastFetchFailed, and the next cycle recovers them', async () => {
    const before = (await refreshStatus())!.cycle;
    // Hangs and retries can make the faulty cycle outlast a 5-minute cycle (half a second here); the
    // next one would then start at once and its status replace the faulty one's before a poll saw it.
    // A 90-minute cycle (9 s) leaves the faulty cycle's summary in place long enough to read.
    forecast.cycleMinutes = 90;
    weather.setFaults({ errorRate: 0.3, hangRate: 0.1, rateLimit: { next: 6, retryAfterSeconds: 0 } });
    let faulty: ForecastRefreshStatus;
    try {
      faulty = await cycleDone(before + 1);
    } finally {
      // Whatever happened, the tests after this one get healthy 5-minute cycles.
      weather.setFaults({});
      delete forecast.cycleMinutes;
    }
    expect(faulty.updated + faulty.failed).toBe(regions.length);
    expect(faulty.failed).toBeGreaterThan(0);
    expect(faulty.failedRegions.length).toBe(Math.min(20, faulty.failed));
    const faultyOutcomes = await outcomesOf(faulty.cycleId);
    const failedRegions = [...faultyOutcomes].filter(([, types]) => types[0] === 'ForecastFetchFailed').map(([region]) => region);
    expect(failedRegions).toHaveLength(faulty.failed);
    for (const types of faultyOutcomes.values()) expect(types).toHaveLength(1);
    expect(weather.requests.some((request) => request.status === 429)).toBe(true);

    // The cycle in flight when the faults were cleared may still have met some, and a region whose
    // fetch failed waits 4 minutes before it is tried again: within a few cycles every one is fetched.
    let recovered = await cycleDone(faulty.cycle + 1);
    for (let next = faulty.cycle + 2; recovered.updated < regions.length && next <= faulty.cycle + 4; next++)
      recovered = await cycleDone(next);
    expect(recovered).toMatchObject({ updated: regions.length, failed: 0 });
    const recoveredOutcomes = await outcomesOf(recovered.cycleId);
    for (const region of failedRegions) expect(recoveredOutcomes.get(region)).toEqual(['ForecastUpdated']);
  }, 120_000);

  it('keeps the stored history bounded from cycle to cycle (continueAsNew)', async () => {
    const store = await DurableStore.open(azurite.connectionString, 'ForecastRefreshTests');
    const first = (await refreshStatus())!.cycle + 1;
    // The largest history seen in each cycle, sampled while five cycles run.
    const largest = new Map<number, number>();
    while (((await refreshStatus())?.cycle ?? 0) < first + 5) {
      const cycle = (await refreshStatus())!.cycle;
      const rows = (await store.readPartition(FORECAST_REFRESH_INSTANCE_ID)).history.length;
      largest.set(cycle, Math.max(largest.get(cycle) ?? 0, rows));
    }
    const sizes = [...largest.values()];
    // One cycle: a plan, 40 batches in 4 batch activities of 10 (one wave) and a timer: about 25 events.
    // continueAsNew deletes them, so cycle 10 holds no more than cycle 1.
    expect(Math.max(...sizes)).toBeLessThanOrEqual(40);
    expect(sizes.filter((size) => size > 15).length).toBeGreaterThanOrEqual(3);
  }, 60_000);

  it('GET /api/ops/forecast-refresh reports the cycle, the day’s calls and how fresh searched and other regions are', async () => {
    const views = services.current!.views;
    const searched = regions.slice(0, 3);
    // Searched "now" by the orchestration's clock (600 times faster than the wall clock), which plans by it.
    const latest = (await refreshStatus())!;
    const durableNow = new Date(latest.startedAt);
    await views.addSearches(
      searched.map((region) => ({
        region,
        hours: { [durableNow.toISOString().slice(0, 13)]: 1 },
        lastSearchedAt: durableNow.toISOString(),
      })),
      durableNow,
    );
    const after = latest.cycle + 1;
    const cycle = await cycleDone(after);
    // Every region is due every cycle here (the cap is the cycle): the searched ones come first.
    expect(cycle).toMatchObject({
      searchedDue: searched.length,
      searchedDeferred: 0,
      callsToday: expect.any(Number),
      callLimit: expect.any(Number),
    });
    const answer = await fetch(`${host.url}/api/ops/forecast-refresh`, { headers: { 'x-functions-key': TEST_KEYS.masterKey } });
    expect(answer.status).toBe(200);
    const body = (await answer.json()) as {
      freshness: { staleness: Record<string, { regions: number; targetMinutes: number }>; calls: { counted: number } };
    };
    expect(body.freshness.staleness).toMatchObject({
      searchedLast6h: { regions: searched.length, targetMinutes: 5 },
      others: { regions: regions.length - searched.length, targetMinutes: 5 },
    });
    expect(body.freshness.calls.counted).toBeGreaterThanOrEqual(regions.length);
  });

  it('an ensure starts the refresh again after it was terminated', async () => {
    await host.durable.engine.terminate(FORECAST_REFRESH_INSTANCE_ID, 'test');
    await host.waitFor(FORECAST_REFRESH_INSTANCE_ID, ['Terminated']);
    expect(await ensure()).toBe('restarted');
    expect((await host.waitFor(FORECAST_REFRESH_INSTANCE_ID, ['Running'])).runtimeStatus).toBe('Running');
  });
});
