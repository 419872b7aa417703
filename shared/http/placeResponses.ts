import type { HttpResponseInit } from '@azure/functions';
import type { PlaceCommandOutcome } from '../application/placeCommands';
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
