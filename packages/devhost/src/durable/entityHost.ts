/**
 * Durable entities: plays the Durable Task extension's part for the app's `entityTrigger` functions.
 * An entity is an instance `@name@key`; what it receives waits durably in its inbox rows, and it runs
 * one batch at a time (entityScheduler.ts decides which messages a batch takes).
 *
 * Write order (why a crash at any point is harmless): a message is answered only once its inbox row is
 * written. A batch's checkpoint — the new scheduler state and what the batch sends on (its outbox), in
 * the same entity-group transaction as the deletion of the inbox rows it took — commits before anything
 * is sent; the outbox is sent after, in order, and sent again on restart. Receivers take each message
 * once: an orchestration knows the inbox rows it consumed; an entity keeps, per sender that numbers its
 * messages (orchestrations, entities), the highest number taken, and the keys of its last 1,000 other
 * messages (clients' signals, which are never sent twice, and the host's releases).
 */
import { createHash, randomUUID } from 'node:crypto';
import type { Registration } from '../functionsCore';
import { triggerOf } from '../invoke';
import type { TriggerHostContext } from '../triggers/triggerHost';
import type { DurableClock } from './clock';
import {
  completeBatch,
  failBatch,
  hasWork,
  messageKey,
  parseBatchResult,
  parseSchedulerId,
  planBatch,
  schedulerId,
  type EntityMessage,
  type EntityRef,
  type Outgoing,
  type SchedulerState,
} from './entityScheduler';
import { EntityStore, type EntityRecord, type StoredEntityMessage } from './entityStore';
import { fromJsonText } from './protocol';
import { byArrival } from './history';
import { Limiter } from './limiter';
import { LiveEntity } from './liveEntity';
import { RETRY_AFTER_ERROR_MS, sleep } from './runtime';
import type { DurableStore } from './store';
import { inboxRowKey } from './tableRows';
import { typedDataJson } from './workerData';

/** Messages one batch takes at most, so that their deletion fits the checkpoint's transaction. */
const MAX_MESSAGES_PER_BATCH = 99;

/** 'gone': the orchestration no longer runs; 'later': not recorded now (the host is stopping), keep it to send again. */
export type OrchestrationDelivery = (message: Extract<Outgoing, { kind: 'toOrchestration' }>) => Promise<'delivered' | 'gone' | 'later'>;

export interface EntityHostOptions {
  readonly store: DurableStore;
  readonly registrations: readonly Registration[];
  readonly context: TriggerHostContext;
  readonly clock: DurableClock;
  /** Hands an answer or a lock grant to an orchestration. */
  readonly deliverToOrchestration: OrchestrationDelivery;
  /** Entity batches running at once (a pool of its own, the size of host.json maxConcurrentOrchestratorFunctions). */
  readonly maxConcurrentBatches: number;
  /** The engine's arrival order (orchestrations and entities number their messages alike). */
  readonly arrival: () => string;
}

export interface EntityStatus {
  readonly entityId: EntityRef;
  readonly lastOperationTime: string;
  readonly state?: unknown;
}

export class EntityHost {
  private readonly entities = new Map<string, Registration>();
  private readonly live = new Map<string, LiveEntity>();
  private readonly loading = new Map<string, Promise<LiveEntity>>();
  private readonly store: EntityStore;
  private busy = 0;
  private readonly idleWaiters: (() => void)[] = [];
  private readonly batchSlots: Limiter;
  /** Entities waiting to be tried again after a failure (each holds one unit of `busy`). */
  private readonly retryTimers = new Set<NodeJS.Timeout>();
  private stopping = false;
  /** Until resume(), messages are only made durable: the orchestrations entities answer may not be loaded yet. */
  private resumed = false;

  constructor(private readonly options: EntityHostOptions) {
    this.store = new EntityStore(options.store);
    this.batchSlots = new Limiter(options.maxConcurrentBatches);
    for (const registration of options.registrations) {
      if (triggerOf(registration).binding.type === 'entityTrigger')
        this.entities.set(registration.metadata.name.toLowerCase(), registration);
    }
  }

  /** Whether the app has an entity function of this name. */
  hasEntity(name: string): boolean {
    return this.entities.has(name.toLowerCase());
  }

  /**
   * Makes a message to an entity durable (trying again while storage fails), then lets the entity take
   * it. Resolves once durable; false when it was not written because the host is stopping.
   */
  async send(target: string, message: EntityMessage): Promise<boolean> {
    if (!parseSchedulerId(target)) throw new Error(`${target} is not an entity id.`);
    this.changeBusy(1);
    try {
      const stored: StoredEntityMessage = { rowKey: rowKeyOf(message), arrival: this.options.arrival(), message };
      for (;;) {
        if (this.stopping) return false;
        try {
          await this.store.append(target, [stored]);
          break;
        } catch (error) {
          this.options.context.logger.error(`Durable: could not record a message for entity ${target}; retrying`, error);
          await sleep(RETRY_AFTER_ERROR_MS);
        }
      }
      const loaded = await this.entity(target);
      // Evicted meanwhile (it went idle): this object takes the message back in, unless a newer one
      // was loaded, which read the row just written.
      const entity = this.live.get(target) ?? loaded;
      this.live.set(target, entity);
      if (!entity.pending.has(stored.rowKey)) entity.pending.set(stored.rowKey, stored);
      this.pump(entity);
      return true;
    } finally {
      this.changeBusy(-1);
    }
  }

  /** A signal from a client (the HTTP API, `DurableClient.signalEntity`); rejects when it could not be recorded. */
  async signal(entity: EntityRef, operation: string, input: string | undefined): Promise<void> {
    const recorded = await this.send(schedulerId(entity), {
      kind: 'op',
      request: { id: randomUUID(), op: operation, signal: true, ...(input !== undefined ? { input } : {}) },
    });
    if (!recorded) throw new Error('The durable engine is stopping.');
  }

  async readState(entity: EntityRef): Promise<{ exists: boolean; state?: unknown }> {
    const id = schedulerId(entity);
    const scheduler = this.live.get(id)?.scheduler ?? (await this.store.read(id))?.scheduler;
    if (!scheduler?.exists) return { exists: false };
    return { exists: true, state: fromJsonText(scheduler.state) ?? null };
  }

  /** Entities of a name that exist, in id order, a page at a time (the HTTP API's list). */
  async list(query: {
    readonly name?: string;
    readonly fetchState: boolean;
    readonly top: number;
    readonly continuationToken?: string;
    readonly lastOperationTimeFrom?: number;
    readonly lastOperationTimeTo?: number;
  }): Promise<{ entities: EntityStatus[]; continuationToken?: string }> {
    const page = await this.store.listProjections(query.name?.toLowerCase(), query.top, query.continuationToken);
    const entities: EntityStatus[] = [];
    for (const row of page.rows) {
      const live = this.live.get(row.instanceId);
      const scheduler = live?.scheduler ?? row.scheduler;
      const lastOperationTime = live?.lastOperationTime ?? row.lastOperationTime;
      if (!scheduler.exists) continue;
      if (query.lastOperationTimeFrom !== undefined && lastOperationTime < query.lastOperationTimeFrom) continue;
      if (query.lastOperationTimeTo !== undefined && lastOperationTime > query.lastOperationTimeTo) continue;
      const ref = parseSchedulerId(row.instanceId);
      if (!ref) continue;
      entities.push({
        entityId: ref,
        lastOperationTime: new Date(lastOperationTime).toISOString(),
        ...(query.fetchState ? { state: fromJsonText(scheduler.state) ?? null } : {}),
      });
    }
    return { entities, ...(page.continuationToken ? { continuationToken: page.continuationToken } : {}) };
  }

  /** Reads back every entity with messages to take or an outbox to send, and lets it go on. */
  async resume(): Promise<number> {
    this.resumed = true;
    let resumed = 0;
    for (const id of await this.store.listEntitiesWithWork()) {
      try {
        this.pump(await this.entity(id));
        resumed++;
      } catch (error) {
        this.options.context.logger.error(`Durable: could not resume entity ${id}`, error);
      }
    }
    return resumed;
  }

  idle(): Promise<void> {
    if (this.busy === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Entities held in memory (diagnostics: idle ones are let go). */
  get loaded(): number {
    return this.live.size;
  }

  get isIdle(): boolean {
    return this.busy === 0;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    for (const timer of this.retryTimers) {
      clearTimeout(timer);
      this.changeBusy(-1);
    }
    this.retryTimers.clear();
    const deadline = Date.now() + 5000;
    while (this.busy > 0 && Date.now() < deadline) await sleep(20);
  }

  // ---- one entity ----

  private entity(id: string): Promise<LiveEntity> {
    const known = this.live.get(id);
    if (known) return Promise.resolve(known);
    let loading = this.loading.get(id);
    if (!loading) {
      loading = this.load(id).finally(() => this.loading.delete(id));
      this.loading.set(id, loading);
    }
    return loading;
  }

  private async load(id: string): Promise<LiveEntity> {
    const ref = parseSchedulerId(id);
    if (!ref) throw new Error(`${id} is not an entity id.`);
    const { record, inbox } = await this.store.readPartition(id);
    const entity = new LiveEntity(id, ref, record);
    for (const message of inbox) entity.pending.set(message.rowKey, message);
    this.live.set(id, entity);
    return entity;
  }

  private pump(entity: LiveEntity): void {
    if (entity.running || this.stopping || !this.resumed) return;
    entity.running = true;
    this.changeBusy(1);
    void this.run(entity)
      .catch((error: unknown) => {
        this.options.context.logger.error(`Durable: entity ${entity.id} failed; trying again`, error);
        // Start again from what is stored: the failed batch may have committed or not.
        this.live.delete(entity.id);
        this.changeBusy(1);
        const timer = setTimeout(() => {
          this.retryTimers.delete(timer);
          this.changeBusy(-1);
          if (this.stopping) return;
          void this.entity(entity.id).then(
            (reloaded) => this.pump(reloaded),
            (reloadError: unknown) => this.options.context.logger.error(`Durable: could not reload entity ${entity.id}`, reloadError),
          );
        }, RETRY_AFTER_ERROR_MS);
        this.retryTimers.add(timer);
      })
      .finally(() => {
        entity.running = false;
        if (this.live.get(entity.id) === entity) {
          // A message that arrived as the batch loop was ending found it still running: take it now.
          if (entity.pending.size > 0 || entity.outbox.length > 0) this.pump(entity);
          // Idle entities are not kept in memory: the next message loads it again.
          else if (!entity.projectionDirty) this.live.delete(entity.id);
        }
        this.changeBusy(-1);
      });
  }

  private async run(entity: LiveEntity): Promise<void> {
    while (!this.stopping && this.live.get(entity.id) === entity) {
      // Answers first, the projection after: it is off the path of whoever waits.
      if (entity.outbox.length > 0) await this.sendOutbox(entity);
      if (entity.projectionDirty) {
        await this.store.project(entity.id, entity.scheduler, entity.lastOperationTime);
        entity.projectionDirty = false;
      }
      const taken = [...entity.pending.values()].sort(byArrival).slice(0, MAX_MESSAGES_PER_BATCH);
      if (!hasWork(entity.scheduler, taken.length)) {
        if (entity.storedOutbox && entity.outbox.length === 0) await this.clearStoredOutbox(entity);
        return;
      }
      const plan = planBatch(
        entity.scheduler,
        taken.map((stored) => stored.message),
        MAX_MESSAGES_PER_BATCH,
      );
      const done = plan.operations.length === 0 ? { state: plan.state, outgoing: plan.outgoing } : await this.runBatch(entity, plan);
      if (plan.operations.length > 0) entity.lastOperationTime = this.options.clock.now();
      await this.checkpoint(
        entity,
        done.state,
        done.outgoing,
        taken.map((stored) => stored.rowKey),
      );
      for (const stored of taken) entity.pending.delete(stored.rowKey);
    }
  }

  private async runBatch(entity: LiveEntity, plan: ReturnType<typeof planBatch>): Promise<ReturnType<typeof completeBatch>> {
    const registration = this.entities.get(entity.ref.name);
    if (!registration) {
      const reason = `The function '${entity.ref.name}' doesn't exist, is disabled, or is not an entity function.`;
      this.options.context.logger.warn(`Durable: ${plan.operations.length} operation(s) for entity ${entity.id} failed: ${reason}`);
      return failBatch(plan, reason);
    }
    const payload = JSON.stringify({
      self: entity.ref,
      exists: plan.state.exists,
      ...(plan.state.state !== undefined ? { state: plan.state.state } : {}),
      batch: plan.operations.map((request) => ({
        id: request.id,
        name: request.op ?? '',
        signal: request.signal === true,
        ...(request.input !== undefined ? { input: request.input } : {}),
      })),
    });
    try {
      const response = await this.batchSlots.run(() =>
        this.options.context.invoke(
          registration,
          { inputData: [{ name: triggerOf(registration).name, data: { json: payload } }], triggerMetadata: {} },
          `Entity ${entity.id} (${plan.operations.length} operation${plan.operations.length === 1 ? '' : 's'})`,
        ),
      );
      const result = parseBatchResult(fromJsonText(typedDataJson(response.returnValue)));
      return completeBatch(entity.id, plan, result, () => randomUUID());
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      this.options.context.logger.warn(`Durable: entity ${entity.id} failed its batch: ${reason}`);
      return failBatch(plan, reason);
    }
  }

  private async checkpoint(
    entity: LiveEntity,
    scheduler: SchedulerState,
    outbox: readonly Outgoing[],
    consumed: readonly string[],
  ): Promise<void> {
    const record: EntityRecord = { scheduler, outbox, lastOperationTime: entity.lastOperationTime, etag: entity.etag };
    entity.etag = await this.store.commit(entity.id, record, consumed);
    entity.storedOutbox = outbox.length > 0;
    entity.scheduler = scheduler;
    entity.outbox = outbox;
    // The Instances row is a projection (the entity list reads it); the partition's state row is the truth.
    entity.projectionDirty = true;
  }

  /** Going idle with its outbox sent: one write, so that a restart finds nothing to send again here. */
  private async clearStoredOutbox(entity: LiveEntity): Promise<void> {
    const record: EntityRecord = {
      scheduler: entity.scheduler,
      outbox: [],
      lastOperationTime: entity.lastOperationTime,
      etag: entity.etag,
    };
    entity.etag = await this.store.commit(entity.id, record, []);
    entity.storedOutbox = false;
  }

  /**
   * Sends, in order, what the last batch committed to send; receivers take each message once, so sending
   * again is harmless. Stopping part-way keeps the outbox, to be sent again on restart.
   */
  private async sendOutbox(entity: LiveEntity): Promise<void> {
    for (const message of entity.outbox) {
      if (message.kind === 'toEntity') {
        if (!(await this.send(message.target, message.message))) return;
        continue;
      }
      const outcome = await this.options.deliverToOrchestration(message);
      if (outcome === 'later') return;
      if (outcome === 'gone' && message.lockset) {
        // A lock granted to an orchestration that has finished meanwhile would never be released.
        for (const target of message.lockset)
          if (!(await this.send(target, { kind: 'release', release: { id: message.eventName, parent: message.instanceId } }))) return;
      }
    }
    // The stored outbox is replaced by the next checkpoint's, or cleared when the entity goes idle; sent
    // again before that (after a crash), its messages are copies their receivers drop.
    entity.outbox = [];
  }

  // ---- bookkeeping ----

  private changeBusy(delta: number): void {
    this.busy += delta;
    if (this.busy === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
  }
}

/** A message's inbox row key: the same message sent twice lands on the same row. */
function rowKeyOf(message: EntityMessage): string {
  return inboxRowKey(`entity-${createHash('sha256').update(messageKey(message)).digest('base64url')}`);
}
