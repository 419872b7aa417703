import { fromDocument } from '../eventSourcing/cosmosEventStore';
import type { RecordedEvent } from '../../kernel/event';
import { DEFAULT_INLINE_LIMIT_BYTES, toCloudEvent } from './cloudEvents';
import type { EventPublisher } from './eventPublisher';

export interface PublishChangesOptions {
  /** CloudEvents larger than this are published as references (default 64 KB). */
  readonly inlineLimitBytes?: number;
  /** Told about a document that is not an event and is therefore not published. */
  readonly onSkipped?: (documentId: string, reason: string) => void;
}

export interface PublishChangesResult {
  readonly published: number;
  readonly skipped: number;
}

/**
 * Publishes one change-feed batch of event documents: the outbox relay. Each stream's events go in
 * version order (the change feed already gives them so within a partition). The promise rejects when
 * the topic did not take them all; the change feed then retries the whole batch without moving its
 * checkpoint, so no event is ever checkpointed past unpublished (earlier ones are published again,
 * with the same ids).
 *
 * A document that is not an event (it fails the stored event schema) can never be published, so it
 * is skipped and reported rather than blocking the feed for ever.
 */
export async function publishChanges(publisher: EventPublisher, documents: readonly unknown[], options: PublishChangesOptions = {}): Promise<PublishChangesResult> {
  const byStream = new Map<string, Map<number, RecordedEvent>>();
  let skipped = 0;
  for (const document of documents) {
    let event: RecordedEvent;
    try {
      event = fromDocument(document);
    } catch (error) {
      skipped += 1;
      options.onSkipped?.(documentId(document), error instanceof Error ? error.message.slice(0, 500) : String(error));
      continue;
    }
    const stream = byStream.get(event.streamId) ?? new Map<number, RecordedEvent>();
    stream.set(event.version, event);
    byStream.set(event.streamId, stream);
  }
  const ordered = [...byStream.values()].flatMap((stream) => [...stream.values()].sort((a, b) => a.version - b.version));
  if (ordered.length > 0) {
    await publisher.publish(ordered.map((event) => toCloudEvent(event, options.inlineLimitBytes ?? DEFAULT_INLINE_LIMIT_BYTES)));
  }
  return { published: ordered.length, skipped };
}

function documentId(document: unknown): string {
  if (typeof document === 'object' && document !== null && 'id' in document && typeof document.id === 'string') return document.id;
  return '(no id)';
}
