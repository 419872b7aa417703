import type { Event, NewEvent, RecordedEvent } from '../../kernel/event';

/** The stream's version before its first event. */
export const NO_STREAM = 0;

export interface AppendResult {
  /** The stream's version after the append: pass it as the next expected version. */
  readonly nextExpectedVersion: number;
  /** The events were already stored at those positions (a retried append), so nothing was written. */
  readonly alreadyStored: boolean;
}

/**
 * An append-only store of event streams with optimistic concurrency.
 *
 * Every adapter honours the same contract (test/support/eventStoreConformance.ts):
 * - `append` writes all events or none, at versions `expectedVersion + 1 …`, and fails with
 *   {@link StreamVersionConflictError} when the stream is not at `expectedVersion`;
 * - re-appending events whose `metadata.eventId`s are already stored at exactly those positions
 *   succeeds without writing, and says so (`alreadyStored`): a retried request is not a conflict;
 * - versions are gapless and start at 1.
 */
export interface EventStore {
  /** Appends events to a stream that must currently be at `expectedVersion` ({@link NO_STREAM} for a new one). */
  append(streamId: string, events: readonly NewEvent[], expectedVersion: number): Promise<AppendResult>;
  /**
   * Reads a stream in order from `fromVersion` (default 1), at most `maxCount` events (default all);
   * an unknown stream reads as empty.
   */
  read(streamId: string, fromVersion?: number, maxCount?: number): Promise<RecordedEvent[]>;
  /** Every stored event, in pages; each stream's events in version order (for rebuilding read models). */
  readAll(pageSize?: number): AsyncIterable<RecordedEvent[]>;
  /**
   * The stream's current version and whether it holds an event with this id, without reading the
   * events: for deciders whose state is that small (recording a forecast, whose stream holds large
   * forecasts it need not read).
   */
  probe(streamId: string, eventId: string): Promise<{ readonly version: number; readonly hasEvent: boolean }>;
}

/** The stream moved on since the caller read it. */
export class StreamVersionConflictError extends Error {
  constructor(
    readonly streamId: string,
    readonly expectedVersion: number,
    readonly actualVersion: number | undefined,
  ) {
    super(`Stream ${streamId} is not at version ${expectedVersion}${actualVersion === undefined ? '' : ` (it is at ${actualVersion})`}.`);
    this.name = 'StreamVersionConflictError';
  }
}

/** Reads a stream's events narrowed to one event union; events of other types are skipped. */
export async function readTyped<E extends Event>(
  store: EventStore,
  streamId: string,
  isEvent: (event: Event) => event is E,
): Promise<{ events: RecordedEvent<E>[]; version: number }> {
  const recorded = await store.read(streamId);
  const version = recorded.at(-1)?.version ?? NO_STREAM;
  return { events: recorded.filter((event): event is RecordedEvent<E> => isEvent(event)), version };
}

/** True when `stored` holds, in order, exactly the events being appended (matched by event id). */
export function isSameAppend(stored: readonly RecordedEvent[], appending: readonly NewEvent[]): boolean {
  return stored.length === appending.length && stored.every((event, i) => event.metadata.eventId === appending[i]?.metadata.eventId);
}
