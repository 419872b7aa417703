import { v5 as uuidV5 } from 'uuid';
import { NO_STREAM, StreamVersionConflictError, type EventStore } from '../../platform/eventSourcing/eventStore';
import type { ForecastRefreshQueue } from './forecastRefreshRequests';
import { regionCentre } from '../domain/geohash';
import { isRegionEvent, regionDecider, toRegionStreamId } from '../domain/region';
import { type EventCause } from '../../kernel/event';

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
 * that a redelivered activator sends the request again, which the consumer absorbs: every send is
 * the same request, stamped with the activation's time (not the time of the delivery), so a
 * redelivery hours later is recognised as the request already answered instead of fetching the
 * region's forecast again. Other places in an active region send nothing: the scheduled refresh
 * covers every active region.
 */
export async function activateRegion(deps: RegionActivationDeps, region: string, cause: EventCause): Promise<RegionActivationOutcome> {
  const centre = regionCentre(region);
  const streamId = toRegionStreamId(region);
  let activation = await activationOf(deps.eventStore, streamId);
  if (activation === undefined) {
    const decided = regionDecider.decide({ type: 'ActivateRegion', data: { region, centre } }, regionDecider.initialState());
    const metadata = {
      eventId: regionActivatedEventId(region),
      correlationId: cause.correlationId,
      causationId: cause.eventId,
      occurredAt: deps.clock().toISOString(),
    };
    try {
      // A concurrent activation appended the same event id first: the store takes this as the same
      // append, and both deliveries send the request (a duplicate the consumer absorbs).
      await deps.eventStore.append(
        streamId,
        decided.map((event) => ({ ...event, metadata })),
        NO_STREAM,
      );
    } catch (error) {
      if (!(error instanceof StreamVersionConflictError)) throw error;
    }
    // Read back: the stored activation (ours, or a concurrent one's) is the one whose time the request carries.
    activation = await activationOf(deps.eventStore, streamId);
    if (activation === undefined) throw new Error(`Region ${region} is not active after its activation was appended.`);
  }
  const activatedByThisEvent = activation.causationId === cause.eventId;
  if (!activatedByThisEvent) return { activatedByThisEvent, refreshRequested: false };
  await deps.forecastRefreshQueue.send({
    region,
    centre,
    reason: 'regionActivated',
    correlationId: cause.correlationId,
    requestedAt: activation.occurredAt,
  });
  return { activatedByThisEvent, refreshRequested: true };
}

/** The region's activation (which event caused it, and when); undefined while the region is not active. */
async function activationOf(store: EventStore, streamId: string): Promise<{ causationId: string; occurredAt: string } | undefined> {
  // The stream starts with its activation and forecasts follow (two days of them): read the first event only.
  const [first] = await store.read(streamId, 1, 1);
  const activation = first !== undefined && isRegionEvent(first) && first.type === 'RegionActivated' ? first : undefined;
  return activation === undefined
    ? undefined
    : { causationId: activation.metadata.causationId, occurredAt: activation.metadata.occurredAt };
}
