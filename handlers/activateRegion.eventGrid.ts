import type { EventGridHandler, InvocationContext } from '@azure/functions';
import { z } from 'zod';
import { appServices } from '../shared/platform/composition/appServices';
import { activateRegion, type RegionActivationDeps } from '../shared/regions/application/activateRegion';
import { errorSummary, withCorrelation } from '../shared/platform/logging';
import { parseDeliveredEventOrLog, readDeliveredEvent } from '../shared/platform/publishing/deliveredEvent';
import { isRegion } from '../shared/regions/domain/region';

const validatedData = z.object({ region: z.string().refine(isRegion, { error: 'must be a geohash' }) });

/**
 * Event Grid `VisitPlannr.PlaceLocationValidated` → the place's region activated (once), and a
 * request to fetch its forecast now on the forecast-refresh-requests queue.
 */
export function activateRegionHandler(deps: RegionActivationDeps) {
  return async (event: unknown, context: InvocationContext): Promise<void> => {
    const delivered = parseDeliveredEventOrLog(event, context);
    const log = withCorrelation(context, delivered.metadata.correlationId);
    if (delivered.eventType !== 'PlaceLocationValidated') {
      log.warn('EventIgnored', {
        eventType: delivered.eventType,
        eventId: delivered.id,
        streamId: delivered.streamId,
        reason: "not PlaceLocationValidated: check the subscription's filter",
      });
      return;
    }
    try {
      const { region } = validatedData.parse((await readDeliveredEvent(deps.eventStore, delivered)).data);
      const outcome = await activateRegion(deps, region, { eventId: delivered.id, correlationId: delivered.metadata.correlationId });
      log.info('RegionActivation', {
        region,
        outcome: outcome.activatedByThisEvent ? 'activatedByThisEvent' : 'alreadyActive',
        refreshRequested: outcome.refreshRequested,
        eventId: delivered.id,
      });
    } catch (error) {
      // Thrown on, so Event Grid delivers the event again later.
      log.warn('RegionActivationFailed', { eventId: delivered.id, streamId: delivered.streamId, error: errorSummary(error) });
      throw error;
    }
  };
}

export const activateRegionFunction: EventGridHandler<unknown> = (event, context) => activateRegionHandler(appServices())(event, context);
