import { storedActorSchema } from '../../../kernel/caller';
import type { Container, JSONObject, OperationInput } from '@azure/cosmos';
import { z } from 'zod';
import type { NewEvent, RecordedEvent } from '../../../kernel/event';
import { isSameAppend, StreamVersionConflictError, type AppendResult, type EventStore } from '../eventStore';
import { errorSummary } from '../../logging';
import { containerOf, type ContainerSource } from '../../adapters/cosmosClient';

/** Cosmos allows at most 100 operations in one transactional batch. */
const MAX_EVENTS_PER_APPEND = 100;

/**
 * The event store on Cosmos DB (NoSQL): one document per event, id `${streamId}:${version}`, partition
 * key `/streamId`. Appends are one transactional batch of creates, so a multi-event append is all or
 * nothing, and a create at an existing id (409) is how a concurrent writer is detected.
 */
export class CosmosEventStore implements EventStore {
  private readonly container: () => Promise<Container>;

  constructor(container: ContainerSource) {
    this.container = containerOf(container);
  }

  async append(streamId: string, events: readonly NewEvent[], expectedVersion: number): Promise<AppendResult> {
    if (events.length === 0) return { nextExpectedVersion: expectedVersion, alreadyStored: false };
    if (events.length > MAX_EVENTS_PER_APPEND) {
      throw new RangeError(`At most ${MAX_EVENTS_PER_APPEND} events can be appended at once (got ${events.length}).`);
    }
    const creates: OperationInput[] = events.map((event, i) => ({
      operationType: 'Create',
      // Event data is JSON by construction (it arrived as JSON or was built from it).
      resourceBody: toDocument(streamId, expectedVersion + i + 1, event) as unknown as JSONObject,
    }));
    // Reading the previous event in the same batch makes an expected version ahead of the stream
    // fail (404) instead of leaving a gap.
    const operations: OperationInput[] =
      expectedVersion > 0 ? [{ operationType: 'Read', id: toEventDocumentId(streamId, expectedVersion) }, ...creates] : creates;
    const response = await (await this.container()).items.batch(operations, streamId);
    const statuses = (response.result ?? []).map((result) => result.statusCode);
    if (statuses.length === operations.length && statuses.every((status) => status >= 200 && status < 300)) {
      return { nextExpectedVersion: expectedVersion + events.length, alreadyStored: false };
    }
    if (statuses.includes(409) || (expectedVersion > 0 && statuses[0] === 404)) {
      return this.resolveConflict(streamId, events, expectedVersion);
    }
    throw new Error(`Appending to ${streamId} failed: operation statuses ${statuses.join(', ') || `none (HTTP ${response.code ?? '?'})`}.`);
  }

  async read(streamId: string, fromVersion = 1, maxCount?: number): Promise<RecordedEvent[]> {
    // Versions are gapless, so "at most maxCount" is a version range: no OFFSET/LIMIT needed.
    const upTo = maxCount === undefined ? '' : ' AND c.version < @toVersion';
    const container = await this.container();
    const { resources } = await container.items
      .query<unknown>(
        {
          query: `SELECT * FROM c WHERE c.streamId = @streamId AND c.version >= @fromVersion${upTo} ORDER BY c.version`,
          parameters: [
            { name: '@streamId', value: streamId },
            { name: '@fromVersion', value: fromVersion },
            ...(maxCount === undefined ? [] : [{ name: '@toVersion', value: fromVersion + maxCount }]),
          ],
        },
        { partitionKey: streamId },
      )
      .fetchAll();
    return resources.map(fromDocument);
  }

  /**
   * One partition-scoped query for each event's version and id, no documents: the streams it serves
   * (a region's forecasts, expiring after two days) hold a few dozen events. Two queries with
   * aggregates cost each a query-plan request besides, which made them the refresh cycle's main cost.
   */
  async probe(streamId: string, eventId: string): Promise<{ version: number; hasEvent: boolean }> {
    const container = await this.container();
    const { resources } = await container.items
      .query<{ version: number; eventId?: string }>(
        {
          query: 'SELECT c.version, c.metadata.eventId FROM c WHERE c.streamId = @streamId',
          parameters: [{ name: '@streamId', value: streamId }],
        },
        { partitionKey: streamId, maxItemCount: 1000 },
      )
      .fetchAll();
    return {
      version: resources.reduce((highest, event) => Math.max(highest, event.version), 0),
      hasEvent: resources.some((event) => event.eventId === eventId),
    };
  }

  /** The container's change feed from the beginning: every event, each stream (partition) in order. */
  async *readAll(pageSize = 1000): AsyncIterable<RecordedEvent[]> {
    // A value of the SDK, imported here so that loading this module (projections use its readers) loads no SDK.
    const [container, { ChangeFeedStartFrom }] = await Promise.all([this.container(), import('@azure/cosmos')]);
    // The SDK's own factory returns a sibling class of the option's declared type (a typing quirk).
    const iterator = container.items.getChangeFeedIterator<unknown>({
      // eslint-disable-next-line @typescript-eslint/no-unsafe-class-instance-assignment
      changeFeedStartFrom: ChangeFeedStartFrom.Beginning(),
      maxItemCount: pageSize,
    });
    for (;;) {
      const response = await iterator.readNext();
      // 304 Not Modified: the feed has nothing more (hasMoreResults stays true for a live feed).
      if (response.statusCode === 304 || response.result.length === 0) return;
      yield response.result.map(fromDocument);
    }
  }

  /** A create met an existing event: either this very append was already stored, or another writer won. */
  private async resolveConflict(streamId: string, events: readonly NewEvent[], expectedVersion: number): Promise<AppendResult> {
    const stored = await this.read(streamId, expectedVersion + 1);
    if (isSameAppend(stored.slice(0, events.length), events)) {
      return { nextExpectedVersion: expectedVersion + events.length, alreadyStored: true };
    }
    throw new StreamVersionConflictError(streamId, expectedVersion, stored.at(-1)?.version ?? (await this.lastVersion(streamId)));
  }

  private async lastVersion(streamId: string): Promise<number> {
    const container = await this.container();
    const { resources } = await container.items
      .query<number>(
        {
          query: 'SELECT TOP 1 VALUE c.version FROM c WHERE c.streamId = @streamId ORDER BY c.version DESC',
          parameters: [{ name: '@streamId', value: streamId }],
        },
        { partitionKey: streamId },
      )
      .fetchAll();
    return resources[0] ?? 0;
  }
}

/** The stored shape of one event. */
export const eventDocumentSchema = z.object({
  id: z.string(),
  streamId: z.string(),
  version: z.number().int().positive(),
  type: z.string(),
  data: z.unknown(),
  metadata: z.object({
    eventId: z.string(),
    correlationId: z.string(),
    causationId: z.string(),
    occurredAt: z.string(),
    actor: storedActorSchema.optional(),
  }),
  ttl: z.number().int().positive().optional(),
});
export type EventDocument = z.infer<typeof eventDocumentSchema>;

export function toEventDocumentId(streamId: string, version: number): string {
  return `${streamId}:${version}`;
}

function toDocument(streamId: string, version: number, event: NewEvent): EventDocument {
  return {
    id: toEventDocumentId(streamId, version),
    streamId,
    version,
    type: event.type,
    data: event.data,
    metadata: event.metadata,
    ...(event.ttlSeconds !== undefined && { ttl: event.ttlSeconds }),
  };
}

/** Reads an event document, as stored by this adapter, back into a recorded event. */
export function fromDocument(document: unknown): RecordedEvent {
  const { streamId, version, type, data, metadata, ttl } = eventDocumentSchema.parse(document);
  return { streamId, version, type, data, metadata, ...(ttl !== undefined && { ttlSeconds: ttl }) };
}

/** A change-feed document that is not an event this adapter stored, and why. */
export interface NotAnEvent {
  readonly document: unknown;
  /** The document's `id`, or `(no id)`. */
  readonly id: string;
  readonly reason: string;
}

/** A change-feed batch of the events container, read back into events; anything else is set apart with its reason. */
export function readChangeFeedBatch(documents: readonly unknown[]): { readonly events: RecordedEvent[]; readonly notEvents: NotAnEvent[] } {
  const events: RecordedEvent[] = [];
  const notEvents: NotAnEvent[] = [];
  for (const document of documents) {
    try {
      events.push(fromDocument(document));
    } catch (error) {
      notEvents.push({ document, id: documentId(document), reason: errorSummary(error).slice(0, 500) });
    }
  }
  return { events, notEvents };
}

function documentId(document: unknown): string {
  return typeof document === 'object' && document !== null && 'id' in document && typeof document.id === 'string' ? document.id : '(no id)';
}
