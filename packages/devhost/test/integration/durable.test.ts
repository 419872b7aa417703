/**
 * The devhost's durable engine against Azurite, with sample orchestrations registered through
 * durable-functions (test/fixtures/durable) and driven through the real durable client from a sample
 * HTTP function, or through the engine's HTTP API.
 */
import { randomUUID } from 'node:crypto';
import { DurableStore } from '../../src/durable/store';
import { durableSystemKey, WEBHOOK_PATH } from '../../src/durable';
import { startAzurite, type RunningAzurite } from '../../src/storage/azurite';
import { startDurableTestHost, TEST_KEYS, type DurableTestHost } from '../fixtures/harness';
import { fixtureState } from '../fixtures/orchestrations';

let azurite: RunningAzurite;
let host: DurableTestHost;
const hubName = 'DurableTests';
/** Engine time runs 20 times faster: the retry back-off (1 s, 2 s) takes 150 ms. */
const TIME_SCALE = 20;

beforeAll(async () => {
  azurite = await startAzurite({ inMemory: true });
  host = await startDurableTestHost({ storageConnectionString: azurite.connectionString, hubName, timeScale: TIME_SCALE });
}, 60_000);

afterAll(async () => {
  await host.stop();
  await azurite.stop();
});

afterEach(() => {
  // Unexpected engine errors would otherwise go unnoticed.
  expect(host.errors).toEqual([]);
});

const uniqueId = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;

interface RawEvent {
  readonly EventType: string;
  readonly EventId: number;
  readonly Timestamp: string;
  readonly FireAt?: string;
  readonly TimerId?: number;
}

/** The committed history rows of an instance, as the engine stored them. */
async function rawHistory(instanceId: string): Promise<RawEvent[]> {
  const store = await DurableStore.open(azurite.connectionString, hubName);
  return (await store.readPartition(instanceId)).history as RawEvent[];
}

async function listViaRpc(query: string): Promise<{ instanceId: string; runtimeStatus: string }[]> {
  const response = await fetch(`${host.durable.rpcBaseUrl}instances/?${query}`);
  return (await response.json()) as { instanceId: string; runtimeStatus: string }[];
}

describe('durable engine', () => {
  it('fans out over 50 activities and fans in their results', async () => {
    const id = await host.start('fanOutFanIn', { count: 50 });
    const status = await host.waitFor(id);
    expect(status.runtimeStatus).toBe('Completed');
    // Σ 2i for i < 50
    expect(status.output).toBe(2450);
    for (let index = 0; index < 50; index++) expect(fixtureState.activityRuns.get(`double:${index}`)).toBeGreaterThanOrEqual(1);
  });

  it('waits for a durable timer, then resumes at (or after) its fire time', async () => {
    // 40 s of engine time: 2 s of wall time at ×20.
    const id = await host.start('timerThenActivity', { delayMs: 40_000 });
    const running = await host.status(id);
    expect(['Pending', 'Running']).toContain(running?.runtimeStatus);
    const status = await host.waitFor(id);
    expect(status.runtimeStatus).toBe('Completed');
    const output = status.output as { startedAt: number; fireAt: number; resumedAt: number; after: string };
    expect(output.fireAt - output.startedAt).toBe(40_000);
    expect(output.resumedAt).toBeGreaterThanOrEqual(output.fireAt);
    expect(output.after).toBe('after the timer');
    const history = await rawHistory(id);
    const created = history.find((event) => event.EventType === 'TimerCreated');
    const fired = history.find((event) => event.EventType === 'TimerFired');
    expect(created).toMatchObject({ FireAt: new Date(output.fireAt).toISOString() });
    expect(fired).toMatchObject({ TimerId: created?.EventId, FireAt: new Date(output.fireAt).toISOString() });
  });

  it('races work against a timer (Task.any over Task.all) and completes once the work wins', async () => {
    const id = await host.start('activityWithTimeout');
    const status = await host.waitFor(id);
    expect(status).toMatchObject({ runtimeStatus: 'Completed', output: 42 });
  });

  it('retries an activity with back-off and succeeds on the third attempt', async () => {
    const key = uniqueId('flaky');
    const id = await host.start('retrying', { key, failTimes: 2, maxAttempts: 5 });
    const status = await host.waitFor(id);
    expect(status).toMatchObject({ runtimeStatus: 'Completed', output: { succeededOnAttempt: 3 } });
    const attempts = fixtureState.flakyAttempts.get(key) ?? [];
    expect(attempts).toHaveLength(3);
    // firstRetryInterval 1 s, coefficient 2: waits of 1 s, then 2 s of engine time.
    const history = await rawHistory(id);
    const timers = history.filter((event) => event.EventType === 'TimerCreated');
    expect(timers.map((timer) => Date.parse(timer.FireAt ?? '') - Date.parse(timer.Timestamp))).toEqual([1000, 2000]);
    expect((attempts[1] ?? 0) - (attempts[0] ?? 0)).toBeGreaterThanOrEqual(1000 / TIME_SCALE - 5);
    expect((attempts[2] ?? 0) - (attempts[1] ?? 0)).toBeGreaterThanOrEqual(2000 / TIME_SCALE - 5);
    // Sequence numbers as the library counts them: attempt 0, timer 1, attempt 2, timer 3, attempt 4.
    expect(history.filter((event) => event.EventType === 'TaskScheduled').map((event) => event.EventId)).toEqual([0, 2, 4]);
  });

  it('lets idle entities go from memory and loads them again, state intact, when a message comes', async () => {
    const entities = host.durable.engine.entities;
    const keys = Array.from({ length: 40 }, (_, index) => uniqueId(`tally-${index}`));
    await Promise.all(keys.map((key) => entities.signal({ name: 'tally', key }, 'add', '2')));
    await host.durable.idle();
    expect(entities.loaded).toBe(0);
    await Promise.all(keys.map((key) => entities.signal({ name: 'tally', key }, 'add', '3')));
    await host.durable.idle();
    expect(await Promise.all(keys.map(async (key) => (await entities.readState({ name: 'tally', key })).state))).toEqual(keys.map(() => 5));
    expect(entities.loaded).toBe(0);
  });

  it('stops retrying once the retry timeout has elapsed, and fails the task instead of hanging (durable-js #629)', async () => {
    // Engine time at 4× only: at 20× the time an episode takes on a busy machine (50 ms is a second of
    // engine time) could already exceed the timeout after the first or second failure.
    const slower = await startDurableTestHost({
      storageConnectionString: azurite.connectionString,
      hubName: 'DurableRetryTimeout',
      timeScale: 4,
    });
    try {
      const key = uniqueId('timeout');
      // Failures at 0 s (wait 1 s), 1 s (wait 2 s), 3 s: past the 2.5 s timeout, so no 4th of the 10 attempts runs.
      const id = await slower.start('retrying', { key, failTimes: 99, maxAttempts: 10, retryTimeoutMs: 2500 });
      const status = await slower.waitFor(id);
      expect(status.runtimeStatus).toBe('Completed');
      expect((status.output as { gaveUp: string }).gaveUp).toContain(`flaky failure 3 of ${key}`);
      expect(fixtureState.flakyAttempts.get(key)).toHaveLength(3);
      expect(slower.errors).toEqual([]);
    } finally {
      await slower.stop();
    }
  });

  it('keeps sequence numbers in step for retries running side by side inside Task.all', async () => {
    const key = uniqueId('parallel');
    const id = await host.start('parallelRetries', { key });
    const status = await host.waitFor(id);
    expect(status).toMatchObject({ runtimeStatus: 'Completed', output: [2, 10, 3, 12, 1, 100] });
    expect(fixtureState.flakyAttempts.get(`${key}-a`)).toHaveLength(2);
    expect(fixtureState.flakyAttempts.get(`${key}-b`)).toHaveLength(3);
    expect(fixtureState.flakyAttempts.get(`${key}-c`)).toHaveLength(1);
    const history = await rawHistory(id);
    // Every number is used once, by a task or a timer, as the library hands them out.
    const ids = history
      .filter((event) => event.EventType === 'TaskScheduled' || event.EventType === 'TimerCreated')
      .map((event) => event.EventId);
    expect([...ids].sort((a, b) => a - b)).toEqual(Array.from({ length: ids.length }, (_, index) => index));
  });

  it('retries a failing sub-orchestration with back-off', async () => {
    const key = uniqueId('child');
    const id = await host.start('retriesChild', { key });
    const status = await host.waitFor(id);
    expect(status).toMatchObject({ runtimeStatus: 'Completed', output: 'child succeeded on attempt 2' });
    const history = await rawHistory(id);
    expect(history.filter((event) => event.EventType === 'SubOrchestrationInstanceFailed')).toHaveLength(1);
    expect(
      history
        .filter((event) => event.EventType === 'TimerCreated')
        .map((timer) => Date.parse(timer.FireAt ?? '') - Date.parse(timer.Timestamp)),
    ).toEqual([1000]);
  });

  it('gives up after maxNumberOfAttempts and hands the last failure to the orchestrator', async () => {
    const key = uniqueId('hopeless');
    const id = await host.start('retrying', { key, failTimes: 99, maxAttempts: 2 });
    const status = await host.waitFor(id);
    expect(status.runtimeStatus).toBe('Completed');
    expect((status.output as { gaveUp: string }).gaveUp).toContain(`flaky failure 2 of ${key}`);
    expect(fixtureState.flakyAttempts.get(key)).toHaveLength(2);
  });

  it('continues as new 100 times with the stored history staying bounded', async () => {
    const id = uniqueId('counter');
    await host.start('counter', { n: 1, until: 100 }, id);
    const status = await host.waitFor(id, undefined, 60_000);
    expect(status).toMatchObject({ runtimeStatus: 'Completed', output: 100, input: { n: 100, until: 100 } });
    // Only the last execution's history is kept: the 8 events of its two episodes, and the sentinel.
    const rows = await host.durable.engine.countRows(id);
    expect(rows).toEqual({ history: 8, inbox: 0, other: 1 });
  });

  it('keeps inputs and results larger than a table property (64 KiB) intact', async () => {
    const text = Array.from({ length: 9000 }, (_, index) => `line ${index} — ünïcødé\n`).join('');
    const id = await host.start('bigPayloads', { text });
    const status = await host.waitFor(id);
    expect(status).toMatchObject({ runtimeStatus: 'Completed', output: { big: 150_000, echoed: text.length, same: true } });
    expect((status.input as { text: string }).text).toBe(text);
  });

  it('waits for an external event raised through the durable client', async () => {
    const id = await host.start('approval');
    await host.durable.idle(id);
    const waiting = await host.status(id);
    expect(waiting).toMatchObject({ runtimeStatus: 'Running', customStatus: 'waiting for approval' });
    await host.raise(id, 'Approval', { approved: true, by: 'ops' });
    const status = await host.waitFor(id);
    expect(status).toMatchObject({ runtimeStatus: 'Completed', customStatus: 'decided', output: { approved: true, by: 'ops' } });
  });

  it('keeps an event raised before the orchestrator waits for it', async () => {
    const id = await host.start('twoEvents');
    // 'second' arrives first, before the orchestrator waits for anything.
    await host.raise(id, 'second', 'B');
    await host.raise(id, 'first', 'A');
    const status = await host.waitFor(id);
    expect(status).toMatchObject({ runtimeStatus: 'Completed', output: 'A+B' });
  });

  it('runs sub-orchestrations (named and default instance ids) and hands their results to the parent', async () => {
    const id = uniqueId('parent');
    await host.start('parent', { value: 5 }, id);
    const status = await host.waitFor(id);
    expect(status).toMatchObject({
      runtimeStatus: 'Completed',
      output: { fromChild: { doubled: 10, parent: id }, fromDefaultId: { doubled: 12 } },
    });
    const child = await host.status(`${id}-child`);
    expect(child).toMatchObject({ name: 'child', runtimeStatus: 'Completed', input: { value: 5 }, output: { doubled: 10, parent: id } });
    const history = await host.status(id, 'showHistory=true&showHistoryOutput=true');
    const completions = (history?.historyEvents ?? []) as { EventType: string; FunctionName?: string; InstanceId?: string }[];
    expect(completions.filter((event) => event.EventType === 'SubOrchestrationInstanceCompleted')).toEqual([
      expect.objectContaining({ FunctionName: 'child', InstanceId: `${id}-child`, Result: { doubled: 10, parent: id } }),
      // A child without an id gets `<parent>:<its sequence number>`.
      expect.objectContaining({ FunctionName: 'child', InstanceId: `${id}:0001`, Result: { doubled: 12, parent: id } }),
    ]);
  });

  it('surfaces a failed sub-orchestration to the parent as an error it can catch', async () => {
    const id = await host.start('failingChildParent');
    const status = await host.waitFor(id);
    expect(status.runtimeStatus).toBe('Completed');
    expect((status.output as { childFailed: string }).childFailed).toContain('orchestrator exploded');
  });

  it('lets the orchestrator catch a failing activity and complete', async () => {
    const id = await host.start('catchesFailure');
    const status = await host.waitFor(id);
    expect(status.runtimeStatus).toBe('Completed');
    const output = status.output as { caught: string; after: number };
    expect(output.caught).toContain("Activity function 'fail' failed");
    expect(output.caught).toContain('activity failed on purpose: boom');
    expect(output.after).toBe(42);
  });

  it('ends an orchestrator that throws as Failed, with the error in the output', async () => {
    const id = await host.start('throws');
    const status = await host.waitFor(id);
    expect(status.runtimeStatus).toBe('Failed');
    expect(status.output).toEqual(expect.stringContaining("Orchestrator function 'throws' failed: orchestrator exploded"));
    expect(host.warnings.some((warning) => warning.includes('orchestrator exploded'))).toBe(true);
  });

  it('ends a non-deterministic orchestrator as Failed with a clear message instead of hanging', async () => {
    fixtureState.firstActivity = 'double';
    const id = await host.start('nonDeterministic');
    await host.durable.idle(id);
    expect((await host.status(id))?.runtimeStatus).toBe('Running');
    // The "code" changes while the instance waits: its replay now schedules another activity first.
    fixtureState.firstActivity = 'echo';
    try {
      await host.raise(id, 'go', null);
      const status = await host.waitFor(id);
      expect(status.runtimeStatus).toBe('Failed');
      expect(status.output).toEqual(
        expect.stringContaining(
          "Non-deterministic orchestrator: the history records activity 'double' at sequence number 0, but the orchestrator now schedules activity 'echo' there",
        ),
      );
    } finally {
      fixtureState.firstActivity = 'double';
    }
  });

  it('does not duplicate a running singleton started twice with the same id', async () => {
    const id = uniqueId('singleton');
    const [first, second] = await Promise.all([host.start('approval', undefined, id), host.start('approval', undefined, id)]);
    expect(first).toBe(id);
    expect(second).toBe(id);
    await host.durable.idle(id);
    expect(await host.start('approval', undefined, id)).toBe(id);
    await host.durable.idle(id);
    const listed = await listViaRpc(`instanceIdPrefix=${id}`);
    expect(listed.map((status) => status.instanceId)).toEqual([id]);
    const history = await rawHistory(id);
    expect(history.filter((event) => event.EventType === 'ExecutionStarted')).toHaveLength(1);
    await host.raise(id, 'Approval', { approved: false, by: 'me' });
    expect(await host.waitFor(id)).toMatchObject({ runtimeStatus: 'Completed', output: { approved: false, by: 'me' } });
    // Finished, the same id starts a new instance.
    await host.start('approval', undefined, id);
    expect((await host.waitFor(id, ['Running'])).output).toBeNull();
    await host.raise(id, 'Approval', { approved: true, by: 'again' });
    expect(await host.waitFor(id)).toMatchObject({ runtimeStatus: 'Completed', output: { approved: true, by: 'again' } });
  });

  it('terminates, lists by status and purges through the durable client', async () => {
    const id = uniqueId('terminated');
    await host.start('approval', undefined, id);
    await host.durable.idle(id);
    const running = (await (await fetch(`${host.url}/api/durable/manage/list?status=Running`)).json()) as { instanceId: string }[];
    expect(running.map((status) => status.instanceId)).toContain(id);
    expect((await fetch(`${host.url}/api/durable/manage/terminate/${id}`, { method: 'POST' })).status).toBe(202);
    const status = await host.waitFor(id);
    expect(status).toMatchObject({ runtimeStatus: 'Terminated', output: 'stopped by the test' });
    const terminated = (await (await fetch(`${host.url}/api/durable/manage/list?status=Terminated`)).json()) as { instanceId: string }[];
    expect(terminated.map((entry) => entry.instanceId)).toContain(id);
    const purged = (await (await fetch(`${host.url}/api/durable/manage/purge/${id}`, { method: 'POST' })).json()) as {
      instancesDeleted: number;
    };
    expect(purged).toEqual({ instancesDeleted: 1 });
    expect(await host.status(id)).toBeUndefined();
    expect(await host.durable.engine.countRows(id)).toEqual({ history: 0, inbox: 0, other: 0 });
  });

  it('serves the webhooks on the devhost port to the master key or the system key only', async () => {
    const id = await host.start('fanOutFanIn', { count: 2 });
    await host.waitFor(id);
    const statusPath = `${host.url}${WEBHOOK_PATH}/instances/${id}`;
    expect((await fetch(statusPath)).status).toBe(401);
    expect((await fetch(`${statusPath}?code=${TEST_KEYS.functionKey}`)).status).toBe(401);
    expect((await fetch(statusPath, { headers: { 'x-functions-key': TEST_KEYS.masterKey } })).status).toBe(200);
    const viaSystemKey = await fetch(`${statusPath}?code=${durableSystemKey(TEST_KEYS)}&showHistory=true`);
    expect(viaSystemKey.status).toBe(200);
    expect(await viaSystemKey.json()).toMatchObject({ instanceId: id, runtimeStatus: 'Completed', output: 2 });
    // The links createCheckStatusResponse hands out carry the system key, not the master key.
    const payload = (await (await fetch(`${host.url}/api/durable/manage/payload/${id}`)).json()) as Record<string, string>;
    expect(payload.statusQueryGetUri).toContain(`code=${durableSystemKey(TEST_KEYS)}`);
    expect(JSON.stringify(payload)).not.toContain(TEST_KEYS.masterKey);
    const started = await fetch(`${host.url}${WEBHOOK_PATH}/orchestrators/fanOutFanIn?code=${durableSystemKey(TEST_KEYS)}`, {
      method: 'POST',
      body: JSON.stringify({ count: 3 }),
    });
    expect(started.status).toBe(202);
    const { id: webhookId, statusQueryGetUri } = (await started.json()) as { id: string; statusQueryGetUri: string };
    await host.waitFor(webhookId);
    const followed = await fetch(statusQueryGetUri.replace(/^http:\/\/localhost:\d+/, host.url));
    expect(await followed.json()).toMatchObject({ runtimeStatus: 'Completed', output: 6 });
    expect(
      (await fetch(`${host.url}${WEBHOOK_PATH}/orchestrators/noSuchOrchestrator?code=${TEST_KEYS.masterKey}`, { method: 'POST' })).status,
    ).toBe(400);
  });

  it('takes its time from an injected clock: a timer fires when the clock is moved past it', async () => {
    let now = Date.parse('2030-01-01T00:00:00Z');
    const manual = await startDurableTestHost({
      storageConnectionString: azurite.connectionString,
      hubName: 'DurableManualClock',
      clock: { now: () => now },
    });
    try {
      const id = await manual.start('timerThenActivity', { delayMs: 3_600_000 });
      await manual.durable.idle(id);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect((await manual.status(id))?.runtimeStatus).toBe('Running');
      now += 3_600_000;
      const status = await manual.waitFor(id, undefined, 5000);
      expect(status.runtimeStatus).toBe('Completed');
      expect(status.output).toMatchObject({ startedAt: Date.parse('2030-01-01T00:00:00Z'), resumedAt: Date.parse('2030-01-01T01:00:00Z') });
      expect(manual.errors).toEqual([]);
    } finally {
      await manual.stop();
    }
  });

  it('runs a timer longer than the maximum short timer as the library splits it', async () => {
    const fast = await startDurableTestHost({
      storageConnectionString: azurite.connectionString,
      hubName: 'DurableLongTimers',
      timeScale: 1_000_000,
    });
    try {
      // 10 days: sub-timers of 3 days until the rest is under 6 days, then the final one.
      const id = await fast.start('longTimer', { days: 10 });
      const status = await fast.waitFor(id);
      const output = status.output as { fireAt: number; resumedAt: number };
      expect(status.runtimeStatus).toBe('Completed');
      expect(output.resumedAt).toBeGreaterThanOrEqual(output.fireAt);
      const store = await DurableStore.open(azurite.connectionString, 'DurableLongTimers');
      const history = (await store.readPartition(id)).history;
      const fired = history.filter((event) => event.EventType === 'TimerFired');
      expect(fired.length).toBeGreaterThanOrEqual(2);
      expect(fired.at(-1)).toMatchObject({ FireAt: new Date(output.fireAt).toISOString() });
      expect(fast.errors).toEqual([]);
    } finally {
      await fast.stop();
    }
  });
});
