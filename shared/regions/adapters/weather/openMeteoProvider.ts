import { z } from 'zod';
import { conditionFromWmoCode } from './weatherCodes';
import { describeIssues, failAll, PROBE_LOCATION, ProviderClient, roundCoordinate, type ProviderClientOptions } from './providerClient';
import { LazyAxios } from '../../../platform/outbound/httpRetry';
import type {
  CircuitStatus,
  FetchForecastsOptions,
  ForecastLocation,
  LocationForecast,
  ProviderEvidence,
  WeatherProvider,
  WeatherProviderHealth,
} from '../../application/weatherProvider';
import { type HourlyForecast } from '../../../kernel/forecast';

export interface OpenMeteoProviderOptions extends ProviderClientOptions {
  /** e.g. https://api.open-meteo.com (WEATHER_BASE_URL). */
  readonly baseUrl: string;
  /** Locations per request; Open-Meteo counts each one as a call anyway, so this only saves round trips. */
  readonly batchSize?: number;
  /** Open-Meteo states no model run time, so `issuedAt` is when the answer arrived by this clock. */
  readonly clock?: () => Date;
}

export const OPEN_METEO_HOURLY = [
  'temperature_2m',
  'precipitation_probability',
  'precipitation',
  'weather_code',
  'wind_speed_10m',
  'wind_gusts_10m',
  'uv_index',
] as const;

/** What each hourly series may hold besides null (as Open-Meteo documents them). */
const SERIES_RULES: Record<(typeof OPEN_METEO_HOURLY)[number], { readonly min?: number; readonly max?: number; readonly int?: boolean }> = {
  temperature_2m: {},
  precipitation_probability: { min: 0, max: 100 },
  precipitation: { min: 0 },
  weather_code: { int: true },
  wind_speed_10m: { min: 0 },
  wind_gusts_10m: { min: 0 },
  uv_index: { min: 0 },
};
const WHOLE_UTC_HOUR = /^\d{4}-\d{2}-\d{2}T\d{2}:00$/;

/**
 * Arrays here; their elements are checked in one loop by the location's refinement: a schema per
 * element made checking a 50-location answer (60,000 values) most of what reading it cost.
 */
const series = z.custom<(number | null)[]>((value) => Array.isArray(value), { error: 'must be an array' });

/** One location's answer. With `timezone=UTC` times carry no offset (`2025-11-17T00:00`) and mean UTC. */
const openMeteoLocation = z
  .object({
    latitude: z.number(),
    longitude: z.number(),
    utc_offset_seconds: z.literal(0).optional(),
    hourly: z.object({
      time: z.custom<string[]>((value) => Array.isArray(value), { error: 'must be an array' }),
      temperature_2m: series,
      precipitation_probability: series,
      precipitation: series,
      weather_code: series,
      wind_speed_10m: series,
      wind_gusts_10m: series,
      uv_index: series,
    }),
  })
  .superRefine(({ hourly }, context) => {
    const times: readonly unknown[] = hourly.time;
    const badTime = times.findIndex((time) => typeof time !== 'string' || !WHOLE_UTC_HOUR.test(time));
    if (badTime !== -1) {
      context.addIssue({ code: 'custom', path: ['hourly', 'time', badTime], message: 'must be a whole UTC hour like 2025-11-17T00:00' });
      return;
    }
    for (const name of OPEN_METEO_HOURLY) {
      const values: readonly unknown[] = hourly[name];
      if (values.length !== times.length) {
        context.addIssue({ code: 'custom', path: ['hourly', name], message: `has ${values.length} values for ${times.length} times` });
        continue;
      }
      const { min = -Infinity, max = Infinity, int = false } = SERIES_RULES[name];
      const bad = values.findIndex(
        (value) =>
          value !== null &&
          (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max || (int && !Number.isInteger(value))),
      );
      if (bad !== -1) {
        const bounds = [min > -Infinity && `≥ ${min}`, max < Infinity && `≤ ${max}`].filter(Boolean).join(' and ');
        context.addIssue({
          code: 'custom',
          path: ['hourly', name, bad],
          message: `must be null or ${int ? 'a whole number' : 'a number'}${bounds && ` ${bounds}`}`,
        });
      }
    }
    // Same-format strings compare as times do.
    const unordered = hourly.time.findIndex((time, index) => index > 0 && time <= (hourly.time[index - 1] ?? ''));
    if (unordered !== -1) context.addIssue({ code: 'custom', path: ['hourly', 'time', unordered], message: 'times must ascend' });
  });
type OpenMeteoLocation = z.infer<typeof openMeteoLocation>;

/**
 * An Open-Meteo `/v1/forecast` body as hourly forecasts, one list per location asked for, in order.
 * One location answers with an object and several with an array of them; a count that does not
 * match what was asked for is a malformed answer, since the order is the only way to pair them up.
 */
export function readOpenMeteoBody(
  body: unknown,
  locations: number,
): { ok: true; hourly: HourlyForecast[][] } | { ok: false; reason: string } {
  // Parsed by shape rather than as a union, so that a failure names the field at fault.
  const parsed = Array.isArray(body)
    ? z.array(openMeteoLocation).safeParse(body)
    : openMeteoLocation.transform((answer) => [answer]).safeParse(body);
  if (!parsed.success) return { ok: false, reason: describeIssues('open-meteo', parsed.error) };
  const answers = parsed.data;
  if (answers.length !== locations)
    return { ok: false, reason: `open-meteo answered for ${answers.length} location(s) when asked for ${locations}` };
  return { ok: true, hourly: answers.map(toHourly) };
}

/** Hours without a temperature, wind speed or known weather code are dropped: a forecast hour needs all three. */
function toHourly({ hourly }: OpenMeteoLocation): HourlyForecast[] {
  const hours: HourlyForecast[] = [];
  hourly.time.forEach((time, index) => {
    const temperatureC = hourly.temperature_2m[index];
    const code = hourly.weather_code[index];
    const windKph = hourly.wind_speed_10m[index];
    const weather = code === null || code === undefined ? undefined : conditionFromWmoCode(code);
    if (temperatureC === null || temperatureC === undefined || windKph === null || windKph === undefined || weather === undefined) return;
    hours.push({
      time: `${time}:00.000Z`,
      temperatureC,
      precipitationProbability: hourly.precipitation_probability[index] ?? null,
      precipitationMm: hourly.precipitation[index] ?? null,
      weather,
      windKph,
      gustKph: hourly.wind_gusts_10m[index] ?? null,
      uvIndex: hourly.uv_index[index] ?? null,
    });
  });
  return hours;
}

/** Open-Meteo's free forecast API (no key; CC BY 4.0, attribution required), several locations per request. */
export class OpenMeteoProvider implements WeatherProvider, WeatherProviderHealth {
  readonly name = 'open-meteo';
  readonly maxLocationsPerRequest: number;
  private readonly client: ProviderClient;
  private readonly clock: () => Date;

  constructor(options: OpenMeteoProviderOptions) {
    const batchSize = options.batchSize ?? 50;
    if (!Number.isInteger(batchSize) || batchSize < 1)
      throw new RangeError(`batchSize must be a whole number of at least 1, not ${batchSize}`);
    this.maxLocationsPerRequest = batchSize;
    this.clock = options.clock ?? (() => new Date());
    this.client = new ProviderClient(
      this.name,
      new LazyAxios({ baseURL: options.baseUrl, headers: { accept: 'application/json' } }),
      options,
    );
  }

  async fetchForecasts(locations: readonly ForecastLocation[], options: FetchForecastsOptions = {}): Promise<LocationForecast[]> {
    // More than a batch is not what callers are meant to send, but splitting costs nothing and beats failing.
    const outcomes: LocationForecast[] = [];
    for (let start = 0; start < locations.length; start += this.maxLocationsPerRequest) {
      outcomes.push(
        ...(await this.fetchBatch(locations.slice(start, start + this.maxLocationsPerRequest), options.signal, options.onRequest)),
      );
    }
    return outcomes;
  }

  circuitState(): CircuitStatus {
    return this.client.circuitState();
  }

  lastAnswer(): ProviderEvidence | undefined {
    return this.client.lastAnswer();
  }

  /** One location, one variable, one day: the smallest request there is (Open-Meteo still counts it as a call). */
  async probe(signal?: AbortSignal): Promise<{ readonly ok: true } | { readonly ok: false; readonly reason: string }> {
    const answer = await this.client.probe(
      '/v1/forecast',
      { ...PROBE_LOCATION, hourly: 'temperature_2m', timezone: 'UTC', forecast_days: 1 },
      signal,
    );
    return answer.ok ? { ok: true } : answer;
  }

  private async fetchBatch(
    locations: readonly ForecastLocation[],
    signal: AbortSignal | undefined,
    onRequest: ((ms: number) => void) | undefined,
  ): Promise<LocationForecast[]> {
    const answer = await this.client.get(
      '/v1/forecast',
      {
        latitude: locations.map((location) => roundCoordinate(location.latitude)).join(','),
        longitude: locations.map((location) => roundCoordinate(location.longitude)).join(','),
        hourly: OPEN_METEO_HOURLY.join(','),
        timezone: 'UTC',
        forecast_days: 7,
        // km/h is Open-Meteo's default already; said explicitly because HourlyForecast.windKph depends on it.
        wind_speed_unit: 'kmh',
      },
      signal,
      onRequest,
    );
    if (!answer.ok) return failAll(locations, answer.reason);
    const issuedAt = this.clock().toISOString();
    const read = readOpenMeteoBody(answer.data, locations.length);
    if (!read.ok) return failAll(locations, read.reason);
    return locations.map((location, index) => ({
      region: location.region,
      ok: true,
      source: this.name,
      issuedAt,
      hourly: read.hourly[index] ?? [],
    }));
  }
}
