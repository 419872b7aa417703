/**
 * `context.df.callHttp`, as the Durable Task extension serves it (WebJobs.Extensions.DurableTask:
 * `DurableOrchestrationContext.CallHttpAsync`, `CreateLocationPollRequest`, `TaskHttpActivityShim`).
 *
 * The extension makes the request outside the orchestrator, as the built-in activity
 * `BuiltIn::HttpActivity` (TaskScheduled with the request as input, TaskCompleted with the
 * DurableHttpResponse `{statusCode, headers, content}` as result), so replays see the recorded answer.
 * With `asynchronousPatternEnabled` (the default), while the answer is 202 it creates a durable timer
 * (`Retry-After` seconds, else `defaultAsyncRequestSleepTimeMilliseconds`, 30 s) and then GETs the
 * `Location` with the same headers but `x-functions-key`, no content: one activity and one timer per
 * poll, numbered in order. durable-functions (schema V3+, `CallHttpWithPollingTask`) numbers the same
 * tasks on its side; replay.ts mirrors it, this module makes the requests.
 *
 * Differences: response header names arrive lower-cased (fetch), several values of one header joined by
 * ", "; a `tokenSource` (managed identity) cannot be honoured locally, so such a call fails instead of
 * going out without its token.
 */
import { MAX_VALUE_CHARS } from './store';

/** The extension's name of the built-in HTTP activity (HttpOptions.HttpTaskActivityReservedName). */
export const HTTP_ACTIVITY_NAME = 'BuiltIn::HttpActivity';
/** Without a `timeout` on the request: .NET HttpClient's default (100 s). */
const DEFAULT_HTTP_TIMEOUT_MS = 100_000;

/** DurableHttpRequest as durable-functions sends it in a CallHttp action (`httpRequest`). */
export interface DurableHttpRequest {
  readonly method: string;
  readonly uri: string;
  readonly content?: string;
  readonly headers?: Record<string, string | string[]>;
  readonly tokenSource?: unknown;
  readonly asynchronousPatternEnabled: boolean;
  readonly timeout?: string | number;
}

export interface DurableHttpResponse {
  readonly statusCode: number;
  readonly headers: Record<string, string>;
  readonly content: string;
}

/** Reads the `httpRequest` of a CallHttp action. Throws on a request without a method or URI. */
export function parseHttpRequest(raw: unknown): DurableHttpRequest {
  if (!isRecord(raw)) throw new Error('A CallHttp action has no httpRequest.');
  const method = typeof raw.method === 'string' && raw.method !== '' ? raw.method : 'GET';
  if (typeof raw.uri !== 'string' || raw.uri === '') throw new Error('The callHttp request has no url.');
  const headers: Record<string, string | string[]> = {};
  if (isRecord(raw.headers)) {
    for (const [name, value] of Object.entries(raw.headers)) {
      if (typeof value === 'string') headers[name] = value;
      else if (Array.isArray(value)) headers[name] = value.map(String);
      else if (typeof value === 'number' || typeof value === 'boolean') headers[name] = String(value);
    }
  }
  return {
    method: method.toUpperCase(),
    uri: raw.uri,
    ...(typeof raw.content === 'string' ? { content: raw.content } : {}),
    ...(Object.keys(headers).length > 0 ? { headers } : {}),
    ...(raw.tokenSource !== undefined && raw.tokenSource !== null ? { tokenSource: raw.tokenSource } : {}),
    asynchronousPatternEnabled: raw.asynchronousPatternEnabled !== false,
    ...(typeof raw.timeout === 'string' || typeof raw.timeout === 'number' ? { timeout: raw.timeout } : {}),
  };
}

/** The TaskScheduled input of the built-in activity: DurableTask.Core serialises the parameters as an array. */
export function httpActivityInput(request: DurableHttpRequest): string {
  return JSON.stringify([request]);
}

/** The request that polls a 202's Location (the extension's CreateLocationPollRequest). */
export function locationPollRequest(request: DurableHttpRequest, location: string): DurableHttpRequest {
  const headers = Object.fromEntries(Object.entries(request.headers ?? {}).filter(([name]) => name.toLowerCase() !== 'x-functions-key'));
  let uri = location;
  try {
    uri = new URL(location, request.uri).toString();
  } catch {
    // Left as it is: the request fails with the URL's own error.
  }
  return {
    method: 'GET',
    uri,
    ...(Object.keys(headers).length > 0 ? { headers } : {}),
    ...(request.tokenSource !== undefined ? { tokenSource: request.tokenSource } : {}),
    asynchronousPatternEnabled: request.asynchronousPatternEnabled,
    ...(request.timeout !== undefined ? { timeout: request.timeout } : {}),
  };
}

/** A recorded DurableHttpResponse (TaskCompleted Result JSON); undefined when it is not one. */
export function parseHttpResponse(result: string | undefined): DurableHttpResponse | undefined {
  if (result === undefined) return undefined;
  try {
    const value = JSON.parse(result) as unknown;
    if (!isRecord(value) || typeof value.statusCode !== 'number') return undefined;
    return {
      statusCode: value.statusCode,
      headers: isRecord(value.headers) ? (value.headers as Record<string, string>) : {},
      content: typeof value.content === 'string' ? value.content : '',
    };
  } catch {
    return undefined;
  }
}

/** A header of a response, by name in any case (as durable-functions' DurableHttpResponse.getHeader). */
export function responseHeader(response: DurableHttpResponse, name: string): string | undefined {
  const key = Object.keys(response.headers).find((candidate) => candidate.toLowerCase() === name.toLowerCase());
  const value = key === undefined ? undefined : (response.headers[key] as unknown);
  if (Array.isArray(value)) return value.length > 0 ? String(value[0]) : undefined;
  return typeof value === 'string' ? value : undefined;
}

/** Retry-After in seconds (an integer, as the extension parses it); undefined for anything else. */
export function retryAfterMs(response: DurableHttpResponse): number | undefined {
  const value = responseHeader(response, 'Retry-After')?.trim();
  return value !== undefined && /^\d+$/.test(value) ? Number(value) * 1000 : undefined;
}

export type HttpActivityOutcome = { readonly result: string } | { readonly reason: string; readonly details: string };

/** Runs the built-in HTTP activity for its recorded input. Never throws: a failure is the task's failure. */
export async function runHttpActivity(input: string | undefined): Promise<HttpActivityOutcome> {
  let request: DurableHttpRequest;
  try {
    const parsed = JSON.parse(input ?? 'null') as unknown;
    request = parseHttpRequest(Array.isArray(parsed) ? parsed[0] : parsed);
  } catch (error) {
    return { reason: `callHttp failed: ${message(error)}`, details: '' };
  }
  const what = `callHttp ${request.method} ${request.uri}`;
  if (request.tokenSource !== undefined) {
    const resource = isRecord(request.tokenSource) && typeof request.tokenSource.resource === 'string' ? request.tokenSource.resource : '?';
    return {
      reason: `${what} failed: its tokenSource asks for a managed identity token (resource '${resource}'), which the devhost cannot get locally; the request was not sent. Call the API from an activity with your own credential instead.`,
      details: '',
    };
  }
  const timeoutMs = parseTimeout(request.timeout) ?? DEFAULT_HTTP_TIMEOUT_MS;
  try {
    const headers = new Headers();
    let contentType: string | undefined;
    for (const [name, value] of Object.entries(request.headers ?? {})) {
      for (const one of Array.isArray(value) ? value : [value]) {
        if (name.toLowerCase() === 'content-type') {
          if (one.includes('multipart')) throw new Error('Multipart content is not supported with CallHttpAsync.');
          contentType = one;
        } else headers.append(name, one);
      }
    }
    if (request.content !== undefined) headers.set('content-type', contentType ?? 'text/plain');
    const response = await fetch(request.uri, {
      method: request.method,
      headers,
      ...(request.content !== undefined && request.method !== 'GET' && request.method !== 'HEAD' ? { body: request.content } : {}),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const content = await response.text();
    const responseHeaders: Record<string, string> = {};
    response.headers.forEach((value, name) => {
      responseHeaders[name] = value;
    });
    const result = JSON.stringify({ statusCode: response.status, headers: responseHeaders, content } satisfies DurableHttpResponse);
    if (result.length > MAX_VALUE_CHARS)
      return {
        reason: `${what} failed: its response is ${result.length} characters; the devhost keeps up to ${MAX_VALUE_CHARS}.`,
        details: '',
      };
    return { result };
  } catch (error) {
    // Errors may come from another realm (fetch's): read them by shape, not instanceof.
    const name = isRecord(error) ? error.name : undefined;
    const timedOut = name === 'TimeoutError' || name === 'AbortError';
    return {
      reason: timedOut ? `${what} failed: no response within ${timeoutMs} ms (timeout).` : `${what} failed: ${message(error)}`,
      details: isRecord(error) && typeof error.stack === 'string' ? error.stack : '',
    };
  }
}

/** A .NET TimeSpan ("[d.]hh:mm:ss[.fff]") or milliseconds. */
function parseTimeout(value: string | number | undefined): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value > 0 ? value : undefined;
  const match = value === undefined ? null : /^(?:(\d+)\.)?(\d+):(\d+):(\d+(?:\.\d+)?)$/.exec(value);
  if (!match) return undefined;
  const [, days = '0', hours = '0', minutes = '0', seconds = '0'] = match;
  const ms = ((Number(days) * 24 + Number(hours)) * 60 + Number(minutes)) * 60_000 + Number(seconds) * 1000;
  return ms > 0 ? ms : undefined;
}

/** An error's message with its cause (fetch's "fetch failed" says little on its own). */
function message(error: unknown): string {
  if (!isRecord(error) || typeof error.message !== 'string') return String(error);
  const cause = isRecord(error.cause) && typeof error.cause.message === 'string' ? error.cause.message : undefined;
  return cause !== undefined && cause !== error.message ? `${error.message} (${cause})` : error.message;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
