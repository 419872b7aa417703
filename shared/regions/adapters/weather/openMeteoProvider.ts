import axios from 'axios';
import { z } from 'zod';
import { conditionFromWmoCode } from './weatherCodes';
import { describeIssues, failAll, PROBE_LOCATION, ProviderClient, roundCoordinate, type ProviderClientOptions } from './providerClient';
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

const series = <T extends z.ZodType>(item: T) => z.array(item.nullable());

/** One location's answer. With `timezone=UTC` times carry no offset (`2025-11-17T00:00`) and mean UTC. */
const openMeteoLocation = z
  .object({
    latitude: z.number(),
    longitude: z.number(),
    utc_offset_seconds: z.literal(0).optional(),
    hourly: z.object({
      time: z.array(z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:00$/, { error: 'must be a whole UTC hour like 2025-11-17T00:00' })),
      temperature_2m: series(z.number()),
      precipitation_probability: series(z.number().min(0).max(100)),
      precipitation: series(z.number().min(0)),
      weather_code: series(z.number().int()),
      wind_speed_10m: series(z.number().min(0)),
      wind_gusts_10m: series(z.number().min(0)),
      uv_index: series(z.number().min(0)),
    }),
  })
  .superRefine(({ hourly }, context) => {
    for (const name of OPEN_METEO_HOURLY) {
      if (hourly[name].length !== hourly.time.length) {
        context.addIssue({
          code: 'custom',
          path: ['hourly', name],
          message: `has ${hourly[name].length} values for ${hourly.time.length} times`,
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
      axios.create({ baseURL: options.baseUrl, headers: { accept: 'application/json' } }),
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
