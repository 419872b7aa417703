import type { InvocationContext } from '@azure/functions';
import { appServices } from '../shared/platform/composition/appServices';
import { projectEvents, type ProjectionDeps } from '../shared/platform/views/projectEvents';
import { readChangeFeedBatch } from '../shared/platform/eventSourcing/adapters/cosmosEventStore';
import { changeFeedLagMs, correlationIdsOf, errorSummary, withCorrelation } from '../shared/platform/logging';
import { deadLetterOf } from '../shared/platform/views/deadLetters';

/**
 * Change feed of `events` → read models in `views`. A document that is not an event at all is
 * dead-lettered; a failure of the store throws, so the batch is retried and the lease stays put.
 * A batch carries many correlation ids: its lines list them all (`correlationIds=a,b,…`).
 */
export function projectEventsHandler(deps: ProjectionDeps) {
  return async (documents: unknown[], context: InvocationContext): Promise<void> => {
    const log = withCorrelation(context, correlationIdsOf(documents));
    const { events, notEvents } = readChangeFeedBatch(documents);
    for (const { document, id, reason: why } of notEvents) {
      const reason = `Not an event document: ${why}`;
      await deps.deadLetters.record(
        deadLetterOf('projections', document as { streamId?: unknown; version?: unknown }, reason, deps.clock()),
      );
      log.warn('ProjectionDeadLettered', { document: id, reason });
    }
    try {
      const outcome = await projectEvents(deps, events);
      log.info('EventsProjected', {
        events: events.length,
        streams: outcome.streams,
        deadLettered: outcome.deadLettered,
        lagMs: changeFeedLagMs(documents, deps.clock()),
      });
    } catch (error) {
      // Thrown on: the batch is retried and the lease stays where it is.
      log.warn('ProjectionFailed', { events: events.length, error: errorSummary(error) });
      throw error;
    }
  };
}

export const projectEventsFunction = (documents: unknown[], context: InvocationContext) =>
  projectEventsHandler(appServices())(documents, context);
