import { v5 as uuidV5 } from 'uuid';
import { NO_STREAM, readTyped, StreamVersionConflictError, type EventStore } from '../eventStore/eventStore';
import type { ForecastRefreshQueue } from '../queues/forecastRefreshRequests';
import { regionCentre } from '../regions/geohash';
import { isRegionEvent, regionDecider, toRegionStreamId } from '../regions/region';
import type { EventCause } from './validatePlaceLocation';

export interface RegionActivationDeps {
  readonly eventStore: EventStore;
  readonly clock: () => Date;
  readonly forecastRefreshQueue: ForecastRefreshQueue;
}

export interface RegionActivationOutcome {
  /** Whether this delivery's event is the one that activated the region (now or on an earlier delivery). */
  readonly activatedByThisEvent: boolean;
  /** Whether a forecast refresh request was sent. */
  readonly refreshRequested: boolean;
}

/** Namespace for region event ids (UUID v5 of the region), so the region's activation has one id whoever appends it. */
const REGION_EVENTS_NAMESPACE = '2d6a7c1e-5b0f-5c8e-a3d4-9f1e6b2c7a40';

export function regionActivatedEventId(region: string): string {
  return uuidV5(`region-activated:${region}`, REGION_EVENTS_NAMESPACE);
}

/**
 * Activates a region for a validated place: appends `RegionActivated {region, centre}` to
 * `region-<geohash>` if the region is not active yet (at expected version 0, with an id derived from
 * the region, so two places validated at once still activate it once, and an append that finds the
 * stream started means "already active"), and asks for the region's forecast now.
 *
 * The request is sent whenever the delivered event is the region's activator (its id is the
 * activation's causation id), on its first delivery and on every redelivery. So a crash between the
 * append and the send loses nothing: the failed delivery is redelivered and sends then. The price is
 * that a redelivered activator sends the request again, which the consumer absorbs (a refresh is
 * idempotent; a fresh forecast makes it a no-op). Other places in an active region send nothing:
 * the scheduled refresh covers every active region.
 */
export async function activateRegion(deps: RegionActivationDeps, region: string, cause: EventCause): Promise<RegionActivationOutcome> {
  const centre = regionCentre(region);
  const streamId = toRegionStreamId(region);
  let activatedByThisEvent = await isActivatedBy(deps.eventStore, streamId, cause.eventId);
  if (activatedByThisEvent === undefined) {
    const decided = regionDecider.decide({ type: 'ActivateRegion', data: { region, centre } }, regionDecider.initialState());
    const metadata = { eventId: regionActivatedEventId(region), correlationId: cause.correlationId, causationId: cause.eventId, occurredAt: deps.clock().toISOString() };
    try {
      // A concurrent activation appended the same event id first: the store takes this as the same
      // append, and both deliveries send a request (a duplicate the consumer absorbs).
      await deps.eventStore.append(streamId, decided.map((event) => ({ ...event, metadata })), NO_STREAM);
      activatedByThisEvent = true;
    } catch (error) {
      if (!(error instanceof StreamVersionConflictError)) throw error;
      activatedByThisEvent = (await isActivatedBy(deps.eventStore, streamId, cause.eventId)) ?? false;
    }
  }
  if (!activatedByThisEvent) return { activatedByThisEvent, refreshRequested: false };
  await deps.forecastRefreshQueue.send({ region, centre, reason: 'regionActivated', correlationId: cause.correlationId, requestedAt: deps.clock().toISOString() });
  return { activatedByThisEvent, refreshRequested: true };
}

/** Whether the region was activated by the given event; undefined while the region is not active. */
async function isActivatedBy(store: EventStore, streamId: string, eventId: string): Promise<boolean | undefined> {
  const { events } = await readTyped(store, streamId, isRegionEvent);
  // Only RegionActivated is a region event of this domain (readTyped skips forecast events).
  const [activation] = events;
  return activation === undefined ? undefined : activation.metadata.causationId === eventId;
}
