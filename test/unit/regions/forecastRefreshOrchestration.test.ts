import * as df from 'durable-functions';
import type { HistoryEvent } from 'functions-devhost/durable/protocol';
import {
  BATCH_ACTIVITY,
  FORECAST_REFRESH_ORCHESTRATION,
  PLAN_ACTIVITY,
  type ForecastRefreshStatus,
} from '../../../functions/forecastRefresh.orchestration';
import type { BatchOutcome, CyclePlan } from '../../../shared/regions/application/refreshForecasts';
import type { PlannedRegion } from '../../../shared/regions/domain/refreshPlan';
import {
  MAX_CUSTOM_STATUS_UTF16_BYTES,
  replay,
  runToCompletion,
  type ActivityFailure,
  type DelayedAnswer,
  type Episode,
  type Run,
} from '../../support/orchestrationHistory';

/*
 * The orchestrator runs here exactly as the host runs it — the registered function, invoked through
 * @azure/functions' invocation model with a host-shaped history — but the activities are fakes: the
 * activities module builds the Cosmos-backed services and is never imported.
 */

const STARTED = '2025-11-17T10:00:00.000Z';
const START = new Date(STARTED);
const CYCLE = 4;
const CYCLE_ID = `${STARTED}#${CYCLE}`;
const CYCLE_MINUTES = 30;
const NEXT_RUN = '2025-11-17T10:30:00.000Z';
const CALLS_DAY = '2025-11-17';

const region = (n: number): PlannedRegion => ({ region: `gcpv${n}`, latitude: 51.5 + n / 100, longitude: -0.1 });
const batchesOf = (count: number, size: number) =>
  Array.from({ length: count }, (_, b) => Array.from({ length: size }, (_, i) => region(b * size + i)));

function cyclePlan(batches: readonly (readonly PlannedRegion[])[], overrides: Partial<CyclePlan> = {}): CyclePlan {
  const planned = batches.reduce((sum, batch) => sum + batch.length, 0);
  return {
    due: planned + 6,
    deferred: 6,
    allowance: planned,
    batches,
    cycleMinutes: CYCLE_MINUTES,
    refreshMinutes: 360,
    parallelism: 3,
    source: 'open-meteo',
    callsDay: CALLS_DAY,
    searchedDue: 4,
    searchedDeferred: 1,
    retryLater: 0,
    callsToday: 100,
    callLimit: 5000,
    ...overrides,
  };
}

interface BatchInput {
  readonly cycleId: string;
  readonly regions: readonly PlannedRegion[];
  readonly callsDay?: string;
}

const updatedAll = (regions: readonly PlannedRegion[]): BatchOutcome => ({
  updated: regions.map(({ region }) => region),
  failed: [],
  alreadyRecorded: [],
  providerMs: 10,
});

/** Fake activities: the plan, and a batch answer per call (all updated unless told). */
function fakes(
  plan: CyclePlan,
  batch: (input: BatchInput, attempt: number) => BatchOutcome | ActivityFailure | DelayedAnswer = ({ regions }) => updatedAll(regions),
) {
  const attempts = new Map<string, number>();
  return (name: string, input: unknown): unknown => {
    if (name === PLAN_ACTIVITY) return plan;
    if (name !== BATCH_ACTIVITY) throw new Error(`unexpected activity ${name}`);
    const batchInput = input as BatchInput;
    const key = JSON.stringify(batchInput.regions);
    const attempt = (attempts.get(key) ?? 0) + 1;
    attempts.set(key, attempt);
    return batch(batchInput, attempt);
  };
}

const run = (input: unknown, activities: (name: string, input: unknown) => unknown) =>
  runToCompletion(FORECAST_REFRESH_ORCHESTRATION, input, { startAt: START, activities });

const statusOf = (episode: Episode) => JSON.parse(episode.result.customStatus ?? 'null') as ForecastRefreshStatus;
const finalHistory = (result: Run) => result.episodes.at(-1)!.history;
const completedIds = (history: readonly HistoryEvent[]) =>
  new Set(
    history.flatMap((event) => (event.EventType === 'TaskCompleted' || event.EventType === 'TaskFailed' ? [event.TaskScheduledId] : [])),
  );
/** The events of an episode that are new to it (from its OrchestratorStarted on). */
const newEvents = (episode: Episode) =>
  episode.history.slice(episode.history.findLastIndex((event) => event.EventType === 'OrchestratorStarted'));
const timersCreated = (history: readonly HistoryEvent[]) => history.filter((event) => event.EventType === 'TimerCreated');

/** Every attempt of the batch that starts with `first`. */
const attemptsOf = (result: Run, first: string) =>
  result.activityCalls.filter((call) => call.name === BATCH_ACTIVITY && (call.input as BatchInput).regions[0]?.region === first);

/** Batch calls grouped by the episode that scheduled them (one group per wave, retries apart). */
function wavesOf(result: Run) {
  const waves = new Map<number, { taskId: number; input: BatchInput }[]>();
  for (const call of result.activityCalls) {
    if (call.name !== BATCH_ACTIVITY) continue;
    waves.set(call.episode, [...(waves.get(call.episode) ?? []), { taskId: call.taskId, input: call.input as BatchInput }]);
  }
  return [...waves].map(([episode, calls]) => ({ episode, calls }));
}

/** A realistic TaskFailed.Details: the host sends the exception with its stack. */
const STACK = [
  'Error: Open-Meteo adapter crashed',
  ...Array.from(
    { length: 30 },
    (_, i) => `    at frame${i} (/home/site/wwwroot/dist/shared/regions/adapters/weather/openMeteoProvider.js:${100 + i}:17)`,
  ),
].join('\n');

describe('forecast refresh orchestration, replayed from its history', () => {
  const seven = batchesOf(7, 2);

  describe('with batchesPerActivity (plans made since batch activities take several batches in turn)', () => {
    const lanes = (input: BatchInput) => (input as unknown as { batches: PlannedRegion[][] }).batches;

    it('each batch activity takes that many batches: 7 batches, 3 in flight, 3 per activity are one wave of 3, 3 and 1', async () => {
      const result = await run(
        { cycle: CYCLE },
        fakes(cyclePlan(seven, { batchesPerActivity: 3 }), (input) => updatedAll(lanes(input).flat())),
      );
      expect(result.outcome).toEqual({ status: 'ContinuedAsNew', input: { cycle: CYCLE + 1 } });
      expect(wavesOf(result).map(({ calls }) => calls.map(({ input }) => input))).toEqual([
        [seven.slice(0, 3), seven.slice(3, 6), seven.slice(6)].map((batches) => ({ cycleId: CYCLE_ID, batches, callsDay: CALLS_DAY })),
      ]);
      expect(result.finalStatus).toEqual(expect.objectContaining({ phase: 'waiting', requests: 7, updated: 14, failed: 0 }));
    });

    it('an activity that fails through its retries fails the regions of all its batches; the others keep their outcome', async () => {
      const crashing = (input: BatchInput) =>
        lanes(input)[0]![0]!.region === seven[3]![0]!.region
          ? { fail: 'Open-Meteo adapter crashed', details: STACK }
          : updatedAll(lanes(input).flat());
      const result = await run({ cycle: CYCLE }, fakes(cyclePlan(seven, { batchesPerActivity: 3 }), crashing));
      expect(result.outcome).toEqual({ status: 'ContinuedAsNew', input: { cycle: CYCLE + 1 } });
      expect(result.finalStatus).toEqual(expect.objectContaining({ phase: 'waiting', updated: 8, failed: 6 }));
    });

    it('four waves when the batches outnumber parallelism × batchesPerActivity', async () => {
      const many = batchesOf(20, 1);
      const result = await run(
        { cycle: CYCLE },
        fakes(cyclePlan(many, { batchesPerActivity: 2 }), (input) => updatedAll(lanes(input).flat())),
      );
      expect(wavesOf(result).map(({ calls }) => calls.map(({ input }) => lanes(input).length))).toEqual([
        [2, 2, 2],
        [2, 2, 2],
        [2, 2, 2],
        [2],
      ]);
      expect(result.finalStatus).toEqual(expect.objectContaining({ updated: 20, failed: 0 }));
    });
  });

  it('plans first, fetches in waves of 3, 3 and 1 (each after the previous completed), waits on one timer, then continues as new', async () => {
    const result = await run({ cycle: CYCLE }, fakes(cyclePlan(seven)));

    expect(result.outcome).toEqual({ status: 'ContinuedAsNew', input: { cycle: CYCLE + 1 } });
    expect(result.continueAsNewInput).toEqual({ cycle: CYCLE + 1 });
    // The cycle id and the plan's time come from the OrchestratorStarted time, not the wall clock.
    expect(result.activityCalls[0]).toEqual({ name: PLAN_ACTIVITY, input: { cycleId: CYCLE_ID, at: STARTED }, taskId: 0, episode: 0 });

    const waves = wavesOf(result);
    expect(waves.map(({ calls }) => calls.map(({ input }) => input))).toEqual([
      seven.slice(0, 3).map((regions) => ({ cycleId: CYCLE_ID, regions, callsDay: CALLS_DAY })),
      seven.slice(3, 6).map((regions) => ({ cycleId: CYCLE_ID, regions, callsDay: CALLS_DAY })),
      seven.slice(6).map((regions) => ({ cycleId: CYCLE_ID, regions, callsDay: CALLS_DAY })),
    ]);
    // The first wave is scheduled by the episode that delivered the plan.
    expect(waves[0]!.episode).toBe(1);
    for (let k = 1; k < waves.length; k++) {
      const previous = waves[k - 1]!.calls.map(({ taskId }) => taskId);
      const { episode } = waves[k]!;
      const completedBefore = completedIds(result.episodes[episode - 1]!.history);
      const completedNow = completedIds(result.episodes[episode]!.history);
      // Not one episode before the last result of the previous wave arrived; in the very episode it did.
      expect(previous.every((id) => completedNow.has(id))).toBe(true);
      expect(previous.every((id) => completedBefore.has(id))).toBe(false);
    }

    const history = finalHistory(result);
    expect(timersCreated(history)).toEqual([expect.objectContaining({ FireAt: NEXT_RUN })]);
    const timerId = timersCreated(history)[0]!.EventId;
    const lastBatch = Math.max(...waves.at(-1)!.calls.map(({ taskId }) => taskId));
    const timerEpisode = result.episodes.findIndex((episode) =>
      newEvents(episode).some((event) => event.EventType === 'TaskCompleted' && event.TaskScheduledId === lastBatch),
    );
    expect(result.episodes[timerEpisode]!.result.actions.at(-1)).toEqual({
      kind: 'createTimer',
      fireAt: Date.parse(NEXT_RUN),
      isCanceled: false,
    });
    expect(newEvents(result.episodes.at(-1)!)).toEqual([
      expect.objectContaining({ EventType: 'OrchestratorStarted', Timestamp: NEXT_RUN }),
      expect.objectContaining({ EventType: 'TimerFired', TimerId: timerId }),
    ]);
    expect(result.episodes.at(-1)!.result.actions.at(-1)).toEqual({ kind: 'continueAsNew', input: JSON.stringify({ cycle: CYCLE + 1 }) });
    // Plan, three waves' results, the timer: one episode each after the start.
    expect(result.episodes).toHaveLength(1 + 1 + 7 + 1);
  });

  describe('determinism', () => {
    const scenarios: [string, () => (name: string, input: unknown) => unknown][] = [
      ['every batch succeeds', () => fakes(cyclePlan(seven))],
      [
        'a batch retries once, another fails through its retries',
        () =>
          fakes(cyclePlan(seven), (input, attempt) =>
            input.regions[0]!.region === 'gcpv2' && attempt === 1
              ? { fail: 'timeout' }
              : input.regions[0]!.region === 'gcpv8'
                ? { fail: 'crashed', details: STACK }
                : updatedAll(input.regions),
          ),
      ],
    ];

    it.each(scenarios)('replaying any episode’s history twice gives the same result as the live run (%s)', async (_name, activities) => {
      const result = await run({ cycle: CYCLE }, activities());
      expect(result.outcome.status).toBe('ContinuedAsNew');
      for (const [index, episode] of result.episodes.entries()) {
        const first = await replay(FORECAST_REFRESH_ORCHESTRATION, episode.history);
        const second = await replay(FORECAST_REFRESH_ORCHESTRATION, episode.history);
        expect({ index, result: second }).toEqual({ index, result: first });
        expect({ index, result: first }).toEqual({ index, result: episode.result });
        // Actions are cumulative: every episode repeats what the one before it decided.
        const before = result.episodes[index - 1]?.result.actions ?? [];
        expect({ index, actions: first.actions.slice(0, before.length) }).toEqual({ index, actions: before });
      }
    });

    describe('against the wall clock', () => {
      afterEach(() => jest.useRealTimers());

      const replayAt = async (systemTime: string, history: readonly HistoryEvent[], name = FORECAST_REFRESH_ORCHESTRATION) => {
        jest.setSystemTime(new Date(systemTime));
        return replay(name, history);
      };

      it('gives the same result for every episode whatever the real time is', async () => {
        const result = await run({ cycle: CYCLE }, scenarios[1]![1]());
        jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
        for (const [index, episode] of result.episodes.entries()) {
          const early = await replayAt('2020-02-29T23:59:59.000Z', episode.history);
          const late = await replayAt('2031-07-01T12:00:00.000Z', episode.history);
          expect({ index, result: late }).toEqual({ index, result: early });
          expect({ index, result: early }).toEqual({ index, result: episode.result });
        }
      });

      it('runs the same whole cycle at two different real times', async () => {
        jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'], now: new Date('2021-01-01T00:00:00.000Z') });
        const early = await run({ cycle: CYCLE }, scenarios[1]![1]());
        jest.setSystemTime(new Date('2029-12-31T23:00:00.000Z'));
        const late = await run({ cycle: CYCLE }, scenarios[1]![1]());
        expect(late.outcome).toEqual(early.outcome);
        expect(late.activityCalls).toEqual(early.activityCalls);
        // Episode by episode: a difference shows where it starts, not two whole runs side by side.
        expect(late.episodes).toHaveLength(early.episodes.length);
        for (const [index, episode] of late.episodes.entries()) expect({ index, ...episode }).toEqual({ index, ...early.episodes[index] });
      });

      it('would notice an orchestrator that reads the clock (the check has teeth)', async () => {
        const probe = 'clockReadingProbe';
        // Outside functions/, so the orchestrator lint rule does not apply: this one is wrong on purpose.
        df.app.orchestration(probe, function* (context) {
          context.df.setCustomStatus({ readAt: new Date().toISOString() });
          yield context.df.createTimer(new Date(context.df.currentUtcDateTime.getTime() + 60_000));
        });
        const history: HistoryEvent[] = [
          { EventType: 'OrchestratorStarted', EventId: -1, Timestamp: STARTED },
          {
            EventType: 'ExecutionStarted',
            EventId: -1,
            Timestamp: STARTED,
            Name: probe,
            OrchestrationInstance: { InstanceId: 'probe', ExecutionId: 'probe-1' },
          },
        ];
        jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
        const early = await replayAt('2020-02-29T23:59:59.000Z', history, probe);
        const late = await replayAt('2031-07-01T12:00:00.000Z', history, probe);
        expect(early.actions).toEqual(late.actions);
        expect(late.customStatus).not.toEqual(early.customStatus);
      });
    });
  });

  describe('customStatus', () => {
    /** Per batch i (regions 2i, 2i+1): 2i updated; 2i+1 failed when i is even, else already recorded. */
    const mixed = (input: BatchInput): BatchOutcome => {
      const index = Number(input.regions[0]!.region.slice(4)) / 2;
      const [first, second] = input.regions.map(({ region }) => region) as [string, string];
      return {
        updated: [first],
        failed: index % 2 === 0 ? [{ region: second, reason: `provider said no to ${second}` }] : [],
        alreadyRecorded: index % 2 === 0 ? [] : [second],
        providerMs: 100 + index,
      };
    };

    it('goes planning → fetching → waiting, with the plan’s numbers and the batches’ tally', async () => {
      const result = await run({ cycle: CYCLE }, fakes(cyclePlan(seven), mixed));
      const statuses = result.episodes.map(statusOf);
      const base = { cycle: CYCLE, cycleId: CYCLE_ID, startedAt: STARTED };
      const fetching = {
        ...base,
        phase: 'fetching',
        source: 'open-meteo',
        due: 20,
        planned: 14,
        deferred: 6,
        requests: 7,
        searchedDue: 4,
        searchedDeferred: 1,
        retryLater: 0,
        callsToday: 100,
        callLimit: 5000,
        nextRunAt: null,
      };
      const failedRegion = (i: number) => ({ region: `gcpv${2 * i + 1}`, reason: `provider said no to gcpv${2 * i + 1}` });

      expect(statuses[0]).toEqual({
        ...base,
        phase: 'planning',
        source: null,
        due: 0,
        planned: 0,
        deferred: 0,
        requests: 0,
        updated: 0,
        failed: 0,
        alreadyRecorded: 0,
        failedRegions: [],
        providerMs: 0,
        nextRunAt: null,
      });
      expect(statuses[1]).toEqual({ ...fetching, updated: 0, failed: 0, alreadyRecorded: 0, failedRegions: [], providerMs: 0 });
      // Results of a wave count only once the whole wave is in (the tally is per wave).
      expect(statuses[2]).toEqual(statuses[1]);
      expect(statuses[4]).toEqual({
        ...fetching,
        updated: 3,
        failed: 2,
        alreadyRecorded: 1,
        failedRegions: [failedRegion(0), failedRegion(2)],
        providerMs: 303,
      });
      expect(statuses[7]).toEqual({
        ...fetching,
        updated: 6,
        failed: 3,
        alreadyRecorded: 3,
        failedRegions: [failedRegion(0), failedRegion(2), failedRegion(4)],
        providerMs: 615,
      });
      const waiting = {
        ...fetching,
        phase: 'waiting',
        nextRunAt: NEXT_RUN,
        updated: 7,
        failed: 4,
        alreadyRecorded: 3,
        failedRegions: [0, 2, 4, 6].map(failedRegion),
        providerMs: 721,
      };
      expect(statuses[8]).toEqual(waiting);
      expect(result.finalStatus).toEqual(waiting);
    });

    it('lists at most 20 failed regions but counts them all', async () => {
      const wide = batchesOf(7, 4);
      const result = await run(
        { cycle: CYCLE },
        fakes(cyclePlan(wide), ({ regions }) => ({
          updated: [],
          alreadyRecorded: [],
          providerMs: 5,
          failed: regions.map(({ region }) => ({ region, reason: `no forecast for ${region}` })),
        })),
      );
      const status = result.finalStatus as ForecastRefreshStatus;
      expect(status.failed).toBe(28);
      expect(status.failedRegions).toEqual(
        wide
          .flat()
          .slice(0, 20)
          .map(({ region }) => ({ region, reason: `no forecast for ${region}` })),
      );
      expect(status.updated).toBe(0);
    });

    const essays: [string, (region: string) => string, RegExp][] = [
      [
        'prose',
        (region) => `"${region}": ${'the provider explained at length, with "quotes" and\nnew lines, '.repeat(80)}`,
        /^"gcpv0": the provider explained at length, with "quotes" and new lines, /,
      ],
      ['nothing but characters JSON escapes', () => '"\\'.repeat(3_000), /^("\\)+/],
    ];

    it.each(essays)(
      'stays within the extension’s 16 KB customStatus limit however long the failure reasons are (%s)',
      async (_name, essay, start) => {
        const wide = batchesOf(7, 4);
        const result = await run(
          { cycle: CYCLE },
          fakes(cyclePlan(wide), ({ regions }) => ({
            updated: [],
            alreadyRecorded: [],
            providerMs: 5,
            failed: regions.map(({ region }) => ({ region, reason: essay(region) })),
          })),
        );
        expect(result.outcome).toEqual({ status: 'ContinuedAsNew', input: { cycle: CYCLE + 1 } });
        const status = result.finalStatus as ForecastRefreshStatus;
        expect(status.failed).toBe(28);
        expect(status.failedRegions).toHaveLength(20);
        // Each listed reason still says what failed.
        expect(status.failedRegions[0]!.reason).toMatch(start);
        for (const episode of result.episodes)
          expect((episode.result.customStatus?.length ?? 0) * 2).toBeLessThanOrEqual(MAX_CUSTOM_STATUS_UTF16_BYTES);
      },
    );
  });

  describe('a batch activity that fails', () => {
    // gcpv8 is batch 4: in the second wave (batches 3, 4, 5).
    const crashing = (input: BatchInput) =>
      input.regions[0]!.region === 'gcpv8' ? { fail: 'Open-Meteo adapter crashed', details: STACK } : updatedAll(input.regions);

    it('on every attempt: its regions count as failed, the other batches of its wave keep their outcome, and the cycle still waits and continues as new', async () => {
      const result = await run({ cycle: CYCLE }, fakes(cyclePlan(seven), crashing));
      expect(result.outcome).toEqual({ status: 'ContinuedAsNew', input: { cycle: CYCLE + 1 } });

      // Three attempts of the same batch, each after a back-off timer of 5 s, then 10 s; a last 20 s timer ends the retries.
      const attempts = attemptsOf(result, 'gcpv8');
      expect(attempts.map(({ input }) => input)).toEqual(
        Array.from({ length: 3 }, () => ({ cycleId: CYCLE_ID, regions: seven[4], callsDay: CALLS_DAY })),
      );
      const history = finalHistory(result);
      const backOff = timersCreated(history).slice(0, -1);
      expect(backOff.map((timer) => Date.parse(timer.FireAt) - Date.parse(timer.Timestamp))).toEqual([5_000, 10_000, 20_000]);
      expect(timersCreated(history).at(-1)).toEqual(expect.objectContaining({ FireAt: NEXT_RUN }));
      for (const attempt of attempts) {
        expect(history).toContainEqual(expect.objectContaining({ EventType: 'TaskFailed', TaskScheduledId: attempt.taskId }));
      }

      // The third wave starts only once the retries are over.
      const waves = wavesOf(result).filter(({ calls }) => calls.length > 1 || calls[0]!.input.regions[0]!.region !== 'gcpv8');
      expect(waves.map(({ calls }) => calls.length)).toEqual([3, 3, 1]);
      const lastTimer = backOff.at(-1)!;
      const thirdWave = waves[2]!.episode;
      expect(newEvents(result.episodes[thirdWave]!)).toContainEqual(
        expect.objectContaining({ EventType: 'TimerFired', TimerId: lastTimer.EventId }),
      );

      const status = result.finalStatus as ForecastRefreshStatus;
      // The wave's other batches finished: they keep their outcome; only the crashed batch's regions failed.
      const crashedRegions = seven[4]!.map(({ region }) => region);
      expect(status).toEqual(
        expect.objectContaining({ phase: 'waiting', nextRunAt: NEXT_RUN, updated: 12, failed: 2, alreadyRecorded: 0, requests: 7 }),
      );
      expect(status.failedRegions.map(({ region }) => region)).toEqual(crashedRegions);
      // The activity's failure, without the stack trace the host sends with it.
      const reasons = new Set(status.failedRegions.map(({ reason }) => reason));
      expect(reasons).toEqual(
        new Set([`A batch activity failed: Activity function '${BATCH_ACTIVITY}' failed: Open-Meteo adapter crashed`]),
      );
    });

    it('while another batch of its wave is still running: the wave waits for it, it counts as updated, and no more than the parallelism is ever in flight', async () => {
      // Batch 5 (same wave as the crashing batch 4) answers after 60 s: well after batch 4's retries (5 + 10 + 20 s) are over.
      const slowFive = (input: BatchInput) =>
        input.regions[0]!.region === seven[5]![0]!.region ? { afterMs: 60_000, answer: updatedAll(input.regions) } : crashing(input);
      const result = await run({ cycle: CYCLE }, fakes(cyclePlan(seven), slowFive));
      expect(result.outcome).toEqual({ status: 'ContinuedAsNew', input: { cycle: CYCLE + 1 } });
      const slow = attemptsOf(result, seven[5]![0]!.region)[0]!;
      const history = finalHistory(result);
      const completedAt = history.findIndex((event) => event.EventType === 'TaskCompleted' && event.TaskScheduledId === slow.taskId);
      const thirdWave = attemptsOf(result, seven[6]![0]!.region)[0]!;
      const thirdScheduledAt = history.findIndex((event) => event.EventType === 'TaskScheduled' && event.EventId === thirdWave.taskId);
      expect(completedAt).toBeGreaterThan(-1);
      expect(thirdScheduledAt).toBeGreaterThan(completedAt);
      const status = result.finalStatus as ForecastRefreshStatus;
      expect(status).toEqual(expect.objectContaining({ updated: 12, failed: 2 }));
      expect(status.failedRegions.map(({ region }) => region)).toEqual(seven[4]!.map(({ region }) => region));
    });

    it('once, then succeeds on its retry: it counts as updated', async () => {
      const result = await run(
        { cycle: CYCLE },
        fakes(cyclePlan(seven), (input, attempt) =>
          input.regions[0]!.region === 'gcpv8' && attempt === 1 ? { fail: 'socket hang up' } : updatedAll(input.regions),
        ),
      );
      expect(result.outcome.status).toBe('ContinuedAsNew');
      expect(attemptsOf(result, 'gcpv8')).toHaveLength(2);
      expect(result.finalStatus).toEqual(expect.objectContaining({ updated: 14, failed: 0, failedRegions: [] }));
      const [backOff, nextCycle, ...more] = timersCreated(finalHistory(result));
      expect(Date.parse(backOff!.FireAt) - Date.parse(backOff!.Timestamp)).toBe(5_000);
      expect(nextCycle!.FireAt).toBe(NEXT_RUN);
      expect(more).toEqual([]);
    });
  });

  it('when the plan activity fails through its retries, waits five minutes and continues as new instead of failing', async () => {
    const result = await run({ cycle: CYCLE }, (name) => (name === PLAN_ACTIVITY ? { fail: 'Cosmos DB unavailable' } : updatedAll([])));
    expect(result.outcome).toEqual({ status: 'ContinuedAsNew', input: { cycle: CYCLE + 1 } });
    expect(result.finalStatus).toEqual(
      expect.objectContaining({
        phase: 'waiting',
        planError: expect.stringContaining('Cosmos DB unavailable'),
        nextRunAt: '2025-11-17T10:05:00.000Z',
      }),
    );
  });

  it('goes straight to the timer when the plan has no batches', async () => {
    const result = await run({ cycle: CYCLE }, fakes(cyclePlan([], { due: 0, deferred: 0 })));
    expect(result.outcome).toEqual({ status: 'ContinuedAsNew', input: { cycle: CYCLE + 1 } });
    expect(result.activityCalls.map(({ name }) => name)).toEqual([PLAN_ACTIVITY]);
    expect(result.episodes).toHaveLength(3);
    expect(result.episodes[1]!.result.actions.map(({ kind }) => kind)).toEqual(['callActivity', 'createTimer']);
    expect(timersCreated(finalHistory(result))).toEqual([expect.objectContaining({ FireAt: NEXT_RUN })]);
    expect(result.finalStatus).toEqual(
      expect.objectContaining({ phase: 'waiting', due: 0, planned: 0, requests: 0, updated: 0, failed: 0, nextRunAt: NEXT_RUN }),
    );
  });

  it.each([
    ['no input', undefined],
    ['null', null],
    ['{}', {}],
    ['cycle 0', { cycle: 0 }],
    ['a negative cycle', { cycle: -2 }],
    ['a fractional cycle', { cycle: 2.5 }],
    ['a string cycle', { cycle: '3' }],
    ['a string', 'cycle 3'],
  ])('starts at cycle 1 given %s', async (_name, input) => {
    const result = await run(input, fakes(cyclePlan([], { due: 0, deferred: 0 })));
    expect(result.activityCalls[0]!.input).toEqual({ cycleId: `${STARTED}#1`, at: STARTED });
    expect(result.finalStatus).toEqual(expect.objectContaining({ cycle: 1, cycleId: `${STARTED}#1` }));
    expect(result.continueAsNewInput).toEqual({ cycle: 2 });
  });
});
