import { InvocationContext } from '@azure/functions';
import type { Logger } from 'functions-devhost/logger';
import { refreshForecastBatchHandler } from '../../../handlers/forecastRefresh.activities';
import { BATCH_ACTIVITY, FORECAST_REFRESH_ORCHESTRATION, PLAN_ACTIVITY } from '../../../functions/forecastRefresh.orchestration';
import { activateRegion } from '../../../shared/regions/application/activateRegion';
import { latencySummary } from '../../../shared/regions/application/forecastRefreshMetrics';
import type { BatchOutcome, CyclePlan, ForecastRefreshDeps } from '../../../shared/regions/application/refreshForecasts';
import { InMemoryEventStore } from '../../../shared/platform/eventSourcing/adapters/inMemoryEventStore';
import type { PlannedRegion } from '../../../shared/regions/domain/refreshPlan';
import { InMemoryForecastRefreshQueue } from '../../../shared/regions/application/forecastRefreshRequests';
import { InMemoryViewStore } from '../../../shared/platform/views/adapters/inMemoryViewStore';
import type { ForecastLocation, LocationForecast, WeatherProvider } from '../../../shared/regions/application/weatherProvider';
import { runToCompletion, type FakeActivities } from '../../support/orchestrationHistory';

const STARTED = '2025-11-17T10:00:00.000Z';
const CYCLE_ID = `${STARTED}#4`;
const region = (n: number): PlannedRegion => ({ region: `gcpv${n}`, latitude: 51.5 + n / 100, longitude: -0.1 });
const batches = Array.from({ length: 7 }, (_, b) => [region(2 * b), region(2 * b + 1)]);
const plan: CyclePlan = {
  due: 20,
  deferred: 6,
  allowance: 14,
  batches,
  cycleMinutes: 30,
  refreshMinutes: 360,
  parallelism: 3,
  source: 'open-meteo',
  callsDay: '2025-11-17',
  searchedDue: 5,
  searchedDeferred: 0,
  retryLater: 1,
  callsToday: 120,
  callLimit: 4000,
};
/** A plan as histories recorded before there was search demand hold it: the cycle was `refreshMinutes`. */
const recordedBeforeDemand = { due: 20, deferred: 6, allowance: 14, batches, refreshMinutes: 30, parallelism: 3, source: 'open-meteo' };

/** Kusto's extract(@"\bkey=(\S+)", 1, message). */
const extract = (line: string, key: string) => new RegExp(`(?:^| )${key}=(\\S+)`).exec(line)?.[1];

function capture() {
  const lines: { fn: string; level: string; message: string }[] = [];
  const logger: Logger = {
    info: () => undefined,
    warn: () => undefined,
    error: () => undefined,
    functionLog: (fn, _id, level, _category, message) => lines.push({ fn, level, message }),
  };
  return { lines, logger };
}

describe('latencySummary', () => {
  it('gives the nearest-rank median and the maximum, or nothing without requests', () => {
    expect(latencySummary([])).toEqual({ requests: 0, p50Ms: null, maxMs: null });
    expect(latencySummary([30, 10, 20])).toEqual({ requests: 3, p50Ms: 20, maxMs: 30 });
    expect(latencySummary([10, 20])).toEqual({ requests: 2, p50Ms: 10, maxMs: 20 });
    expect(latencySummary([7.4])).toEqual({ requests: 1, p50Ms: 7, maxMs: 7 });
  });
});

describe('ForecastRefreshCycle: one summary line per cycle, from the orchestrator', () => {
  const run = (activities: FakeActivities, logger: Logger) =>
    runToCompletion(FORECAST_REFRESH_ORCHESTRATION, { cycle: 4 }, { startAt: new Date(STARTED), activities, logger });

  it('is written once, by the episode that ends the cycle, never by the replays before or after it', async () => {
    const { lines, logger } = capture();
    const activities: FakeActivities = (name, input) => {
      if (name === PLAN_ACTIVITY) return plan;
      const { regions } = input as { regions: PlannedRegion[] };
      const index = batches.findIndex((batch) => batch[0]?.region === regions[0]?.region);
      const outcome: BatchOutcome = {
        updated: index === 2 ? [] : regions.map(({ region: name }) => name),
        failed: index === 2 ? regions.map(({ region: name }) => ({ region: name, reason: 'HTTP 503 (4 attempts)' })) : [],
        alreadyRecorded: [],
        providerMs: 100 + index,
        requestMs: [100 + index],
      };
      return outcome;
    };
    const result = await run(activities, logger);
    expect(result.outcome.status).toBe('ContinuedAsNew');
    // Ten episodes replayed the cycle's code; one line.
    expect(result.episodes.length).toBeGreaterThan(5);
    const summaries = lines.filter((line) => line.message.startsWith('ForecastRefreshCycle '));
    expect(summaries).toHaveLength(1);
    expect(summaries[0]?.fn).toBe(FORECAST_REFRESH_ORCHESTRATION);
    expect(summaries[0]?.message).toBe(
      `ForecastRefreshCycle cycle=${CYCLE_ID} n=4 outcome=completed source=open-meteo due=20 planned=14 deferred=6 batches=7 updated=12 failed=2 alreadyRecorded=0 ` +
        `providerMs=721 providerRequests=7 providerP50Ms=103 providerMaxMs=106 cycleMs=${extract(summaries[0]?.message ?? '', 'cycleMs')} nextRunAt=2025-11-17T10:30:00.000Z failedRegions=gcpv4,gcpv5 ` +
        `searchedDue=5 searchedDeferred=0 retryLater=1 callsToday=120 callLimit=4000 correlationId=${CYCLE_ID}`,
    );
    // The cycle's time comes from the orchestration clock (one second an episode in the driver).
    expect(Number(extract(summaries[0]?.message ?? '', 'cycleMs'))).toBeGreaterThan(0);
    // Nothing else: the orchestrator logs only the summary.
    expect(lines).toHaveLength(1);
  });

  it('says when a cycle could not be planned, and why', async () => {
    const { lines, logger } = capture();
    await run((name) => (name === PLAN_ACTIVITY ? { fail: 'Cosmos DB unavailable' } : undefined), logger);
    expect(lines).toHaveLength(1);
    expect(extract(lines[0]?.message ?? '', 'outcome')).toBe('planFailed');
    expect(lines[0]?.message).toMatch(/ planError="[^"]*Cosmos DB unavailable[^"]*" correlationId=/);
    expect(extract(lines[0]?.message ?? '', 'providerP50Ms')).toBe('-');
  });

  it('reads a plan recorded before there was search demand: the cycle is its refreshMinutes, and the line has no demand fields', async () => {
    const { lines, logger } = capture();
    const result = await run(
      (name, input) =>
        name === PLAN_ACTIVITY
          ? recordedBeforeDemand
          : {
              updated: (input as { regions: PlannedRegion[] }).regions.map((r) => r.region),
              failed: [],
              alreadyRecorded: [],
              providerMs: 5,
            },
      logger,
    );
    expect(extract(lines[0]?.message ?? '', 'nextRunAt')).toBe('2025-11-17T10:30:00.000Z');
    expect(lines[0]?.message).not.toMatch(/searchedDue=|callsToday=/);
    const batchInputs = result.activityCalls.filter((call) => call.name === BATCH_ACTIVITY).map((call) => call.input);
    expect(batchInputs[0]).toEqual({ cycleId: CYCLE_ID, regions: batches[0] });
  });

  it('reads batch results recorded before request times existed as no requests', async () => {
    const { lines, logger } = capture();
    await run(
      (name, input) =>
        name === PLAN_ACTIVITY
          ? plan
          : {
              updated: (input as { regions: PlannedRegion[] }).regions.map((r) => r.region),
              failed: [],
              alreadyRecorded: [],
              providerMs: 5,
            },
      logger,
    );
    expect(extract(lines[0]?.message ?? '', 'providerRequests')).toBe('0');
    expect(extract(lines[0]?.message ?? '', 'providerMaxMs')).toBe('-');
    expect(extract(lines[0]?.message ?? '', 'providerMs')).toBe('35');
  });
});

describe('ForecastRefreshBatch: one line per batch activity, with the provider’s request times', () => {
  class TimedProvider implements WeatherProvider {
    readonly name = 'met-office';
    readonly maxLocationsPerRequest = 1;
    fetchForecasts(locations: readonly ForecastLocation[], options?: { onRequest?: (ms: number) => void }): Promise<LocationForecast[]> {
      // Three requests (one per location, as the Met Office takes them): 40, 10 and 25 ms.
      [40, 10, 25].slice(0, locations.length).forEach((ms) => options?.onRequest?.(ms));
      return Promise.resolve(
        locations.map((location, i) =>
          i === 1
            ? { region: location.region, ok: false as const, reason: 'met-office answered HTTP 429 (not retried)' }
            : { region: location.region, ok: false as const, reason: 'HTTP 503' },
        ),
      );
    }
  }

  it('logs the batch with p50 and max request times, and each failed region, all under the cycle id', async () => {
    const lines: { level: string; text: string }[] = [];
    const context = new InvocationContext({
      invocationId: 'i',
      functionName: BATCH_ACTIVITY,
      logHandler: (level, ...args) => lines.push({ level, text: args.map(String).join(' ') }),
    });
    const eventStore = new InMemoryEventStore();
    for (const { region: name } of [region(1), region(2), region(3)]) {
      await activateRegion({ eventStore, clock: () => new Date(STARTED), forecastRefreshQueue: new InMemoryForecastRefreshQueue() }, name, {
        eventId: `activation-${name}`,
        correlationId: 'activation',
      });
    }
    const deps: ForecastRefreshDeps = {
      eventStore,
      views: new InMemoryViewStore(),
      weather: new TimedProvider(),
      clock: () => new Date(STARTED),
      forecast: { refreshMinutes: 60, dailyCallBudget: 5000, parallelism: 4 },
    };
    const outcome = await refreshForecastBatchHandler(() => deps)(
      { cycleId: CYCLE_ID, regions: [region(1), region(2), region(3)] },
      context,
    );
    expect(outcome.requestMs).toEqual([40, 10, 25]);
    const [batch, ...failures] = lines;
    expect(batch).toEqual({
      level: 'information',
      text: expect.stringMatching(
        new RegExp(
          `^ForecastRefreshBatch cycle=${CYCLE_ID.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} regions=3 updated=0 failed=3 alreadyRecorded=0 providerMs=\\d+ providerRequests=3 providerP50Ms=25 providerMaxMs=40 correlationId=`,
        ),
      ),
    });
    expect(failures.map((line) => line.level)).toEqual(['warning', 'warning', 'warning']);
    expect(failures[1]?.text).toBe(
      `ForecastRegionFailed cycle=${CYCLE_ID} region=gcpv2 reason="met-office answered HTTP 429 (not retried)" correlationId=${CYCLE_ID}`,
    );
  });
});
