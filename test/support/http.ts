import { HttpRequest, HttpResponse, InvocationContext, type HttpResponseInit } from '@azure/functions';
import { randomUUID } from 'node:crypto';
import type { HttpHandler } from '../../shared/platform/http/httpHandler';

export interface RequestSpec {
  readonly method?: string;
  readonly path?: string;
  readonly params?: Record<string, string>;
  readonly headers?: Record<string, string>;
  /** A value to send as JSON, or a raw string sent as is. */
  readonly json?: unknown;
  readonly body?: string;
}

export interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly body: unknown;
  readonly text: string;
}

/** Calls a handler as the host would, with a real HttpRequest and InvocationContext, and reads the answer. */
export async function call(handler: HttpHandler, spec: RequestSpec): Promise<Answer> {
  const body = spec.body ?? (spec.json === undefined ? undefined : JSON.stringify(spec.json));
  const headers: Record<string, string> = { ...(spec.json !== undefined && { 'content-type': 'application/json' }), ...spec.headers };
  const request = new HttpRequest({
    method: spec.method ?? 'GET',
    url: `http://localhost:7071${spec.path ?? '/api/places'}`,
    headers,
    params: spec.params ?? {},
    ...(body !== undefined && { body: { string: body } }),
  });
  const context = new InvocationContext({ invocationId: randomUUID(), functionName: 'test', logHandler: () => undefined });
  const init: HttpResponseInit = await handler(request, context);
  const response = new HttpResponse(init);
  const text = await response.text();
  let parsed: unknown = undefined;
  try {
    parsed = text ? (JSON.parse(text) as unknown) : undefined;
  } catch {
    parsed = text;
  }
  return { status: response.status, headers: response.headers, body: parsed, text };
}
