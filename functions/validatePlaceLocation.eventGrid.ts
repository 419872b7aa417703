import { app, type InvocationContext } from '@azure/functions';
import { appServices } from '../shared/appServices';
import { validatePlaceLocation, type LocationValidationDeps } from '../shared/application/validatePlaceLocation';
import { PLACE_STREAM_PREFIX } from '../shared/places/place';
import { parseDeliveredEvent } from '../shared/publishing/deliveredEvent';

/**
 * Event Grid `VisitPlannr.PlaceProposed` → the place's location validated (with its region) or
 * rejected with a reason. Throws on a geocoder fault, so Event Grid delivers the event again later.
 */
export function validatePlaceLocationHandler(deps: LocationValidationDeps) {
  return async (event: unknown, context: InvocationContext): Promise<void> => {
    const delivered = parseDeliveredEvent(event);
    if (delivered.eventType !== 'PlaceProposed' || !delivered.streamId.startsWith(PLACE_STREAM_PREFIX)) {
      context.warn(`validatePlaceLocation ignores ${delivered.eventType} event ${delivered.id} of ${delivered.streamId} (check the subscription's filter).`);
      return;
    }
    const placeId = delivered.streamId.slice(PLACE_STREAM_PREFIX.length);
    const outcome = await validatePlaceLocation(deps, placeId, { eventId: delivered.id, correlationId: delivered.metadata.correlationId });
    context.log(`Place ${placeId}: location ${outcome} (event ${delivered.id}, correlation ${delivered.metadata.correlationId}).`);
  };
}

app.eventGrid<unknown>('validatePlaceLocation', {
  handler: (event, context) => {
    const services = appServices();
    return validatePlaceLocationHandler({ ...services, regionPrecision: services.config.regionPrecision })(event, context);
  },
});
