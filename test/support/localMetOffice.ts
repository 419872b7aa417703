/**
 * A test-only stand-in for the Met Office Weather DataHub site-specific API
 * (`GET /sitespecific/v0/point/hourly?latitude=&longitude=`), in its real shape: a GeoJSON
 * FeatureCollection whose one Feature has a Point geometry and `properties` with
 * `requestPointDistance`, `modelRunDate` and 49 hourly `timeSeries` steps (wind in m/s, the
 * significant-weather code), plus the top-level `parameters` list describing units. The weather
 * is the local Open-Meteo server's synthetic weather, translated, so both providers tell the same
 * story for a place.
 *
 * As the real gateway does, a request without the right `apikey` header is answered 401 before
 * anything else. Faults are the local Open-Meteo server's knobs (latency, errors, hangs, 429
 * bursts), drawn from a seeded generator so that a run repeats.
 */
import { startFaultyServer, type Reply, type WeatherFaults } from '../../local/weather/faultyServer';
import { elevationAt, weatherAt } from '../../local/weather/syntheticWeather';

export type { WeatherFaults };

export interface LocalMetOfficeOptions {
  port?: number;
  host?: string;
  faults?: WeatherFaults;
  seed?: number;
  /** "Now" for the model run and the first step (default the system clock). */
  clock?: () => Date;
  /** The key the server accepts (default `local-test-key`). */
  apiKey?: string;
}

export interface LocalMetOffice {
  /** Base URL including `/sitespecific/v0`, as WEATHER_BASE_URL would be. */
  readonly url: string;
  readonly apiKey: string;
  /** Replaces the faults; a `rateLimit` given here starts a new burst. */
  setFaults(faults: WeatherFaults): void;
  /** Every request in arrival order; `status` 0 for one left hanging. */
  readonly requests: readonly { path: string; locations: number; status: number }[];
  /** The most requests that were open at once. */
  readonly peakInFlight: number;
  stop(): Promise<void>;
}

const BASE_PATH = '/sitespecific/v0';
const HOUR_MS = 60 * 60 * 1000;
const STEPS = 49;

export async function startLocalMetOffice(options: LocalMetOfficeOptions = {}): Promise<LocalMetOffice> {
  const clock = options.clock ?? (() => new Date());
  const apiKey = options.apiKey ?? 'local-test-key';
  const server = await startFaultyServer(
    {
      locationsOf: (url) => (url.searchParams.has('latitude') ? 1 : 0),
      // As the real gateway does: a wrong key is refused before anything else.
      refuse: (request, reply) =>
        request.headers.apikey === apiKey ? undefined : () => reply(401, gatewayError(401, 'Unauthorized', 'Invalid client id or secret.')),
      defaultRetryAfterSeconds: 3600,
      tooManyRequests: (reply, retryAfter) =>
        reply(429, gatewayError(429, 'Too Many Requests', 'Rate Limit exceeded'), { 'retry-after': retryAfter }),
      injectedError: (reply, status) => reply(status, gatewayError(status, 'Injected fault', `HTTP ${status}`)),
      hang: (response, draw) => {
        if (draw >= 0.5) return;
        // Headers and part of the body, then nothing: only the client's abort signal ends this.
        response.writeHead(200, { 'content-type': 'application/json', 'content-length': '4000' });
        response.write('{"type":"FeatureCollection","features":[{"type":"Feat');
      },
      answer: (_request, url, reply) => route(url, reply, clock()),
    },
    options,
  );
  return {
    url: `${server.origin}${BASE_PATH}`,
    apiKey,
    requests: server.requests,
    get peakInFlight() {
      return server.peakInFlight;
    },
    setFaults: server.setFaults,
    stop: server.stop,
  };
}

function route(url: URL, reply: Reply, now: Date): void {
  if (url.pathname !== `${BASE_PATH}/point/hourly`) {
    reply(404, gatewayError(404, 'Not Found', 'No resources match requested URI'));
    return;
  }
  const latitude = Number(url.searchParams.get('latitude') ?? Number.NaN);
  const longitude = Number(url.searchParams.get('longitude') ?? Number.NaN);
  if (!(latitude >= -90 && latitude <= 90) || !(longitude >= -180 && longitude <= 180)) {
    reply(400, { httpCode: '400', httpMessage: 'Bad Request', moreInformation: 'latitude and longitude must be valid coordinates' });
    return;
  }
  reply(200, hourlyPoint(latitude, longitude, now, url.searchParams.get('includeLocationName') === 'true'));
}

/** The point snaps to a site on a ~2 km grid; `requestPointDistance` says how far that is (metres). */
function hourlyPoint(latitude: number, longitude: number, now: Date, withName: boolean): unknown {
  const siteLatitude = Math.round(latitude * 50) / 50;
  const siteLongitude = Math.round(longitude * 30) / 30;
  const distance = Math.hypot(
    (siteLatitude - latitude) * 111_195,
    (siteLongitude - longitude) * 111_195 * Math.cos((latitude * Math.PI) / 180),
  );
  // The run is an hour or so old by the time it is served.
  const modelRun = Math.floor(now.getTime() / HOUR_MS) * HOUR_MS - HOUR_MS;
  const timeSeries = Array.from({ length: STEPS }, (_, step) =>
    timeStep(siteLatitude, siteLongitude, new Date(modelRun + step * HOUR_MS), step === 0),
  );
  return {
    type: 'FeatureCollection',
    features: [
      {
        type: 'Feature',
        geometry: { type: 'Point', coordinates: [siteLongitude, siteLatitude, elevationAt(siteLatitude, siteLongitude)] },
        properties: {
          ...(withName && { location: { name: 'Local site' } }),
          requestPointDistance: Math.round(distance * 10_000) / 10_000,
          modelRunDate: metOfficeTime(modelRun),
          timeSeries,
        },
      },
    ],
    parameters: [
      {
        screenTemperature: {
          type: 'Parameter',
          description: 'Screen Air Temperature',
          unit: { label: 'degrees Celsius', symbol: { value: 'http://www.opengis.net/def/uom/UCUM/', type: 'Cel' } },
        },
        windSpeed10m: {
          type: 'Parameter',
          description: '10m Wind Speed',
          unit: { label: 'metres per second', symbol: { value: 'http://www.opengis.net/def/uom/UCUM/', type: 'm/s' } },
        },
        windGustSpeed10m: {
          type: 'Parameter',
          description: '10m Wind Gust Speed',
          unit: { label: 'metres per second', symbol: { value: 'http://www.opengis.net/def/uom/UCUM/', type: 'm/s' } },
        },
        significantWeatherCode: {
          type: 'Parameter',
          description: 'Significant Weather Code',
          unit: { label: 'dimensionless', symbol: { value: 'https://datahub.metoffice.gov.uk/', type: '1' } },
        },
        totalPrecipAmount: {
          type: 'Parameter',
          description: 'Total Precipitation Amount',
          unit: { label: 'millimetres', symbol: { value: 'http://www.opengis.net/def/uom/UCUM/', type: 'mm' } },
        },
        probOfPrecipitation: {
          type: 'Parameter',
          description: 'Probability of Precipitation',
          unit: { label: 'percentage', symbol: { value: 'http://www.opengis.net/def/uom/UCUM/', type: '%' } },
        },
        uvIndex: {
          type: 'Parameter',
          description: 'UV Index',
          unit: { label: 'dimensionless', symbol: { value: 'http://www.opengis.net/def/uom/UCUM/', type: '1' } },
        },
      },
    ],
  };
}

/** The first step is the run's analysis: it has no totals or extremes over a previous hour. */
function timeStep(latitude: number, longitude: number, at: Date, first: boolean): Record<string, unknown> {
  const hour = weatherAt(latitude, longitude, at);
  const day = at.getUTCHours() >= 7 && at.getUTCHours() < 19;
  const windSpeed = Math.round((hour.wind_speed_10m / 3.6) * 100) / 100;
  const gust = Math.round((hour.wind_gusts_10m / 3.6) * 100) / 100;
  return {
    time: metOfficeTime(at.getTime()),
    screenTemperature: hour.temperature_2m,
    ...(!first && { maxScreenAirTemp: hour.temperature_2m + 0.2, minScreenAirTemp: hour.temperature_2m - 0.2 }),
    screenDewPointTemperature: Math.round((hour.temperature_2m - 2.5) * 100) / 100,
    feelsLikeTemperature: Math.round((hour.temperature_2m - windSpeed / 2) * 100) / 100,
    windSpeed10m: windSpeed,
    windDirectionFrom10m: 225,
    windGustSpeed10m: gust,
    ...(!first && { max10mWindGust: Math.round(gust * 110) / 100 }),
    visibility: hour.weather_code === 45 || hour.weather_code === 48 ? 800 : 20_000,
    screenRelativeHumidity: 82.5,
    mslp: 101_200,
    uvIndex: Math.round(hour.uv_index),
    significantWeatherCode: metOfficeCode(hour.weather_code, day),
    precipitationRate: hour.precipitation,
    ...(!first && { totalPrecipAmount: hour.precipitation, totalSnowAmount: 0, probOfPrecipitation: hour.precipitation_probability }),
  };
}

/** The synthetic weather's WMO code as the significant-weather code the Met Office would give. */
function metOfficeCode(wmo: number, day: boolean): number {
  const either = (night: number) => (day ? night + 1 : night);
  if (wmo <= 1) return either(0);
  if (wmo === 2) return either(2);
  if (wmo === 3) return 8;
  if (wmo === 45 || wmo === 48) return 6;
  if (wmo >= 51 && wmo <= 57) return 11;
  if (wmo === 61) return 12;
  if (wmo >= 63 && wmo <= 67) return 15;
  if (wmo === 80) return either(9);
  if (wmo === 81 || wmo === 82) return either(13);
  if (wmo === 85) return either(22);
  if (wmo === 86) return either(25);
  if (wmo >= 71 && wmo <= 77) return wmo >= 75 ? 27 : 24;
  return either(28);
}

function metOfficeTime(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 16)}Z`;
}

/** The API gateway's error body. */
function gatewayError(status: number, httpMessage: string, moreInformation: string): unknown {
  return { httpCode: String(status), httpMessage, moreInformation };
}
