import type { ServerResponse } from 'node:http';

export { readBody } from '../http/readBody';

/** Answers with a JSON body. */
export function sendJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(text)),
    ...headers,
  });
  response.end(text);
}

/** Answers with the service's error shape: `{"error": {"code", "message"}}`. */
export function sendError(
  response: ServerResponse,
  status: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
): void {
  sendJson(response, status, { error: { code, message } }, headers);
}

/** The request path without trailing slashes, lower case (the host's routes are case-insensitive). */
export function normalisedPath(url: URL): string {
  return url.pathname.replace(/\/+$/, '').toLowerCase();
}

export function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
