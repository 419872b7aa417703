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
import type { HistoryEvent } from './protocol';
import {
  decodeEvent,
  decodeInstance,
  encodeEvent,
  encodeInboxMessage,
  encodeInstance,
  historyRowKey,
  isInboxRow,
  SENTINEL_ROW,
  type InboxMessage,
  type InstanceRow,
} from './tableRows';

export {
  getString,
  historyRowKey,
  inboxRowKey,
  isInboxRow,
  MAX_VALUE_CHARS,
  putString,
  SENTINEL_ROW,
  type InboxMessage,
  type InstanceRow,
} from './tableRows';

/** Azure Table entity-group transactions hold at most 100 operations. */
const MAX_BATCH = 100;

/** The write lost a race: another writer created the row or changed it (409 / 412). */
export class ConcurrencyError extends Error {}

export interface Sentinel {
  readonly executionId: string;
  readonly historyLength: number;
  readonly etag: string;
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

export function asConcurrencyError(error: unknown, what: string): unknown {
  const status = statusOf(error);
  if (status === 409 || status === 412) return new ConcurrencyError(`Another writer changed ${what} (HTTP ${status}).`);
  return error;
}
