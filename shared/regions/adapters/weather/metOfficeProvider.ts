import { z } from 'zod';
import { conditionFromMetOfficeCode } from './weatherCodes';
import { describeIssues, PROBE_LOCATION, ProviderClient, roundCoordinate, type ProviderClientOptions } from './providerClient';
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

export interface MetOfficeProviderOptions extends ProviderClientOptions {
  /** Site-specific base, e.g. https://data.hub.api.metoffice.gov.uk/sitespecific/v0 (WEATHER_BASE_URL). */
  readonly baseUrl: string;
  /** Weather DataHub key (MET_OFFICE_API_KEY), sent as the `apikey` header. */
  readonly apiKey: string;
  /** Requests in flight at once when asked for several locations. */
  readonly concurrency?: number;
  /** `issuedAt` when an answer has no `modelRunDate`. */
  readonly clock?: () => Date;
}

/** Met Office times are UTC with minutes and a Z, seconds optional: `2025-11-17T10:00Z`. */
const utcTime = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?Z$/, { error: 'must be a UTC time like 2025-11-17T10:00Z' });
/** The first step of a run lacks the fields that summarise the previous hour, so every value may be missing. */
const value = <T extends z.ZodType>(schema: T) => schema.nullish();

const timeStep = z.object({
  time: utcTime,
  screenTemperature: value(z.number()),
  probOfPrecipitation: value(z.number().min(0).max(100)),
  significantWeatherCode: value(z.number().int()),
  windSpeed10m: value(z.number().min(0)),
  windGustSpeed10m: value(z.number().min(0)),
  totalPrecipAmount: value(z.number().min(0)),
  uvIndex: value(z.number().min(0)),
});

const hourlyPoint = z.object({
  type: z.literal('FeatureCollection'),
  features: z.array(z.object({ properties: z.object({ modelRunDate: utcTime.optional(), timeSeries: z.array(timeStep) }) })).min(1),
});

/** DataHub speeds are m/s; HourlyForecast's are km/h, to one decimal as Open-Meteo gives them. */
export function metresPerSecondToKph(metresPerSecond: number): number {
  return Math.round(metresPerSecond * 36) / 10;
}

/**
 * A DataHub `point/hourly` body as hourly forecasts. Steps without a temperature, wind speed or
 * known weather code, or off the hour, are dropped; the rest are sorted, since the port promises
 * ascending hours.
 */
export function readMetOfficeBody(
  body: unknown,
): { ok: true; modelRunDate?: string; hourly: HourlyForecast[] } | { ok: false; reason: string } {
  const parsed = hourlyPoint.safeParse(body);
  if (!parsed.success) return { ok: false, reason: describeIssues('met-office', parsed.error) };
  const [feature] = parsed.data.features;
  if (!feature) return { ok: false, reason: 'met-office answered with no feature' };
  const hourly: HourlyForecast[] = [];
  for (const step of feature.properties.timeSeries) {
    const at = new Date(step.time);
    const weather = step.significantWeatherCode == null ? undefined : conditionFromMetOfficeCode(step.significantWeatherCode);
    if (step.screenTemperature == null || step.windSpeed10m == null || weather === undefined || at.getTime() % 3_600_000 !== 0) continue;
    hourly.push({
      time: at.toISOString(),
      temperatureC: step.screenTemperature,
      precipitationProbability: step.probOfPrecipitation ?? null,
      precipitationMm: step.totalPrecipAmount ?? null,
      weather,
      windKph: metresPerSecondToKph(step.windSpeed10m),
      gustKph: step.windGustSpeed10m == null ? null : metresPerSecondToKph(step.windGustSpeed10m),
      uvIndex: step.uvIndex ?? null,
    });
  }
  hourly.sort((a, b) => a.time.localeCompare(b.time));
  const { modelRunDate } = feature.properties;
  return { ok: true, hourly, ...(modelRunDate !== undefined && { modelRunDate: new Date(modelRunDate).toISOString() }) };
}

/**
 * The Met Office Weather DataHub site-specific API: one point per request, 48 hours hourly. Its
 * free plan allows a few hundred calls a day and answers 429 once they are spent; that 429 outlasts
 * any Retry-After cap, so after a few such requests the circuit opens and the rest of the cycle
 * fails fast instead of spending attempts on a quota that will not come back until tomorrow.
 */
export class MetOfficeProvider implements WeatherProvider, WeatherProviderHealth {
  readonly name = 'met-office';
  readonly maxLocationsPerRequest = 1;
  private readonly client: ProviderClient;
  private readonly clock: () => Date;
  private readonly concurrency: number;

  constructor(options: MetOfficeProviderOptions) {
    this.clock = options.clock ?? (() => new Date());
    this.concurrency = Math.max(1, Math.floor(options.concurrency ?? 4));
    this.client = new ProviderClient(
      this.name,
      new LazyAxios({ baseURL: options.baseUrl, headers: { accept: 'application/json', apikey: options.apiKey } }),
      options,
    );
  }

  async fetchForecasts(locations: readonly ForecastLocation[], options: FetchForecastsOptions = {}): Promise<LocationForecast[]> {
    const outcomes: LocationForecast[] = [];
    // One shared iterator: each worker takes the next location when it is free.
    const queue = locations.entries();
    const worker = async () => {
      for (const [index, location] of queue) outcomes[index] = await this.fetchOne(location, options.signal, options.onRequest);
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, locations.length) }, worker));
    return outcomes;
  }

  circuitState(): CircuitStatus {
    return this.client.circuitState();
  }

  lastAnswer(): ProviderEvidence | undefined {
    return this.client.lastAnswer();
  }

  /** One point, as a fetch asks: it counts against the DataHub plan's daily calls like any other. */
  async probe(signal?: AbortSignal): Promise<{ readonly ok: true } | { readonly ok: false; readonly reason: string }> {
    const answer = await this.client.probe('/point/hourly', { ...PROBE_LOCATION, includeLocationName: 'false' }, signal);
    return answer.ok ? { ok: true } : answer;
  }

  private async fetchOne(
    location: ForecastLocation,
    signal: AbortSignal | undefined,
    onRequest: ((ms: number) => void) | undefined,
  ): Promise<LocationForecast> {
    const answer = await this.client.get(
      '/point/hourly',
      { latitude: roundCoordinate(location.latitude), longitude: roundCoordinate(location.longitude), includeLocationName: 'false' },
      signal,
      onRequest,
    );
    if (!answer.ok) return { region: location.region, ok: false, reason: answer.reason };
    const fetchedAt = this.clock().toISOString();
    const read = readMetOfficeBody(answer.data);
    if (!read.ok) return { region: location.region, ok: false, reason: read.reason };
    return { region: location.region, ok: true, source: this.name, issuedAt: read.modelRunDate ?? fetchedAt, hourly: read.hourly };
  }
}
