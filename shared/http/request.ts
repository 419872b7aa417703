import type { HttpRequest, InvocationContext } from '@azure/functions';
import type { RequestOrigin } from '../application/placeCommands';
import { HttpProblem } from './problem';

/** Request bodies above this are refused with 413 before they are parsed. */
export const MAX_BODY_BYTES = 64 * 1024;

const JSON_MEDIA_TYPE = /^application\/([\w.+-]+\+)?json$/i;

/**
 * Reads a JSON request body: 415 unless the content type is JSON, 413 over {@link MAX_BODY_BYTES},
 * 400 when it does not parse. An empty body reads as `{}` only when `allowEmpty` is set.
 */
export async function readJsonBody(request: HttpRequest, options: { allowEmpty?: boolean } = {}): Promise<unknown> {
  const declaredLength = Number(request.headers.get('content-length') ?? '0');
  if (declaredLength > MAX_BODY_BYTES) throw tooLarge();
  const text = await request.text();
  if (Buffer.byteLength(text, 'utf8') > MAX_BODY_BYTES) throw tooLarge();
  if (text.trim() === '') {
    if (options.allowEmpty) return {};
    throw new HttpProblem(400, 'The request needs a JSON body.', [{ field: '', message: 'the body is empty' }]);
  }
  const mediaType = (request.headers.get('content-type') ?? '').split(';')[0]?.trim() ?? '';
  if (!JSON_MEDIA_TYPE.test(mediaType)) {
    throw new HttpProblem(415, `Send the body as application/json${mediaType ? `, not ${mediaType}` : ''}.`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new HttpProblem(400, `The body is not valid JSON: ${(error as Error).message}`, [{ field: '', message: 'is not valid JSON' }]);
  }
}

function tooLarge(): HttpProblem {
  return new HttpProblem(413, `The body must be at most ${MAX_BODY_BYTES} bytes.`);
}

const PLACE_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The `{id}` route parameter as a place id; anything that cannot be one is an unknown place. */
export function placeIdParam(request: HttpRequest): string {
  const id = request.params.id ?? '';
  if (!PLACE_ID.test(id)) throw new HttpProblem(404, `There is no place ${JSON.stringify(id.slice(0, 64))}.`);
  return id.toLowerCase();
}

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

/** The optional `Idempotency-Key` header: 1–255 visible ASCII characters. */
export function idempotencyKeyHeader(request: HttpRequest): string | undefined {
  const key = request.headers.get('idempotency-key');
  if (key === null) return undefined;
  if (!IDEMPOTENCY_KEY.test(key)) {
    throw new HttpProblem(400, 'Idempotency-Key must be 1–255 visible ASCII characters.', [
      { field: 'Idempotency-Key', message: 'must be 1–255 visible ASCII characters' },
    ]);
  }
  return key;
}

/**
 * The version an `If-Match` header requires: `"3"`, or `3` for convenience. A missing header is 428:
 * changes must say which version they were based on.
 */
export function requiredIfMatchVersion(request: HttpRequest): number | undefined {
  const header = request.headers.get('if-match');
  if (header === null) throw new HttpProblem(428, 'Send If-Match with the version you last read (its ETag).');
  const value = header.trim();
  if (value === '*') return undefined;
  const match = /^"?(\d{1,9})"?$/.exec(value);
  if (!match?.[1]) {
    throw new HttpProblem(400, 'If-Match must be the ETag of the version you last read, such as "3".', [
      { field: 'If-Match', message: 'must be an ETag such as "3"' },
    ]);
  }
  return Number(match[1]);
}

const CORRELATION_ID = /^[\w.:-]{1,128}$/;

/** The caller's correlation id (`x-correlation-id`) when well-formed, else the invocation's own id. */
export function correlationIdOf(request: HttpRequest, invocationId: string): string {
  const given = request.headers.get('x-correlation-id');
  return given !== null && CORRELATION_ID.test(given) ? given : invocationId;
}

/** The request as the cause of the events it leads to. */
export function originOf(request: HttpRequest, context: InvocationContext): RequestOrigin {
  return { correlationId: correlationIdOf(request, context.invocationId), requestId: context.invocationId };
}

export function etagOf(version: number): string {
  return `"${version}"`;
}
