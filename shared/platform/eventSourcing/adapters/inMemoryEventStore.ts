import type { NewEvent, RecordedEvent } from '../../../kernel/event';
import { isSameAppend, StreamVersionConflictError, type AppendResult, type EventStore } from '../eventStore';

/**
 * An event store in process memory: for tests, benchmarks and the pure in-process runs. Each append
 * runs without an await between its check and its write, which makes it atomic in one process.
 */
export class InMemoryEventStore implements EventStore {
  private readonly streams = new Map<string, RecordedEvent[]>();
  /** Every event in append order across streams, as a change feed would see them. */
  private readonly log: RecordedEvent[] = [];

  append(streamId: string, events: readonly NewEvent[], expectedVersion: number): Promise<AppendResult> {
    try {
      return Promise.resolve(this.appendNow(streamId, events, expectedVersion));
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  read(streamId: string, fromVersion = 1, maxCount = Number.POSITIVE_INFINITY): Promise<RecordedEvent[]> {
    const stream = this.streams.get(streamId) ?? [];
    const from = Math.max(0, fromVersion - 1);
    return Promise.resolve(stream.slice(from, from + maxCount).map((event) => structuredClone(event)));
  }

  probe(streamId: string, eventId: string): Promise<{ version: number; hasEvent: boolean }> {
    const stream = this.streams.get(streamId) ?? [];
    return Promise.resolve({ version: stream.length, hasEvent: stream.some((event) => event.metadata.eventId === eventId) });
  }

  private appendNow(streamId: string, events: readonly NewEvent[], expectedVersion: number): AppendResult {
    const stream = this.streams.get(streamId) ?? [];
    if (stream.length !== expectedVersion) {
      const atThosePositions = stream.slice(expectedVersion, expectedVersion + events.length);
      if (expectedVersion < stream.length && isSameAppend(atThosePositions, events)) {
        return { nextExpectedVersion: expectedVersion + events.length, alreadyStored: true };
      }
      throw new StreamVersionConflictError(streamId, expectedVersion, stream.length);
    }
    // Copy every event before storing any, so an event that cannot be stored stores none.
    const recorded = events.map((event, i) => structuredClone({ ...event, streamId, version: expectedVersion + i + 1 }));
    stream.push(...recorded);
    this.streams.set(streamId, stream);
    this.log.push(...recorded);
    return { nextExpectedVersion: stream.length, alreadyStored: false };
  }

  async *readAll(pageSize = 1000): AsyncIterable<RecordedEvent[]> {
    for (let i = 0; i < this.log.length; i += pageSize)
      yield await Promise.resolve(this.log.slice(i, i + pageSize).map((event) => structuredClone(event)));
  }

  /** All events across streams in append order. */
  allEvents(): readonly RecordedEvent[] {
    return this.log;
  }
}
