import type { HttpResponseInit } from '@azure/functions';
import { z } from 'zod';
import type { PlaceCommandOutcome } from '../application/placeCommands';
import { placeStatusSchema } from '../application/placeQueries';
import { withCorrelation, type LogSink } from '../../platform/logging';
import { placeIdSchema } from '../domain/place';
import { etagOf } from '../../platform/http/request';
import { type RequestOrigin } from '../../kernel/event';

export const placeLocation = (placeId: string): string => `/api/places/${placeId}`;

/** The body of every command's answer. */
export const commandAnswerSchema = z.strictObject({
  placeId: placeIdSchema,
  status: placeStatusSchema,
  version: z
    .int()
    .min(1)
    .meta({ description: "The place stream's version after the command: send it as If-Match (its ETag) with the next change" }),
  pendingRevision: z
    .int()
    .min(1)
    .optional()
    .meta({ description: 'The revision of the approved place waiting for an admin (approve it at …/revisions/{revision}/approve)' }),
  links: z.strictObject({
    self: z.string().meta({ description: "The place's URL (the parents' route: it answers once the place is approved)" }),
  }),
});
export type CommandAnswer = z.output<typeof commandAnswerSchema>;

/** One line per command carried out: `PlaceCommand command=… placeId=… status=… version=… correlationId=…`. */
export function logCommand(context: LogSink, origin: RequestOrigin, command: string, outcome: PlaceCommandOutcome): void {
  withCorrelation(context, origin.correlationId).info('PlaceCommand', {
    command,
    placeId: outcome.placeId,
    status: outcome.status,
    version: outcome.version,
    requestId: origin.requestId,
  });
}

/** The answer to a command: where the place is, its status and the version to send in If-Match next. */
export function commandResponse(outcome: PlaceCommandOutcome, status: 200 | 202): HttpResponseInit {
  const answer: CommandAnswer = { ...outcome, links: { self: placeLocation(outcome.placeId) } };
  return {
    status,
    headers: {
      etag: etagOf(outcome.version),
      ...(status === 202 && { location: placeLocation(outcome.placeId) }),
    },
    jsonBody: answer,
  };
}
