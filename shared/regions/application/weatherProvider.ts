import { type HourlyForecast } from '../../kernel/forecast';

/** Where to fetch a forecast for: a region's centre. */
export interface ForecastLocation {
  readonly region: string;
  readonly latitude: number;
  readonly longitude: number;
}

/** One location's outcome: a normalised hourly forecast, or why there is none. */
export type LocationForecast =
  | {
      readonly region: string;
      readonly ok: true;
      /** The provider's name, e.g. `open-meteo`. */
      readonly source: string;
      /** When the provider issued the forecast (its model run when it says so, else when it was fetched). ISO 8601 UTC. */
      readonly issuedAt: string;
      /** Whole UTC hours in ascending order. */
      readonly hourly: readonly HourlyForecast[];
    }
  | {
      readonly region: string;
      readonly ok: false;
      /** For people: what went wrong, e.g. `HTTP 503 (4 attempts)` or `circuit open`. */
      readonly reason: string;
    };

/**
 * A weather forecast API (Open-Meteo, Met Office), normalised to one hourly model.
 *
 * Every adapter honours the same contract (test/support/weatherProviderConformance.ts):
 * - one outcome per location asked for, in the same order, matched by region;
 * - provider failures are outcomes, never thrown (a durable fan-out has no allSettled): transient
 *   ones (network, time-out, 5xx, 429) after bounded, jittered retries; other 4xx at once;
 * - a provider that keeps failing trips a circuit breaker, after which calls fail fast for a while
 *   instead of adding to a retry storm.
 */
export interface WeatherProvider {
  readonly name: string;
  /** How many locations one request may carry (Open-Meteo: the configured batch size; Met Office: 1). */
  readonly maxLocationsPerRequest: number;
  /** Forecasts for up to `maxLocationsPerRequest` locations. */
  fetchForecasts(locations: readonly ForecastLocation[], options?: FetchForecastsOptions): Promise<LocationForecast[]>;
}

export interface FetchForecastsOptions {
  readonly signal?: AbortSignal;
  /**
   * Told how long each request sent to the provider took, retries and waits included (a request the
   * open circuit refused was not sent and is not told). Adapters that cannot tell simply do not call it.
   */
  readonly onRequest?: (ms: number) => void;
}

/** A circuit breaker's state: `open` fails fast without sending; `isolated` is held open by hand. */
export type CircuitStatus = 'closed' | 'open' | 'halfOpen' | 'isolated';

/** The last answer a process had from a provider: when, and whether it served a forecast. */
export type ProviderEvidence =
  { readonly ok: true; readonly at: number } | { readonly ok: false; readonly at: number; readonly reason: string };

/**
 * What the health check reads from a provider without spending its call budget: the circuit
 * breaker, the last answer any fetch had, and, when neither says enough, one cheap probe request.
 */
export interface WeatherProviderHealth {
  readonly name: string;
  circuitState(): CircuitStatus;
  lastAnswer(): ProviderEvidence | undefined;
  /** One request for one location, no retries, outside the breaker; resolves with the outcome, never rejects except on abort. */
  probe(signal?: AbortSignal): Promise<{ readonly ok: true } | { readonly ok: false; readonly reason: string }>;
}
