import type { EventGridHandler, InvocationContext } from '@azure/functions';
import { appServices } from '../shared/platform/composition/appServices';
import { validatePlaceLocation, type LocationValidationDeps } from '../shared/places/application/validatePlaceLocation';
import { PLACE_STREAM_PREFIX } from '../shared/places/domain/place';
import { errorSummary, withCorrelation } from '../shared/platform/logging';
import { parseDeliveredEventOrLog } from '../shared/platform/publishing/deliveredEvent';

/**
 * Event Grid `VisitPlannr.PlaceProposed` → the place's location validated (with its region) or
 * rejected with a reason. Throws on a geocoder fault, so Event Grid delivers the event again later.
 */
export function validatePlaceLocationHandler(deps: LocationValidationDeps) {
  return async (event: unknown, context: InvocationContext): Promise<void> => {
    const delivered = parseDeliveredEventOrLog(event, context);
    const log = withCorrelation(context, delivered.metadata.correlationId);
    if (delivered.eventType !== 'PlaceProposed' || !delivered.streamId.startsWith(PLACE_STREAM_PREFIX)) {
      log.warn('EventIgnored', {
        eventType: delivered.eventType,
        eventId: delivered.id,
        streamId: delivered.streamId,
        reason: "not PlaceProposed: check the subscription's filter",
      });
      return;
    }
    const placeId = delivered.streamId.slice(PLACE_STREAM_PREFIX.length);
    try {
      const outcome = await validatePlaceLocation(deps, placeId, {
        eventId: delivered.id,
        correlationId: delivered.metadata.correlationId,
      });
      log.info('PlaceLocationChecked', { placeId, outcome, eventId: delivered.id });
    } catch (error) {
      // Thrown on, so Event Grid delivers the event again later (a geocoder fault, a lagging read).
      log.warn('PlaceLocationCheckFailed', { placeId, eventId: delivered.id, error: errorSummary(error) });
      throw error;
    }
  };
}

export const validatePlaceLocationFunction: EventGridHandler<unknown> = (event, context) => {
  const services = appServices();
  return validatePlaceLocationHandler({ ...services, regionPrecision: services.config.regionPrecision })(event, context);
};
