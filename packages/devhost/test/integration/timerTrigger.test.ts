/**
 * The devhost's timer trigger, driving functions registered with @azure/functions' app.timer through
 * the library's own invocation model, as the host would.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { app, type Timer, type TimerFunctionOptions } from '@azure/functions';
import { getProgrammingModel, registeredFunctions, type Registration } from '../../src/functionsCore';
import { invokeFunction } from '../../src/invoke';
import type { Logger } from '../../src/logger';
import {
  NEVER,
  parseTimerSchedule,
  startTimerTriggers,
  timerStatusFile,
  type ScheduleStatusRecord,
  type TimerTriggerOptions,
} from '../../src/triggers/timerTrigger';
import { readRetryPolicy } from '../../src/triggers/retryPolicy';
import type { RunningService, TriggerHostContext } from '../../src/triggers/triggerHost';

interface Call {
  readonly timer: Timer;
  readonly at: number;
}

let counter = 0;
let dataDir: string;
let logs: { level: string; message: string }[];
const running: RunningService[] = [];

beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'devhost-timers-'));
  logs = [];
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((service) => service.stop()));
  await rm(dataDir, { recursive: true, force: true });
});

const logger: Logger = {
  info: (message) => logs.push({ level: 'info', message }),
  warn: (message) => logs.push({ level: 'warn', message }),
  error: (message) => logs.push({ level: 'error', message }),
  functionLog: (_name, _id, level, _category, message) => logs.push({ level, message }),
};

function context(settings: Record<string, string> = {}): TriggerHostContext {
  const model = getProgrammingModel();
  if (!model) throw new Error('no function registered yet');
  return {
    invoke: (registration, request, reason) => invokeFunction(model, registration, request, logger, reason),
    logger,
    settings,
    hostJson: {},
    dataDir,
  };
}

/** Registers a timer function whose calls are recorded; `body` runs inside the handler. */
function timer(
  options: Omit<TimerFunctionOptions, 'handler'>,
  body: (call: number) => Promise<void> | void = () => undefined,
): { registration: Registration; calls: Call[] } {
  counter += 1;
  const name = `timer${String(counter)}`;
  const calls: Call[] = [];
  app.timer(name, {
    ...options,
    handler: async (myTimer) => {
      calls.push({ timer: myTimer, at: Date.now() });
      await body(calls.length);
    },
  });
  const registration = registeredFunctions().find((candidate) => candidate.metadata.name === name)!;
  return { registration, calls };
}

async function start(
  registrations: Registration[],
  settings: Record<string, string> = {},
  options: TimerTriggerOptions = {},
): Promise<RunningService> {
  const service = await startTimerTriggers(registrations, context(settings), options);
  running.push(service);
  return service;
}

async function waitFor(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await sleep(10);
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function readStatus(name: string): Promise<ScheduleStatusRecord | undefined> {
  const records = JSON.parse(await readFile(timerStatusFile(dataDir), 'utf8')) as Record<string, ScheduleStatusRecord>;
  return records[name];
}

describe('schedules', () => {
  it('fires an every-second NCRONTAB schedule repeatedly, about a second apart, not past due and unmonitored', async () => {
    const { registration, calls } = timer({ schedule: '* * * * * *' });
    await start([registration]);
    await waitFor(() => calls.length >= 3);
    for (const call of calls) {
      expect(call.timer.isPastDue).toBe(false);
      expect(call.timer.schedule).toEqual({ adjustForDST: true });
      // The host forces monitoring off for schedules that fire more than once a minute and then sends no status.
      expect(call.timer.scheduleStatus).toBeNull();
    }
    const gaps = calls.slice(1).map((call, index) => call.at - calls[index]!.at);
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(800);
  });

  it('fires a TimeSpan schedule, resolving a %SETTING% expression', async () => {
    const { registration, calls } = timer({ schedule: '%TICK%' });
    const started = Date.now();
    await start([registration], { TICK: '00:00:00.2' });
    await waitFor(() => calls.length >= 3);
    expect(calls[0]!.at - started).toBeGreaterThanOrEqual(180);
    expect(calls.every((call) => !call.timer.isPastDue)).toBe(true);
  });

  it('runs on startup at once, with the status of a monitored schedule', async () => {
    const { registration, calls } = timer({ schedule: '0 0 0 1 1 *', runOnStartup: true });
    const started = Date.now();
    await start([registration]);
    await waitFor(() => calls.length === 1, 1000);
    expect(calls[0]!.at - started).toBeLessThan(500);
    const nextNewYear = `${String(new Date().getUTCFullYear() + 1)}-01-01T00:00:00.000Z`;
    expect(calls[0]!.timer).toEqual({
      schedule: { adjustForDST: true },
      scheduleStatus: { last: NEVER, next: nextNewYear, lastUpdated: expect.any(String) },
      isPastDue: false,
    });
    await sleep(200);
    expect(calls).toHaveLength(1);
    await waitFor(() => logs.some((log) => log.message.startsWith(`Executed 'Functions.${registration.metadata.name}' (Succeeded`)));
  });

  it('refuses a schedule that is neither NCRONTAB nor a TimeSpan, naming the function', async () => {
    const { registration } = timer({ schedule: '*/5 * * * *' });
    await expect(start([registration])).rejects.toThrow(
      `Timer function "${registration.metadata.name}": The schedule expression '*/5 * * * *' was not recognized`,
    );
  });

  it('evaluates NCRONTAB as NCrontab does: six fields, day-of-month AND day-of-week', () => {
    const fridayThe13th = parseTimerSchedule('0 0 0 13 * Fri');
    let at = new Date('2024-01-01T00:00:00Z');
    const occurrences: string[] = [];
    for (let i = 0; i < 3; i += 1) {
      at = fridayThe13th.nextAfter(at);
      occurrences.push(at.toISOString());
    }
    expect(occurrences).toEqual(['2024-09-13T00:00:00.000Z', '2024-12-13T00:00:00.000Z', '2025-06-13T00:00:00.000Z']);
    expect(parseTimerSchedule('0 30 9 * * Mon-Fri', 'Europe/London').nextAfter(new Date('2024-06-01T00:00:00Z')).toISOString()).toBe(
      '2024-06-03T08:30:00.000Z',
    );
    expect(parseTimerSchedule('1.00:00:00').nextAfter(new Date('2024-01-01T00:00:00Z')).toISOString()).toBe('2024-01-02T00:00:00.000Z');
    for (const invalid of ['0 0 * * *', '0 0 0 L * *', '0 0 0 ? * *', '0 61 * * * *', '25:00:00'])
      expect(() => parseTimerSchedule(invalid)).toThrow('not recognized');
  });
});

describe('schedule monitoring (timers.json)', () => {
  /** A clock at `at` when started, moving with real time. */
  function clockFrom(at: string): () => Date {
    const offset = Date.parse(at) - Date.now();
    return () => new Date(Date.now() + offset);
  }

  it('runs an occurrence missed while the devhost was down once, past due, then keeps the schedule', async () => {
    const { registration, calls } = timer({ schedule: '0 0 0 1 1 *' });
    const name = registration.metadata.name;
    await writeFile(
      timerStatusFile(dataDir),
      JSON.stringify({
        [name]: { last: '2023-01-01T00:00:00.000Z', next: '2024-01-01T00:00:00.000Z', lastUpdated: '2023-01-01T00:00:00.000Z' },
      }),
    );
    const service = await start([registration], {}, { now: clockFrom('2024-06-01T12:00:00Z') });
    await waitFor(() => calls.length === 1, 1000);
    expect(calls[0]!.timer).toEqual({
      schedule: { adjustForDST: true },
      scheduleStatus: { last: '2023-01-01T00:00:00.000Z', next: '2024-01-01T00:00:00.000Z', lastUpdated: '2023-01-01T00:00:00.000Z' },
      isPastDue: true,
    });
    await service.stop();
    const status = await readStatus(name);
    expect(status?.next).toBe('2025-01-01T00:00:00.000Z');
    expect(status?.last.startsWith('2024-06-01T12:00:0')).toBe(true);
    expect(status?.lastUpdated).toBe(status?.last);

    // A restart with nothing missed runs nothing.
    await start([registration], {}, { now: clockFrom('2024-06-01T13:00:00Z') });
    await sleep(200);
    expect(calls).toHaveLength(1);
  });

  it('records a new timer at first start, so an occurrence missed before its first run is caught', async () => {
    const { registration, calls } = timer({ schedule: '0 0 0 1 1 *' });
    const name = registration.metadata.name;
    const first = await start([registration], {}, { now: clockFrom('2024-12-31T23:00:00Z') });
    expect(await readStatus(name)).toEqual({
      last: NEVER,
      next: '2025-01-01T00:00:00.000Z',
      lastUpdated: expect.stringMatching(/^2024-12-31T23:00:00/),
    });
    await first.stop();
    await start([registration], {}, { now: clockFrom('2025-03-01T00:00:00Z') });
    await waitFor(() => calls.length === 1, 1000);
    expect(calls[0]!.timer.isPastDue).toBe(true);
  });

  it('treats a changed schedule as new rather than past due, as the host does', async () => {
    const { registration, calls } = timer({ schedule: '0 0 0 1 1 *' });
    const name = registration.metadata.name;
    // `next` does not follow from `last` under the current schedule: the schedule was changed.
    await writeFile(
      timerStatusFile(dataDir),
      JSON.stringify({
        [name]: { last: '2023-01-01T00:00:00.000Z', next: '2023-02-01T00:00:00.000Z', lastUpdated: '2023-01-01T00:00:00.000Z' },
      }),
    );
    await start([registration], {}, { now: clockFrom('2024-06-01T12:00:00Z') });
    await sleep(200);
    expect(calls).toHaveLength(0);
    expect((await readStatus(name))?.next).toBe('2025-01-01T00:00:00.000Z');
  });

  it('with useMonitor false, neither reads nor writes the status', async () => {
    const { registration, calls } = timer({ schedule: '0 0 0 1 1 *', useMonitor: false, runOnStartup: true });
    const name = registration.metadata.name;
    await writeFile(
      timerStatusFile(dataDir),
      JSON.stringify({
        [name]: { last: '2023-01-01T00:00:00.000Z', next: '2024-01-01T00:00:00.000Z', lastUpdated: '2023-01-01T00:00:00.000Z' },
      }),
    );
    const service = await start([registration], {}, { now: clockFrom('2024-06-01T12:00:00Z') });
    await waitFor(() => calls.length === 1, 1000);
    await service.stop();
    expect(calls[0]!.timer.isPastDue).toBe(false);
    expect(calls[0]!.timer.scheduleStatus).toBeNull();
    expect((await readStatus(name))?.next).toBe('2024-01-01T00:00:00.000Z');
  });
});

describe('invocations', () => {
  it('keeps the schedule after a failing run, logging the failure', async () => {
    const { registration, calls } = timer({ schedule: '00:00:00.1' }, (call) => {
      if (call <= 2) throw new Error(`boom ${String(call)}`);
    });
    await start([registration]);
    await waitFor(() => calls.length >= 4);
    const name = registration.metadata.name;
    expect(logs.filter((log) => log.message.startsWith(`Executed 'Functions.${name}' (Failed`))).toHaveLength(2);
    expect(
      logs.filter((log) => log.level === 'warn' && log.message.includes(`Timer '${name}': the invocation failed; the schedule continues`)),
    ).toHaveLength(2);
  });

  it('never overlaps two runs of one function, even when a run outlasts the interval', async () => {
    let active = 0;
    let maxActive = 0;
    const { registration, calls } = timer({ schedule: '00:00:00.05' }, async () => {
      active += 1;
      maxActive = Math.max(maxActive, active);
      await sleep(150);
      active -= 1;
    });
    await start([registration]);
    await waitFor(() => calls.length >= 4);
    expect(maxActive).toBe(1);
    // A missed occurrence fires once, right after the long run, not once per missed interval.
    const gaps = calls.slice(1).map((call, index) => call.at - calls[index]!.at);
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(140);
  });

  it('stop() cancels the timers and waits for a running invocation and its status', async () => {
    let release: () => void = () => undefined;
    const { registration, calls } = timer(
      { schedule: '0 0 0 1 1 *', runOnStartup: true },
      () => new Promise<void>((resolve) => (release = resolve)),
    );
    const other = timer({ schedule: '00:00:00.05' });
    const service = await start([registration, other.registration]);
    await waitFor(() => calls.length === 1 && other.calls.length >= 1);
    let stopped = false;
    const stopping = service.stop().then(() => (stopped = true));
    await sleep(100);
    expect(stopped).toBe(false);
    release();
    await stopping;
    expect((await readStatus(registration.metadata.name))?.last).not.toBe(NEVER);
    const otherCalls = other.calls.length;
    await sleep(150);
    expect(other.calls).toHaveLength(otherCalls);
  });
});

describe('retry policies (the function retry option, as the host applies it to timers)', () => {
  /** A timer function that runs at start-up and fails `failures` times; each call's retryContext and time are kept. */
  function failingTimer(retry: TimerFunctionOptions['retry'], failures: number) {
    counter += 1;
    const name = `retryTimer${String(counter)}`;
    const calls: { retryCount?: number; maxRetryCount?: number; at: number }[] = [];
    app.timer(name, {
      schedule: '0 0 0 1 1 *',
      runOnStartup: true,
      useMonitor: false,
      ...(retry && { retry }),
      handler: (_timer, invocation) => {
        calls.push({ ...(invocation.retryContext ?? {}), at: Date.now() });
        if (calls.length <= failures) throw new Error(`failure ${String(calls.length)}`);
      },
    });
    return { registration: registeredFunctions().find((candidate) => candidate.metadata.name === name)!, calls };
  }

  it('fixedDelay: retries a failing run maxRetryCount times, delayInterval apart, telling each its retryContext, then keeps the schedule', async () => {
    const { registration, calls } = failingTimer({ strategy: 'fixedDelay', maxRetryCount: 2, delayInterval: { milliseconds: 1000 } }, 99);
    await start([registration]);
    await waitFor(() => logs.some((log) => log.message.includes('the invocation failed; the schedule continues')), 5000);
    expect(calls.map(({ retryCount, maxRetryCount }) => ({ retryCount, maxRetryCount }))).toEqual([
      { retryCount: 0, maxRetryCount: 2 },
      { retryCount: 1, maxRetryCount: 2 },
      { retryCount: 2, maxRetryCount: 2 },
    ]);
    for (const [index, call] of calls.slice(1).entries()) expect(call.at - calls[index]!.at).toBeGreaterThanOrEqual(950);
  });

  it('exponentialBackoff: waits minimumInterval, then longer up to maximumInterval, and stops retrying once a run succeeds', async () => {
    const { registration, calls } = failingTimer(
      { strategy: 'exponentialBackoff', maxRetryCount: 5, minimumInterval: { seconds: 1 }, maximumInterval: { seconds: 1 } },
      2,
    );
    await start([registration]);
    await waitFor(() => calls.length === 3, 5000);
    await sleep(1200);
    expect(calls).toHaveLength(3);
    expect(calls[1]!.at - calls[0]!.at).toBeGreaterThanOrEqual(950);
    // Growing from 1 s is capped at the 1 s maximum.
    expect(calls[2]!.at - calls[1]!.at).toBeLessThan(1900);
  });

  it('without a policy a failing run is not retried; an unknown strategy stops start-up naming the function', async () => {
    const { registration, calls } = failingTimer(undefined, 99);
    await start([registration]);
    await waitFor(() => calls.length === 1, 2000);
    await sleep(300);
    expect(calls).toEqual([{ at: expect.any(Number) }]);
    expect(() => readRetryPolicy({ name: 'odd', bindings: {}, retryOptions: { retryStrategy: 'linear', maxRetryCount: 1 } })).toThrow(
      /Function "odd": its retry policy has strategy "linear"; the host knows fixedDelay and exponentialBackoff/,
    );
    expect(readRetryPolicy({ name: 'none', bindings: {} })).toBeUndefined();
  });
});
