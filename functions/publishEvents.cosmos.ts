import { app, type InvocationContext } from '@azure/functions';
import { appServices } from '../shared/appServices';
import type { EventPublisher } from '../shared/publishing/eventPublisher';
import { publishChanges } from '../shared/publishing/publishChanges';

/**
 * Change feed of `events` → the Event Grid topic (the outbox relay). A failure to publish throws, so
 * the batch is retried and the lease does not move past an unpublished event.
 */
export function publishEventsHandler(deps: { readonly eventPublisher: EventPublisher }) {
  return async (documents: unknown[], context: InvocationContext): Promise<void> => {
    const { published, skipped } = await publishChanges(deps.eventPublisher, documents, {
      onSkipped: (id, reason) => context.warn(`Not published: document ${id} is not an event (${reason}).`),
    });
    context.log(`Published ${published} event(s)${skipped > 0 ? `; skipped ${skipped} document(s) that are not events` : ''}.`);
  };
}

app.cosmosDB('publishEvents', {
  connection: 'COSMOS_CONNECTION',
  databaseName: '%COSMOS_DATABASE%',
  containerName: 'events',
  leaseContainerName: 'leases',
  leaseContainerPrefix: 'publish-',
  createLeaseContainerIfNotExists: false,
  startFromBeginning: true,
  feedPollDelay: 1000,
  maxItemsPerInvocation: 100,
  // Without a retry policy Azure checkpoints past a failed batch: retry it until the topic takes it.
  retry: { strategy: 'exponentialBackoff', maxRetryCount: -1, minimumInterval: { seconds: 1 }, maximumInterval: { minutes: 1 } },
  handler: (documents: unknown[], context: InvocationContext) => publishEventsHandler(appServices())(documents, context),
});
