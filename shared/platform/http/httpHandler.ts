import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import {
  ForbiddenError,
  IllegalStateError,
  NotFoundError,
  PreconditionFailedError,
  ValidationError,
  IdempotencyKeyReuseError,
} from '../../kernel/errors';
import { StreamVersionConflictError } from '../eventSourcing/eventStore';
import { errorSummary, withCorrelation } from '../logging';
import { HttpProblem, problemResponse } from './problem';
import { correlationIdOf, etagOf } from './request';
import { isDependencyUnavailable, unavailableResponse } from './unavailable';

export type HttpHandler = (request: HttpRequest, context: InvocationContext) => Promise<HttpResponseInit>;

/** The header that carries a request's correlation id in, and back out on every answer. */
export const CORRELATION_HEADER = 'x-correlation-id';

/**
 * Turns every expected failure into its problem+json answer. A dependency that cannot be reached or
 * is throttling just now (Cosmos DB, storage) is a 503 with Retry-After (unavailable.ts). Only a fault
 * of ours is a 500. Neither shows internals: the details go to the log, under the invocation id the
 * answer names. Every
 * answer, success or problem, carries the request's correlation id back in `x-correlation-id` (the
 * caller's when it sent a well-formed one, else the invocation id), the id every event and log line
 * the request causes carries.
 */
export function withProblemDetails(handler: HttpHandler): HttpHandler {
  return async (request, context) => {
    const correlationId = correlationIdOf(request, context.invocationId);
    let response: HttpResponseInit;
    try {
      response = await handler(request, context);
    } catch (error) {
      const log = withCorrelation(context, correlationId);
      const known = toProblem(error);
      if (known) {
        log.info('HttpProblem', { function: context.functionName, method: request.method, status: known.status ?? null });
        response = known;
      } else if (isDependencyUnavailable(error)) {
        // Cosmos DB or storage unreachable or throttling: the client may retry, and the answer says when.
        log.warn('HttpDependencyUnavailable', {
          function: context.functionName,
          method: request.method,
          status: 503,
          invocationId: context.invocationId,
          error: errorSummary(error),
        });
        response = unavailableResponse(error);
      } else {
        log.error(
          'HttpFailed',
          { function: context.functionName, method: request.method, status: 500, invocationId: context.invocationId },
          error,
        );
        response = problemResponse(500, `The request could not be completed. Quote invocation ${context.invocationId} when reporting it.`);
      }
    }
    return withHeader(response, CORRELATION_HEADER, correlationId);
  };
}

function withHeader(response: HttpResponseInit, name: string, value: string): HttpResponseInit {
  const headers = new Headers(response.headers);
  headers.set(name, value);
  return { ...response, headers: Object.fromEntries(headers) };
}

function toProblem(error: unknown): HttpResponseInit | undefined {
  if (error instanceof HttpProblem) {
    return problemResponse(error.status, error.message, {
      ...(error.errors && { errors: error.errors }),
      ...(error.type && { type: error.type }),
    });
  }
  if (error instanceof ForbiddenError) return problemResponse(403, error.message, { type: 'forbidden' });
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
