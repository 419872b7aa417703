/**
 * Durable entities' scheduling, as the Durable Task extension schedules them for the entity protocol
 * durable-functions 3.x speaks (entities as special instances `@name@key`, requests and releases as
 * messages): an entity takes its messages in arrival order, one batch at a time; while an orchestration
 * holds its lock (a critical section), everyone else's messages wait in the entity's queue until that
 * orchestration releases it. Pure: entityHost.ts does the storage and the invocations.
 */
import { isRecord } from './protocol';

/** An entity's id as the library serialises it (`EntityId`). */
export interface EntityRef {
  readonly name: string;
  readonly key: string;
}

/** A request to an entity (the extension's RequestMessage): an operation, or a lock request when `lockset` is set. */
export interface EntityRequest {
  readonly id: string;
  readonly op?: string;
  readonly signal?: boolean;
  /** JSON text. */
  readonly input?: string;
  /** The orchestration that waits for the answer, or asks for the lock. */
  readonly parent?: string;
  readonly parentExecution?: string;
  /** Scheduler ids of every entity of the critical section, sorted; the request travels along them. */
  readonly lockset?: readonly string[];
  readonly pos?: number;
  /** The devhost's mark of who sent it (an orchestration's execution, or an entity) and in what order; see planBatch. */
  readonly source?: string;
  readonly seq?: number;
}

/** The end of a critical section, sent to each entity of the lock set. */
export interface ReleaseMessage {
  readonly id: string;
  readonly parent: string;
  readonly source?: string;
  readonly seq?: number;
}

export type EntityMessage =
  { readonly kind: 'op'; readonly request: EntityRequest } | { readonly kind: 'release'; readonly release: ReleaseMessage };

export interface SchedulerState {
  readonly exists: boolean;
  /** JSON text of the entity's state. */
  readonly state?: string;
  /** The orchestration holding the lock, and its lock request's id (only that lock's release ends it). */
  readonly lockedBy?: string;
  readonly lockId?: string;
  /** Messages that wait for the lock to be released, in arrival order. */
  readonly queue: readonly EntityMessage[];
  /**
   * The highest sequence number taken from each sender that numbers its messages (orchestrations and
   * entities send theirs to an entity in order, and send them again after a crash): an older one is a copy.
   */
  readonly senders: Readonly<Record<string, number>>;
  /** Keys of the last messages taken that carry no sequence number (clients' signals, the host's releases). */
  readonly recent: readonly string[];
  /** How many messages this entity has sent (the sequence of its own signals). */
  readonly sent: number;
}

/** What an entity sends on: an answer or a lock grant to an orchestration, or a message to an entity. */
export type Outgoing =
  | {
      readonly kind: 'toOrchestration';
      readonly instanceId: string;
      readonly executionId?: string;
      /** The request id: the library matches the answer by it. */
      readonly eventName: string;
      /** JSON text of the extension's ResponseMessage. */
      readonly input: string;
      /** For a lock grant: the lock set, released again if the orchestration has finished meanwhile. */
      readonly lockset?: readonly string[];
    }
  | { readonly kind: 'toEntity'; readonly target: string; readonly message: EntityMessage };

export interface BatchPlan {
  /** Operations to run now, in order. */
  readonly operations: readonly EntityRequest[];
  /** Lock grants and forwarded lock requests, sent whatever the operations do. */
  readonly outgoing: readonly Outgoing[];
  /** The scheduler state once the messages are taken (the operations' effects still to come). */
  readonly state: SchedulerState;
}

/** The entity function's answer to a batch (durable-functions' EntityState). */
export interface BatchResult {
  readonly entityExists: boolean;
  readonly entityState?: string;
  readonly results: readonly { readonly isError: boolean; readonly result?: string }[];
  readonly signals: readonly { readonly target: EntityRef; readonly name: string; readonly input?: string }[];
}

export const EMPTY_SCHEDULER_STATE: SchedulerState = { exists: false, queue: [], senders: {}, recent: [], sent: 0 };

/** How many unnumbered message keys an entity remembers for de-duplication. */
const RECENT_KEYS = 1000;
/** How many senders' high-water marks an entity keeps (the least recently heard from is forgotten first). */
const SENDERS = 1000;
/** The ResponseMessage result of a lock grant (the library only looks at its arrival). */
const LOCK_GRANTED = 'Lock Acquisition Completed';
/** The extension's exception type for a failed operation; the library only checks that one is present. */
const OPERATION_FAILED = 'Microsoft.Azure.WebJobs.Extensions.DurableTask.EntitySchedulerException';

/** The instance id of an entity (durable-functions `EntityId.getSchedulerIdFromEntityId`). */
export function schedulerId(entity: EntityRef): string {
  return `@${entity.name.toLowerCase()}@${entity.key}`;
}

export function parseSchedulerId(instanceId: string): EntityRef | undefined {
  if (!instanceId.startsWith('@')) return undefined;
  const at = instanceId.indexOf('@', 1);
  if (at < 0) return undefined;
  return { name: instanceId.slice(1, at), key: instanceId.slice(at + 1) };
}

export function messageKey(message: EntityMessage): string {
  return message.kind === 'op' ? `op:${message.request.id}` : `release:${message.release.id}:${message.release.parent}`;
}

/**
 * Takes an entity's queued and newly arrived messages in order: lock requests and releases change who
 * may be served, operations of whoever may be served go into the batch (at most `maxOperations`), the
 * rest wait in the queue. A release puts the messages it held back first in line again. A copy of a
 * message already taken is dropped: by its sender's sequence number, or by its key if it has none.
 */
export function planBatch(state: SchedulerState, arrived: readonly EntityMessage[], maxOperations: number): BatchPlan {
  const recent = [...state.recent];
  const seenKeys = new Set(state.recent);
  const queued = new Set(state.queue.map(messageKey));
  const senders = new Map(Object.entries(state.senders));
  const fresh: EntityMessage[] = [];
  for (const message of arrived) {
    const { source, seq } = message.kind === 'op' ? message.request : message.release;
    const key = messageKey(message);
    if (source !== undefined && seq !== undefined) {
      if (seq <= (senders.get(source) ?? -1)) continue;
      senders.delete(source);
      senders.set(source, seq);
    } else if (seenKeys.has(key) || queued.has(key)) continue;
    queued.add(key);
    fresh.push(message);
  }
  const take = (message: EntityMessage) => {
    const key = messageKey(message);
    recent.push(key);
    seenKeys.add(key);
  };
  let lockedBy = state.lockedBy;
  let lockId = state.lockId;
  let candidates = [...state.queue, ...fresh];
  let deferred: EntityMessage[] = [];
  const operations: EntityRequest[] = [];
  const outgoing: Outgoing[] = [];
  for (let at = 0; at < candidates.length; at++) {
    const message = candidates[at] as EntityMessage;
    if (operations.length >= maxOperations) {
      // The batch is full: everything from here waits, in order, for the next one.
      deferred.push(...candidates.slice(at));
      break;
    }
    if (message.kind === 'release') {
      // Remembered even when it releases nothing: the lock request it ends may still be on its way.
      take(message);
      if (lockedBy === undefined || message.release.parent !== lockedBy || message.release.id !== lockId) continue;
      lockedBy = undefined;
      lockId = undefined;
      candidates = [...deferred, ...candidates.slice(at + 1)];
      deferred = [];
      at = -1;
      continue;
    }
    const request = message.request;
    if (lockedBy !== undefined && request.parent !== lockedBy) {
      deferred.push(message);
      continue;
    }
    take(message);
    if (request.lockset !== undefined) {
      // A lock already released (its orchestration ended before the request got here) is not taken.
      if (seenKeys.has(messageKey({ kind: 'release', release: { id: request.id, parent: request.parent ?? '' } }))) continue;
      lockedBy = request.parent;
      lockId = request.id;
      outgoing.push(lockStep(request));
    } else {
      operations.push(request);
    }
  }
  return {
    operations,
    outgoing,
    state: {
      exists: state.exists,
      ...(state.state !== undefined ? { state: state.state } : {}),
      ...(lockedBy !== undefined ? { lockedBy, ...(lockId !== undefined ? { lockId } : {}) } : {}),
      queue: deferred,
      senders: Object.fromEntries([...senders].slice(-SENDERS)),
      recent: recent.slice(-RECENT_KEYS),
      sent: state.sent,
    },
  };
}

/** A lock request locks this entity, then goes on to the next entity of the set, or back to the orchestration from the last. */
function lockStep(request: EntityRequest): Outgoing {
  const lockset = request.lockset ?? [];
  const next = (request.pos ?? 0) + 1;
  const target = lockset[next];
  if (target !== undefined) return { kind: 'toEntity', target, message: { kind: 'op', request: { ...request, pos: next } } };
  return {
    kind: 'toOrchestration',
    instanceId: request.parent ?? '',
    ...(request.parentExecution !== undefined ? { executionId: request.parentExecution } : {}),
    eventName: request.id,
    input: JSON.stringify({ result: JSON.stringify(LOCK_GRANTED) }),
    lockset,
  };
}

/**
 * Applies the entity function's answer: the new state, an answer to every caller that waits for one
 * (signals get none), and the signals the operations sent, each with a fresh request id.
 */
export function completeBatch(
  self: string,
  plan: BatchPlan,
  result: BatchResult,
  newRequestId: () => string,
): { readonly state: SchedulerState; readonly outgoing: readonly Outgoing[] } {
  const outgoing: Outgoing[] = [...plan.outgoing];
  for (const [index, request] of plan.operations.entries()) {
    if (request.signal || request.parent === undefined) continue;
    const operation = result.results[index] ?? { isError: true, result: JSON.stringify('The entity function returned no result.') };
    outgoing.push({
      kind: 'toOrchestration',
      instanceId: request.parent,
      ...(request.parentExecution !== undefined ? { executionId: request.parentExecution } : {}),
      eventName: request.id,
      input: JSON.stringify({
        ...(operation.result !== undefined ? { result: operation.result } : {}),
        ...(operation.isError ? { exceptionType: OPERATION_FAILED } : {}),
      }),
    });
  }
  let sent = plan.state.sent;
  for (const signal of result.signals) {
    outgoing.push({
      kind: 'toEntity',
      target: schedulerId(signal.target),
      message: {
        kind: 'op',
        request: {
          id: newRequestId(),
          op: signal.name,
          signal: true,
          ...(signal.input ? { input: signal.input } : {}),
          source: self,
          seq: ++sent,
        },
      },
    });
  }
  const { state: _previous, ...rest } = plan.state;
  return {
    state: {
      ...rest,
      sent,
      exists: result.entityExists,
      ...(result.entityExists && result.entityState !== undefined ? { state: result.entityState } : {}),
    },
    outgoing,
  };
}

/** Every operation of the batch failed (the entity function could not be run): the state stays as it was. */
export function failBatch(plan: BatchPlan, reason: string): { readonly state: SchedulerState; readonly outgoing: readonly Outgoing[] } {
  return completeBatch(
    '',
    plan,
    {
      entityExists: plan.state.exists,
      ...(plan.state.state !== undefined ? { entityState: plan.state.state } : {}),
      results: plan.operations.map(() => ({ isError: true, result: JSON.stringify(reason) })),
      signals: [],
    },
    () => '',
  );
}

/** Whether the entity has messages it could take now. */
export function hasWork(state: SchedulerState, arrived: number): boolean {
  if (arrived > 0) return true;
  return state.queue.some(
    (message) =>
      state.lockedBy === undefined || (message.kind === 'op' ? message.request.parent : message.release.parent) === state.lockedBy,
  );
}

/** Reads what the entity function returned (durable-functions' EntityState). */
export function parseBatchResult(value: unknown): BatchResult {
  if (!isRecord(value) || !Array.isArray(value.results)) throw new Error('The entity function returned no EntityState.');
  const results = value.results.map((raw: unknown) => ({
    isError: isRecord(raw) && raw.isError === true,
    ...(isRecord(raw) && typeof raw.result === 'string' ? { result: raw.result } : {}),
  }));
  const signals = (Array.isArray(value.signals) ? value.signals : []).flatMap((raw: unknown) => {
    if (!isRecord(raw) || !isRecord(raw.target) || typeof raw.name !== 'string') return [];
    const { name, key } = raw.target;
    if (typeof name !== 'string' || typeof key !== 'string') return [];
    return [{ target: { name, key }, name: raw.name, ...(typeof raw.input === 'string' ? { input: raw.input } : {}) }];
  });
  return {
    entityExists: value.entityExists === true,
    ...(typeof value.entityState === 'string' ? { entityState: value.entityState } : {}),
    results,
    signals,
  };
}
