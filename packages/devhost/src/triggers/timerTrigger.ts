/**
 * Timer triggers, served as the Functions host's timer extension (WebJobs.Extensions TimerListener)
 * serves them:
 *   - `schedule` is an NCRONTAB expression with six fields `{second} {minute} {hour} {day} {month}
 *     {day-of-week}` or a TimeSpan (`hh:mm:ss`, `d.hh:mm:ss`, `hh:mm`, `d`); `%SETTING%` resolved.
 *     Cron evaluation is cron-parser's; day-of-month and day-of-week are ANDed as NCrontab does when
 *     both are restricted (classic cron ORs them). Times are in UTC unless WEBSITE_TIME_ZONE names an
 *     IANA zone (Azure: UTC unless WEBSITE_TIME_ZONE / TZ is set).
 *   - Schedule monitoring (`useMonitor`, default on): the status `{ last, next, lastUpdated }` of each
 *     function is kept in `<dataDir>/timers.json` so that an occurrence missed while the devhost was
 *     down runs once at start with `isPastDue: true`. As in the host, monitoring is forced off for
 *     schedules that fire more than once a minute, and the function then gets `ScheduleStatus: null`.
 *   - `runOnStartup` runs the function once at start (unless it is already running as past due).
 *   - Runs of one function never overlap: the next occurrence is computed and its timer started only
 *     after the previous run finished; an occurrence missed because a run was long fires once, at once.
 *   - A failing run is logged and the schedule goes on.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { CronExpressionParser, type CronExpression } from 'cron-parser';
import type { Registration } from '../functionsCore';
import { readRetryPolicy, type RetryPolicy } from './retryPolicy';
import { triggerOf } from '../invoke';
import { resolveBindingExpression, type RunningService, type TriggerHostContext } from './triggerHost';

export interface TimerTriggerOptions {
  /** The clock (default `() => new Date()`); timers still wait in real time. */
  readonly now?: () => Date;
}

/** A schedule: the first occurrence strictly after a given time. */
export interface TimerSchedule {
  readonly description: string;
  /** Set for a TimeSpan schedule. */
  readonly intervalMs?: number;
  nextAfter(time: Date): Date;
}

/** The per-function record in timers.json, as the host's ScheduleMonitor keeps it (ISO strings). */
export interface ScheduleStatusRecord {
  readonly last: string;
  readonly next: string;
  readonly lastUpdated: string;
}

/** The host's `default(DateTime)`, which it uses for "never" in Last and LastUpdated. */
export const NEVER = '0001-01-01T00:00:00';

/** setTimeout's limit is 2^31-1 ms (24.8 days); the host caps its timer at 24 days the same way. */
const MAX_TIMER_INTERVAL_MS = 24 * 24 * 60 * 60 * 1000;

/** `timers.json` in the devhost data folder. */
export function timerStatusFile(dataDir: string): string {
  return join(dataDir, 'timers.json');
}

/**
 * Parses a timer trigger schedule as the host does: an NCRONTAB expression first, then a TimeSpan.
 * Throws the host's message for anything else.
 */
export function parseTimerSchedule(expression: string, timeZone = 'UTC'): TimerSchedule {
  const cron = tryCronSchedule(expression, timeZone);
  if (cron) return cron;
  const intervalMs = parseTimeSpanMs(expression);
  if (intervalMs !== undefined) {
    if (intervalMs <= 0) throw new Error(`The schedule expression '${expression}' is a TimeSpan of zero or less.`);
    return { description: `Constant: ${expression.trim()}`, intervalMs, nextAfter: (time) => new Date(time.getTime() + intervalMs) };
  }
  throw new Error(`The schedule expression '${expression}' was not recognized as a valid cron expression or timespan string.`);
}

export async function startTimerTriggers(
  registrations: readonly Registration[],
  context: TriggerHostContext,
  options: TimerTriggerOptions = {},
): Promise<RunningService> {
  const clock = options.now ?? (() => new Date());
  const timers = registrations.filter((registration) => triggerOf(registration).binding.type === 'timerTrigger');
  if (timers.length === 0) return { stop: () => Promise.resolve() };

  const timeZone = scheduleTimeZone(context);
  // Validate every function before starting any, so a bad schedule stops start-up naming its function.
  const configured = timers.map((registration) => ({ registration, config: readTimerConfig(registration, context, timeZone, clock()) }));
  const store = await TimerStatusStore.open(timerStatusFile(context.dataDir), context);
  const runners = configured.map(({ registration, config }) => new TimerRunner(registration, config, context, store, clock));
  for (const runner of runners) await runner.start();

  let stopping: Promise<void> | undefined;
  return {
    stop: () =>
      (stopping ??= (async () => {
        await Promise.all(runners.map((runner) => runner.stop()));
        await store.flush();
      })()),
  };
}

interface TimerConfig {
  readonly schedule: TimerSchedule;
  readonly runOnStartup: boolean;
  readonly useMonitor: boolean;
}

function readTimerConfig(registration: Registration, context: TriggerHostContext, timeZone: string, now: Date): TimerConfig {
  const name = registration.metadata.name;
  const { binding } = triggerOf(registration);
  const raw = binding.schedule;
  if (typeof raw !== 'string' || raw.trim() === '') throw new Error(`Timer function "${name}" has no schedule.`);
  let schedule: TimerSchedule;
  try {
    schedule = parseTimerSchedule(resolveBindingExpression(raw, context.settings), timeZone);
  } catch (error) {
    throw new Error(`Timer function "${name}": ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  // The host turns monitoring off for schedules that fire more than once a minute, whatever useMonitor
  // says: a TimeSpan under a minute, or a cron with two occurrences within the next minute.
  const subMinute =
    schedule.intervalMs === undefined
      ? schedule.nextAfter(schedule.nextAfter(now)).getTime() - now.getTime() < 60_000
      : schedule.intervalMs < 60_000;
  return { schedule, runOnStartup: binding.runOnStartup === true, useMonitor: !subMinute && binding.useMonitor !== false };
}

function scheduleTimeZone(context: TriggerHostContext): string {
  const zone = context.settings.WEBSITE_TIME_ZONE;
  if (zone === undefined || zone === '') return 'UTC';
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return zone;
  } catch {
    context.logger.warn(`WEBSITE_TIME_ZONE '${zone}' is not an IANA time zone; timer schedules use UTC.`);
    return 'UTC';
  }
}

interface ScheduleStatus {
  readonly last: Date | undefined;
  readonly next: Date;
  readonly lastUpdated: Date | undefined;
}

type StartupInvocation = { readonly kind: 'pastDue' } | { readonly kind: 'runOnStartup' };

class TimerRunner {
  private readonly name: string;
  private readonly bindingName: string;
  private status: ScheduleStatus;
  private startup: StartupInvocation | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** Set when the next occurrence is beyond setTimeout's range: the timer only re-arms. */
  private remainingMs = 0;
  private running: Promise<void> | undefined;
  private stopped = false;
  private readonly retryPolicy: RetryPolicy | undefined;
  /** Ends a wait between retries early, when the devhost stops. */
  private wakeRetry: (() => void) | undefined;

  constructor(
    private readonly registration: Registration,
    private readonly config: TimerConfig,
    private readonly context: TriggerHostContext,
    private readonly store: TimerStatusStore,
    private readonly clock: () => Date,
  ) {
    this.name = registration.metadata.name;
    this.bindingName = triggerOf(registration).name;
    this.retryPolicy = readRetryPolicy(registration.metadata);
    this.status = { last: undefined, next: config.schedule.nextAfter(clock()), lastUpdated: undefined };
  }

  async start(): Promise<void> {
    const now = this.clock();
    let pastDue = false;
    if (this.config.useMonitor) {
      const checked = await this.checkPastDue(now);
      this.status = checked.status;
      pastDue = checked.pastDue;
    }
    this.context.logger.info(
      `Timer '${this.name}': ${this.config.schedule.description}${this.config.useMonitor ? '' : ' (not monitored)'}; next occurrences: ${this.nextOccurrences(now, 3)}`,
    );
    if (pastDue) {
      this.context.logger.info(`Timer '${this.name}' is past due (Next was ${this.status.next.toISOString()}); executing now.`);
      this.startup = { kind: 'pastDue' };
      this.arm(0);
    } else if (this.config.runOnStartup) {
      this.startup = { kind: 'runOnStartup' };
      this.arm(0);
    } else {
      this.armForNext();
    }
  }

  /** A method, not the field: the devhost may stop while a retry waits. */
  private hasStopped(): boolean {
    return this.stopped;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wakeRetry?.();
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    // Wait for a running invocation and its status update.
    await this.running;
  }

  /** The host's ScheduleMonitor.CheckPastDueAsync against the stored status. */
  private async checkPastDue(now: Date): Promise<{ status: ScheduleStatus; pastDue: boolean }> {
    const stored = this.store.get(this.name);
    const { schedule } = this.config;
    if (!stored) {
      // A new timer: record its next occurrence now, so an occurrence missed before its first run is caught.
      const status: ScheduleStatus = { last: undefined, next: schedule.nextAfter(now), lastUpdated: now };
      await this.store.set(this.name, status);
      return { status, pastDue: false };
    }
    let status = stored;
    const base = stored.last ?? stored.lastUpdated;
    let expectedNext = schedule.nextAfter(base ?? now);
    let lastUpdated = base ?? now;
    if (expectedNext.getTime() !== stored.next.getTime()) {
      // The schedule changed since the status was written: follow the new one, and do not call an
      // occurrence of the new schedule that fell in the past "past due".
      if (now.getTime() > expectedNext.getTime()) {
        expectedNext = schedule.nextAfter(now);
        lastUpdated = now;
      }
      status = { last: undefined, next: expectedNext, lastUpdated };
      await this.store.set(this.name, status);
    }
    return { status, pastDue: now.getTime() > status.next.getTime() };
  }

  private armForNext(): void {
    const delay = this.status.next.getTime() - this.clock().getTime();
    this.arm(Math.max(delay, 0));
  }

  private arm(delayMs: number): void {
    if (this.stopped) return;
    if (delayMs > MAX_TIMER_INTERVAL_MS) {
      this.remainingMs = delayMs - MAX_TIMER_INTERVAL_MS;
      delayMs = MAX_TIMER_INTERVAL_MS;
    } else {
      this.remainingMs = 0;
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.onTimer();
    }, delayMs);
  }

  private onTimer(): void {
    if (this.stopped) return;
    if (this.remainingMs > 0) {
      this.arm(this.remainingMs);
      return;
    }
    const startup = this.startup;
    this.startup = undefined;
    this.running = (async () => {
      try {
        await this.invoke(this.clock(), startup);
      } catch (error) {
        // Bookkeeping failures (not the function's) must not stop the schedule either.
        this.context.logger.error(`Timer '${this.name}': error during the scheduled invocation`, error);
      } finally {
        this.running = undefined;
        // Only now is the next occurrence armed: runs of one function never overlap.
        this.armForNext();
      }
    })();
  }

  /** The host's TimerListener.InvokeJobFunction. */
  private async invoke(invocationTime: Date, startup: StartupInvocation | undefined): Promise<void> {
    const isPastDue = startup?.kind === 'pastDue';
    const runOnStartup = startup?.kind === 'runOnStartup';
    const timerInfo = {
      Schedule: { AdjustForDST: true },
      // The host passes the status only when the schedule is monitored.
      ScheduleStatus: this.config.useMonitor
        ? { Last: formatTime(this.status.last), Next: formatTime(this.status.next), LastUpdated: formatTime(this.status.lastUpdated) }
        : null,
      IsPastDue: isPastDue,
    };
    // A failed run is tried again as the function's retry policy says (none: not at all).
    for (let retry = 0; ; retry++) {
      try {
        await this.context.invoke(
          this.registration,
          {
            inputData: [{ name: this.bindingName, data: { json: JSON.stringify(timerInfo) } }],
            triggerMetadata: {},
            ...(this.retryPolicy && { retryContext: { retryCount: retry, maxRetryCount: this.retryPolicy.maxRetryCount } }),
          },
          retry === 0
            ? `Timer fired at ${invocationTime.toISOString()}`
            : `Retry ${retry} of the run due at ${invocationTime.toISOString()}`,
        );
        break;
      } catch {
        const policy = this.retryPolicy;
        if (policy && !this.stopped && (policy.maxRetryCount === -1 || retry < policy.maxRetryCount)) {
          const delay = policy.delayMs(retry + 1);
          this.context.logger.warn(
            `Timer '${this.name}': the invocation failed; retry ${retry + 1} in ${Math.round(delay)} ms (${policy.strategy}).`,
          );
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, delay);
            this.wakeRetry = () => {
              clearTimeout(timer);
              resolve();
            };
          });
          this.wakeRetry = undefined;
          if (this.hasStopped()) break;
          continue;
        }
        // context.invoke logged the failure; like the host, a failing run does not stop the schedule.
        this.context.logger.warn(`Timer '${this.name}': the invocation failed; the schedule continues.`);
        break;
      }
    }

    // A timer that fired a little early (clock skew) must not compute the same Next again.
    const adjusted =
      !isPastDue && !runOnStartup && this.status.next.getTime() > invocationTime.getTime() ? this.status.next : invocationTime;
    this.status = { last: adjusted, next: this.config.schedule.nextAfter(adjusted), lastUpdated: adjusted };
    if (this.config.useMonitor) await this.store.set(this.name, this.status);
  }

  private nextOccurrences(from: Date, count: number): string {
    const times: string[] = [];
    let time = from;
    for (let i = 0; i < count; i += 1) {
      time = this.config.schedule.nextAfter(time);
      times.push(time.toISOString());
    }
    return times.join(', ');
  }
}

function formatTime(time: Date | undefined): string {
  return time ? time.toISOString() : NEVER;
}

/** `<dataDir>/timers.json`: `{ [functionName]: { last, next, lastUpdated } }`, written whole, atomically. */
class TimerStatusStore {
  private writing: Promise<void> = Promise.resolve();

  private constructor(
    private readonly file: string,
    private readonly records: Record<string, ScheduleStatusRecord>,
    private readonly context: TriggerHostContext,
  ) {}

  static async open(file: string, context: TriggerHostContext): Promise<TimerStatusStore> {
    let records: Record<string, ScheduleStatusRecord> = {};
    try {
      records = parseStatusFile(await readFile(file, 'utf8'));
    } catch (error) {
      // Like the host's GetSafeStatusAsync: an unreadable status is treated as none.
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT')
        context.logger.warn(`Ignoring unreadable timer status file ${file}: ${String(error)}`);
    }
    return new TimerStatusStore(file, records, context);
  }

  get(name: string): ScheduleStatus | undefined {
    const record = this.records[name];
    if (!record) return undefined;
    const next = parseTime(record.next);
    if (!next) return undefined;
    return { last: parseTime(record.last), next, lastUpdated: parseTime(record.lastUpdated) };
  }

  set(name: string, status: ScheduleStatus): Promise<void> {
    this.records[name] = { last: formatTime(status.last), next: status.next.toISOString(), lastUpdated: formatTime(status.lastUpdated) };
    const snapshot = `${JSON.stringify(this.records, null, 2)}\n`;
    this.writing = this.writing.then(async () => {
      try {
        await mkdir(dirname(this.file), { recursive: true });
        const temporary = `${this.file}.${String(process.pid)}.tmp`;
        await writeFile(temporary, snapshot, 'utf8');
        await rename(temporary, this.file);
      } catch (error) {
        // Best effort, as in the host: the schedule goes on in memory.
        this.context.logger.error(`Timer '${name}': failed to update ${this.file}`, error);
      }
    });
    return this.writing;
  }

  flush(): Promise<void> {
    return this.writing;
  }
}

function parseStatusFile(text: string): Record<string, ScheduleStatusRecord> {
  const parsed: unknown = JSON.parse(text);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not a JSON object');
  const records: Record<string, ScheduleStatusRecord> = {};
  for (const [name, value] of Object.entries(parsed as Record<string, unknown>)) {
    if (typeof value !== 'object' || value === null) continue;
    const { last, next, lastUpdated } = value as Record<string, unknown>;
    if (typeof next !== 'string') continue;
    records[name] = {
      last: typeof last === 'string' ? last : NEVER,
      next,
      lastUpdated: typeof lastUpdated === 'string' ? lastUpdated : NEVER,
    };
  }
  return records;
}

/** An ISO time, or undefined for the host's default (year 1) and anything unparseable. */
function parseTime(text: string): Date | undefined {
  if (text.startsWith('0001-01-01')) return undefined;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : new Date(ms);
}

// --- schedules --------------------------------------------------------------------------------

/** The field grammar NCrontab accepts: numbers, `*`, ranges, lists, steps, and month/day names. */
const NCRONTAB_PART = /^(\*|\d+|[A-Za-z]{3})(-(\d+|[A-Za-z]{3}))?(\/\d+)?$/;

function tryCronSchedule(expression: string, timeZone: string): TimerSchedule | undefined {
  const fields = expression.trim().split(/\s+/);
  // The host parses with seconds included: exactly six fields.
  if (fields.length !== 6) return undefined;
  if (!fields.every((field) => field.split(',').every((part) => NCRONTAB_PART.test(part)))) return undefined;
  let parsed: CronExpression;
  try {
    parsed = CronExpressionParser.parse(fields.join(' '), { tz: timeZone });
  } catch {
    return undefined;
  }
  const dayOfMonth = parsed.fields.dayOfMonth;
  const dayOfWeek = parsed.fields.dayOfWeek;
  // Classic cron (and cron-parser) ORs day-of-month and day-of-week when both are restricted; NCrontab
  // requires both. cron-parser then yields the union, which we filter down to the intersection.
  const both = !dayOfMonth.isWildcard && !dayOfWeek.isWildcard;
  const numbers = (values: readonly (number | string)[]): number[] => values.filter((value): value is number => typeof value === 'number');
  const days = new Set(numbers(dayOfMonth.values));
  const weekdays = new Set(numbers(dayOfWeek.values).map((value) => value % 7));
  const expressionText = fields.join(' ');
  return {
    description: `Cron: '${expressionText}'${timeZone === 'UTC' ? '' : ` (${timeZone})`}`,
    nextAfter: (time) => {
      const iterator = CronExpressionParser.parse(expressionText, { tz: timeZone, currentDate: time });
      // Enough for any day/weekday pair: each day of the union is tried at most once per lookup.
      for (let guard = 0; guard < 3000; guard += 1) {
        const candidate = iterator.next();
        if (!both || (days.has(candidate.getDate()) && weekdays.has(candidate.getDay()))) return candidate.toDate();
        // Not both: skip the rest of that day.
        candidate.setEndOfDay();
        iterator.reset(candidate);
      }
      throw new Error(`The schedule '${expressionText}' has no occurrence in the foreseeable future.`);
    },
  };
}

/** .NET TimeSpan.TryParse's invariant forms: `d`, `hh:mm`, `hh:mm:ss`, `d.hh:mm:ss[.fffffff]`. */
function parseTimeSpanMs(expression: string): number | undefined {
  const text = expression.trim();
  if (/^\d+$/.test(text)) return Number(text) * 86_400_000;
  const match = /^(?:(\d+)\.)?(\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:\.(\d{1,7}))?)?$/.exec(text);
  if (!match) return undefined;
  const [, days = '0', hours = '0', minutes = '0', seconds = '0', fraction = ''] = match;
  if (Number(hours) > 23 || Number(minutes) > 59 || Number(seconds) > 59) return undefined;
  const fractionMs = fraction === '' ? 0 : Number(`0.${fraction}`) * 1000;
  return ((Number(days) * 24 + Number(hours)) * 60 + Number(minutes)) * 60_000 + Number(seconds) * 1000 + fractionMs;
}
