/**
 * A local server that speaks Open-Meteo's forecast API (`GET /v1/forecast`), for tests, benchmarks
 * and `npm start -- --offline`. The weather is made up but plausible and deterministic by place and
 * hour (./syntheticWeather.ts), and faults can be injected: latency, errors, hangs and 429 bursts.
 * Fault decisions come from a seeded generator, so a run with the same seed and requests repeats.
 */
import type { IncomingMessage } from 'node:http';
import { startFaultyServer, type Reply, type WeatherFaults } from './faultyServer';
import { elevationAt, HOURLY_VARIABLES, weatherAt, type HourlyVariable } from './syntheticWeather';

export type { WeatherFaults };

export interface LocalOpenMeteoOptions {
  /** Default 0: a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  faults?: WeatherFaults;
  /** Seed of the fault generator (default 1). */
  seed?: number;
  /** "Today" for the forecast's first hour (default the system clock). */
  clock?: () => Date;
}

export interface LocalOpenMeteo {
  /** Base URL, e.g. `http://127.0.0.1:8090` (the API is under `/v1/forecast`). */
  readonly url: string;
  /** Replaces the faults; a `rateLimit` given here starts a new burst. */
  setFaults(faults: WeatherFaults): void;
  /** Every request in arrival order; `status` is 0 until answered (for ever, for a hang). */
  readonly requests: readonly { path: string; locations: number; status: number }[];
  /** Milliseconds this server spent making answers (generating the weather, writing the JSON). */
  readonly busyMs: number;
  stop(): Promise<void>;
}

const MAX_LOCATIONS = 1000;
const MAX_FORECAST_DAYS = 16;
/** The real API reports coordinates of its grid cell, not the ones asked for. */
const GRID_DEGREES = 0.02;
const HOUR_MS = 60 * 60 * 1000;

const UNITS: Record<HourlyVariable, string> = {
  temperature_2m: '°C',
  precipitation_probability: '%',
  precipitation: 'mm',
  weather_code: 'wmo code',
  wind_speed_10m: 'km/h',
  wind_gusts_10m: 'km/h',
  uv_index: '',
};

/** Open-Meteo's wind units: query value → (factor from km/h, unit label). */
const WIND_UNITS: Record<string, { factor: number; label: string }> = {
  kmh: { factor: 1, label: 'km/h' },
  ms: { factor: 1 / 3.6, label: 'm/s' },
  mph: { factor: 1 / 1.609344, label: 'mp/h' },
  kn: { factor: 1 / 1.852, label: 'kn' },
};

class BadRequest extends Error {}

export async function startLocalOpenMeteo(options: LocalOpenMeteoOptions = {}): Promise<LocalOpenMeteo> {
  const clock = options.clock ?? (() => new Date());
  const server = await startFaultyServer(
    {
      locationsOf: countLocations,
      defaultRetryAfterSeconds: 60,
      tooManyRequests: (reply, retryAfter) =>
        reply(
          429,
          { error: true, reason: 'Minutely API request limit exceeded. Please try again in one minute.' },
          { 'retry-after': retryAfter },
        ),
      injectedError: (reply, status) => reply(status, { error: true, reason: `Injected fault: HTTP ${status}` }),
      answer: (request, url, reply) => route(request, url, reply, clock),
    },
    options,
  );
  return {
    url: server.origin,
    requests: server.requests,
    setFaults: server.setFaults,
    stop: server.stop,
    get busyMs() {
      return server.busyMs;
    },
  };
}

function route(request: IncomingMessage, url: URL, reply: Reply, clock: () => Date): void {
  if (url.pathname !== '/v1/forecast') {
    reply(404, { error: true, reason: 'Not Found' });
    return;
  }
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    reply(405, { error: true, reason: 'Method Not Allowed' });
    return;
  }
  const started = process.hrtime.bigint();
  let body: unknown;
  try {
    const query = parseForecastQuery(url.searchParams);
    const forecasts = query.locations.map((location) => forecastFor(location, query, clock(), started));
    body = forecasts.length === 1 ? forecasts[0] : forecasts;
  } catch (error) {
    // A bug here must not take the server (or the devhost it runs in) down with it.
    if (error instanceof BadRequest) reply(400, { error: true, reason: error.message });
    else reply(500, { error: true, reason: error instanceof Error ? error.message : 'Internal error' });
    return;
  }
  reply(200, body);
}

interface ForecastQuery {
  readonly locations: readonly { latitude: number; longitude: number }[];
  readonly variables: readonly HourlyVariable[];
  readonly days: number;
  readonly wind: { factor: number; label: string };
}

function parseForecastQuery(params: URLSearchParams): ForecastQuery {
  const latitudes = numberList(params, 'latitude');
  const longitudes = numberList(params, 'longitude');
  if (latitudes.length !== longitudes.length)
    throw new BadRequest("Parameter 'latitude' and 'longitude' must have the same number of elements");
  if (latitudes.length > MAX_LOCATIONS) throw new BadRequest(`At most ${MAX_LOCATIONS} locations may be requested at once`);
  latitudes.forEach((latitude) => {
    if (latitude < -90 || latitude > 90) throw new BadRequest(`Latitude must be in range of -90 to 90°. Given: ${latitude}.`);
  });
  longitudes.forEach((longitude) => {
    if (longitude < -180 || longitude > 180) throw new BadRequest(`Longitude must be in range of -180 to 180°. Given: ${longitude}.`);
  });

  const variables: HourlyVariable[] = [];
  for (const name of (params.get('hourly') ?? '')
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean)) {
    if (!isHourlyVariable(name))
      throw new BadRequest(`Cannot initialize ForecastVariable from invalid String value ${name} for key hourly`);
    if (!variables.includes(name)) variables.push(name);
  }
  for (const unsupported of ['daily', 'current', 'minutely_15']) {
    if (params.has(unsupported)) throw new BadRequest(`Parameter '${unsupported}' is not supported by this local server`);
  }

  const timezone = params.get('timezone') ?? 'GMT';
  if (timezone !== 'UTC' && timezone !== 'GMT')
    throw new BadRequest(`Invalid timezone ${timezone}: this local server serves UTC (or GMT) only`);
  const temperatureUnit = params.get('temperature_unit') ?? 'celsius';
  if (temperatureUnit !== 'celsius')
    throw new BadRequest(`Invalid temperature_unit ${temperatureUnit}: this local server serves celsius only`);
  const windUnit = params.get('wind_speed_unit') ?? 'kmh';
  const wind = WIND_UNITS[windUnit];
  if (!wind) throw new BadRequest(`Cannot initialize WindspeedUnit from invalid String value ${windUnit} for key wind_speed_unit`);

  const daysParam = params.get('forecast_days') ?? '7';
  const days = /^\d+$/.test(daysParam) ? Number(daysParam) : Number.NaN;
  if (!(days >= 1 && days <= MAX_FORECAST_DAYS))
    throw new BadRequest(`Forecast days is invalid. Allowed range 1 to ${MAX_FORECAST_DAYS}. Given ${daysParam}.`);

  return { locations: latitudes.map((latitude, i) => ({ latitude, longitude: longitudes[i] ?? 0 })), variables, days, wind };
}

function forecastFor(
  location: { latitude: number; longitude: number },
  query: ForecastQuery,
  now: Date,
  started: bigint,
): Record<string, unknown> {
  const latitude = snap(location.latitude);
  const longitude = snap(location.longitude);
  const firstHour = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  const { time, weather } = generated(latitude, longitude, firstHour, query.days);
  const units: Record<string, string> = { time: 'iso8601' };
  const hourly: Record<string, unknown> = { time };
  for (const variable of query.variables) {
    const wind = variable === 'wind_speed_10m' || variable === 'wind_gusts_10m';
    units[variable] = wind ? query.wind.label : UNITS[variable];
    hourly[variable] =
      wind && query.wind.factor !== 1
        ? weather[variable].map((value) => Math.round(value * query.wind.factor * 10) / 10)
        : weather[variable];
  }
  return {
    latitude,
    longitude,
    generationtime_ms: Number(process.hrtime.bigint() - started) / 1e6,
    utc_offset_seconds: 0,
    timezone: 'GMT',
    timezone_abbreviation: 'GMT',
    elevation: elevationAt(latitude, longitude),
    ...(query.variables.length > 0 && { hourly_units: units, hourly }),
  };
}

/**
 * Weeks already generated, by place and first hour, the oldest used first out: a benchmark asks the
 * same 2,000 places every cycle, and generating was most of this server's work. Values are a pure
 * function of the key, so every server in the process can share them. Answers are built from them,
 * never changed.
 */
const GENERATED = new Map<string, { time: readonly string[]; weather: Readonly<Record<HourlyVariable, readonly number[]>> }>();
const MAX_GENERATED = 4096;

function generated(latitude: number, longitude: number, firstHour: number, days: number) {
  const key = `${latitude},${longitude},${firstHour},${days}`;
  const known = GENERATED.get(key);
  if (known) {
    GENERATED.delete(key);
    GENERATED.set(key, known);
    return known;
  }
  const time: string[] = [];
  const weather = Object.fromEntries(HOURLY_VARIABLES.map((variable) => [variable, [] as number[]])) as Record<HourlyVariable, number[]>;
  for (let i = 0; i < days * 24; i += 1) {
    const hour = new Date(firstHour + i * HOUR_MS);
    time.push(hour.toISOString().slice(0, 16));
    const values = weatherAt(latitude, longitude, hour);
    for (const variable of HOURLY_VARIABLES) weather[variable].push(values[variable]);
  }
  const entry = { time, weather };
  if (GENERATED.size >= MAX_GENERATED) GENERATED.delete(GENERATED.keys().next().value ?? '');
  GENERATED.set(key, entry);
  return entry;
}

function numberList(params: URLSearchParams, name: string): number[] {
  const raw = params.get(name);
  if (raw === null || raw.trim() === '') throw new BadRequest(`Value of type 'String' required for key '${name}'.`);
  return raw.split(',').map((part) => {
    const value = Number(part.trim());
    if (part.trim() === '' || !Number.isFinite(value))
      throw new BadRequest(`Cannot initialize Float from invalid String value ${part} for key ${name}`);
    return value;
  });
}

function countLocations(url: URL): number {
  const raw = url.searchParams.get('latitude');
  return raw === null || raw.trim() === '' ? 0 : raw.split(',').length;
}

function isHourlyVariable(name: string): name is HourlyVariable {
  return (HOURLY_VARIABLES as readonly string[]).includes(name);
}

function snap(degrees: number): number {
  return Math.round(Math.round(degrees / GRID_DEGREES) * GRID_DEGREES * 1e4) / 1e4;
}
