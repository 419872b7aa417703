import type { HttpRequest, InvocationContext } from '@azure/functions';
import { z } from 'zod';
import { placeIdSchema } from '../../places/domain/place';
import { HttpProblem } from './problem';
import { type RequestOrigin } from '../../kernel/event';
import { actorOf, type Caller } from '../../kernel/caller';

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
  const mediaType = mediaTypeOf(request);
  if (!JSON_MEDIA_TYPE.test(mediaType)) {
    throw new HttpProblem(415, `Send the body as application/json${mediaType ? `, not ${mediaType}` : ''}.`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new HttpProblem(400, `The body is not valid JSON: ${(error as Error).message}`, [{ field: '', message: 'is not valid JSON' }]);
  }
}

/** The request's media type, without parameters (`application/json` of `application/json; charset=utf-8`). */
function mediaTypeOf(request: HttpRequest): string {
  return (request.headers.get('content-type') ?? '').split(';')[0]?.trim() ?? '';
}

/** Whether the request says its body is JSON (`application/json` or `…+json`). */
export function saysJson(request: HttpRequest): boolean {
  return JSON_MEDIA_TYPE.test(mediaTypeOf(request));
}

function tooLarge(): HttpProblem {
  return new HttpProblem(413, `The body must be at most ${MAX_BODY_BYTES} bytes.`);
}

/** The `{id}` route parameter as a place id; anything that cannot be one is an unknown place. */
export function placeIdParam(request: HttpRequest): string {
  const id = request.params.id ?? '';
  if (!placeIdSchema.safeParse(id).success) throw new HttpProblem(404, `There is no place ${JSON.stringify(id.slice(0, 64))}.`);
  return id.toLowerCase();
}

export const idempotencyKeySchema = z
  .string()
  .regex(/^[\x21-\x7e]{1,255}$/)
  .meta({
    description:
      'Any 1–255 visible ASCII characters; a proposal sent again with the same key and body is taken once and answered as before',
  });

/** The optional `Idempotency-Key` header: 1–255 visible ASCII characters. */
export function idempotencyKeyHeader(request: HttpRequest): string | undefined {
  const key = request.headers.get('idempotency-key');
  if (key === null) return undefined;
  if (!idempotencyKeySchema.safeParse(key).success) {
    throw new HttpProblem(400, 'Idempotency-Key must be 1–255 visible ASCII characters.', [
      { field: 'Idempotency-Key', message: 'must be 1–255 visible ASCII characters' },
    ]);
  }
  return key;
}

/** The `If-Match` header: the ETag of the version a change is based on (`"3"`, or `3`). */
export const ifMatchSchema = z
  .string()
  .regex(/^\s*"?\d{1,9}"?\s*$/)
  .meta({ description: 'The ETag of the version you last read, e.g. "3" (`*` is refused with 428: a change names its version)' });

/**
 * The version an `If-Match` header requires: `"3"`, or `3` for convenience. A missing header is 428:
 * changes must say which version they were based on.
 */
export function requiredIfMatchVersion(request: HttpRequest): number {
  const header = request.headers.get('if-match');
  if (header === null) throw new HttpProblem(428, 'Send If-Match with the version you last read (its ETag).');
  // `*` would skip the check that keeps one editor from overwriting another's change unseen.
  if (header.trim() === '*') throw new HttpProblem(428, 'If-Match: * is not accepted: send the version you last read (its ETag).');
  if (!ifMatchSchema.safeParse(header).success) {
    throw new HttpProblem(400, 'If-Match must be the ETag of the version you last read, such as "3".', [
      { field: 'If-Match', message: 'must be an ETag such as "3"' },
    ]);
  }
  return Number(header.trim().replaceAll('"', ''));
}

/**
 * An optional `If-Match` (moderation names the version the admin read, so a place changed meanwhile is
 * not approved unseen): the version it names, or undefined when absent or `*`.
 */
export function optionalIfMatchVersion(request: HttpRequest): number | undefined {
  const header = request.headers.get('if-match');
  if (header === null || header.trim() === '*') return undefined;
  if (!ifMatchSchema.safeParse(header).success) {
    throw new HttpProblem(400, 'If-Match must be the ETag of the version you last read, such as "3".', [
      { field: 'If-Match', message: 'must be an ETag such as "3"' },
    ]);
  }
  return Number(header.trim().replaceAll('"', ''));
}

/** A correlation id a caller may send (`x-correlation-id`); any other value is ignored. */
export const correlationIdSchema = z
  .string()
  .regex(/^[\w.:-]{1,128}$/)
  .meta({
    description:
      'Your id for this request (1–128 letters, digits, _ . : -), carried by every event and log line it causes and sent back; otherwise the invocation id is used',
  });

/** The caller's correlation id (`x-correlation-id`) when well-formed, else the invocation's own id. */
export function correlationIdOf(request: HttpRequest, invocationId: string): string {
  const given = request.headers.get('x-correlation-id');
  return given !== null && correlationIdSchema.safeParse(given).success ? given : invocationId;
}

/** The request as the cause of the events it leads to, and who asked (when known). */
export function originOf(request: HttpRequest, context: InvocationContext, caller?: Caller): RequestOrigin {
  return {
    correlationId: correlationIdOf(request, context.invocationId),
    requestId: context.invocationId,
    ...(caller && { actor: actorOf(caller) }),
  };
}

export function etagOf(version: number): string {
  return `"${version}"`;
}
