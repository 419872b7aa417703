import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { IdempotencyKeyReuseError } from '../application/placeCommands';
import { IllegalStateError, NotFoundError, PreconditionFailedError, ValidationError } from '../eventSourcing/errors';
import { StreamVersionConflictError } from '../eventStore/eventStore';
import { HttpProblem, problemResponse } from './problem';
import { etagOf } from './request';

export type HttpHandler = (request: HttpRequest, context: InvocationContext) => Promise<HttpResponseInit>;

/**
 * Turns every expected failure into its problem+json answer. Only a fault of ours is a 500, and it
 * shows no internals: the details go to the log, under the invocation id the answer names.
 */
export function withProblemDetails(handler: HttpHandler): HttpHandler {
  return async (request, context) => {
    try {
      return await handler(request, context);
    } catch (error) {
      const known = toProblem(error);
      if (known) return known;
      context.error(`Unhandled error in ${context.functionName}:`, error);
      return problemResponse(500, `The request could not be completed. Quote invocation ${context.invocationId} when reporting it.`);
    }
  };
}

function toProblem(error: unknown): HttpResponseInit | undefined {
  if (error instanceof HttpProblem) return problemResponse(error.status, error.message, error.errors ? { errors: error.errors } : {});
  if (error instanceof IdempotencyKeyReuseError) return problemResponse(422, error.message, { type: 'idempotency-key-reused' });
  if (error instanceof StreamVersionConflictError) {
    return problemResponse(409, 'The place was being changed by someone else at the same time; read it again and retry.', {
      type: 'concurrent-change',
    });
  }
  if (error instanceof ValidationError) return problemResponse(400, error.message, { errors: error.errors, type: 'validation' });
  if (error instanceof NotFoundError) return problemResponse(404, error.message);
  if (error instanceof IllegalStateError) return problemResponse(409, error.message, { type: 'illegal-state' });
  if (error instanceof PreconditionFailedError) {
    return problemResponse(412, error.message, { headers: { etag: etagOf(error.currentVersion) } });
  }
  return undefined;
}
