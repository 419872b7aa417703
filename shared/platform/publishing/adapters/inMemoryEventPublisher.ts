import type { OutgoingCloudEvent } from '../cloudEvents';
import type { EventPublisher } from '../eventPublisher';

/** An {@link EventPublisher} that keeps what it is given, for tests; `failing` makes it reject like a topic that is down. */
export class InMemoryEventPublisher implements EventPublisher {
  readonly published: OutgoingCloudEvent[] = [];
  /** While set, publish rejects with this error and keeps nothing. */
  failing: Error | undefined;

  publish(events: readonly OutgoingCloudEvent[]): Promise<void> {
    if (this.failing) return Promise.reject(this.failing);
    this.published.push(...structuredClone(events));
    return Promise.resolve();
  }
}
