import type { InvocationContext } from '@azure/functions';
import { appServices } from '../shared/platform/composition/appServices';
import { changeFeedLagMs, correlationIdsOf, errorSummary, withCorrelation } from '../shared/platform/logging';
import type { EventPublisher } from '../shared/platform/publishing/eventPublisher';
import { publishChanges } from '../shared/platform/publishing/publishChanges';
import { readChangeFeedBatch } from '../shared/platform/eventSourcing/adapters/cosmosEventStore';

/**
 * Change feed of `events` → the Event Grid topic (the outbox relay). A failure to publish throws, so
 * the batch is retried and the lease does not move past an unpublished event. A batch carries many
 * correlation ids: its lines list them all (`correlationIds=a,b,…`).
 */
export function publishEventsHandler(deps: { readonly eventPublisher: EventPublisher }) {
  return async (documents: unknown[], context: InvocationContext): Promise<void> => {
    const log = withCorrelation(context, correlationIdsOf(documents));
    const started = Date.now();
    try {
      // A document that is not an event can never be published: it is reported, not left to block the feed for ever.
      const { events, notEvents } = readChangeFeedBatch(documents);
      for (const { id, reason } of notEvents) log.warn('EventNotPublished', { document: id, reason: `not an event: ${reason}` });
      const { published } = await publishChanges(deps.eventPublisher, events);
      log.info('EventsPublished', {
        published,
        skipped: notEvents.length,
        durationMs: Date.now() - started,
        lagMs: changeFeedLagMs(documents, new Date()),
      });
    } catch (error) {
      // Thrown on: the change feed retries the batch (events already accepted go again, same ids).
      log.warn('PublishFailed', { documents: documents.length, durationMs: Date.now() - started, error: errorSummary(error) });
      throw error;
    }
  };
}

export const publishEventsFunction = (documents: unknown[], context: InvocationContext) =>
  publishEventsHandler(appServices())(documents, context);
