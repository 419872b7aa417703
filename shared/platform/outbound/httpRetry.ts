import { setTimeout as delay } from 'node:timers/promises';
import type { AxiosError, AxiosInstance, AxiosResponse, CreateAxiosDefaults } from 'axios';
import { loadOnce } from '../loadOnce';

/**
 * How an outbound GET is bounded and retried. Every attempt is bounded twice: axios' `timeout`
 * (which only covers the wait for a response to start) and an `AbortSignal.timeout` (which also
 * aborts a response that stalls half-way). Network errors, time-outs, 5xx and 429 are retried with
 * jittered exponential backoff (a 429's `Retry-After` is honoured up to a cap); any other status is
 * an answer and goes back to the caller, never retried.
 */
export interface RetryPolicy {
  /** Attempts in all, the first included. */
  readonly maxAttempts: number;
  /** Longest one attempt may take, response body included. */
  readonly attemptTimeoutMs: number;
  /** Backoff before retry n is about `baseDelayMs × 2^(n-1)`, capped at `maxDelayMs`, randomised to 50–100 % of that. */
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  /** The longest `Retry-After` obeyed; a longer one is waited for only this long. */
  readonly retryAfterCapMs: number;
  /** No attempt starts that could end later than this after the first began (callers have deadlines too). */
  readonly deadlineMs: number;
}

/**
 * Fits inside an Event Grid delivery (the service gives a webhook 30 s): at most about 20 s of
 * attempts and waits, after which the caller's own retry (Event Grid redelivery) takes over.
 */
export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 4,
  attemptTimeoutMs: 5000,
  baseDelayMs: 250,
  maxDelayMs: 4000,
  retryAfterCapMs: 5000,
  deadlineMs: 20_000,
};

/** Every attempt failed in a way that may pass (network, time-out, 5xx, 429): try again later. */
export class TransientHttpError extends Error {
  constructor(
    message: string,
    readonly attempts: number,
    readonly lastStatus?: number,
  ) {
    super(message);
    this.name = 'TransientHttpError';
  }
}

export interface RetryHooks {
  /** Told before each wait (for logs). */
  readonly onRetry?: (info: { attempt: number; delayMs: number; reason: string; url: string }) => void;
  /** Randomness for jitter (tests pass a fixed one). */
  readonly random?: () => number;
  /**
   * The caller's own cancellation (e.g. an activity being torn down). It ends the attempt in flight
   * or the wait, and the call rejects with the signal's reason: the caller gave up, so this is
   * neither retried nor reported as a {@link TransientHttpError}.
   */
  readonly signal?: AbortSignal;
}

/** An axios instance built (and axios loaded) at its first request: most invocations send none. */
export class LazyAxios {
  readonly instance: () => Promise<AxiosInstance>;

  constructor(defaults: CreateAxiosDefaults) {
    this.instance = loadOnce(async () => (await import('axios')).default.create(defaults));
  }
}

/**
 * GETs `url` (relative to the instance's baseURL) and returns the first response that is an answer:
 * any status except 429 and 5xx. Throws {@link TransientHttpError} when the attempts or the deadline
 * run out.
 */
export async function getWithRetry(
  http: AxiosInstance | LazyAxios,
  url: string,
  params: Readonly<Record<string, string | number>>,
  policy: RetryPolicy = DEFAULT_RETRY_POLICY,
  hooks: RetryHooks = {},
): Promise<AxiosResponse<unknown>> {
  const client = http instanceof LazyAxios ? await http.instance() : http;
  const random = hooks.random ?? Math.random;
  const callerSignal = hooks.signal;
  const started = Date.now();
  let lastReason = 'no attempt was made';
  let lastStatus: number | undefined;
  let attempts = 0;
  for (let attempt = 1; attempt <= policy.maxAttempts; attempt++) {
    callerSignal?.throwIfAborted();
    attempts = attempt;
    let retryAfterMs: number | undefined;
    const attemptSignal = AbortSignal.timeout(policy.attemptTimeoutMs);
    try {
      const response = await client.get<unknown>(url, {
        params,
        timeout: policy.attemptTimeoutMs,
        signal: callerSignal ? AbortSignal.any([callerSignal, attemptSignal]) : attemptSignal,
        // Statuses are classified here, not thrown by axios.
        validateStatus: () => true,
        responseType: 'json',
      });
      if (response.status !== 429 && response.status < 500) return response;
      lastStatus = response.status;
      lastReason = `HTTP ${response.status}`;
      if (response.status === 429) retryAfterMs = parseRetryAfter(headerText(response.headers['retry-after']), Date.now());
    } catch (error) {
      callerSignal?.throwIfAborted();
      // Anything thrown here is a transport failure: a refused or reset connection, a time-out, an abort.
      lastStatus = undefined;
      lastReason = describeTransportError(error);
    }
    if (attempt === policy.maxAttempts) break;
    const backoff = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1)) * (0.5 + random() * 0.5);
    const delayMs = Math.round(
      retryAfterMs === undefined ? backoff : Math.min(policy.retryAfterCapMs, retryAfterMs) + random() * policy.baseDelayMs,
    );
    if (Date.now() - started + delayMs + policy.attemptTimeoutMs > policy.deadlineMs) break;
    hooks.onRetry?.({ attempt, delayMs, reason: lastReason, url });
    try {
      await delay(delayMs, undefined, { signal: callerSignal });
    } catch (error) {
      callerSignal?.throwIfAborted();
      throw error;
    }
  }
  throw new TransientHttpError(
    `GET ${url} failed: ${lastReason} (${attempts} attempt${attempts === 1 ? '' : 's'} in ${Math.round((Date.now() - started) / 100) / 10} s).`,
    attempts,
    lastStatus,
  );
}

/** `Retry-After` as milliseconds from `now`: delay-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

function headerText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (Array.isArray(value) && typeof value[0] === 'string') return value[0];
  return undefined;
}

function describeTransportError(error: unknown): string {
  if (isAxiosError(error)) return error.code === undefined ? error.message : `${error.code}: ${error.message}`;
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** axios' own test (the flag it sets on its errors), without loading axios for it. */
function isAxiosError(error: unknown): error is AxiosError {
  return typeof error === 'object' && error !== null && (error as { isAxiosError?: unknown }).isAxiosError === true;
}
