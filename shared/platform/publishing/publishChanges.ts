import type { RecordedEvent } from '../../kernel/event';
import { DEFAULT_INLINE_LIMIT_BYTES, toCloudEvent } from './cloudEvents';
import type { EventPublisher } from './eventPublisher';

export interface PublishChangesOptions {
  /** CloudEvents larger than this are published as references (default 64 KB). */
  readonly inlineLimitBytes?: number;
}

/**
 * Publishes one change-feed batch of events: the outbox relay. Each stream's events go in version
 * order (the change feed already gives them so within a partition; a repeated one goes once). The
 * promise rejects when the topic did not take them all; the change feed then retries the whole batch
 * without moving its checkpoint, so no event is ever checkpointed past unpublished (earlier ones are
 * published again, with the same ids).
 */
export async function publishChanges(
  publisher: EventPublisher,
  events: readonly RecordedEvent[],
  options: PublishChangesOptions = {},
): Promise<{ readonly published: number }> {
  const byStream = new Map<string, Map<number, RecordedEvent>>();
  for (const event of events) {
    const stream = byStream.get(event.streamId) ?? new Map<number, RecordedEvent>();
    stream.set(event.version, event);
    byStream.set(event.streamId, stream);
  }
  const ordered = [...byStream.values()].flatMap((stream) => [...stream.values()].sort((a, b) => a.version - b.version));
  if (ordered.length > 0) {
    await publisher.publish(ordered.map((event) => toCloudEvent(event, options.inlineLimitBytes ?? DEFAULT_INLINE_LIMIT_BYTES)));
  }
  return { published: ordered.length };
}
