import type { OutgoingCloudEvent } from './cloudEvents';

/**
 * Publishes domain events to subscribers (in Azure, an Event Grid topic).
 *
 * `publish` resolves only when every event was accepted, and sends them in the order given (so a
 * stream's events leave in stream order). When it rejects, any prefix of the events may have been
 * accepted already: the caller publishes the same events again, with the same ids, and subscribers
 * recognise the duplicates by id. Delivery to subscribers is at least once and unordered.
 */
export interface EventPublisher {
  publish(events: readonly OutgoingCloudEvent[]): Promise<void>;
}
