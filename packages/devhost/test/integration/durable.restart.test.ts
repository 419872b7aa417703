/**
 * Crash safety: the durable engine runs in a child process that is killed with SIGKILL while an
 * orchestration waits for a timer and again while activities run; Azurite (another process) keeps
 * the state. Each restart must resume the instance from the tables: the overdue timer fires, no
 * recorded activity result is lost, and no activity whose completion was recorded runs again.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DurableStore } from '../../src/durable/store';
import type { HistoryEvent } from '../../src/durable/protocol';
import { startAzurite, type RunningAzurite } from '../../src/storage/azurite';

const HUB = 'DurableRestart';
const ENTRY = join(__dirname, '..', 'fixtures', 'engineProcess.ts');
const STEP_MS = 300;
const TIMER_MS = 1500;

let azurite: RunningAzurite;
let store: DurableStore;
let dir: string;
const children: ChildProcessWithoutNullStreams[] = [];

beforeAll(async () => {
  azurite = await startAzurite({ inMemory: true });
  store = await DurableStore.open(azurite.connectionString, HUB);
  dir = mkdtempSync(join(tmpdir(), 'durable-restart-'));
}, 60_000);

afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await azurite.stop();
  rmSync(dir, { recursive: true, force: true });
});

interface Engine {
  readonly child: ChildProcessWithoutNullStreams;
  readonly output: string[];
}

async function startEngine(
  probeFile: string,
  inboxFirst: boolean,
  start?: { name: string; instanceId: string; input: unknown },
): Promise<Engine> {
  const child = spawn(process.execPath, ['-r', require.resolve('ts-node/register/transpile-only'), ENTRY], {
    cwd: join(__dirname, '..', '..'),
    env: {
      ...process.env,
      DURABLE_CONNECTION: azurite.connectionString,
      DURABLE_HUB: HUB,
      DURABLE_PROBE_FILE: probeFile,
      DURABLE_STEP_MS: String(STEP_MS),
      DURABLE_INBOX_FIRST: String(inboxFirst),
      ...(start ? { DURABLE_START: JSON.stringify(start) } : {}),
    },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  children.push(child);
  const output: string[] = [];
  child.stderr.on('data', (chunk: Buffer) => output.push(chunk.toString('utf8')));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the engine did not start:\n${output.join('')}`)), 30_000);
    child.stdout.on('data', (chunk: Buffer) => {
      output.push(chunk.toString('utf8'));
      if (output.join('').includes('READY ')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the engine exited (${String(code)}) while starting:\n${output.join('')}`));
    });
  });
  return { child, output };
}

async function kill(engine: Engine): Promise<void> {
  const exited = new Promise((resolve) => engine.child.once('exit', resolve));
  engine.child.kill('SIGKILL');
  await exited;
}

async function until<T>(probe: () => Promise<T> | T, accept: (value: T) => boolean, timeoutMs = 20_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (accept(value)) return value;
    if (Date.now() > deadline) throw new Error(`${what} not met within ${timeoutMs} ms; last: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function stepRuns(probeFile: string): Map<number, number> {
  const runs = new Map<number, number>();
  if (!existsSync(probeFile)) return runs;
  for (const line of readFileSync(probeFile, 'utf8').split('\n')) {
    const match = /^step:(\d+)$/.exec(line);
    if (match) runs.set(Number(match[1]), (runs.get(Number(match[1])) ?? 0) + 1);
  }
  return runs;
}

/** Steps whose completion is recorded (in the history or in the inbox), read straight from the tables. */
async function recordedSteps(instanceId: string): Promise<Set<number>> {
  const snapshot = await store.readPartition(instanceId);
  const stepOf = new Map<number, number>();
  for (const event of snapshot.history) if (event.EventType === 'TaskScheduled') stepOf.set(event.EventId, Number(event.Input));
  const recorded = new Set<number>();
  const completions: HistoryEvent[] = [...snapshot.history, ...snapshot.inbox.map((message) => message.event)];
  for (const event of completions) {
    if (event.EventType === 'TaskCompleted') recorded.add(stepOf.get(event.TaskScheduledId) ?? -1);
  }
  return recorded;
}

describe.each([
  ['results recorded by the consuming checkpoint when idle', false],
  ['every result written to the inbox first', true],
])('durable engine restarts (%s)', (_mode, inboxFirst) => {
  it('resumes after SIGKILL: the overdue timer fires, recorded results are kept, recorded activities never run again', async () => {
    const instanceId = `restart-${randomUUID().slice(0, 8)}`;
    const probe = join(dir, `${instanceId}.log`);

    // 1. Killed while the orchestration waits for its timer (steps 1 and 2 done).
    const first = await startEngine(probe, inboxFirst, { name: 'restartable', instanceId, input: { timerMs: TIMER_MS } });
    const timer = await until(
      async () => (await store.readPartition(instanceId)).history.find((event) => event.EventType === 'TimerCreated'),
      (event) => event !== undefined,
      20_000,
      'the timer was created',
    );
    await kill(first);
    const recordedAtFirstKill = await recordedSteps(instanceId);
    expect([...recordedAtFirstKill].sort()).toEqual([1, 2]);
    expect((await store.readInstance(instanceId))?.runtimeStatus).toBe('Running');

    // The timer falls due while no engine runs.
    const fireAt = timer?.EventType === 'TimerCreated' ? Date.parse(timer.FireAt) : 0;
    await until(
      () => Date.now(),
      (now) => now > fireAt + 200,
    );

    // 2. Restarted: the overdue timer fires at once and the fan-out starts; killed once a fan-out step has finished.
    const second = await startEngine(probe, inboxFirst);
    const restartedAt = Date.now();
    await until(
      () => stepRuns(probe),
      (runs) => [3, 4, 5].some((step) => runs.has(step)),
      20_000,
      'a fan-out step finished',
    );
    expect(Date.now() - restartedAt).toBeLessThan(TIMER_MS + 10_000);
    await kill(second);
    const recordedAtSecondKill = await recordedSteps(instanceId);
    const runsAtSecondKill = stepRuns(probe);

    // 3. Restarted again: runs to completion.
    const third = await startEngine(probe, inboxFirst);
    const finished = await until(
      () => store.readInstance(instanceId),
      (row) => row?.runtimeStatus === 'Completed' || row?.runtimeStatus === 'Failed',
      30_000,
      'completion',
    );
    expect(finished?.runtimeStatus).toBe('Completed');
    // Every result reached the orchestrator, none lost.
    expect(JSON.parse(finished?.output ?? 'null')).toEqual([10, 20, 30, 40, 50, 60]);

    const runs = stepRuns(probe);
    for (let step = 1; step <= 6; step++) expect(runs.get(step)).toBeGreaterThanOrEqual(1);
    // Steps recorded before a kill ran exactly once; only a step that finished but was not yet recorded may run again.
    for (const step of [...recordedAtFirstKill, ...recordedAtSecondKill]) expect({ step, runs: runs.get(step) }).toEqual({ step, runs: 1 });
    for (const [step, count] of runs) {
      if (count > 1) {
        expect(recordedAtSecondKill.has(step)).toBe(false);
        expect(runsAtSecondKill.get(step)).toBe(1);
      }
    }
    // The instance's history is whole: one TaskScheduled and one result per step.
    const history = (await store.readPartition(instanceId)).history;
    expect(history.filter((event) => event.EventType === 'TaskScheduled')).toHaveLength(6);
    expect(history.filter((event) => event.EventType === 'TaskCompleted')).toHaveLength(6);
    expect(history.filter((event) => event.EventType === 'TimerFired')).toHaveLength(1);
    await kill(third);
  }, 120_000);
});
