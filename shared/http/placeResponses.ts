import type { HttpResponseInit } from '@azure/functions';
import type { PlaceCommandOutcome } from '../application/placeCommands';
import type { ExistingPlaceState } from '../places/place';
import { etagOf } from './request';

export const placeLocation = (placeId: string): string => `/api/places/${placeId}`;

/** The answer to a command: where the place is, its status and the version to send in If-Match next. */
export function commandResponse(outcome: PlaceCommandOutcome, status: 200 | 202): HttpResponseInit {
  return {
    status,
    headers: {
      etag: etagOf(outcome.version),
      ...(status === 202 && { location: placeLocation(outcome.placeId) }),
    },
    jsonBody: { ...outcome, links: { self: placeLocation(outcome.placeId) } },
  };
}

/** A place as the API shows it. Forecasts join in with the read side. */
export function placeRepresentation(state: ExistingPlaceState, version: number): Record<string, unknown> {
  const { place } = state;
  return {
    placeId: place.placeId,
    name: place.name,
    status: state.status,
    version,
    geolocation: place.geolocation ?? null,
    region: 'region' in place ? place.region : null,
    ...(place.address !== undefined && { address: place.address }),
    ...place.details,
    proposedAt: place.proposedAt,
    ...(state.status === 'approved' && { approvedAt: state.approvedAt }),
    ...((state.status === 'rejected' || state.status === 'withdrawn' || state.status === 'locationRejected') && { statusReason: state.reason }),
    forecast: [],
  };
}
