import { app, type InvocationContext } from '@azure/functions';
import { z } from 'zod';
import { appServices } from '../shared/appServices';
import { activateRegion, type RegionActivationDeps } from '../shared/application/activateRegion';
import { parseDeliveredEvent, readDeliveredEvent } from '../shared/publishing/deliveredEvent';
import { isRegion } from '../shared/regions/region';

const validatedData = z.object({ region: z.string().refine(isRegion, { error: 'must be a geohash' }) });

/**
 * Event Grid `VisitPlannr.PlaceLocationValidated` → the place's region activated (once), and a
 * request to fetch its forecast now on the forecast-refresh-requests queue.
 */
export function activateRegionHandler(deps: RegionActivationDeps) {
  return async (event: unknown, context: InvocationContext): Promise<void> => {
    const delivered = parseDeliveredEvent(event);
    if (delivered.eventType !== 'PlaceLocationValidated') {
      context.warn(`activateRegion ignores ${delivered.eventType} event ${delivered.id} (check the subscription's filter).`);
      return;
    }
    const { region } = validatedData.parse((await readDeliveredEvent(deps.eventStore, delivered)).data);
    const outcome = await activateRegion(deps, region, { eventId: delivered.id, correlationId: delivered.metadata.correlationId });
    context.log(
      `Region ${region}: ${outcome.activatedByThisEvent ? 'activated by' : 'already active before'} event ${delivered.id}${outcome.refreshRequested ? '; forecast refresh requested' : ''}.`,
    );
  };
}

app.eventGrid<unknown>('activateRegion', {
  handler: (event, context) => activateRegionHandler(appServices())(event, context),
});
