import type { HttpResponseInit } from '@azure/functions';
import type { PlaceCommandOutcome, RequestOrigin } from '../application/placeCommands';
import { withCorrelation, type LogSink } from '../logging';
import { etagOf } from './request';

export const placeLocation = (placeId: string): string => `/api/places/${placeId}`;

/** One line per command carried out: `PlaceCommand command=… placeId=… status=… version=… correlationId=…`. */
export function logCommand(context: LogSink, origin: RequestOrigin, command: string, outcome: PlaceCommandOutcome): void {
  withCorrelation(context, origin.correlationId).info('PlaceCommand', { command, placeId: outcome.placeId, status: outcome.status, version: outcome.version, requestId: origin.requestId });
}

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
