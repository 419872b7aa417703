/**
 * The orchestration engine: the Durable Task extension's side of durable-functions, over the tables
 * in store.ts. Per instance it keeps the committed history and the durable messages not yet in it,
 * and runs one episode at a time: the orchestrator replays its history plus the new messages through
 * the library's own code (an ordinary invocation of the registered function), the engine works out
 * which of the returned actions are new (replay.ts), commits one checkpoint, and only then starts what
 * the checkpoint scheduled.
 *
 * Write order (why a crash at any point is harmless):
 * 1. A checkpoint — the episode's new history rows (OrchestratorStarted, the delivered events, TaskScheduled,
 *    TimerCreated, SubOrchestrationInstanceCreated, ExecutionCompleted, OrchestratorCompleted) and the
 *    sentinel, ETag-checked, in entity-group transactions with the sentinel in the last — commits BEFORE any
 *    activity, timer or child it schedules is started. Until it commits nothing of the episode exists.
 * 2. No history is ever committed that rests on a result that is not recorded: a result is recorded
 *    either as an inbox row before the episode that consumes it (raised events, terminations, starts
 *    always; activity/timer/child results whenever the instance is busy), or — when the instance is idle —
 *    in the very transaction of the checkpoint that consumes it (one Azurite round trip instead of three:
 *    insert, checkpoint, delete). Either way a crash before that write loses only an unrecorded result,
 *    whose activity runs again (or timer fires again, or child result is collected again) on restart.
 * 3. On start, every running instance is read back: scheduled activities with no recorded result run
 *    again (a recorded result is never lost and its activity never runs again), timers are re-armed (an
 *    overdue one fires at once), children are re-created or their results collected, and messages
 *    still in the inbox are delivered; inbox rows a checkpoint already consumed are recognised (the
 *    history names them) and deleted, never delivered twice.
 * 4. The Instances row is a projection written after the history; it is repaired from the history.
 *
 * A fan-in does not pay one episode per result: while results arrive that cannot move the orchestrator
 * on (replaying them against its last actions, as the library would, leaves the awaited task open), they
 * wait durably in the inbox and one episode consumes them all.
 */
import { randomUUID } from 'node:crypto';
import type { Registration } from '../functionsCore';
import { triggerOf, type InvocationResult } from '../invoke';
import type { TriggerHostContext } from '../triggers/triggerHost';
import { setAlarm, type DurableClock } from './clock';
import {
  DEFAULT_HTTP_ASYNC_SLEEP_MS,
  fromJsonText,
  isRecord,
  isTerminal,
  LONG_RUNNING_TIMER_INTERVAL_DURATION,
  LONG_RUNNING_TIMER_INTERVAL_MS,
  MAXIMUM_SHORT_TIMER_DURATION,
  MAXIMUM_SHORT_TIMER_MS,
  parseFailureDetails,
  parseOrchestratorFailure,
  parseOrchestratorState,
  toWireEvent,
  UPPER_SCHEMA_VERSION,
  type EventOf,
  type FailureDetails,
  type HistoryEvent,
  type OrchestratorAction,
  type OrchestratorResult,
  type ParentInstance,
  type RuntimeStatus,
} from './protocol';
import { HTTP_ACTIVITY_NAME, runHttpActivity } from './httpTask';
import { replayActions, type ReplayOptions, type ScheduledTask } from './replay';
import {
  ConcurrencyError,
  historyRowKey,
  inboxRowKey,
  MAX_VALUE_CHARS,
  type DurableStore,
  type InboxMessage,
  type InstanceRow,
} from './store';

/** What to do when a start names an instance that is Pending or Running (host.json `overridableExistingInstanceStates`). */
export type ExistingInstancePolicy = 'keep' | 'NonRunningStates' | 'AnyState';

export interface EngineOptions {
  readonly store: DurableStore;
  readonly registrations: readonly Registration[];
  readonly context: TriggerHostContext;
  readonly clock: DurableClock;
  /** How much faster the clock runs than the wall clock (timers wait `delay / timeScale`). */
  readonly timeScale: number;
  /** With an injected clock, how often a waiting timer looks at it again. */
  readonly clockPollMs?: number;
  readonly maxConcurrentActivities: number;
  readonly maxConcurrentOrchestrations: number;
  readonly existingInstances: ExistingInstancePolicy;
  /** Always write a result to the inbox before an episode consumes it (no inline recording by the checkpoint). */
  readonly inboxFirst?: boolean;
}

export class DurableRequestError extends Error {
  constructor(
    readonly status: 400 | 404 | 409 | 410 | 413,
    message: string,
  ) {
    super(message);
  }
}

export interface StatusOptions {
  readonly showHistory?: boolean;
  readonly showHistoryOutput?: boolean;
  readonly showInput?: boolean;
}

/** The status document of the extension's HTTP API (and DurableOrchestrationStatus). */
export interface InstanceStatus {
  readonly name: string;
  readonly instanceId: string;
  readonly runtimeStatus: RuntimeStatus;
  readonly input: unknown;
  readonly customStatus: unknown;
  readonly output: unknown;
  readonly createdTime: string;
  readonly lastUpdatedTime: string;
  readonly historyEvents?: unknown[];
  readonly history?: unknown[];
}

export interface InstanceQuery {
  readonly runtimeStatus?: readonly RuntimeStatus[];
  readonly createdTimeFrom?: number;
  readonly createdTimeTo?: number;
  readonly instanceIdPrefix?: string;
  readonly top?: number;
  readonly continuationToken?: string;
  readonly showInput?: boolean;
}

interface StartRequest {
  readonly name: string;
  readonly instanceId?: string;
  readonly input?: string;
  readonly version?: string;
  readonly parent?: ParentInstance;
}

/** How long the Instances row's LastUpdatedTime may lag behind the history (it is a projection). */
const ROW_DEBOUNCE_MS = 1000;
/** Messages delivered to one episode at most (each becomes a history row). */
const MAX_DELIVERED_PER_EPISODE = 1000;
/** After an unexpected failure (storage down), how long before an instance's episode is tried again. */
const RETRY_AFTER_ERROR_MS = 1000;
/** The longest an instance waits without an episode while results arrive that cannot move it on. */
const MAX_BLOCKED_MS = 1000;
/** How long stop() waits for running activities. */
const STOP_GRACE_MS = 5000;

/** An instance that is not finished, as the engine keeps it in memory. */
class Live {
  executionId: string;
  name: string;
  version: string | undefined;
  history: HistoryEvent[] = [];
  sentinelEtag: string | undefined;
  /** Durable messages not yet in the history, by row key. */
  readonly pending = new Map<string, InboxMessage>();
  /**
   * Results that arrived while the instance was idle: recorded by the checkpoint that consumes them
   * (in its transaction) instead of an inbox row first. Only results the engine can derive again after
   * a crash (activity results, fired timers, children's results) travel this way.
   */
  inline: InboxMessage[] = [];
  /** Inline messages taken by the episode in progress, until its checkpoint commits them. */
  inlineInFlight: InboxMessage[] = [];
  /** The committed history as the worker receives it (JSON, IsPlayed), cached: replays resend it every episode. */
  wire: string[] = [];
  /** The actions of the last episode: what the orchestrator would return again until the task it awaits settles. */
  lastActions: readonly OrchestratorAction[] | undefined;
  /** Results arrive that cannot move the orchestrator on (e.g. part of a fan-in): they wait in the inbox, no episode runs. */
  blocked = false;
  blockedTimer: NodeJS.Timeout | undefined;
  /** Ids whose completion is in the history, pending, or being written. */
  completions = new Set<number>();
  /** Messages being made durable, with who waits for that. */
  readonly writeQueue: { readonly message: InboxMessage; readonly done: () => void }[] = [];
  writing = false;
  pumping = false;
  retryTimer: NodeJS.Timeout | undefined;
  status: RuntimeStatus;
  input: string | undefined;
  output: string | undefined;
  customStatus: string | undefined;
  createdTime: number;
  lastUpdatedTime: number;
  parent: ParentInstance | undefined;
  instanceEtag: string | undefined;
  rowDirty = false;
  rowWriting: Promise<void> | undefined;
  rowTimer: NodeJS.Timeout | undefined;
  readonly alarms = new Map<number, () => void>();
  /** The top-level instance whose work this is (idle() waits per tree). */
  root: string;

  constructor(
    readonly id: string,
    row: InstanceRow,
  ) {
    this.executionId = row.executionId;
    this.name = row.name;
    this.version = row.version;
    this.status = row.runtimeStatus;
    this.input = row.input;
    this.output = row.output;
    this.customStatus = row.customStatus;
    this.createdTime = row.createdTime;
    this.lastUpdatedTime = row.lastUpdatedTime;
    this.parent = row.parent;
    this.root = id;
  }

  setHistory(history: HistoryEvent[]): void {
    this.history = history;
    this.wire = history.map((event) => JSON.stringify(toWireEvent(event, true)));
    this.completions = new Set();
    for (const event of history) {
      const id = completionId(event);
      if (id !== undefined) this.completions.add(id);
    }
  }

  row(): InstanceRow {
    return {
      instanceId: this.id,
      name: this.name,
      ...(this.version !== undefined ? { version: this.version } : {}),
      executionId: this.executionId,
      ...(this.input !== undefined ? { input: this.input } : {}),
      ...(this.output !== undefined ? { output: this.output } : {}),
      ...(this.customStatus !== undefined ? { customStatus: this.customStatus } : {}),
      runtimeStatus: this.status,
      createdTime: this.createdTime,
      lastUpdatedTime: this.lastUpdatedTime,
      ...(isTerminal(this.status) ? { completedTime: this.lastUpdatedTime } : {}),
      ...(this.parent ? { parent: this.parent } : {}),
    };
  }
}

/** A counting semaphore. */
class Limiter {
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  constructor(private readonly limit: number) {}
  get available(): boolean {
    return this.running < this.limit;
  }
  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.running++;
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }
}

export class DurableEngine {
  private readonly store: DurableStore;
  private readonly context: TriggerHostContext;
  private readonly orchestrators = new Map<string, Registration>();
  private readonly activities = new Map<string, Registration>();
  private readonly live = new Map<string, Live>();
  private readonly locks = new Map<string, Promise<unknown>>();
  private readonly activitySlots: Limiter;
  private readonly orchestratorSlots: Limiter;
  private readonly runningTasks = new Set<string>();
  private readonly busy = new Map<string, number>();
  private busyTotal = 0;
  private readonly idleWaiters: { root: string | undefined; resolve: () => void }[] = [];
  private arrivals = 0;
  private stopping = false;
  private readonly replayOptions: ReplayOptions = {
    longTimers: true,
    maximumShortTimerMs: MAXIMUM_SHORT_TIMER_MS,
    longRunningTimerIntervalMs: LONG_RUNNING_TIMER_INTERVAL_MS,
  };

  constructor(private readonly options: EngineOptions) {
    this.store = options.store;
    this.context = options.context;
    for (const registration of options.registrations) {
      const type = triggerOf(registration).binding.type;
      const key = registration.metadata.name.toLowerCase();
      if (type === 'orchestrationTrigger') this.orchestrators.set(key, registration);
      else if (type === 'activityTrigger') this.activities.set(key, registration);
    }
    this.activitySlots = new Limiter(options.maxConcurrentActivities);
    this.orchestratorSlots = new Limiter(options.maxConcurrentOrchestrations);
  }

  get hubName(): string {
    return this.store.hubName;
  }

  /** Reads back every unfinished instance and resumes its work. */
  async resume(): Promise<number> {
    const rows: (InstanceRow & { etag: string })[] = [];
    for await (const row of this.store.listInstances(
      "RuntimeStatus eq 'Pending' or RuntimeStatus eq 'Running' or RuntimeStatus eq 'ContinuedAsNew' or RuntimeStatus eq 'Suspended'",
    ))
      rows.push(row);
    // A sped-up clock may have run ahead of the wall clock before the restart: never go back.
    const latest = Math.max(0, ...rows.map((row) => row.lastUpdatedTime));
    const clock = this.options.clock as DurableClock & { advanceTo?: (at: number) => void };
    clock.advanceTo?.(latest);
    const recovered: Live[] = [];
    for (const row of rows) {
      // Started since this engine came up (resume() may run after the client API is already served).
      if (this.live.has(row.instanceId)) continue;
      try {
        const live = await this.load(row);
        if (live) recovered.push(live);
      } catch (error) {
        this.context.logger.error(`Durable: could not resume instance ${row.instanceId}`, error);
      }
    }
    // Children belong to their top-level instance's tree (idle() waits for the whole tree).
    for (const live of recovered) {
      let root = live;
      for (let depth = 0; root.parent && depth < 100; depth++) {
        const next = this.live.get(root.parent.OrchestrationInstance.InstanceId);
        if (!next || next === live) break;
        root = next;
      }
      live.root = root.id;
    }
    for (const live of recovered) this.resumeWork(live);
    return recovered.length;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    for (const live of this.live.values()) {
      for (const cancel of live.alarms.values()) cancel();
      live.alarms.clear();
      if (live.retryTimer) clearTimeout(live.retryTimer);
      if (live.rowTimer) clearTimeout(live.rowTimer);
      if (live.blockedTimer) clearTimeout(live.blockedTimer);
    }
    const deadline = Date.now() + STOP_GRACE_MS;
    while (this.busyTotal > 0 && Date.now() < deadline) await sleep(20);
  }

  /** Resolves once nothing is running or about to run for the instance's tree (or anywhere): it is finished, or waits for a timer or an event. */
  idle(instanceId?: string): Promise<void> {
    const root = instanceId === undefined ? undefined : (this.live.get(instanceId)?.root ?? instanceId);
    if ((root === undefined ? this.busyTotal : (this.busy.get(root) ?? 0)) === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push({ root, resolve }));
  }

  // ---- client operations ----

  async startNew(request: StartRequest): Promise<{ instanceId: string; created: boolean }> {
    if (this.stopping) throw new DurableRequestError(409, 'The durable engine is stopping.');
    if (!this.orchestrators.has(request.name.toLowerCase())) {
      throw new DurableRequestError(400, `The function '${request.name}' doesn't exist, is disabled, or is not an orchestrator function.`);
    }
    if (request.input !== undefined && request.input.length > MAX_VALUE_CHARS)
      throw new DurableRequestError(413, `The input is ${request.input.length} characters; the devhost keeps up to ${MAX_VALUE_CHARS}.`);
    const instanceId = request.instanceId ?? randomUUID().replace(/-/g, '');
    if (instanceId === '' || instanceId.length > 256 || /[/\\#?\p{Cc}]/u.test(instanceId)) {
      throw new DurableRequestError(
        400,
        `Instance ID '${instanceId}' is not valid: it may not be empty, longer than 256 characters, or contain /, \\, #, ? or control characters.`,
      );
    }
    return this.withLock(instanceId, async () => {
      const existing = this.live.get(instanceId);
      const row = existing ? undefined : await this.store.readInstance(instanceId);
      const runningStatus = existing?.status ?? (row && !isTerminal(row.runtimeStatus) ? row.runtimeStatus : undefined);
      if (runningStatus !== undefined) {
        const sameParent =
          request.parent &&
          (existing?.parent ?? row?.parent)?.OrchestrationInstance.InstanceId === request.parent.OrchestrationInstance.InstanceId;
        if (request.parent && !sameParent)
          throw new DurableRequestError(409, `An orchestration with instance ID '${instanceId}' already exists and is ${runningStatus}.`);
        if (sameParent || this.options.existingInstances === 'keep') {
          if (!sameParent)
            this.context.logger.warn(`Durable: instance ${instanceId} is already ${runningStatus}; the start request does not replace it.`);
          return { instanceId, created: false };
        }
        if (this.options.existingInstances === 'NonRunningStates') {
          throw new DurableRequestError(409, `An orchestration with instance ID '${instanceId}' already exists and is ${runningStatus}.`);
        }
        if (existing) this.forget(existing);
      }
      const now = this.options.clock.now();
      const executionId = randomUUID().replace(/-/g, '');
      const newRow: InstanceRow = {
        instanceId,
        name: request.name,
        ...(request.version !== undefined ? { version: request.version } : {}),
        executionId,
        ...(request.input !== undefined ? { input: request.input } : {}),
        runtimeStatus: 'Pending',
        createdTime: now,
        lastUpdatedTime: now,
        ...(request.parent ? { parent: request.parent } : {}),
      };
      const previous = row ?? (existing ? await this.store.readInstance(instanceId) : undefined);
      // The row first: it alone can recreate the start message if we die before writing it. A lost
      // race (another start created it meanwhile) surfaces as a 409.
      const etag = await this.store.writeInstance(newRow, previous?.etag).catch((error: unknown) => {
        throw error instanceof ConcurrencyError
          ? new DurableRequestError(409, `Instance '${instanceId}' was created or changed by another request; try again.`)
          : error;
      });
      if (previous) await this.store.deletePartition(instanceId);
      const start = this.startMessage(newRow);
      const live = new Live(instanceId, newRow);
      live.instanceEtag = etag;
      live.sentinelEtag = await this.store.startExecution(instanceId, executionId, start, undefined);
      live.pending.set(start.rowKey, start);
      if (request.parent) live.root = this.live.get(request.parent.OrchestrationInstance.InstanceId)?.root ?? live.root;
      this.live.set(instanceId, live);
      this.pump(live);
      return { instanceId, created: true };
    });
  }

  async raiseEvent(instanceId: string, eventName: string, input: string | undefined): Promise<void> {
    const live = await this.requireRunning(instanceId);
    const arrival = this.arrival();
    // Answered once durable: an accepted event survives a crash.
    await this.deliver(live, {
      rowKey: inboxRowKey(`event-${arrival}`),
      arrival,
      event: {
        EventType: 'EventRaised',
        EventId: -1,
        Timestamp: this.isoNow(),
        Name: eventName,
        ...(input !== undefined ? { Input: input } : {}),
      },
    });
  }

  async terminate(instanceId: string, reason: string | undefined): Promise<void> {
    const live = await this.requireRunning(instanceId);
    const arrival = this.arrival();
    await this.deliver(live, {
      rowKey: inboxRowKey(`terminate-${arrival}`),
      arrival,
      event: {
        EventType: 'ExecutionTerminated',
        EventId: -1,
        Timestamp: this.isoNow(),
        ...(reason !== undefined ? { Input: JSON.stringify(reason) } : {}),
      },
    });
  }

  async status(instanceId: string, options: StatusOptions = {}): Promise<InstanceStatus | undefined> {
    const live = this.live.get(instanceId);
    const row = live ? live.row() : await this.store.readInstance(instanceId);
    if (!row) return undefined;
    let history: HistoryEvent[] | undefined;
    if (options.showHistory) history = live ? live.history : [...(await this.store.readPartition(instanceId)).history];
    return toStatus(row, options, history);
  }

  async query(query: InstanceQuery): Promise<{ statuses: InstanceStatus[]; continuationToken?: string }> {
    const page = await this.store.queryInstances(
      instanceFilter(query),
      Math.min(Math.max(query.top ?? 100, 1), 1000),
      query.continuationToken,
    );
    const statuses = page.rows.map((row) => toStatus(this.live.get(row.instanceId)?.row() ?? row, { showInput: query.showInput ?? true }));
    return { statuses, ...(page.continuationToken ? { continuationToken: page.continuationToken } : {}) };
  }

  /** Deletes a finished instance's state and history. Returns how many instances were deleted (0 or 1). */
  async purge(instanceId: string): Promise<number> {
    return this.withLock(instanceId, async () => {
      if (this.live.has(instanceId)) return 0;
      const row = await this.store.readInstance(instanceId);
      if (!row || !isTerminal(row.runtimeStatus)) return 0;
      // History first: an Instances row without history still reads as a finished instance.
      await this.store.deletePartition(instanceId);
      await this.store.deleteInstance(instanceId);
      return 1;
    });
  }

  async purgeBy(query: InstanceQuery): Promise<number> {
    let deleted = 0;
    const statuses = (query.runtimeStatus ?? ['Completed', 'Failed', 'Terminated', 'Canceled']).filter((status) => isTerminal(status));
    if (statuses.length === 0) return 0;
    const ids: string[] = [];
    for await (const row of this.store.listInstances(instanceFilter({ ...query, runtimeStatus: statuses }))) ids.push(row.instanceId);
    for (const id of ids) deleted += await this.purge(id);
    return deleted;
  }

  /** History table rows of an instance (tests: history must stay bounded). */
  countRows(instanceId: string): Promise<{ history: number; inbox: number; other: number }> {
    return this.store.countRows(instanceId);
  }

  // ---- loading ----

  /** Builds an instance's in-memory state from its rows; finishes what a crash left half done. Returns it if it is still running. */
  private async load(row: InstanceRow & { etag: string }): Promise<Live | undefined> {
    const snapshot = await this.store.readPartition(row.instanceId);
    const live = new Live(row.instanceId, row);
    live.instanceEtag = row.etag;
    if (snapshot.garbage.length > 0) await this.store.deleteRows(row.instanceId, snapshot.garbage);
    if (!snapshot.sentinel || (snapshot.sentinel.executionId !== row.executionId && row.runtimeStatus === 'Pending')) {
      // The Instances row was written, its start message was not: write it now.
      if (!snapshot.sentinel && row.runtimeStatus !== 'Pending')
        throw new Error(`instance ${row.instanceId} is ${row.runtimeStatus} but has no history.`);
      await this.store.deleteRows(
        row.instanceId,
        snapshot.inbox.map((message) => message.rowKey),
      );
      const start = this.startMessage(row);
      live.sentinelEtag = await this.store.startExecution(row.instanceId, row.executionId, start, snapshot.sentinel?.etag);
      live.pending.set(start.rowKey, start);
      this.live.set(live.id, live);
      return live;
    }
    // After a continueAsNew the sentinel is ahead of the (lazily written) Instances row.
    live.executionId = snapshot.sentinel.executionId;
    live.sentinelEtag = snapshot.sentinel.etag;
    live.setHistory([...snapshot.history]);
    const started = live.history.find((event): event is EventOf<'ExecutionStarted'> => event.EventType === 'ExecutionStarted');
    if (started) {
      live.input = started.Input;
      live.parent = started.ParentInstance;
    }
    const consumed = new Set(live.history.map((event) => event.SourceMessage).filter((key): key is string => key !== undefined));
    const stale: string[] = [];
    for (const message of snapshot.inbox) {
      if (consumed.has(message.rowKey) || this.isStale(live, message)) stale.push(message.rowKey);
      else {
        live.pending.set(message.rowKey, message);
        const id = completionId(message.event);
        if (id !== undefined) live.completions.add(id);
      }
    }
    if (stale.length > 0) await this.store.deleteRows(live.id, stale);
    const completed = live.history.find((event): event is EventOf<'ExecutionCompleted'> => event.EventType === 'ExecutionCompleted');
    if (completed) {
      // Finished before the crash; only the projection and the parent's notification may be missing.
      live.status = completed.OrchestrationStatus === 'ContinuedAsNew' ? 'Running' : completed.OrchestrationStatus;
      live.output = completed.Result;
      live.lastUpdatedTime = Date.parse(completed.Timestamp);
      await this.finish(live);
      return undefined;
    }
    if (live.history.length > 0 && live.status === 'Pending') live.status = 'Running';
    this.live.set(live.id, live);
    return live;
  }

  /** Restarts what a loaded instance was waiting for. */
  private resumeWork(live: Live): void {
    const open = openTasks(live.history, live.completions);
    for (const event of open) {
      if (event.EventType === 'TaskScheduled')
        this.dispatchActivity(live, {
          kind: 'activity',
          id: event.EventId,
          name: event.Name,
          ...(event.Input !== undefined ? { input: event.Input } : {}),
        });
      else if (event.EventType === 'TimerCreated') this.armTimer(live, event.EventId, Date.parse(event.FireAt));
      else void this.track(live.root, this.ensureChild(live, event));
    }
    this.pump(live);
  }

  // ---- messages ----

  /**
   * Makes a message durable (messages arriving meanwhile share one transaction), then lets the instance
   * see it. Stale or duplicate messages are dropped. Resolves once durable (or dropped).
   */
  private deliver(live: Live, message: InboxMessage): Promise<void> {
    if (this.stopping || this.live.get(live.id) !== live || this.isStale(live, message)) return Promise.resolve();
    const id = completionId(message.event);
    if (id !== undefined) {
      if (live.completions.has(id)) return Promise.resolve();
      live.completions.add(id);
      // An idle instance takes a result straight into its next episode, whose checkpoint records it.
      if (
        !this.options.inboxFirst &&
        !live.pumping &&
        !live.blocked &&
        !live.writing &&
        live.writeQueue.length === 0 &&
        live.history.length > 0 &&
        this.orchestratorSlots.available
      ) {
        live.inline.push(message);
        this.pump(live);
        return Promise.resolve();
      }
    }
    return this.writeDurably(live, message);
  }

  private writeDurably(live: Live, message: InboxMessage): Promise<void> {
    if (this.stopping || this.live.get(live.id) !== live) return Promise.resolve();
    return new Promise((done) => {
      live.writeQueue.push({ message, done });
      this.changeBusy(live.root, 1);
      if (!live.writing) void this.flushWrites(live);
    });
  }

  private async flushWrites(live: Live): Promise<void> {
    live.writing = true;
    try {
      while (live.writeQueue.length > 0) {
        const batch = live.writeQueue.splice(0, 100);
        let durable = false;
        while (!durable && !this.stopping) {
          try {
            await this.store.appendInbox(
              live.id,
              batch.map((item) => item.message),
            );
            durable = true;
          } catch (error) {
            this.context.logger.error(`Durable: could not record ${batch.length} message(s) for ${live.id}; retrying`, error);
            await sleep(RETRY_AFTER_ERROR_MS);
          }
        }
        if (durable && this.live.get(live.id) === live) {
          for (const item of batch) live.pending.set(item.message.rowKey, item.message);
          this.pump(live);
        }
        for (const item of batch) item.done();
        this.changeBusy(live.root, -batch.length);
      }
    } finally {
      live.writing = false;
    }
  }

  private isStale(live: Live, message: InboxMessage): boolean {
    if (message.event.EventType === 'ExecutionStarted')
      return message.event.OrchestrationInstance.ExecutionId !== live.executionId || live.history.length > 0;
    return message.executionId !== undefined && message.executionId !== live.executionId;
  }

  // ---- episodes ----

  private pump(live: Live): void {
    if (live.pumping || this.stopping || !this.hasWork(live)) return;
    live.pumping = true;
    this.changeBusy(live.root, 1);
    void (async () => {
      try {
        while (!this.stopping && this.live.get(live.id) === live && this.hasWork(live)) {
          if (this.cannotMoveOn(live)) {
            this.block(live);
            break;
          }
          await this.orchestratorSlots.run(() => this.episode(live));
        }
      } catch (error) {
        if (error instanceof ConcurrencyError && this.live.get(live.id) === live) {
          this.context.logger.warn(`Durable: ${error.message} Reloading instance ${live.id}.`);
          await this.reload(live).catch((reloadError: unknown) =>
            this.context.logger.error(`Durable: could not reload ${live.id}`, reloadError),
          );
        } else if (!this.stopping) {
          this.context.logger.error(`Durable: an episode of ${live.id} failed; retrying`, error);
          live.retryTimer = setTimeout(() => this.pump(live), RETRY_AFTER_ERROR_MS);
          live.retryTimer.unref();
        }
      } finally {
        live.pumping = false;
        this.changeBusy(live.root, -1);
      }
    })();
  }

  /**
   * Whether an episode now would change nothing: more results are due, and replaying the pending ones
   * against the last actions (as the library would) leaves the awaited task open with nothing new to
   * schedule — a fan-in still waiting for the rest. Then one episode at the end replaces hundreds.
   */
  private cannotMoveOn(live: Live): boolean {
    if (!live.lastActions || live.history.length === 0) return false;
    const messages = [...live.pending.values(), ...live.inline];
    if (messages.some((message) => message.event.EventType === 'ExecutionTerminated' || message.event.EventType === 'ExecutionStarted'))
      return false;
    // More results must be on their way (tasks with no result known yet, or results being written); else run now.
    const writing = live.writing || live.writeQueue.length > 0;
    if (!writing && openTasks(live.history, live.completions).length === 0) return false;
    const now = Math.max(this.options.clock.now(), lastStarted(live.history));
    const seen: HistoryEvent[] = [
      ...live.history,
      { EventType: 'OrchestratorStarted', EventId: -1, Timestamp: new Date(now).toISOString() },
    ];
    for (const message of messages.sort((a, b) => (a.arrival < b.arrival ? -1 : a.arrival > b.arrival ? 1 : 0)))
      if (!this.isStale(live, message)) seen.push(message.event);
    const replay = replayActions(seen, live.lastActions, this.replayOptions);
    return replay.waiting && replay.newTasks.length === 0 && !replay.nonDeterminism && !replay.unsupported;
  }

  private block(live: Live): void {
    live.blocked = true;
    // Results held in memory must not wait there: make them durable.
    for (const message of live.inline.splice(0)) void this.writeDurably(live, message);
    // Should the replay above ever misjudge, an episode runs anyway before long.
    live.blockedTimer ??= setTimeout(() => {
      live.blockedTimer = undefined;
      if (!live.blocked) return;
      live.blocked = false;
      live.lastActions = undefined;
      this.pump(live);
    }, MAX_BLOCKED_MS);
    live.blockedTimer.unref();
  }

  private hasWork(live: Live): boolean {
    if (live.inline.length > 0 && live.history.length > 0) return true;
    for (const message of live.pending.values()) {
      const type = message.event.EventType;
      // Before its start message an instance takes nothing but a termination (raised events wait).
      if (type === 'ExecutionTerminated' || live.history.length > 0 || (type === 'ExecutionStarted' && !this.isStale(live, message)))
        return true;
    }
    return false;
  }

  private async reload(live: Live): Promise<void> {
    this.forget(live);
    const row = await this.store.readInstance(live.id);
    if (!row || isTerminal(row.runtimeStatus)) return;
    const fresh = await this.load(row);
    if (fresh) this.resumeWork(fresh);
  }

  private async episode(live: Live): Promise<void> {
    live.inlineInFlight = live.inline.splice(0);
    try {
      await this.runEpisode(live, live.inlineInFlight);
    } finally {
      // Not committed (the checkpoint failed): they must not be lost, make them durable the usual way.
      for (const message of live.inlineInFlight.splice(0)) void this.writeDurably(live, message);
    }
  }

  private async runEpisode(live: Live, inline: readonly InboxMessage[]): Promise<void> {
    const messages = [...live.pending.values()].sort((a, b) => (a.arrival < b.arrival ? -1 : a.arrival > b.arrival ? 1 : 0));
    const consumed: string[] = [];
    const terminate = messages.find((message) => message.event.EventType === 'ExecutionTerminated');
    if (terminate) {
      await this.terminateNow(
        live,
        terminate,
        messages.map((message) => message.rowKey),
      );
      return;
    }
    const start = messages.find((message) => message.event.EventType === 'ExecutionStarted' && !this.isStale(live, message));
    const delivered: InboxMessage[] = [];
    for (const message of messages) {
      if (message === start) continue;
      if (this.isStale(live, message)) consumed.push(message.rowKey);
      else if (live.history.length > 0 && delivered.length < MAX_DELIVERED_PER_EPISODE) delivered.push(message);
    }
    const durableCount = delivered.length;
    if (live.history.length > 0) delivered.push(...inline.filter((message) => !this.isStale(live, message)));
    if (!start && delivered.length === 0) {
      // Nothing for the orchestrator: only leftovers to clear.
      if (consumed.length > 0) await this.store.deleteRows(live.id, consumed);
      for (const key of consumed) live.pending.delete(key);
      return;
    }
    const now = Math.max(this.options.clock.now(), lastStarted(live.history));
    const newEvents: HistoryEvent[] = [{ EventType: 'OrchestratorStarted', EventId: -1, Timestamp: new Date(now).toISOString() }];
    for (const [index, message] of (start ? [start, ...delivered] : delivered).entries()) {
      newEvents.push({ ...message.event, SourceMessage: message.rowKey });
      // Inline messages have no inbox row to delete.
      if (index < durableCount + (start ? 1 : 0)) consumed.push(message.rowKey);
    }
    const seen = [...live.history, ...newEvents];
    const registration = this.orchestrators.get(live.name.toLowerCase());
    const result: OrchestratorResult = registration
      ? await this.invokeOrchestrator(registration, live, seen)
      : {
          isDone: false,
          actions: [],
          error: { message: `The function '${live.name}' doesn't exist, is disabled, or is not an orchestrator function.` },
        };
    const replay = replayActions(seen, result.actions, this.replayOptions, result.error !== undefined);

    const failure = result.error?.message !== undefined || replay.nonDeterminism !== undefined || replay.unsupported !== undefined;
    if (failure) {
      const message =
        replay.nonDeterminism ??
        result.error?.message ??
        `The devhost's durable engine does not run ${replay.unsupported ?? 'this action'}.`;
      const output = JSON.stringify(`Orchestrator function '${live.name}' failed: ${message}`);
      const failureDetails: FailureDetails = result.error?.failureDetails ?? {
        ErrorType: replay.nonDeterminism ? 'NonDeterministicOrchestrationException' : 'OrchestrationFailureException',
        ErrorMessage: message,
      };
      newEvents.push({
        EventType: 'ExecutionCompleted',
        EventId: -1,
        Timestamp: new Date(now).toISOString(),
        OrchestrationStatus: 'Failed',
        Result: output,
        FailureDetails: failureDetails,
      });
      newEvents.push({ EventType: 'OrchestratorCompleted', EventId: -1, Timestamp: new Date(now).toISOString() });
      await this.checkpoint(live, newEvents, consumed);
      live.status = 'Failed';
      live.output = output;
      if (result.customStatus !== undefined) live.customStatus = result.customStatus;
      live.lastUpdatedTime = now;
      this.context.logger.warn(`Durable: orchestration ${live.name} (${live.id}) failed: ${message}`);
      await this.finish(live);
      return;
    }

    if (replay.continueAsNew) {
      await this.continueAsNew(live, replay.continueAsNew.input, consumed, now, result.customStatus);
      return;
    }

    if (result.isDone) {
      const output = result.output ?? 'null';
      const tooLarge = output.length > MAX_VALUE_CHARS;
      const finalOutput = tooLarge
        ? JSON.stringify(
            `Orchestrator function '${live.name}' failed: its output is ${output.length} characters; the devhost keeps up to ${MAX_VALUE_CHARS}.`,
          )
        : output;
      newEvents.push({
        EventType: 'ExecutionCompleted',
        EventId: -1,
        Timestamp: new Date(now).toISOString(),
        OrchestrationStatus: tooLarge ? 'Failed' : 'Completed',
        Result: finalOutput,
      });
      newEvents.push({ EventType: 'OrchestratorCompleted', EventId: -1, Timestamp: new Date(now).toISOString() });
      await this.checkpoint(live, newEvents, consumed);
      live.status = tooLarge ? 'Failed' : 'Completed';
      live.output = finalOutput;
      if (result.customStatus !== undefined) live.customStatus = result.customStatus;
      live.lastUpdatedTime = now;
      await this.finish(live);
      return;
    }

    const scheduled: ScheduledTask[] = [];
    for (const task of replay.newTasks) {
      const at = new Date(now).toISOString();
      switch (task.kind) {
        case 'activity':
          newEvents.push({
            EventType: 'TaskScheduled',
            EventId: task.id,
            Timestamp: at,
            Name: task.name,
            ...(task.input !== undefined ? { Input: task.input } : {}),
          });
          break;
        case 'timer':
          newEvents.push({ EventType: 'TimerCreated', EventId: task.id, Timestamp: at, FireAt: new Date(task.fireAt).toISOString() });
          break;
        case 'subOrchestration': {
          const instanceId = task.instanceId ?? `${live.id}:${task.id.toString(16).padStart(4, '0')}`;
          newEvents.push({
            EventType: 'SubOrchestrationInstanceCreated',
            EventId: task.id,
            Timestamp: at,
            Name: task.name,
            InstanceId: instanceId,
            ...(task.version !== undefined ? { Version: task.version } : {}),
            ...(task.input !== undefined ? { Input: task.input } : {}),
          });
          scheduled.push({ ...task, instanceId });
          continue;
        }
      }
      scheduled.push(task);
    }
    newEvents.push({ EventType: 'OrchestratorCompleted', EventId: -1, Timestamp: new Date(now).toISOString() });
    await this.checkpoint(live, newEvents, consumed);

    live.lastActions = result.actions;
    const wasPending = live.status === 'Pending';
    const customStatusChanged = result.customStatus !== live.customStatus;
    live.status = 'Running';
    live.customStatus = result.customStatus;
    live.lastUpdatedTime = now;
    for (const id of replay.canceledTimers) {
      live.alarms.get(id)?.();
      live.alarms.delete(id);
    }
    // Only now that the checkpoint is durable: start what it scheduled.
    for (const task of scheduled) {
      if (task.kind === 'activity') this.dispatchActivity(live, task);
      else if (task.kind === 'timer') this.armTimer(live, task.id, task.fireAt);
      else {
        const created = newEvents.find(
          (event): event is EventOf<'SubOrchestrationInstanceCreated'> =>
            event.EventType === 'SubOrchestrationInstanceCreated' && event.EventId === task.id,
        );
        if (created) void this.track(live.root, this.ensureChild(live, created));
      }
    }
    // Running must be on record before a later episode can continue-as-new (load() relies on it).
    if (wasPending) await this.saveRow(live);
    else if (customStatusChanged) void this.saveRow(live);
    else this.touchRow(live);
  }

  private async invokeOrchestrator(registration: Registration, live: Live, seen: readonly HistoryEvent[]): Promise<OrchestratorResult> {
    const committed = live.history.length;
    const started = seen.find((event): event is EventOf<'ExecutionStarted'> => event.EventType === 'ExecutionStarted');
    const rest = {
      input: fromJsonText(started?.Input) ?? null,
      instanceId: live.id,
      isReplaying: committed > 0,
      ...(live.parent ? { parentInstanceId: live.parent.OrchestrationInstance.InstanceId } : {}),
      upperSchemaVersion: UPPER_SCHEMA_VERSION,
      longRunningTimerIntervalDuration: LONG_RUNNING_TIMER_INTERVAL_DURATION,
      maximumShortTimerDuration: MAXIMUM_SHORT_TIMER_DURATION,
      defaultHttpAsyncRequestSleepTimeMillseconds: DEFAULT_HTTP_ASYNC_SLEEP_MS,
    };
    // {"history":[…committed (cached)…, …new…], …rest}
    const history = [...live.wire, ...seen.slice(committed).map((event) => JSON.stringify(toWireEvent(event, false)))].join(',');
    const payload = `{"history":[${history}],${JSON.stringify(rest).slice(1)}`;
    let response: InvocationResult;
    try {
      response = await this.context.invoke(
        registration,
        { inputData: [{ name: triggerOf(registration).name, data: { json: payload } }], triggerMetadata: {} },
        `Orchestration ${live.id} (episode ${countEpisodes(seen)})`,
      );
    } catch (error) {
      return parseOrchestratorFailure(error);
    }
    try {
      return parseOrchestratorState(fromJsonText(typedDataJson(response.returnValue)));
    } catch (error) {
      return { isDone: false, actions: [], error: { message: error instanceof Error ? error.message : String(error) } };
    }
  }

  private async checkpoint(live: Live, events: readonly HistoryEvent[], consumed: readonly string[]): Promise<void> {
    const committed = await this.store.commit({
      instanceId: live.id,
      executionId: live.executionId,
      fromLength: live.history.length,
      events,
      sentinelEtag: live.sentinelEtag,
      deletes: consumed,
      returnOverflowDeletes: true,
    });
    live.sentinelEtag = committed.etag;
    // Consumed inbox rows that did not fit in the last transaction: their row keys are never reused, and
    // one left behind by a crash is recognised as consumed, so they need not hold up the instance.
    if (committed.overflowDeletes.length > 0) void this.track(live.root, this.store.deleteRows(live.id, committed.overflowDeletes));
    live.inlineInFlight = [];
    live.blocked = false;
    if (live.blockedTimer) clearTimeout(live.blockedTimer);
    live.blockedTimer = undefined;
    for (const event of events) {
      live.history.push(event);
      live.wire.push(JSON.stringify(toWireEvent(event, true)));
      const id = completionId(event);
      if (id !== undefined) live.completions.add(id);
    }
    for (const key of consumed) live.pending.delete(key);
  }

  private async continueAsNew(
    live: Live,
    input: string | undefined,
    consumed: string[],
    now: number,
    customStatus: string | undefined,
  ): Promise<void> {
    if (live.status === 'Pending') {
      // A Pending row whose sentinel names another execution means "start me again" to load(): not after this.
      live.status = 'Running';
      await this.saveRow(live);
    }
    const executionId = randomUUID().replace(/-/g, '');
    const previousLength = live.history.length;
    const { input: _previousInput, ...row } = live.row();
    const start = this.startMessage({ ...row, executionId, ...(input !== undefined ? { input } : {}) });
    // The new execution replaces the old one in a single transaction; the old rows are deleted after,
    // before the new execution writes rows with the same keys.
    ({ etag: live.sentinelEtag } = await this.store.commit({
      instanceId: live.id,
      executionId,
      fromLength: 0,
      events: [],
      sentinelEtag: live.sentinelEtag,
      newMessages: [start],
      deletes: [...consumed, ...Array.from({ length: previousLength }, (_, sequence) => historyRowKey(sequence))],
    }));
    // Results the old execution consumed are of no use to the new one.
    live.inlineInFlight = [];
    live.lastActions = undefined;
    live.executionId = executionId;
    live.input = input;
    for (const cancel of live.alarms.values()) cancel();
    live.alarms.clear();
    for (const key of consumed) live.pending.delete(key);
    for (const [key, message] of live.pending) if (this.isStale(live, message)) live.pending.delete(key);
    live.setHistory([]);
    live.pending.set(start.rowKey, start);
    live.customStatus = customStatus;
    live.lastUpdatedTime = now;
    this.touchRow(live);
  }

  private async terminateNow(live: Live, message: InboxMessage, consumed: string[]): Promise<void> {
    const now = Math.max(this.options.clock.now(), lastStarted(live.history));
    const at = new Date(now).toISOString();
    const reason = message.event.EventType === 'ExecutionTerminated' ? message.event.Input : undefined;
    const events: HistoryEvent[] = [
      { EventType: 'OrchestratorStarted', EventId: -1, Timestamp: at },
      {
        EventType: 'ExecutionTerminated',
        EventId: -1,
        Timestamp: at,
        SourceMessage: message.rowKey,
        ...(reason !== undefined ? { Input: reason } : {}),
      },
      {
        EventType: 'ExecutionCompleted',
        EventId: -1,
        Timestamp: at,
        OrchestrationStatus: 'Terminated',
        ...(reason !== undefined ? { Result: reason } : {}),
      },
      { EventType: 'OrchestratorCompleted', EventId: -1, Timestamp: at },
    ];
    await this.checkpoint(live, events, consumed);
    live.status = 'Terminated';
    live.output = reason;
    live.lastUpdatedTime = now;
    await this.finish(live);
  }

  /** An instance reached a final status (its checkpoint is committed): record it, tell the parent, forget it. */
  private async finish(live: Live): Promise<void> {
    this.forget(live);
    await this.saveRow(live);
    if (live.parent) await this.notifyParent(live.parent, live.row());
  }

  /** Drops an instance from memory: its timers stop, late messages for it are ignored. */
  private forget(live: Live): void {
    for (const cancel of live.alarms.values()) cancel();
    live.alarms.clear();
    if (live.retryTimer) clearTimeout(live.retryTimer);
    if (live.blockedTimer) clearTimeout(live.blockedTimer);
    if (this.live.get(live.id) === live) this.live.delete(live.id);
  }

  // ---- work the checkpoints schedule ----

  private dispatchActivity(live: Live, task: Extract<ScheduledTask, { kind: 'activity' }>): void {
    const key = `${live.id}\n${live.executionId}\n${task.id}`;
    if (this.runningTasks.has(key) || live.completions.has(task.id)) return;
    if (task.expiredRetry) {
      void this.deliver(live, this.taskFailed(live, task.id, task.expiredRetry.reason, task.expiredRetry.details));
      return;
    }
    this.runningTasks.add(key);
    void this.track(
      live.root,
      this.activitySlots.run(() => this.runActivity(live.id, live.executionId, task)).finally(() => this.runningTasks.delete(key)),
    );
  }

  /**
   * Runs an activity for an execution of an instance. The result goes to whichever in-memory state the
   * instance has by then (it may have been reloaded meanwhile), if it is still that execution.
   */
  private async runActivity(instanceId: string, executionId: string, task: Extract<ScheduledTask, { kind: 'activity' }>): Promise<void> {
    const current = () => {
      const live = this.live.get(instanceId);
      return live?.executionId === executionId ? live : undefined;
    };
    const live = current();
    if (this.stopping || !live) return;
    let message: InboxMessage;
    if (task.name === HTTP_ACTIVITY_NAME) {
      // callHttp: the extension's built-in activity, run by the devhost itself.
      const outcome = await runHttpActivity(task.input);
      message =
        'result' in outcome
          ? this.taskCompleted(live, task.id, outcome.result)
          : this.taskFailed(live, task.id, outcome.reason, outcome.details);
    } else {
      const registration = this.activities.get(task.name.toLowerCase());
      if (!registration) {
        await this.deliver(
          live,
          this.taskFailed(
            live,
            task.id,
            `The function '${task.name}' doesn't exist, is disabled, or is not an activity function.`,
            undefined,
          ),
        );
        return;
      }
      message = await this.invokeActivity(live, task, registration);
    }
    // Not awaited: the activity's slot is free as soon as it returned; recording the result is the instance's business.
    const target = current();
    if (target) void this.deliver(target, message);
  }

  /** Invokes an app's activity function and turns its result or failure into the history's message. */
  private async invokeActivity(
    live: Live,
    task: Extract<ScheduledTask, { kind: 'activity' }>,
    registration: Registration,
  ): Promise<InboxMessage> {
    try {
      const response = await this.context.invoke(
        registration,
        {
          inputData: [{ name: triggerOf(registration).name, data: task.input === undefined ? {} : { json: task.input } }],
          triggerMetadata: {},
        },
        `Activity of orchestration ${live.id} (task ${task.id})`,
      );
      const result = typedDataJson(response.returnValue) ?? 'null';
      if (result.length > MAX_VALUE_CHARS) {
        return this.taskFailed(
          live,
          task.id,
          `Activity function '${task.name}' failed: its result is ${result.length} characters; the devhost keeps up to ${MAX_VALUE_CHARS}.`,
          undefined,
        );
      }
      return this.taskCompleted(live, task.id, result);
    } catch (error) {
      const { text, stack } = errorText(error);
      const details = parseFailureDetails(tryJson(text));
      return this.taskFailed(
        live,
        task.id,
        `Activity function '${task.name}' failed: ${details ? `${details.ErrorType}: ${details.ErrorMessage}` : text}`,
        details?.StackTrace ?? stack,
        details,
      );
    }
  }

  private taskCompleted(live: Live, id: number, result: string): InboxMessage {
    const event = { EventType: 'TaskCompleted', EventId: -1, Timestamp: this.isoNow(), TaskScheduledId: id, Result: result } as const;
    return { rowKey: inboxRowKey(`task-${live.executionId}-${id}`), arrival: this.arrival(), executionId: live.executionId, event };
  }

  private taskFailed(live: Live, id: number, reason: string, details: string | undefined, failureDetails?: FailureDetails): InboxMessage {
    return {
      rowKey: inboxRowKey(`task-${live.executionId}-${id}`),
      arrival: this.arrival(),
      executionId: live.executionId,
      event: {
        EventType: 'TaskFailed',
        EventId: -1,
        Timestamp: this.isoNow(),
        TaskScheduledId: id,
        Reason: reason,
        // The library reads a failure only when both Reason and Details are strings.
        Details: details ?? '',
        ...(failureDetails ? { FailureDetails: failureDetails } : {}),
      },
    };
  }

  private armTimer(live: Live, id: number, fireAt: number): void {
    if (live.alarms.has(id) || live.completions.has(id)) return;
    const executionId = live.executionId;
    const cancel = setAlarm(
      this.options.clock,
      this.options.timeScale,
      fireAt,
      () => {
        live.alarms.delete(id);
        void this.deliver(live, {
          rowKey: inboxRowKey(`timer-${executionId}-${id}`),
          arrival: this.arrival(),
          executionId,
          event: { EventType: 'TimerFired', EventId: -1, Timestamp: this.isoNow(), TimerId: id, FireAt: new Date(fireAt).toISOString() },
        });
      },
      this.options.clockPollMs,
    );
    if (!live.completions.has(id) && this.live.get(live.id) === live) live.alarms.set(id, cancel);
  }

  /** Makes sure a scheduled sub-orchestration exists; if it already finished, collects its result. */
  private async ensureChild(parent: Live, created: EventOf<'SubOrchestrationInstanceCreated'>): Promise<void> {
    const parentRef: ParentInstance = {
      Name: parent.name,
      TaskScheduleId: created.EventId,
      OrchestrationInstance: { InstanceId: parent.id, ExecutionId: parent.executionId },
    };
    const existing = this.live.get(created.InstanceId);
    if (existing) {
      if (existing.parent?.OrchestrationInstance.InstanceId === parent.id) return;
      await this.deliver(
        parent,
        this.childFailed(parentRef, `An orchestration with instance ID '${created.InstanceId}' already exists and is ${existing.status}.`),
      );
      return;
    }
    const row = await this.store.readInstance(created.InstanceId);
    const ours = row?.parent?.OrchestrationInstance.ExecutionId === parent.executionId && row.parent.TaskScheduleId === created.EventId;
    if (row && ours && isTerminal(row.runtimeStatus)) {
      await this.notifyParent(parentRef, row);
      return;
    }
    try {
      await this.startNew({
        name: created.Name,
        instanceId: created.InstanceId,
        ...(created.Input !== undefined ? { input: created.Input } : {}),
        ...(created.Version !== undefined ? { version: created.Version } : {}),
        parent: parentRef,
      });
    } catch (error) {
      await this.deliver(parent, this.childFailed(parentRef, error instanceof Error ? error.message : String(error)));
    }
  }

  private childFailed(parent: ParentInstance, reason: string): InboxMessage {
    return {
      rowKey: inboxRowKey(`sub-${parent.OrchestrationInstance.ExecutionId}-${parent.TaskScheduleId}`),
      arrival: this.arrival(),
      executionId: parent.OrchestrationInstance.ExecutionId,
      event: {
        EventType: 'SubOrchestrationInstanceFailed',
        EventId: -1,
        Timestamp: this.isoNow(),
        TaskScheduledId: parent.TaskScheduleId,
        Reason: reason,
        Details: '',
      },
    };
  }

  private async notifyParent(parent: ParentInstance, child: Pick<InstanceRow, 'name' | 'runtimeStatus' | 'output'>): Promise<void> {
    const { InstanceId, ExecutionId } = parent.OrchestrationInstance;
    const message: InboxMessage =
      child.runtimeStatus === 'Completed'
        ? {
            rowKey: inboxRowKey(`sub-${ExecutionId}-${parent.TaskScheduleId}`),
            arrival: this.arrival(),
            executionId: ExecutionId,
            event: {
              EventType: 'SubOrchestrationInstanceCompleted',
              EventId: -1,
              Timestamp: this.isoNow(),
              TaskScheduledId: parent.TaskScheduleId,
              ...(child.output !== undefined ? { Result: child.output } : {}),
            },
          }
        : this.childFailed(parent, outputText(child.output) ?? `Sub-orchestration '${child.name}' ended ${child.runtimeStatus}.`);
    const target = this.live.get(InstanceId);
    if (target) await this.deliver(target, message);
    else if (!this.stopping) await this.store.appendInbox(InstanceId, [message]);
  }

  // ---- the Instances row ----

  /** Writes the Instances row now (coalescing with a write in flight). */
  private saveRow(live: Live): Promise<void> {
    live.rowDirty = true;
    if (live.rowTimer) {
      clearTimeout(live.rowTimer);
      live.rowTimer = undefined;
    }
    live.rowWriting ??= this.track(
      live.root,
      (async () => {
        try {
          while (live.rowDirty) {
            live.rowDirty = false;
            try {
              live.instanceEtag = await this.store.writeInstance(live.row(), live.instanceEtag ?? '*');
            } catch (error) {
              if (!(error instanceof ConcurrencyError)) throw error;
              // Changed behind our back (an earlier engine's late write): take the current ETag and write ours.
              const current = await this.store.readInstance(live.id);
              live.instanceEtag = current?.etag;
              live.rowDirty = true;
              if (!current) break;
            }
          }
        } catch (error) {
          this.context.logger.error(`Durable: could not update the Instances row of ${live.id}`, error);
        } finally {
          live.rowWriting = undefined;
        }
      })(),
    );
    return live.rowWriting;
  }

  /** LastUpdatedTime-only changes are written at most once a second (the write takes the state of that moment). */
  private touchRow(live: Live): void {
    if (live.rowTimer) return;
    live.rowTimer = setTimeout(() => {
      live.rowTimer = undefined;
      if (this.live.get(live.id) === live && !this.stopping) void this.saveRow(live);
    }, ROW_DEBOUNCE_MS);
    live.rowTimer.unref();
  }

  // ---- helpers ----

  private startMessage(row: InstanceRow): InboxMessage {
    return {
      rowKey: inboxRowKey(`start-${row.executionId}`),
      arrival: this.arrival(),
      executionId: row.executionId,
      event: {
        EventType: 'ExecutionStarted',
        EventId: -1,
        Timestamp: this.isoNow(),
        Name: row.name,
        ...(row.version !== undefined ? { Version: row.version } : {}),
        ...(row.input !== undefined ? { Input: row.input } : {}),
        ...(row.parent ? { ParentInstance: row.parent } : {}),
        OrchestrationInstance: { InstanceId: row.instanceId, ExecutionId: row.executionId },
      },
    };
  }

  private async requireRunning(instanceId: string): Promise<Live> {
    const live = this.live.get(instanceId);
    if (live) return live;
    const row = await this.store.readInstance(instanceId);
    if (!row) throw new DurableRequestError(404, `No instance with ID '${instanceId}' found.`);
    if (isTerminal(row.runtimeStatus)) throw new DurableRequestError(410, `Instance '${instanceId}' is ${row.runtimeStatus}.`);
    throw new DurableRequestError(
      409,
      `Instance '${instanceId}' is ${row.runtimeStatus} but not loaded by this engine (is another devhost serving this task hub?).`,
    );
  }

  private arrival(): string {
    return `${Math.floor(this.options.clock.now()).toString().padStart(15, '0')}.${(this.arrivals++).toString().padStart(9, '0')}`;
  }

  private isoNow(): string {
    return new Date(this.options.clock.now()).toISOString();
  }

  private async withLock<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.locks.get(key) ?? Promise.resolve();
    const next = previous.then(task, task);
    const settled = next.catch(() => undefined);
    this.locks.set(key, settled);
    try {
      return await next;
    } finally {
      if (this.locks.get(key) === settled) this.locks.delete(key);
    }
  }

  /** Counts work for idle() and logs its failure (nothing tracked is awaited by anyone who could). */
  private track(root: string, work: Promise<unknown>): Promise<void> {
    this.changeBusy(root, 1);
    return work.then(
      () => this.changeBusy(root, -1),
      (error: unknown) => {
        this.context.logger.error('Durable: background work failed', error);
        this.changeBusy(root, -1);
      },
    );
  }

  private changeBusy(root: string, delta: number): void {
    const count = (this.busy.get(root) ?? 0) + delta;
    if (count <= 0) this.busy.delete(root);
    else this.busy.set(root, count);
    this.busyTotal += delta;
    if (delta < 0) {
      // Settle waiters a tick later: one step of work often starts the next synchronously after finishing.
      setImmediate(() => {
        for (const waiter of [...this.idleWaiters]) {
          const count = waiter.root === undefined ? this.busyTotal : (this.busy.get(waiter.root) ?? 0);
          if (count === 0) {
            this.idleWaiters.splice(this.idleWaiters.indexOf(waiter), 1);
            waiter.resolve();
          }
        }
      });
    }
  }
}

// ---- pure helpers ----

function completionId(event: HistoryEvent): number | undefined {
  switch (event.EventType) {
    case 'TaskCompleted':
    case 'TaskFailed':
    case 'SubOrchestrationInstanceCompleted':
    case 'SubOrchestrationInstanceFailed':
      return event.TaskScheduledId;
    case 'TimerFired':
      return event.TimerId;
    default:
      return undefined;
  }
}

/** Scheduling events without a completion (in the history or pending). */
function openTasks(
  history: readonly HistoryEvent[],
  completions: ReadonlySet<number>,
): EventOf<'TaskScheduled' | 'TimerCreated' | 'SubOrchestrationInstanceCreated'>[] {
  return history.filter(
    (event): event is EventOf<'TaskScheduled' | 'TimerCreated' | 'SubOrchestrationInstanceCreated'> =>
      (event.EventType === 'TaskScheduled' ||
        event.EventType === 'TimerCreated' ||
        event.EventType === 'SubOrchestrationInstanceCreated') &&
      !completions.has(event.EventId),
  );
}

function lastStarted(history: readonly HistoryEvent[]): number {
  for (let index = history.length - 1; index >= 0; index--) {
    const event = history[index] as HistoryEvent;
    if (event.EventType === 'OrchestratorStarted') return Date.parse(event.Timestamp);
  }
  return 0;
}

function countEpisodes(history: readonly HistoryEvent[]): number {
  return history.filter((event) => event.EventType === 'OrchestratorStarted').length;
}

/** The JSON text of a function's return value as the worker sends it (RpcTypedData). */
export function typedDataJson(data: unknown): string | undefined {
  if (!isRecord(data)) return undefined;
  if (typeof data.json === 'string') return data.json;
  if (typeof data.string === 'string') return JSON.stringify(data.string);
  if (typeof data.int === 'number' || typeof data.double === 'number') return String(data.int ?? data.double);
  if (data.bytes instanceof Uint8Array) return JSON.stringify(Buffer.from(data.bytes).toString('base64'));
  return undefined;
}

function errorText(error: unknown): { text: string; stack?: string } {
  if (error instanceof Error) return { text: error.message, ...(error.stack ? { stack: error.stack } : {}) };
  return { text: typeof error === 'string' ? error : JSON.stringify(error) };
}

function tryJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function outputText(output: string | undefined): string | undefined {
  const value = fromJsonText(output);
  return typeof value === 'string' ? value : output;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function instanceFilter(query: InstanceQuery): string | undefined {
  const clauses: string[] = [];
  const quote = (text: string) => `'${text.replace(/'/g, "''")}'`;
  if (query.runtimeStatus && query.runtimeStatus.length > 0)
    clauses.push(`(${query.runtimeStatus.map((status) => `RuntimeStatus eq ${quote(status)}`).join(' or ')})`);
  if (query.createdTimeFrom !== undefined) clauses.push(`CreatedTime ge datetime'${new Date(query.createdTimeFrom).toISOString()}'`);
  if (query.createdTimeTo !== undefined) clauses.push(`CreatedTime le datetime'${new Date(query.createdTimeTo).toISOString()}'`);
  if (query.instanceIdPrefix) {
    const prefix = query.instanceIdPrefix;
    const upper = prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
    clauses.push(`PartitionKey ge ${quote(prefix)} and PartitionKey lt ${quote(upper)}`);
  }
  return clauses.length > 0 ? clauses.join(' and ') : undefined;
}

function toStatus(row: InstanceRow, options: StatusOptions, history?: readonly HistoryEvent[]): InstanceStatus {
  const historyEvents = history ? formatHistory(history, options.showHistoryOutput === true) : undefined;
  return {
    name: row.name,
    instanceId: row.instanceId,
    runtimeStatus: row.runtimeStatus,
    input: options.showInput === false ? null : (fromJsonText(row.input) ?? null),
    customStatus: fromJsonText(row.customStatus) ?? null,
    output: fromJsonText(row.output) ?? null,
    createdTime: new Date(row.createdTime).toISOString(),
    lastUpdatedTime: new Date(row.lastUpdatedTime).toISOString(),
    // The extension names it historyEvents; durable-functions' DurableOrchestrationStatus reads `history`.
    ...(historyEvents ? { historyEvents, history: historyEvents } : {}),
  };
}

/** The history as the extension's status API shows it: completions carry their function name and scheduled time. */
function formatHistory(history: readonly HistoryEvent[], showOutput: boolean): unknown[] {
  const scheduled = new Map<number, EventOf<'TaskScheduled' | 'SubOrchestrationInstanceCreated'>>();
  const shown: unknown[] = [];
  const output = (text: string | undefined) => (showOutput ? { Result: fromJsonText(text) ?? null } : {});
  for (const event of history) {
    switch (event.EventType) {
      case 'TaskScheduled':
      case 'SubOrchestrationInstanceCreated':
        scheduled.set(event.EventId, event);
        break;
      case 'ExecutionStarted':
        shown.push({
          EventType: event.EventType,
          FunctionName: event.Name,
          Timestamp: event.Timestamp,
          ...(event.ParentInstance ? { ParentInstanceId: event.ParentInstance.OrchestrationInstance.InstanceId } : {}),
        });
        break;
      case 'TaskCompleted':
      case 'SubOrchestrationInstanceCompleted':
      case 'TaskFailed':
      case 'SubOrchestrationInstanceFailed': {
        const origin = scheduled.get(event.TaskScheduledId);
        const failed = event.EventType === 'TaskFailed' || event.EventType === 'SubOrchestrationInstanceFailed';
        shown.push({
          EventType: event.EventType,
          ...(origin ? { FunctionName: origin.Name, ScheduledTime: origin.Timestamp } : {}),
          ...(origin?.EventType === 'SubOrchestrationInstanceCreated' ? { InstanceId: origin.InstanceId } : {}),
          Timestamp: event.Timestamp,
          ...(failed ? { Reason: event.Reason, Details: event.Details } : output(event.Result)),
        });
        break;
      }
      case 'TimerFired':
        shown.push({ EventType: event.EventType, FireAt: event.FireAt, Timestamp: event.Timestamp });
        break;
      case 'EventRaised':
        shown.push({
          EventType: event.EventType,
          Name: event.Name,
          Timestamp: event.Timestamp,
          ...(showOutput ? { Input: fromJsonText(event.Input) ?? null } : {}),
        });
        break;
      case 'ExecutionTerminated':
        shown.push({ EventType: event.EventType, Timestamp: event.Timestamp, Input: fromJsonText(event.Input) ?? null });
        break;
      case 'ExecutionCompleted':
        shown.push({
          EventType: event.EventType,
          OrchestrationStatus: event.OrchestrationStatus,
          Timestamp: event.Timestamp,
          ...output(event.Result),
        });
        break;
      case 'OrchestratorStarted':
      case 'OrchestratorCompleted':
      case 'TimerCreated':
        break;
    }
  }
  return shown;
}
