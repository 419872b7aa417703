/** An entity as the entity host keeps it in memory while it has work (entityHost.ts). */
import type { EntityRef, Outgoing, SchedulerState } from './entityScheduler';
import { EMPTY_SCHEDULER_STATE } from './entityScheduler';
import type { EntityRecord, StoredEntityMessage } from './entityStore';

export class LiveEntity {
  scheduler: SchedulerState;
  outbox: readonly Outgoing[];
  etag: string | undefined;
  lastOperationTime: number;
  /** Durable messages not yet taken, by row key. */
  readonly pending = new Map<string, StoredEntityMessage>();
  running = false;
  /** The Instances row lags the last checkpoint. */
  projectionDirty = false;
  /** The stored outbox is not empty (it is cleared once the entity goes idle, so a restart does not load it for nothing). */
  storedOutbox: boolean;

  constructor(
    readonly id: string,
    readonly ref: EntityRef,
    record: EntityRecord | undefined,
  ) {
    this.scheduler = record?.scheduler ?? EMPTY_SCHEDULER_STATE;
    this.outbox = record?.outbox ?? [];
    this.storedOutbox = this.outbox.length > 0;
    this.etag = record?.etag;
    this.lastOperationTime = record?.lastOperationTime ?? 0;
  }
}
