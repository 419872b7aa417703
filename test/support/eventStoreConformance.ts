import { randomUUID } from 'node:crypto';
import type { NewEvent } from '../../shared/kernel/event';
import { NO_STREAM, StreamVersionConflictError, type EventStore } from '../../shared/platform/eventSourcing/eventStore';

/** Builds an event to append; ids are fresh unless given. */
export function newEvent(type: string, data: unknown = {}, eventId: string = randomUUID()): NewEvent {
  return {
    type,
    data,
    metadata: { eventId, correlationId: 'corr-1', causationId: 'cause-1', occurredAt: '2026-11-27T09:00:00.000Z' },
  };
}

/**
 * The contract every EventStore adapter must honour. Run it against each adapter with a factory that
 * gives a store (fresh streams per test come from unique stream ids).
 */
export interface ConformanceSubject {
  readonly store: () => EventStore;
  /**
   * Writes one raw event at a position behind the store's back, as a writer that got there first
   * would. Only an adapter whose storage can hold such a document offers it.
   */
  readonly plantEventAt?: (streamId: string, version: number) => Promise<void>;
}

export function describeEventStoreConformance(adapterName: string, subject: ConformanceSubject): void {
  describe(`EventStore conformance: ${adapterName}`, () => {
    let store: EventStore;
    let streamId: string;
    beforeEach(() => {
      store = subject.store();
      streamId = `test-${randomUUID()}`;
    });

    it('reads an unknown stream as empty', async () => {
      await expect(store.read(streamId)).resolves.toEqual([]);
    });

    it('appends to a new stream and reads the events back in order with versions and metadata', async () => {
      const events = [newEvent('A', { n: 1 }), newEvent('B', { n: 2, nested: { list: [1, 'two', null] } })];
      await expect(store.append(streamId, events, NO_STREAM)).resolves.toEqual({ nextExpectedVersion: 2, alreadyStored: false });
      const read = await store.read(streamId);
      expect(read).toEqual(events.map((event, i) => ({ ...event, streamId, version: i + 1 })));
    });

    it('reads from a given version', async () => {
      await store.append(streamId, [newEvent('A'), newEvent('B'), newEvent('C')], NO_STREAM);
      expect((await store.read(streamId, 2)).map((event) => event.type)).toEqual(['B', 'C']);
      expect((await store.read(streamId, 1, 1)).map((event) => event.type)).toEqual(['A']);
      expect((await store.read(streamId, 2, 5)).map((event) => event.type)).toEqual(['B', 'C']);
    });

    it('keeps streams apart', async () => {
      const other = `${streamId}-other`;
      await store.append(streamId, [newEvent('A')], NO_STREAM);
      await store.append(other, [newEvent('X'), newEvent('Y')], NO_STREAM);
      expect((await store.read(streamId)).map((event) => event.type)).toEqual(['A']);
      expect((await store.read(other)).map((event) => event.version)).toEqual([1, 2]);
    });

    it('appends at the current version and continues the numbering', async () => {
      await store.append(streamId, [newEvent('A')], NO_STREAM);
      await expect(store.append(streamId, [newEvent('B'), newEvent('C')], 1)).resolves.toEqual({
        nextExpectedVersion: 3,
        alreadyStored: false,
      });
      expect((await store.read(streamId)).map((event) => event.version)).toEqual([1, 2, 3]);
    });

    it('refuses a stale expected version with a typed conflict naming both versions', async () => {
      await store.append(streamId, [newEvent('A'), newEvent('B')], NO_STREAM);
      const attempt = store.append(streamId, [newEvent('C')], 1);
      await expect(attempt).rejects.toBeInstanceOf(StreamVersionConflictError);
      await expect(store.append(streamId, [newEvent('C')], 1)).rejects.toMatchObject({ streamId, expectedVersion: 1, actualVersion: 2 });
      expect(await store.read(streamId)).toHaveLength(2);
    });

    it('refuses an expected version ahead of the stream', async () => {
      await expect(store.append(streamId, [newEvent('A')], 3)).rejects.toBeInstanceOf(StreamVersionConflictError);
      await expect(store.read(streamId)).resolves.toEqual([]);
    });

    it('treats re-appending the same events at the same positions as an idempotent success', async () => {
      const events = [newEvent('A'), newEvent('B')];
      await store.append(streamId, events, NO_STREAM);
      await store.append(streamId, [newEvent('C')], 2);
      await expect(store.append(streamId, events, NO_STREAM)).resolves.toEqual({ nextExpectedVersion: 2, alreadyStored: true });
      expect((await store.read(streamId)).map((event) => event.type)).toEqual(['A', 'B', 'C']);
    });

    it('does not mistake different events at those positions for a re-append', async () => {
      const events = [newEvent('A'), newEvent('B')];
      await store.append(streamId, events, NO_STREAM);
      const sameFirstOnly = [events[0]!, newEvent('B')];
      await expect(store.append(streamId, sameFirstOnly, NO_STREAM)).rejects.toBeInstanceOf(StreamVersionConflictError);
    });

    const withPlanting = subject.plantEventAt ? it : it.skip;
    withPlanting('applies a multi-event append whose second event conflicts not at all', async () => {
      await store.append(streamId, [newEvent('A')], NO_STREAM);
      await subject.plantEventAt!(streamId, 3);
      await expect(store.append(streamId, [newEvent('B'), newEvent('C')], 1)).rejects.toBeInstanceOf(StreamVersionConflictError);
      expect((await store.read(streamId)).map((event) => event.version)).toEqual([1, 3]);
    });

    it('lets exactly one of 50 concurrent appends at the same version win; versions stay gapless', async () => {
      await store.append(streamId, [newEvent('Start')], NO_STREAM);
      const attempts = Array.from({ length: 50 }, (_, i) =>
        store.append(streamId, [newEvent('Attempt', { i }), newEvent('Follow', { i })], 1),
      );
      const results = await Promise.allSettled(attempts);
      const won = results.filter((result) => result.status === 'fulfilled');
      const lost = results.filter((result): result is PromiseRejectedResult => result.status === 'rejected');
      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(49);
      for (const failure of lost) expect(failure.reason).toBeInstanceOf(StreamVersionConflictError);
      const read = await store.read(streamId);
      expect(read.map((event) => event.version)).toEqual([1, 2, 3]);
      const winner = (read[1]!.data as { i: number }).i;
      expect(read[2]!.data).toEqual({ i: winner });
      expect(new Set(read.map((event) => event.metadata.eventId)).size).toBe(3);
    });

    it('appending nothing writes nothing', async () => {
      await expect(store.append(streamId, [], NO_STREAM)).resolves.toEqual({ nextExpectedVersion: 0, alreadyStored: false });
      await expect(store.read(streamId)).resolves.toEqual([]);
    });

    it('reads every stored event in pages, each stream in version order', async () => {
      const other = `${streamId}-other`;
      await store.append(streamId, [newEvent('A'), newEvent('B')], NO_STREAM);
      await store.append(other, [newEvent('X')], NO_STREAM);
      await store.append(streamId, [newEvent('C')], 2);
      const seen: { streamId: string; version: number }[] = [];
      for await (const page of store.readAll(2)) {
        expect(page.length).toBeLessThanOrEqual(2);
        seen.push(
          ...page
            .filter((event) => event.streamId === streamId || event.streamId === other)
            .map(({ streamId: s, version }) => ({ streamId: s, version })),
        );
      }
      expect(seen.filter((event) => event.streamId === streamId).map((event) => event.version)).toEqual([1, 2, 3]);
      expect(seen.filter((event) => event.streamId === other).map((event) => event.version)).toEqual([1]);
    });

    it('probes a stream for its version and an event id without reading it', async () => {
      await expect(store.probe(streamId, 'nope')).resolves.toEqual({ version: NO_STREAM, hasEvent: false });
      const [first, second, third] = [newEvent('A'), newEvent('B'), newEvent('C')];
      await store.append(streamId, [first, second, third], NO_STREAM);
      await expect(store.probe(streamId, second.metadata.eventId)).resolves.toEqual({ version: 3, hasEvent: true });
      await expect(store.probe(streamId, randomUUID())).resolves.toEqual({ version: 3, hasEvent: false });
      await expect(store.probe(`${streamId}-other`, second.metadata.eventId)).resolves.toEqual({ version: NO_STREAM, hasEvent: false });
    });

    it('keeps an event time-to-live', async () => {
      await store.append(streamId, [{ ...newEvent('Forecast'), ttlSeconds: 3600 }], NO_STREAM);
      expect((await store.read(streamId))[0]?.ttlSeconds).toBe(3600);
    });
  });
}
