// cockatiel is pinned to 3.x: 4.0 declares `engines: node >=22` and this app still runs on Node 20.
import { BrokenCircuitError, circuitBreaker, ConsecutiveBreaker, handleType, type CircuitBreakerPolicy, CircuitState } from 'cockatiel';
import type { z } from 'zod';
import { getWithRetry, TransientHttpError, type LazyAxios, type RetryHooks, type RetryPolicy } from '../../../platform/outbound/httpRetry';
import type { CircuitStatus, ForecastLocation, LocationForecast, ProviderEvidence } from '../../application/weatherProvider';

/**
 * Forecast fetches run in a durable activity, which has minutes rather than Event Grid's 30 s, and
 * whose own failure only delays a region's refresh until the next cycle. So each attempt may take
 * 10 s (a 50-location Open-Meteo answer is a few hundred kB), waits grow from 1 s to 8 s, a 429's
 * Retry-After is obeyed up to 20 s (Open-Meteo's per-minute limit clears within a minute; longer
 * ones, such as the Met Office's daily quota, are not worth waiting for in-process), and the whole
 * request gives up after 60 s, well inside the Functions host's 5-minute default so the
 * orchestration, not a host time-out, decides what happens next.
 */
export const WEATHER_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 4,
  attemptTimeoutMs: 10_000,
  baseDelayMs: 1000,
  maxDelayMs: 8000,
  retryAfterCapMs: 20_000,
  deadlineMs: 60_000,
};

export interface CircuitBreakerSettings {
  /** Requests in a row that failed transiently (every retry spent) before the circuit opens. */
  readonly consecutiveFailures: number;
  /** How long the circuit stays open before one trial request is let through (half-open). */
  readonly halfOpenAfterMs: number;
}

/**
 * Five requests in a row, each after its retries, is up to twenty failed attempts over minutes: the
 * provider is down, not flaky, and the rest of a refresh cycle's fan-out should stop adding to its
 * load. A minute later one request tries again; the next cycle is usually much further off.
 */
export const DEFAULT_CIRCUIT_BREAKER: CircuitBreakerSettings = { consecutiveFailures: 5, halfOpenAfterMs: 60_000 };

export interface ProviderClientOptions {
  readonly retry?: RetryPolicy;
  readonly circuitBreaker?: CircuitBreakerSettings;
  /** Retry logging and jitter; a `signal` here is ignored (each call passes its own). */
  readonly hooks?: RetryHooks;
  /** Told when the circuit opens, goes half-open or closes (for logs and metrics). */
  readonly onCircuitChange?: (state: 'open' | 'halfOpen' | 'closed') => void;
}

/**
 * A health probe is one attempt, no retries, outside the circuit breaker: it answers "is the provider
 * serving us now?" within a health check's few seconds, and never adds to a breaker's count.
 */
export const PROBE_POLICY: RetryPolicy = {
  maxAttempts: 1,
  attemptTimeoutMs: 5000,
  baseDelayMs: 0,
  maxDelayMs: 0,
  retryAfterCapMs: 0,
  deadlineMs: 5000,
};

/** Where a health probe asks about (central London): any point of the service area would do. */
export const PROBE_LOCATION = { latitude: 51.5072, longitude: -0.1276 } as const;

/** A 2xx body to validate, or why there is none. */
export type ProviderAnswer = { readonly ok: true; readonly data: unknown } | { readonly ok: false; readonly reason: string };

/**
 * One provider's HTTP access: every GET goes through a circuit breaker and then {@link getWithRetry}.
 * Only a request that failed transiently after all its retries counts against the breaker; an
 * answer of any kind (a 4xx, a body that does not validate) shows the provider is up and resets the
 * count, so a bad request of ours can never take a healthy provider out of service.
 */
export class ProviderClient {
  private readonly retry: RetryPolicy;
  private readonly hooks: RetryHooks;
  private readonly breaker: CircuitBreakerPolicy;
  private readonly settings: CircuitBreakerSettings;
  private last: ProviderEvidence | undefined;

  constructor(
    private readonly provider: string,
    private readonly http: LazyAxios,
    options: ProviderClientOptions = {},
  ) {
    this.retry = options.retry ?? WEATHER_RETRY_POLICY;
    this.hooks = options.hooks ?? {};
    this.settings = options.circuitBreaker ?? DEFAULT_CIRCUIT_BREAKER;
    this.breaker = circuitBreaker(handleType(TransientHttpError), {
      breaker: new ConsecutiveBreaker(this.settings.consecutiveFailures),
      halfOpenAfter: this.settings.halfOpenAfterMs,
    });
    const { onCircuitChange } = options;
    if (onCircuitChange) {
      this.breaker.onStateChange((state) => {
        if (state === CircuitState.Open) onCircuitChange('open');
        else if (state === CircuitState.HalfOpen) onCircuitChange('halfOpen');
        else if (state === CircuitState.Closed) onCircuitChange('closed');
      });
    }
  }

  /**
   * GETs `url` and returns its 2xx body, or a failure that names the cause. Never rejects, except
   * with the reason of `signal` when the caller aborts.
   */
  async get(
    url: string,
    params: Readonly<Record<string, string | number>>,
    signal?: AbortSignal,
    onRequest?: (ms: number) => void,
  ): Promise<ProviderAnswer> {
    try {
      const response = await this.breaker.execute(async () => {
        // Timed inside the breaker: a request the open circuit refused was never sent.
        const started = performance.now();
        try {
          return await getWithRetry(this.http, url, params, this.retry, { ...this.hooks, signal });
        } finally {
          onRequest?.(Math.round(performance.now() - started));
        }
      }, signal);
      return this.remember(this.answerOf(response.status, response.data));
    } catch (error) {
      signal?.throwIfAborted();
      if (error instanceof BrokenCircuitError) return { ok: false, reason: this.circuitOpenReason() };
      if (error instanceof TransientHttpError)
        return this.remember({ ok: false, reason: `${this.provider} unavailable: ${error.message}` });
      // Not expected (a bug, or an error shape axios has not shown before); still an outcome, not a throw.
      return this.remember({
        ok: false,
        reason: `${this.provider} request failed unexpectedly: ${error instanceof Error ? error.message : String(error)}`,
      });
    }
  }

  /**
   * One attempt at `url` for a health check: no retries, not through the circuit breaker (a probe
   * must neither wait for the circuit nor count towards opening it). Remembered like any answer.
   */
  async probe(url: string, params: Readonly<Record<string, string | number>>, signal?: AbortSignal): Promise<ProviderAnswer> {
    try {
      const response = await getWithRetry(this.http, url, params, PROBE_POLICY, { ...this.hooks, signal });
      return this.remember(this.answerOf(response.status, response.data));
    } catch (error) {
      signal?.throwIfAborted();
      return this.remember({
        ok: false,
        reason: `${this.provider} unavailable: ${error instanceof Error ? error.message : String(error)}`,
      });
    }
  }

  /** The circuit breaker's state, read-only (for the health check). */
  circuitState(): CircuitStatus {
    switch (this.breaker.state) {
      case CircuitState.Closed:
        return 'closed';
      case CircuitState.Open:
        return 'open';
      case CircuitState.HalfOpen:
        return 'halfOpen';
      case CircuitState.Isolated:
        return 'isolated';
    }
  }

  /** The last answer this process had from the provider (a fetch or a probe), if any. */
  lastAnswer(): ProviderEvidence | undefined {
    return this.last;
  }

  private answerOf(status: number, data: unknown): ProviderAnswer {
    if (status >= 200 && status < 300) return { ok: true, data };
    return { ok: false, reason: `${this.provider} answered HTTP ${status}${errorDetail(data)} (not retried)` };
  }

  private remember(answer: ProviderAnswer): ProviderAnswer {
    this.last = answer.ok ? { ok: true, at: Date.now() } : { ok: false, at: Date.now(), reason: answer.reason };
    return answer;
  }

  private circuitOpenReason(): string {
    const last = this.breaker.lastFailure;
    const lastReason = last && 'error' in last ? `; last: ${last.error.message}` : '';
    return (
      `${this.provider} circuit open after ${this.settings.consecutiveFailures} failed requests in a row${lastReason} ` +
      `— no request sent; one is tried ${Math.round(this.settings.halfOpenAfterMs / 1000)} s after it opened`
    );
  }
}

/** 4 decimals is about 11 m, far finer than any model grid, and keeps a 50-location URL short. */
export function roundCoordinate(value: number): number {
  return Math.round(value * 10_000) / 10_000;
}

/** The same failure for every location of a request that did not succeed. */
export function failAll(locations: readonly ForecastLocation[], reason: string): LocationForecast[] {
  return locations.map((location) => ({ region: location.region, ok: false, reason }));
}

/** A validation failure as a short, readable reason (bodies can be large; the first few issues say enough). */
export function describeIssues(provider: string, error: z.ZodError): string {
  const issues = error.issues.slice(0, 3).map((issue) => `${issue.path.map(String).join('.') || 'body'}: ${issue.message}`);
  const more = error.issues.length > 3 ? `; and ${error.issues.length - 3} more` : '';
  return `${provider} answered with an unexpected body (${issues.join('; ')}${more})`;
}

/** Providers explain errors in a field of their own: Open-Meteo `reason`, the Met Office (API Connect) `moreInformation`. */
function errorDetail(body: unknown): string {
  if (typeof body !== 'object' || body === null) return '';
  const fields = body as Record<string, unknown>;
  for (const key of ['reason', 'moreInformation', 'message', 'httpMessage', 'error']) {
    const value = fields[key];
    if (typeof value === 'string' && value.trim() !== '') return `: ${value.trim().slice(0, 200)}`;
  }
  return '';
}
