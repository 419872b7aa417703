/**
 * Where entities keep their state, in the task hub's tables beside the orchestrations (store.ts):
 *
 * - `<Hub>History`, partition `@name@key`: the `entity-state` row (the scheduler state — whether the
 *   entity exists, its state, who holds its lock, the messages waiting for that lock — and the outbox of
 *   its last batch), ETag-checked on every checkpoint; and one inbox row per message not yet taken.
 * - `<Hub>Instances`, row `@name@key`: as the Azure Storage provider keeps an entity — Name `@name`,
 *   RuntimeStatus Running, Input the serialised scheduler state — written after each checkpoint. It is
 *   what the entity list reads; the state row is the truth.
 */
import { odata, type TableEntity, type TransactionAction } from '@azure/data-tables';
import { statusOf } from '../azureErrors';
import type { EntityMessage, Outgoing, SchedulerState } from './entityScheduler';
import { EMPTY_SCHEDULER_STATE, parseSchedulerId } from './entityScheduler';
import { byArrival } from './history';
import { asConcurrencyError, getString, putString, type DurableStore } from './store';
import { dateMs, encodeInstance, isInboxRow, prefixEnd } from './tableRows';

const STATE_ROW = 'entity-state';

export interface EntityRecord {
  readonly scheduler: SchedulerState;
  readonly outbox: readonly Outgoing[];
  readonly lastOperationTime: number;
  readonly etag: string | undefined;
}

export interface StoredEntityMessage {
  readonly rowKey: string;
  /** Orders messages by arrival (zero-padded, so it sorts as text). */
  readonly arrival: string;
  readonly message: EntityMessage;
}

export interface EntityProjection {
  readonly instanceId: string;
  readonly scheduler: SchedulerState;
  readonly lastOperationTime: number;
}

export class EntityStore {
  constructor(private readonly store: DurableStore) {}

  async readPartition(id: string): Promise<{ record?: EntityRecord; inbox: StoredEntityMessage[] }> {
    let record: EntityRecord | undefined;
    const inbox: StoredEntityMessage[] = [];
    for await (const row of this.store.history.listEntities({
      queryOptions: { filter: odata`PartitionKey eq ${id}` },
    })) {
      if (row.rowKey === STATE_ROW) record = decodeRecord(row, row.etag);
      else if (isInboxRow(row.rowKey ?? '')) {
        const text = getString(row, 'Message');
        if (text !== undefined)
          inbox.push({
            rowKey: row.rowKey ?? '',
            arrival: typeof row.Arrival === 'string' ? row.Arrival : '',
            message: JSON.parse(text) as EntityMessage,
          });
      }
    }
    inbox.sort(byArrival);
    return { ...(record ? { record } : {}), inbox };
  }

  async read(id: string): Promise<EntityRecord | undefined> {
    try {
      const row = await this.store.history.getEntity(id, STATE_ROW);
      return decodeRecord(row, row.etag);
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw error;
    }
  }

  /** Makes messages durable; a message whose row already exists is already durable. */
  async append(id: string, messages: readonly StoredEntityMessage[]): Promise<void> {
    for (const stored of messages) {
      const entity: TableEntity = { partitionKey: id, rowKey: stored.rowKey, Arrival: stored.arrival };
      putString(entity, 'Message', JSON.stringify(stored.message));
      await this.store.history.createEntity(entity).catch((error: unknown) => {
        if (statusOf(error) !== 409) throw error;
      });
    }
  }

  /** The checkpoint of a batch: the new state row (ETag-checked) and the deletion of the inbox rows it took, in one transaction. */
  async commit(id: string, record: EntityRecord, consumed: readonly string[]): Promise<string> {
    const row: TableEntity = { partitionKey: id, rowKey: STATE_ROW, LastOperationTime: new Date(record.lastOperationTime) };
    putString(row, 'Scheduler', JSON.stringify(record.scheduler));
    putString(row, 'Outbox', JSON.stringify(record.outbox));
    const write: TransactionAction = record.etag === undefined ? ['create', row] : ['update', row, 'Replace', { etag: record.etag }];
    const deletes = consumed.map((rowKey): TransactionAction => ['delete', { partitionKey: id, rowKey }]);
    try {
      const response = await this.store.history.submitTransaction([write, ...deletes]);
      return response.subResponses[0]?.etag ?? (await this.store.history.getEntity(id, STATE_ROW)).etag;
    } catch (error) {
      const status = statusOf(error);
      if (status === 404 && deletes.length > 0) {
        // A taken row was already gone: commit without the deletes.
        return this.commit(id, record, []);
      }
      throw asConcurrencyError(error, `entity ${id}`);
    }
  }

  async project(id: string, scheduler: SchedulerState, lastOperationTime: number): Promise<void> {
    const ref = parseSchedulerId(id);
    await this.store.instances.upsertEntity(
      encodeInstance({
        instanceId: id,
        name: `@${ref?.name ?? ''}`,
        executionId: '',
        input: JSON.stringify({
          exists: scheduler.exists,
          ...(scheduler.state !== undefined ? { state: scheduler.state } : {}),
          ...(scheduler.lockedBy !== undefined ? { lockedBy: scheduler.lockedBy } : {}),
          queue: scheduler.queue,
        }),
        runtimeStatus: 'Running',
        createdTime: lastOperationTime,
        lastUpdatedTime: lastOperationTime,
      }),
      'Replace',
    );
  }

  /** A page of the Instances rows of entities (of one name, if given), in id order. */
  async listProjections(
    name: string | undefined,
    top: number,
    continuationToken: string | undefined,
  ): Promise<{ rows: EntityProjection[]; continuationToken?: string }> {
    const prefix = name === undefined ? '@' : `@${name}@`;
    const page = await this.store.queryInstances(
      odata`PartitionKey ge ${prefix} and PartitionKey lt ${prefixEnd(prefix)}`,
      Math.min(Math.max(top, 1), 1000),
      continuationToken,
    );
    return {
      rows: page.rows.map((row) => {
        const input = row.input === undefined ? undefined : (JSON.parse(row.input) as Partial<SchedulerState>);
        return {
          instanceId: row.instanceId,
          scheduler: {
            ...EMPTY_SCHEDULER_STATE,
            exists: input?.exists === true,
            ...(typeof input?.state === 'string' ? { state: input.state } : {}),
          },
          lastOperationTime: row.lastUpdatedTime,
        };
      }),
      ...(page.continuationToken ? { continuationToken: page.continuationToken } : {}),
    };
  }

  /**
   * The entities with work left: messages in their inbox, or an outbox a crash may have kept from being
   * sent (read from the History table: an entity may have messages and no Instances row yet).
   */
  async listEntitiesWithWork(): Promise<string[]> {
    const ids = new Set<string>();
    for await (const row of this.store.history.listEntities({
      queryOptions: { filter: odata`PartitionKey ge ${'@'} and PartitionKey lt ${'A'}`, select: ['PartitionKey', 'RowKey', 'Outbox'] },
    })) {
      const id = row.partitionKey;
      if (typeof id !== 'string' || !parseSchedulerId(id)) continue;
      const outbox = row.Outbox;
      if (isInboxRow(row.rowKey ?? '') || (row.rowKey === STATE_ROW && typeof outbox === 'string' && outbox !== '[]')) ids.add(id);
    }
    return [...ids];
  }
}

function decodeRecord(row: Record<string, unknown>, etag: string): EntityRecord {
  const scheduler = getString(row, 'Scheduler');
  const outbox = getString(row, 'Outbox');
  const at = row.LastOperationTime;
  return {
    // Over the defaults: a state written before a field existed still reads whole.
    scheduler: { ...EMPTY_SCHEDULER_STATE, ...(scheduler === undefined ? {} : (JSON.parse(scheduler) as Partial<SchedulerState>)) },
    outbox: outbox === undefined ? [] : (JSON.parse(outbox) as Outgoing[]),
    lastOperationTime: dateMs(at),
    etag,
  };
}
