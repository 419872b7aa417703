import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/**
 * Checks a publish request's credentials as a topic does: the access key in `aeg-sas-key`, or a
 * shared access signature in `aeg-sas-token` (as `generateSharedAccessSignature` makes them:
 * `r=<resource>&e=<expiry>&s=<HMAC-SHA256 of "r=…&e=…" with the base64-decoded key>`).
 * Returns undefined when authorised, else why not.
 */
export function topicAuthProblem(
  headers: IncomingHttpHeaders,
  topicKey: string,
  topicPath: string,
  now: Date = new Date(),
): string | undefined {
  const key = single(headers['aeg-sas-key']);
  if (key !== undefined) return sameSecret(key, topicKey) ? undefined : 'The aeg-sas-key is not a key of this topic.';
  const token = single(headers['aeg-sas-token']);
  if (token !== undefined) return sasTokenProblem(token, topicKey, topicPath, now);
  return 'The request has no aeg-sas-key or aeg-sas-token header (Entra ID tokens are not supported by the devhost topic).';
}

function sasTokenProblem(token: string, topicKey: string, topicPath: string, now: Date): string | undefined {
  const signatureAt = token.lastIndexOf('&s=');
  if (signatureAt < 0) return 'The aeg-sas-token has no signature.';
  const unsigned = token.slice(0, signatureAt);
  const fields = new URLSearchParams(unsigned);
  const resource = fields.get('r');
  const expiry = fields.get('e');
  if (resource === null || expiry === null) return 'The aeg-sas-token must name a resource (r) and an expiry (e).';
  const expected = createHmac('sha256', Buffer.from(topicKey, 'base64')).update(unsigned).digest('base64');
  if (!sameSecret(decodeURIComponent(token.slice(signatureAt + 3)), expected))
    return "The aeg-sas-token signature does not match this topic's key.";
  const expiresAt = parseServiceTime(expiry);
  if (expiresAt === undefined) return `The aeg-sas-token expiry '${expiry}' is not a date.`;
  if (expiresAt.getTime() <= now.getTime()) return 'The aeg-sas-token has expired.';
  let resourcePath: string;
  try {
    resourcePath = new URL(resource).pathname;
  } catch {
    return `The aeg-sas-token resource '${resource}' is not a URL.`;
  }
  if (trimSlash(resourcePath).toLowerCase() !== trimSlash(topicPath).toLowerCase())
    return `The aeg-sas-token is for '${resourcePath}', not this topic.`;
  return undefined;
}

/** The service's time format, "M/d/yyyy h:mm:ss tt" in UTC (what the SDK writes); ISO 8601 is accepted too. */
function parseServiceTime(text: string): Date | undefined {
  const match = /^(\d{1,2})\/(\d{1,2})\/(\d{4}) (\d{1,2}):(\d{2}):(\d{2}) (AM|PM)$/i.exec(text.trim());
  if (!match) {
    const parsed = Date.parse(text);
    return Number.isNaN(parsed) ? undefined : new Date(parsed);
  }
  const [, month, day, year, hour12, minute, second, half] = match.map((part) => part);
  const hour = (Number(hour12) % 12) + (half?.toUpperCase() === 'PM' ? 12 : 0);
  return new Date(Date.UTC(Number(year), Number(month) - 1, Number(day), hour, Number(minute), Number(second)));
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function trimSlash(path: string): string {
  return path.replace(/\/+$/, '');
}

function sameSecret(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
