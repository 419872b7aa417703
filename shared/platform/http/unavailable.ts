import type { HttpResponseInit } from '@azure/functions';
import { problemResponse } from './problem';

/**
 * Whether an error says a dependency (Cosmos DB, storage, an HTTP service) could not be reached or is
 * overloaded just now, rather than that the request or our code is wrong: a refused, reset or timed-out
 * connection, a name that does not resolve for the moment, or an answer of 503 (unavailable), 429
 * (throttled beyond the SDK's own retries) or 408 (timed out) from the service. Looks through `cause`
 * chains and AggregateErrors, since SDKs and fetch wrap the socket error.
 */
export function isDependencyUnavailable(error: unknown): boolean {
  return someError(error, (candidate) => {
    const { code, statusCode, status, message } = candidate as {
      code?: unknown;
      statusCode?: unknown;
      status?: unknown;
      message?: unknown;
    };
    if (typeof code === 'string' && UNAVAILABLE_CODES.has(code)) return true;
    if (typeof message === 'string' && COSMOS_BATCH_TRANSPORT_FAILURE.test(message)) return true;
    return [code, statusCode, status].some((value) => typeof value === 'number' && UNAVAILABLE_STATUSES.has(value));
  });
}

/** Socket, DNS and client time-out codes of Node, undici and the Azure SDKs that mean "not reachable now". */
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  // @azure/cosmos's client-side request time-out; Azure Storage's "busy" and "timed out" codes.
  'TimeoutError',
  'ServerBusy',
  'OperationTimedOut',
]);
const UNAVAILABLE_STATUSES = new Set([408, 429, 503]);

/**
 * @azure/cosmos rethrows a transactional batch's failure as `new Error('Batch request error: <message>')`,
 * dropping the code and the cause: such an error is recognised by its message naming a transport failure.
 */
const COSMOS_BATCH_TRANSPORT_FAILURE =
  /^Batch request error: .*(\b(ECONNREFUSED|ECONNRESET|ECONNABORTED|ETIMEDOUT|EPIPE|EHOSTUNREACH|ENETUNREACH|EAI_AGAIN)\b|socket hang up|Timeout Error)/;

/** Seconds a client should wait before retrying when the error does not say (a local restart takes a few). */
export const DEFAULT_RETRY_AFTER_SECONDS = 5;

/**
 * The answer to a request that failed because a dependency is unavailable: 503 problem+json with
 * Retry-After, and nothing of the dependency (no host, port, code or message) in it.
 */
export function unavailableResponse(error: unknown): HttpResponseInit {
  const seconds = retryAfterSecondsOf(error) ?? DEFAULT_RETRY_AFTER_SECONDS;
  return problemResponse(
    503,
    'A service this request depends on is unavailable just now. Retry after the time in Retry-After; a command retried with the same Idempotency-Key or If-Match is not applied twice.',
    { type: 'service-unavailable', headers: { 'retry-after': String(seconds) } },
  );
}

/** A throttling error's own advice (Cosmos `retryAfterInMs`), in whole seconds, at least 1 and at most 60. */
function retryAfterSecondsOf(error: unknown): number | undefined {
  let found: number | undefined;
  someError(error, (candidate) => {
    const { retryAfterInMs } = candidate as { retryAfterInMs?: unknown };
    if (typeof retryAfterInMs === 'number' && Number.isFinite(retryAfterInMs) && retryAfterInMs > 0)
      found = Math.min(60, Math.max(1, Math.ceil(retryAfterInMs / 1000)));
    return found !== undefined;
  });
  return found;
}

/** Whether `test` holds for the error, its causes or (for an AggregateError) any of its errors; at most 8 deep. */
function someError(error: unknown, test: (candidate: object) => boolean, depth = 0): boolean {
  if (typeof error !== 'object' || error === null || depth > 8) return false;
  if (test(error)) return true;
  const { cause, errors } = error as { cause?: unknown; errors?: unknown };
  if (someError(cause, test, depth + 1)) return true;
  return Array.isArray(errors) && errors.some((inner) => someError(inner, test, depth + 1));
}
