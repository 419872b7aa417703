/**
 * The orchestration engine: the Durable Task extension's side of durable-functions, over the tables
 * in store.ts. Per instance it keeps the committed history and the durable messages not yet in it,
 * and runs one episode at a time: the orchestrator replays its history plus the new messages through
 * the library's own code (an ordinary invocation of the registered function), the engine works out
 * which of the returned actions are new (replay.ts), commits one checkpoint, and only then starts what
 * the checkpoint scheduled. checkpoint.ts explains the write order that makes a crash at any point harmless.
 *
 * This class serves the client (start, raise, terminate, status, query, purge) and wires the parts:
 * - live.ts, runtime.ts: an instance in memory; what every part shares (loaded instances, clock, work in flight);
 * - inbox.ts: delivering messages — inbox rows, or results the next checkpoint records itself;
 * - scheduler.ts: when an instance runs an episode (and when a fan-in waits for more results instead);
 * - episode.ts, tasks.ts: running one episode; the history event each new task gets, and how its work starts;
 * - checkpoint.ts: committing an episode, continue-as-new, termination, and the Instances row;
 * - activities.ts, timers.ts, subOrchestrations.ts: the work a checkpoint schedules;
 * - recovery.ts: reading instances back after a restart or a lost race;
 * - status.ts: the status documents and queries of the client API;
 * - entityHost.ts, entityScheduler.ts, entityStore.ts, orchestrationEntities.ts: durable entities, and what orchestrations send them.
 */
import { randomUUID } from 'node:crypto';
import type { Registration } from '../functionsCore';
import { triggerOf } from '../invoke';
import type { TriggerHostContext } from '../triggers/triggerHost';
import { ActivityRunner } from './activities';
import { Checkpoints } from './checkpoint';
import type { DurableClock } from './clock';
import { EpisodeRunner } from './episode';
import { Inbox, type Deliver } from './inbox';
import { EntityHost } from './entityHost';
import type { Outgoing } from './entityScheduler';
import { Limiter } from './limiter';
import { Live } from './live';
import { isTerminal, type HistoryEvent, type ParentInstance } from './protocol';
import { releaseHeldLock } from './orchestrationEntities';
import { Recovery } from './recovery';
import { EngineRuntime, sleep } from './runtime';
import { EpisodeScheduler } from './scheduler';
import { instanceFilter, toStatus, type InstanceQuery, type InstanceStatus, type StatusOptions } from './status';
import { ConcurrencyError, type DurableStore } from './store';
import { SubOrchestrations } from './subOrchestrations';
import { FORBIDDEN_KEY_CHARACTERS, inboxRowKey, MAX_VALUE_CHARS, type InstanceRow } from './tableRows';
import type { TaskWorkers } from './tasks';
import { Timers } from './timers';

export type { InstanceQuery, InstanceStatus, StatusOptions } from './status';
export { typedDataJson } from './workerData';

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

interface StartRequest {
  readonly name: string;
  readonly instanceId?: string;
  readonly input?: string;
  readonly version?: string;
  readonly parent?: ParentInstance;
}

/** How long stop() waits for running activities. */
const STOP_GRACE_MS = 5000;

export class DurableEngine {
  private readonly runtime: EngineRuntime;
  private readonly orchestrators = new Map<string, Registration>();
  private readonly inbox: Inbox;
  private readonly scheduler: EpisodeScheduler;
  private readonly recovery: Recovery;
  /** The app's durable entities (entityHost.ts). */
  readonly entities: EntityHost;

  constructor(private readonly options: EngineOptions) {
    const activities = new Map<string, Registration>();
    for (const registration of options.registrations) {
      const type = triggerOf(registration).binding.type;
      const key = registration.metadata.name.toLowerCase();
      if (type === 'orchestrationTrigger') this.orchestrators.set(key, registration);
      else if (type === 'activityTrigger') activities.set(key, registration);
    }
    // Each part gets only the calls it uses; those that point back (wake, reload, startNew) reach fields set at the end.
    const runtime = new EngineRuntime(options.store, options.context.logger, options.clock);
    const orchestratorSlots = new Limiter(options.maxConcurrentOrchestrations);
    const wake = (live: Live) => this.scheduler.pump(live);
    const inbox = new Inbox(runtime, { inboxFirst: options.inboxFirst === true, canRunEpisode: () => orchestratorSlots.available, wake });
    const deliver: Deliver = (live, message) => inbox.deliver(live, message);
    const activityRunner = new ActivityRunner(
      runtime,
      activities,
      options.context.invoke,
      new Limiter(options.maxConcurrentActivities),
      deliver,
    );
    const timers = new Timers(runtime, deliver, options);
    const children = new SubOrchestrations(runtime, deliver, (request) => this.startNew(request));
    const workers: TaskWorkers = {
      runActivity: (live, task) => activityRunner.dispatch(live, task),
      armTimer: (live, id, fireAt) => timers.arm(live, id, fireAt),
      startChild: (parent, created) => children.start(parent, created),
      sendToEntity: async (target, message) => {
        await entities.send(target, message);
      },
    };
    const entities: EntityHost = new EntityHost({
      store: options.store,
      registrations: options.registrations,
      context: options.context,
      clock: options.clock,
      deliverToOrchestration: (answer) => this.deliverEntityAnswer(answer),
      maxConcurrentBatches: options.maxConcurrentOrchestrations,
      arrival: () => runtime.arrival(),
    });
    const checkpoints = new Checkpoints(
      runtime,
      (parent, child) => children.notifyParent(parent, child),
      (live) => releaseHeldLock(live, entities),
    );
    const episodes = new EpisodeRunner(runtime, this.orchestrators, options.context.invoke, checkpoints, workers);
    this.runtime = runtime;
    this.entities = entities;
    this.inbox = inbox;
    this.recovery = new Recovery(runtime, checkpoints, workers, wake);
    this.scheduler = new EpisodeScheduler(runtime, inbox, orchestratorSlots, {
      run: (live, inline) => episodes.run(live, inline),
      reload: (live) => this.recovery.reload(live),
    });
  }

  get hubName(): string {
    return this.runtime.store.hubName;
  }

  /** Reads back every unfinished instance, then every entity with work, and resumes them (orchestrations first: entities answer them). */
  async resume(): Promise<number> {
    const orchestrations = await this.recovery.resumeAll();
    return orchestrations + (await this.entities.resume());
  }

  async stop(): Promise<void> {
    this.runtime.stopping = true;
    for (const live of this.runtime.live.values()) {
      live.cancelAlarms();
      if (live.retryTimer) clearTimeout(live.retryTimer);
      if (live.rowTimer) clearTimeout(live.rowTimer);
      if (live.blockedTimer) clearTimeout(live.blockedTimer);
    }
    await this.entities.stop();
    const deadline = Date.now() + STOP_GRACE_MS;
    while (this.runtime.inFlight > 0 && Date.now() < deadline) await sleep(20);
  }

  /**
   * Resolves once nothing is running or about to run for the instance's tree (or anywhere, entities
   * included): it is finished, or waits for a timer or an event.
   */
  async idle(instanceId?: string): Promise<void> {
    if (instanceId !== undefined) return this.runtime.idle(instanceId);
    // Orchestrations and entities wake each other: idle only when both are, at the same time.
    do {
      await this.runtime.idle(undefined);
      await this.entities.idle();
    } while (this.runtime.inFlight > 0 || !this.entities.isIdle);
  }

  // ---- client operations ----

  async startNew(request: StartRequest): Promise<{ instanceId: string; created: boolean }> {
    if (this.runtime.stopping) throw new DurableRequestError(409, 'The durable engine is stopping.');
    if (!this.orchestrators.has(request.name.toLowerCase())) {
      throw new DurableRequestError(400, `The function '${request.name}' doesn't exist, is disabled, or is not an orchestrator function.`);
    }
    if (request.input !== undefined && request.input.length > MAX_VALUE_CHARS)
      throw new DurableRequestError(413, `The input is ${request.input.length} characters; the devhost keeps up to ${MAX_VALUE_CHARS}.`);
    const instanceId = request.instanceId ?? randomUUID().replace(/-/g, '');
    if (instanceId === '' || instanceId.length > 256 || FORBIDDEN_KEY_CHARACTERS.test(instanceId)) {
      throw new DurableRequestError(
        400,
        `Instance ID '${instanceId}' is not valid: it may not be empty, longer than 256 characters, or contain /, \\, #, ? or control characters.`,
      );
    }
    // `@name@key` is an entity's id, in the same table (the extension refuses it too).
    if (instanceId.startsWith('@'))
      throw new DurableRequestError(400, `Instance ID '${instanceId}' is not valid: it may not start with @.`);
    const { store, logger } = this.runtime;
    return this.runtime.withLock(instanceId, async () => {
      const existing = this.runtime.live.get(instanceId);
      const row = existing ? undefined : await store.readInstance(instanceId);
      const runningStatus = existing?.status ?? (row && !isTerminal(row.runtimeStatus) ? row.runtimeStatus : undefined);
      if (runningStatus !== undefined) {
        const sameParent =
          request.parent &&
          (existing?.parent ?? row?.parent)?.OrchestrationInstance.InstanceId === request.parent.OrchestrationInstance.InstanceId;
        if (request.parent && !sameParent)
          throw new DurableRequestError(409, `An orchestration with instance ID '${instanceId}' already exists and is ${runningStatus}.`);
        if (sameParent || this.options.existingInstances === 'keep') {
          if (!sameParent)
            logger.warn(`Durable: instance ${instanceId} is already ${runningStatus}; the start request does not replace it.`);
          return { instanceId, created: false };
        }
        if (this.options.existingInstances === 'NonRunningStates') {
          throw new DurableRequestError(409, `An orchestration with instance ID '${instanceId}' already exists and is ${runningStatus}.`);
        }
        if (existing) this.runtime.forget(existing);
      }
      const now = this.runtime.clock.now();
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
      const previous = row ?? (existing ? await store.readInstance(instanceId) : undefined);
      // The row first: it alone can recreate the start message if we die before writing it. A lost
      // race (another start created it meanwhile) surfaces as a 409.
      const etag = await store.writeInstance(newRow, previous?.etag).catch((error: unknown) => {
        throw error instanceof ConcurrencyError
          ? new DurableRequestError(409, `Instance '${instanceId}' was created or changed by another request; try again.`)
          : error;
      });
      if (previous) await store.deletePartition(instanceId);
      const start = this.runtime.startMessage(newRow);
      const live = new Live(instanceId, newRow);
      live.instanceEtag = etag;
      live.sentinelEtag = await store.startExecution(instanceId, executionId, start, undefined);
      live.pending.set(start.rowKey, start);
      if (request.parent) live.root = this.runtime.live.get(request.parent.OrchestrationInstance.InstanceId)?.root ?? live.root;
      this.runtime.live.set(instanceId, live);
      this.scheduler.pump(live);
      return { instanceId, created: true };
    });
  }

  async raiseEvent(instanceId: string, eventName: string, input: string | undefined): Promise<void> {
    const live = await this.requireRunning(instanceId);
    const arrival = this.runtime.arrival();
    // Answered once durable: an accepted event survives a crash.
    await this.inbox.deliver(live, {
      rowKey: inboxRowKey(`event-${arrival}`),
      arrival,
      event: {
        EventType: 'EventRaised',
        EventId: -1,
        Timestamp: this.runtime.isoNow(),
        Name: eventName,
        ...(input !== undefined ? { Input: input } : {}),
      },
    });
  }

  async terminate(instanceId: string, reason: string | undefined): Promise<void> {
    const live = await this.requireRunning(instanceId);
    const arrival = this.runtime.arrival();
    await this.inbox.deliver(live, {
      rowKey: inboxRowKey(`terminate-${arrival}`),
      arrival,
      event: {
        EventType: 'ExecutionTerminated',
        EventId: -1,
        Timestamp: this.runtime.isoNow(),
        ...(reason !== undefined ? { Input: JSON.stringify(reason) } : {}),
      },
    });
  }

  async status(instanceId: string, options: StatusOptions = {}): Promise<InstanceStatus | undefined> {
    const live = this.runtime.live.get(instanceId);
    const row = live ? live.row() : await this.runtime.store.readInstance(instanceId);
    if (!row) return undefined;
    let history: HistoryEvent[] | undefined;
    if (options.showHistory) history = live ? live.history : [...(await this.runtime.store.readPartition(instanceId)).history];
    return toStatus(row, options, history);
  }

  async query(query: InstanceQuery): Promise<{ statuses: InstanceStatus[]; continuationToken?: string }> {
    const page = await this.runtime.store.queryInstances(
      instanceFilter(query),
      Math.min(Math.max(query.top ?? 100, 1), 1000),
      query.continuationToken,
    );
    const statuses = page.rows.map((row) =>
      toStatus(this.runtime.live.get(row.instanceId)?.row() ?? row, { showInput: query.showInput ?? true }),
    );
    return { statuses, ...(page.continuationToken ? { continuationToken: page.continuationToken } : {}) };
  }

  /** Deletes a finished instance's state and history. Returns how many instances were deleted (0 or 1). */
  async purge(instanceId: string): Promise<number> {
    const store = this.runtime.store;
    return this.runtime.withLock(instanceId, async () => {
      if (this.runtime.live.has(instanceId)) return 0;
      const row = await store.readInstance(instanceId);
      if (!row || !isTerminal(row.runtimeStatus)) return 0;
      // History first: an Instances row without history still reads as a finished instance.
      await store.deletePartition(instanceId);
      await store.deleteInstance(instanceId);
      return 1;
    });
  }

  async purgeBy(query: InstanceQuery): Promise<number> {
    let deleted = 0;
    const statuses = (query.runtimeStatus ?? ['Completed', 'Failed', 'Terminated', 'Canceled']).filter((status) => isTerminal(status));
    if (statuses.length === 0) return 0;
    const ids: string[] = [];
    for await (const row of this.runtime.store.listInstances(instanceFilter({ ...query, runtimeStatus: statuses })))
      ids.push(row.instanceId);
    for (const id of ids) deleted += await this.purge(id);
    return deleted;
  }

  /** History table rows of an instance (tests: history must stay bounded). */
  countRows(instanceId: string): Promise<{ history: number; inbox: number; other: number }> {
    return this.runtime.store.countRows(instanceId);
  }

  /**
   * An entity's answer or lock grant, as an event for the orchestration that waits for it, made durable in
   * its inbox (each is taken once: its row key names the request). 'gone' once that execution has ended.
   */
  private async deliverEntityAnswer(answer: Extract<Outgoing, { kind: 'toOrchestration' }>): Promise<'delivered' | 'gone' | 'later'> {
    if (this.runtime.stopping) return 'later';
    const message = {
      rowKey: inboxRowKey(`entity-${answer.eventName}`),
      arrival: this.runtime.arrival(),
      ...(answer.executionId !== undefined ? { executionId: answer.executionId } : {}),
      event: {
        EventType: 'EventRaised' as const,
        EventId: -1,
        Timestamp: this.runtime.isoNow(),
        Name: answer.eventName,
        Input: answer.input,
      },
    };
    const live = this.runtime.live.get(answer.instanceId);
    if (live) {
      if (live.isStale(message)) return 'gone';
      if (live.pending.has(message.rowKey) || live.consumed.has(message.rowKey)) return 'delivered';
      await this.inbox.deliver(live, message);
      if (this.runtime.isCurrent(live) && live.pending.has(message.rowKey)) return 'delivered';
      // Read again: delivery awaited, and stopping may have begun meanwhile.
      if (this.isStopping()) return 'later';
    }
    // Not loaded (being reloaded, or loaded by nobody yet): straight into its inbox, where loading finds it.
    const row = await this.runtime.store.readInstance(answer.instanceId);
    if (!row || isTerminal(row.runtimeStatus)) return 'gone';
    await this.runtime.store.appendInbox(answer.instanceId, [message]);
    return 'delivered';
  }

  private isStopping(): boolean {
    return this.runtime.stopping;
  }

  private async requireRunning(instanceId: string): Promise<Live> {
    const live = this.runtime.live.get(instanceId);
    if (live) return live;
    const row = await this.runtime.store.readInstance(instanceId);
    if (!row) throw new DurableRequestError(404, `No instance with ID '${instanceId}' found.`);
    if (isTerminal(row.runtimeStatus)) throw new DurableRequestError(410, `Instance '${instanceId}' is ${row.runtimeStatus}.`);
    throw new DurableRequestError(
      409,
      `Instance '${instanceId}' is ${row.runtimeStatus} but not loaded by this engine (is another devhost serving this task hub?).`,
    );
  }
}
