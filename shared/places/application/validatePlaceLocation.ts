import { fold } from '../../kernel/decider';
import { IllegalStateError } from '../../kernel/errors';
import { readTyped } from '../../platform/eventSourcing/eventStore';
import type { Geocoder } from './geocoder';
import { GREAT_BRITAIN_AND_IRELAND, isInServiceArea, type ServiceArea } from '../domain/serviceArea';
import { placeDecider, type PlaceCommand } from '../domain/decide';
import { isPlaceEvent, toPlaceStreamId, type PlaceFacts } from '../domain/place';
import { regionOf } from '../../regions/domain/geohash';
import { executePlaceCommand, type PlaceCommandDeps } from './placeCommands';
import { type Geolocation } from '../../kernel/geolocation';
import type { EventCause } from '../../kernel/event';

export interface LocationValidationDeps extends PlaceCommandDeps {
  readonly geocoder: Geocoder;
  /** Geohash length of a region (REGION_PRECISION). */
  readonly regionPrecision: number;
  /** Where places may be (default Great Britain and Ireland). */
  readonly serviceArea?: ServiceArea;
}

/** The event that asks for the validation: its id and correlation go into the result's metadata. */
export type LocationDecision =
  | { readonly kind: 'validated'; readonly geolocation: Geolocation; readonly region: string }
  | { readonly kind: 'rejected'; readonly reason: string };

export type ValidationOutcome = LocationDecision['kind'] | 'alreadyDecided';

/**
 * Validates a proposed place's location and records the answer on the place: `PlaceLocationValidated`
 * with its region, or `PlaceLocationRejected` with a reason. Idempotent under redelivery and
 * reordering: a place that is no longer `proposed` is left alone, the events' ids derive from the
 * triggering event (a repeated append is recognised), and the decider makes a repeated command a
 * no-op. Geocoder faults are thrown (the delivery is retried); only a definite answer rejects.
 */
export async function validatePlaceLocation(deps: LocationValidationDeps, placeId: string, cause: EventCause): Promise<ValidationOutcome> {
  const { events } = await readTyped(deps.eventStore, toPlaceStreamId(placeId), isPlaceEvent);
  const state = fold(placeDecider, events);
  // The triggering event was read from this stream, so an empty stream is a lagging read: retry.
  if (state.status === 'absent') throw new Error(`Place ${placeId} is not in the event store yet.`);
  if (state.status !== 'proposed') return 'alreadyDecided';

  const decision = await decideLocation(deps, state.place);
  const command: Exclude<PlaceCommand, { type: 'ProposePlace' }> =
    decision.kind === 'validated'
      ? { type: 'RecordLocationValidated', data: { placeId, geolocation: decision.geolocation, region: decision.region } }
      : { type: 'RecordLocationRejected', data: { placeId, reason: decision.reason } };
  try {
    await executePlaceCommand(deps, command, {
      correlationId: cause.correlationId,
      requestId: cause.eventId,
      commandId: `${cause.eventId}/${command.type}`,
    });
  } catch (error) {
    // A concurrent delivery decided first (and, the geocoder having changed its mind, differently):
    // the first answer stands.
    if (error instanceof IllegalStateError) return 'alreadyDecided';
    throw error;
  }
  return decision.kind;
}

/** Where a place is, and whether that is a place the app serves. */
export async function decideLocation(
  deps: Omit<LocationValidationDeps, keyof PlaceCommandDeps>,
  place: PlaceFacts,
): Promise<LocationDecision> {
  const area = deps.serviceArea ?? GREAT_BRITAIN_AND_IRELAND;
  const validated = (geolocation: Geolocation): LocationDecision => ({
    kind: 'validated',
    geolocation,
    region: regionOf(geolocation, deps.regionPrecision),
  });
  if (place.geolocation) {
    if (isInServiceArea(area, place.geolocation)) return validated(place.geolocation);
    const { latitude, longitude } = place.geolocation;
    return { kind: 'rejected', reason: `The location (${latitude}, ${longitude}) is outside the service area (${area.name}).` };
  }
  if (place.address === undefined) return { kind: 'rejected', reason: 'The place has neither coordinates nor an address.' };

  const result = await deps.geocoder.geocode(place.address);
  if (result.kind === 'notFound')
    return { kind: 'rejected', reason: `The address "${place.address}" could not be located: ${result.reason}.` };
  const inArea = result.candidates.find((candidate) => isInServiceArea(area, candidate.geolocation));
  if (inArea) return validated(inArea.geolocation);
  const first = result.candidates[0];
  return {
    kind: 'rejected',
    reason: `The address "${place.address}" is outside the service area (${area.name})${first ? `: it was found at ${first.label}` : ''}.`,
  };
}
