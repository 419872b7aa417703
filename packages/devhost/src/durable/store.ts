/**
 * Durable state in Azure Storage tables, laid out as the Durable Task Azure Storage provider lays it:
 *
 * `<Hub>Instances` — one row per instance (PartitionKey = instance id, RowKey = ""): Name, Version,
 *   ExecutionId, Input, Output, CustomStatus, RuntimeStatus, CreatedTime, LastUpdatedTime, CompletedTime
 *   (+ the parent of a sub-orchestration). It is a projection of the history, repaired from it on start.
 *
 * `<Hub>History` — one partition per instance:
 *   - history rows, RowKey = sequence number as 16 upper-case hex digits (as the provider writes them),
 *     EventType by name, `_Timestamp`, ExecutionId, and the event's fields;
 *   - the `sentinel` row: which execution is current and how many history rows are committed. Every
 *     checkpoint updates it with its ETag (optimistic concurrency) in the checkpoint's LAST entity-group
 *     transaction, so a checkpoint larger than one transaction (100 rows) is committed all at once;
 *     rows past the committed length are leftovers of a checkpoint that never finished;
 *   - inbox rows (`inbox-…`): messages for the instance that are durable but not yet in its history
 *     (the provider keeps these in its control queues): activity results, fired timers, raised events,
 *     sub-orchestration results, termination and start requests. A history event delivered from an
 *     inbox row names it (`SourceMessage`), so a row left behind after its checkpoint is recognised as
 *     consumed and never delivered twice.
 */
import { odata, TableClient, type TableEntity, type TableEntityResult, type TransactionAction } from '@azure/data-tables';
import { statusOf } from '../azureErrors';
import {
  isHistoryEventType,
  isRecord,
  parseFailureDetails,
  RUNTIME_STATUSES,
  type HistoryEvent,
  type ParentInstance,
  type RuntimeStatus,
} from './protocol';

/** Azure Table entity-group transactions hold at most 100 operations. */
const MAX_BATCH = 100;
/** A string property holds at most 64 KiB (32 K UTF-16 characters); longer values are split across properties. */
const CHUNK_CHARS = 30_000;
/** An entity holds at most 1 MiB; keep every value well below it. */
export const MAX_VALUE_CHARS = 400_000;
export const SENTINEL_ROW = 'sentinel';
const INBOX_PREFIX = 'inbox-';

/** The write lost a race: another writer created the row or changed it (409 / 412). */
export class ConcurrencyError extends Error {}

export interface InstanceRow {
  readonly instanceId: string;
  readonly name: string;
  readonly version?: string;
  readonly executionId: string;
  readonly input?: string;
  readonly output?: string;
  readonly customStatus?: string;
  readonly runtimeStatus: RuntimeStatus;
  readonly createdTime: number;
  readonly lastUpdatedTime: number;
  readonly completedTime?: number;
  readonly parent?: ParentInstance;
}

export interface Sentinel {
  readonly executionId: string;
  readonly historyLength: number;
  readonly etag: string;
}

/** A durable message waiting to become history. `event.Timestamp` is when it arrived. */
export interface InboxMessage {
  readonly rowKey: string;
  /** Orders messages by arrival (zero-padded, so it sorts as text). */
  readonly arrival: string;
  /** The execution it is meant for (completions of an earlier execution are stale); none for raised events and terminations. */
  readonly executionId?: string;
  readonly event: HistoryEvent;
}

export interface PartitionSnapshot {
  readonly sentinel?: Sentinel;
  /** Committed history of the current execution, in order. */
  readonly history: readonly HistoryEvent[];
  readonly inbox: readonly InboxMessage[];
  /** Rows that belong to no committed history (earlier executions, unfinished checkpoints). */
  readonly garbage: readonly string[];
}

export interface CheckpointPlan {
  readonly instanceId: string;
  readonly executionId: string;
  /** Committed length before this checkpoint: the first new row's sequence number. */
  readonly fromLength: number;
  readonly events: readonly HistoryEvent[];
  /** ETag of the sentinel as last read or written; undefined creates it. */
  readonly sentinelEtag: string | undefined;
  /** Messages to create atomically with the checkpoint (a continueAsNew's start message). */
  readonly newMessages?: readonly InboxMessage[];
  /** Rows to delete once committed (consumed inbox rows, garbage); in the last transaction when they fit. */
  readonly deletes?: readonly string[];
  /**
   * Deletes that did not fit in the last transaction are done after it, before commit() returns; with
   * this set they are left to the caller (returned), which may do them in the background.
   */
  readonly returnOverflowDeletes?: boolean;
}

export function historyRowKey(sequence: number): string {
  return sequence.toString(16).toUpperCase().padStart(16, '0');
}

export function isInboxRow(rowKey: string): boolean {
  return rowKey.startsWith(INBOX_PREFIX);
}

export function inboxRowKey(key: string): string {
  return `${INBOX_PREFIX}${key}`;
}

export class DurableStore {
  private constructor(
    readonly hubName: string,
    readonly instances: TableClient,
    readonly history: TableClient,
  ) {}

  static async open(connectionString: string, hubName: string): Promise<DurableStore> {
    const options = { allowInsecureConnection: true };
    const store = new DurableStore(
      hubName,
      TableClient.fromConnectionString(connectionString, `${hubName}Instances`, options),
      TableClient.fromConnectionString(connectionString, `${hubName}History`, options),
    );
    await Promise.all([store.instances.createTable(), store.history.createTable()]);
    return store;
  }

  // ---- Instances table ----

  async readInstance(instanceId: string): Promise<(InstanceRow & { readonly etag: string }) | undefined> {
    try {
      const entity = await this.instances.getEntity(instanceId, '');
      return { ...decodeInstance(entity), etag: entity.etag };
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw error;
    }
  }

  /** Creates the row (`etag` undefined) or replaces it if unchanged since `etag` ('*' replaces whatever is there). Returns the new ETag. */
  async writeInstance(row: InstanceRow, etag: string | undefined): Promise<string> {
    const entity = encodeInstance(row);
    try {
      const response =
        etag === undefined ? await this.instances.createEntity(entity) : await this.instances.updateEntity(entity, 'Replace', { etag });
      if (!response.etag) throw new Error('The table service returned no ETag.');
      return response.etag;
    } catch (error) {
      throw asConcurrencyError(error, `instance ${row.instanceId}`);
    }
  }

  async deleteInstance(instanceId: string): Promise<boolean> {
    try {
      await this.instances.deleteEntity(instanceId, '');
      return true;
    } catch (error) {
      if (statusOf(error) === 404) return false;
      throw error;
    }
  }

  /** One page of instances matching an OData filter. */
  async queryInstances(
    filter: string | undefined,
    top: number,
    continuationToken: string | undefined,
  ): Promise<{ rows: (InstanceRow & { etag: string })[]; continuationToken?: string }> {
    const pages = this.instances
      .listEntities({ queryOptions: filter ? { filter } : {} })
      .byPage({ maxPageSize: top, ...(continuationToken ? { continuationToken } : {}) });
    const page = await pages.next();
    if (page.done) return { rows: [] };
    const value = page.value as TableEntityResult<Record<string, unknown>>[] & { continuationToken?: string };
    return {
      rows: value.map((entity) => ({ ...decodeInstance(entity), etag: entity.etag })),
      ...(value.continuationToken ? { continuationToken: value.continuationToken } : {}),
    };
  }

  async *listInstances(filter: string | undefined): AsyncGenerator<InstanceRow & { etag: string }> {
    for await (const entity of this.instances.listEntities({ queryOptions: filter ? { filter } : {} })) {
      yield { ...decodeInstance(entity), etag: entity.etag };
    }
  }

  // ---- History table ----

  async readPartition(instanceId: string): Promise<PartitionSnapshot> {
    const rows: TableEntityResult<Record<string, unknown>>[] = [];
    for await (const entity of this.history.listEntities({ queryOptions: { filter: odata`PartitionKey eq ${instanceId}` } }))
      rows.push(entity);
    const sentinelEntity = rows.find((row) => row.rowKey === SENTINEL_ROW);
    const sentinel =
      sentinelEntity && typeof sentinelEntity.ExecutionId === 'string'
        ? {
            executionId: sentinelEntity.ExecutionId,
            historyLength: typeof sentinelEntity.HistoryLength === 'number' ? sentinelEntity.HistoryLength : 0,
            etag: sentinelEntity.etag,
          }
        : undefined;
    const history: HistoryEvent[] = [];
    const inbox: InboxMessage[] = [];
    const garbage: string[] = [];
    const historyRows = rows
      .filter((row) => row.rowKey !== SENTINEL_ROW && !isInboxRow(row.rowKey ?? ''))
      .sort((a, b) => ((a.rowKey ?? '') < (b.rowKey ?? '') ? -1 : 1));
    for (const row of historyRows) {
      const sequence = Number.parseInt(row.rowKey ?? '', 16);
      if (sentinel && row.ExecutionId === sentinel.executionId && sequence < sentinel.historyLength && sequence === history.length)
        history.push(decodeEvent(row));
      else garbage.push(row.rowKey ?? '');
    }
    if (sentinel && history.length !== sentinel.historyLength) {
      throw new Error(
        `The history of instance ${instanceId} is incomplete: ${history.length} of ${sentinel.historyLength} committed rows found.`,
      );
    }
    for (const row of rows.filter((candidate) => isInboxRow(candidate.rowKey ?? ''))) {
      inbox.push({
        rowKey: row.rowKey ?? '',
        arrival: typeof row.Arrival === 'string' ? row.Arrival : '',
        ...(typeof row.ExecutionId === 'string' ? { executionId: row.ExecutionId } : {}),
        event: decodeEvent(row),
      });
    }
    inbox.sort((a, b) => (a.arrival < b.arrival ? -1 : a.arrival > b.arrival ? 1 : 0));
    return { ...(sentinel ? { sentinel } : {}), history, inbox, garbage };
  }

  /**
   * Commits a checkpoint: history rows first, the sentinel (with its ETag) and any new messages in the
   * last transaction, so the checkpoint counts only once everything is written. Returns the sentinel's new ETag.
   */
  async commit(plan: CheckpointPlan): Promise<{ etag: string; overflowDeletes: string[] }> {
    const rowOps: TransactionAction[] = plan.events.map((event, index) => [
      'upsert',
      {
        partitionKey: plan.instanceId,
        rowKey: historyRowKey(plan.fromLength + index),
        ExecutionId: plan.executionId,
        ...encodeEvent(event),
      },
      'Replace',
    ]);
    const sentinel: TableEntity = {
      partitionKey: plan.instanceId,
      rowKey: SENTINEL_ROW,
      ExecutionId: plan.executionId,
      HistoryLength: plan.fromLength + plan.events.length,
    };
    const finalOps: TransactionAction[] = [
      plan.sentinelEtag === undefined ? ['create', sentinel] : ['update', sentinel, 'Replace', { etag: plan.sentinelEtag }],
      ...(plan.newMessages ?? []).map((message): TransactionAction => ['create', encodeInboxMessage(plan.instanceId, message)]),
    ];
    const batches: TransactionAction[][] = [];
    for (let at = 0; at < rowOps.length; at += MAX_BATCH) batches.push(rowOps.slice(at, at + MAX_BATCH));
    const last = batches.at(-1);
    if (last && last.length + finalOps.length <= MAX_BATCH) last.push(...finalOps);
    else batches.push(finalOps);
    const finalBatch = batches.at(-1) as TransactionAction[];
    const deletes = [...new Set(plan.deletes ?? [])];
    const room = MAX_BATCH - finalBatch.length;
    finalBatch.push(...deletes.slice(0, room).map((rowKey): TransactionAction => ['delete', { partitionKey: plan.instanceId, rowKey }]));

    // Sub-responses come in the order of the operations; updates carry no row key, so find the sentinel by position.
    const sentinelIndex = finalBatch.indexOf(finalOps[0] as TransactionAction);
    let etag: string | undefined;
    for (const [index, batch] of batches.entries()) {
      try {
        const response = await this.history.submitTransaction(batch);
        if (index === batches.length - 1) etag = response.subResponses[sentinelIndex]?.etag;
      } catch (error) {
        if (index === batches.length - 1 && room > 0 && deletes.length > 0 && statusOf(error) === 404) {
          // A consumed row was already gone (deleted after an earlier checkpoint): commit without the deletes.
          const retried = await this.history
            .submitTransaction(finalBatch.filter((op) => op[0] !== 'delete'))
            .catch((retryError: unknown) => {
              throw asConcurrencyError(retryError, `the history of ${plan.instanceId}`);
            });
          etag = retried.subResponses[sentinelIndex]?.etag;
          break;
        }
        throw asConcurrencyError(error, `the history of ${plan.instanceId}`);
      }
    }
    if (!etag) etag = (await this.history.getEntity(plan.instanceId, SENTINEL_ROW)).etag;
    const overflow = deletes.slice(Math.max(room, 0));
    if (overflow.length > 0 && !plan.returnOverflowDeletes) {
      await this.deleteRows(plan.instanceId, overflow);
      return { etag, overflowDeletes: [] };
    }
    return { etag, overflowDeletes: overflow };
  }

  /** Makes messages durable; a message whose row already exists is already durable. */
  async appendInbox(instanceId: string, messages: readonly InboxMessage[]): Promise<void> {
    for (let at = 0; at < messages.length; at += MAX_BATCH) {
      const chunk = messages.slice(at, at + MAX_BATCH);
      try {
        if (chunk.length === 1) await this.history.createEntity(encodeInboxMessage(instanceId, chunk[0] as InboxMessage));
        else
          await this.history.submitTransaction(
            chunk.map((message): TransactionAction => ['create', encodeInboxMessage(instanceId, message)]),
          );
      } catch (error) {
        if (statusOf(error) !== 409) throw error;
        // One of them existed: the whole transaction was refused. Write them one by one.
        for (const message of chunk) {
          await this.history.createEntity(encodeInboxMessage(instanceId, message)).catch((inner: unknown) => {
            if (statusOf(inner) !== 409) throw inner;
          });
        }
      }
    }
  }

  /** Deletes rows of a partition (missing rows are fine). */
  async deleteRows(instanceId: string, rowKeys: readonly string[]): Promise<void> {
    for (let at = 0; at < rowKeys.length; at += MAX_BATCH) {
      const chunk = rowKeys.slice(at, at + MAX_BATCH);
      try {
        await this.history.submitTransaction(chunk.map((rowKey): TransactionAction => ['delete', { partitionKey: instanceId, rowKey }]));
      } catch {
        for (const rowKey of chunk) {
          await this.history.deleteEntity(instanceId, rowKey).catch((error: unknown) => {
            if (statusOf(error) !== 404) throw error;
          });
        }
      }
    }
  }

  /** Writes the sentinel of a new execution with its start message, replacing whatever execution was there. */
  async startExecution(instanceId: string, executionId: string, start: InboxMessage, sentinelEtag: string | undefined): Promise<string> {
    const sentinel: TableEntity = { partitionKey: instanceId, rowKey: SENTINEL_ROW, ExecutionId: executionId, HistoryLength: 0 };
    try {
      const response = await this.history.submitTransaction([
        sentinelEtag === undefined ? ['upsert', sentinel, 'Replace'] : ['update', sentinel, 'Replace', { etag: sentinelEtag }],
        ['upsert', encodeInboxMessage(instanceId, start), 'Replace'],
      ]);
      return response.subResponses[0]?.etag ?? (await this.history.getEntity(instanceId, SENTINEL_ROW)).etag;
    } catch (error) {
      throw asConcurrencyError(error, `the history of ${instanceId}`);
    }
  }

  /** Every row of an instance's history partition, sentinel included. Returns how many were deleted. */
  async deletePartition(instanceId: string): Promise<number> {
    const keys: string[] = [];
    for await (const entity of this.history.listEntities({
      queryOptions: { filter: odata`PartitionKey eq ${instanceId}`, select: ['RowKey'] },
    }))
      keys.push(entity.rowKey ?? '');
    await this.deleteRows(instanceId, keys);
    return keys.length;
  }

  /** Rows in an instance's history partition (for tests and diagnostics). */
  async countRows(instanceId: string): Promise<{ history: number; inbox: number; other: number }> {
    const counts = { history: 0, inbox: 0, other: 0 };
    for await (const entity of this.history.listEntities({
      queryOptions: { filter: odata`PartitionKey eq ${instanceId}`, select: ['RowKey'] },
    })) {
      const key = entity.rowKey ?? '';
      if (isInboxRow(key)) counts.inbox++;
      else if (/^[0-9A-F]{16}$/.test(key)) counts.history++;
      else counts.other++;
    }
    return counts;
  }
}

// ---- entity encoding ----

const OBJECT_FIELDS = new Set(['ParentInstance', 'FailureDetails', 'OrchestrationInstance']);

function encodeEvent(event: HistoryEvent): Record<string, unknown> {
  const properties: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(event)) {
    if (value === undefined) continue;
    if (key === 'Timestamp') properties._Timestamp = value;
    else if (OBJECT_FIELDS.has(key)) putString(properties, key, JSON.stringify(value));
    else if (typeof value === 'string') putString(properties, key, value);
    else properties[key] = value;
  }
  return properties;
}

function decodeEvent(entity: Record<string, unknown>): HistoryEvent {
  const type = entity.EventType;
  if (!isHistoryEventType(type)) throw new Error(`Unknown history event type ${String(type)} in row ${String(entity.rowKey)}.`);
  const event: Record<string, unknown> = {
    EventType: type,
    EventId: typeof entity.EventId === 'number' ? entity.EventId : -1,
    Timestamp: dateText(entity._Timestamp),
  };
  for (const key of [
    'Name',
    'Version',
    'Input',
    'Result',
    'FireAt',
    'InstanceId',
    'Reason',
    'Details',
    'OrchestrationStatus',
    'SourceMessage',
  ]) {
    const value = getString(entity, key);
    if (value !== undefined) event[key] = value;
  }
  for (const key of ['TaskScheduledId', 'TimerId']) if (typeof entity[key] === 'number') event[key] = entity[key];
  for (const key of OBJECT_FIELDS) {
    const text = getString(entity, key);
    if (text === undefined) continue;
    const value = JSON.parse(text) as unknown;
    event[key] = key === 'FailureDetails' ? parseFailureDetails(value) : value;
  }
  // The row was written from a HistoryEvent by encodeEvent; the type tag was checked above.
  return event as unknown as HistoryEvent;
}

function encodeInboxMessage(instanceId: string, message: InboxMessage): TableEntity {
  return {
    partitionKey: instanceId,
    rowKey: message.rowKey,
    Arrival: message.arrival,
    ...(message.executionId !== undefined ? { ExecutionId: message.executionId } : {}),
    ...encodeEvent(message.event),
  };
}

function encodeInstance(row: InstanceRow): TableEntity {
  const properties: Record<string, unknown> = {
    Name: row.name,
    ExecutionId: row.executionId,
    RuntimeStatus: row.runtimeStatus,
    CreatedTime: new Date(row.createdTime),
    LastUpdatedTime: new Date(row.lastUpdatedTime),
  };
  if (row.version !== undefined) properties.Version = row.version;
  if (row.completedTime !== undefined) properties.CompletedTime = new Date(row.completedTime);
  if (row.input !== undefined) putString(properties, 'Input', row.input);
  if (row.output !== undefined) putString(properties, 'Output', row.output);
  if (row.customStatus !== undefined) putString(properties, 'CustomStatus', row.customStatus);
  if (row.parent) {
    properties.ParentInstanceId = row.parent.OrchestrationInstance.InstanceId;
    putString(properties, 'ParentInstance', JSON.stringify(row.parent));
  }
  return { partitionKey: row.instanceId, rowKey: '', ...properties };
}

function decodeInstance(entity: Record<string, unknown>): InstanceRow {
  const status = entity.RuntimeStatus;
  const parentText = getString(entity, 'ParentInstance');
  const parent = parentText === undefined ? undefined : (JSON.parse(parentText) as unknown);
  const optional = (key: string) => {
    const value = getString(entity, key);
    return value === undefined ? {} : { [key.charAt(0).toLowerCase() + key.slice(1)]: value };
  };
  return {
    instanceId: typeof entity.partitionKey === 'string' ? entity.partitionKey : '',
    name: getString(entity, 'Name') ?? '',
    executionId: getString(entity, 'ExecutionId') ?? '',
    runtimeStatus:
      typeof status === 'string' && (RUNTIME_STATUSES as readonly string[]).includes(status) ? (status as RuntimeStatus) : 'Pending',
    createdTime: dateMs(entity.CreatedTime),
    lastUpdatedTime: dateMs(entity.LastUpdatedTime),
    ...(entity.CompletedTime !== undefined ? { completedTime: dateMs(entity.CompletedTime) } : {}),
    ...optional('Version'),
    ...optional('Input'),
    ...optional('Output'),
    ...optional('CustomStatus'),
    ...(isParentInstance(parent) ? { parent } : {}),
  };
}

function isParentInstance(value: unknown): value is ParentInstance {
  return (
    isRecord(value) && typeof value.Name === 'string' && typeof value.TaskScheduleId === 'number' && isRecord(value.OrchestrationInstance)
  );
}

function putString(properties: Record<string, unknown>, key: string, value: string): void {
  if (value.length > MAX_VALUE_CHARS)
    throw new Error(
      `${key} is ${value.length} characters: the devhost keeps values up to ${MAX_VALUE_CHARS} (the Azure Storage provider would move it to a blob).`,
    );
  if (value.length <= CHUNK_CHARS) {
    properties[key] = value;
    return;
  }
  const parts = Math.ceil(value.length / CHUNK_CHARS);
  properties[key] = value.slice(0, CHUNK_CHARS);
  for (let part = 1; part < parts; part++) properties[`${key}__${part}`] = value.slice(part * CHUNK_CHARS, (part + 1) * CHUNK_CHARS);
  properties[`${key}__parts`] = parts;
}

function getString(entity: Record<string, unknown>, key: string): string | undefined {
  const first = entity[key];
  if (typeof first !== 'string') return undefined;
  const parts = entity[`${key}__parts`];
  if (typeof parts !== 'number') return first;
  let value = first;
  for (let part = 1; part < parts; part++) {
    const piece = entity[`${key}__${part}`];
    if (typeof piece === 'string') value += piece;
  }
  return value;
}

function dateText(value: unknown): string {
  if (value instanceof Date) return value.toISOString();
  return typeof value === 'string' ? value : new Date(0).toISOString();
}

function dateMs(value: unknown): number {
  if (value instanceof Date) return value.getTime();
  if (typeof value === 'string') return Date.parse(value);
  return 0;
}

function asConcurrencyError(error: unknown, what: string): unknown {
  const status = statusOf(error);
  if (status === 409 || status === 412) return new ConcurrencyError(`Another writer changed ${what} (HTTP ${status}).`);
  return error;
}
