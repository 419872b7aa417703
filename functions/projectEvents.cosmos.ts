import { app, type InvocationContext } from '@azure/functions';
import { appServices } from '../shared/appServices';
import { projectEvents, type ProjectionDeps } from '../shared/application/projectEvents';
import { fromDocument } from '../shared/cosmos/cosmosEventStore';
import type { RecordedEvent } from '../shared/eventSourcing/event';
import { deadLetterOf } from '../shared/views/deadLetters';

/**
 * Change feed of `events` → read models in `views`. A document that is not an event at all is
 * dead-lettered; a failure of the store throws, so the batch is retried and the lease stays put.
 */
export function projectEventsHandler(deps: ProjectionDeps) {
  return async (documents: unknown[], context: InvocationContext): Promise<void> => {
    const events: RecordedEvent[] = [];
    for (const document of documents) {
      try {
        events.push(fromDocument(document));
      } catch (error) {
        await deps.deadLetters.record(deadLetterOf('projections', document as { streamId?: unknown; version?: unknown }, `Not an event document: ${(error as Error).message}`, deps.clock()));
      }
    }
    const outcome = await projectEvents(deps, events);
    context.log(`Projected ${events.length} event(s) of ${outcome.streams} stream(s); ${outcome.deadLettered} dead-lettered.`);
  };
}

app.cosmosDB('projectEvents', {
  connection: 'COSMOS_CONNECTION',
  databaseName: '%COSMOS_DATABASE%',
  containerName: 'events',
  leaseContainerName: 'leases',
  leaseContainerPrefix: 'projections-',
  createLeaseContainerIfNotExists: false,
  startFromBeginning: true,
  feedPollDelay: 500,
  maxItemsPerInvocation: 100,
  // In Azure a failed batch would otherwise be checkpointed past; retry it until it succeeds.
  retry: { strategy: 'exponentialBackoff', maxRetryCount: -1, minimumInterval: { seconds: 1 }, maximumInterval: { minutes: 1 } },
  handler: (documents: unknown[], context: InvocationContext) => projectEventsHandler(appServices())(documents, context),
});
