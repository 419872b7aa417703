/**
 * Both weather adapters (axios) against local servers that speak their providers' formats: the
 * shared conformance suite, then what is particular to each (query shape, keys, units, model run).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startLocalOpenMeteo } from '../../local/weather/localOpenMeteo';
import { MetOfficeProvider } from '../../shared/regions/adapters/weather/metOfficeProvider';
import { OpenMeteoProvider } from '../../shared/regions/adapters/weather/openMeteoProvider';
import { startLocalMetOffice, type LocalMetOffice } from '../support/localMetOffice';
import {
  describeWeatherProviderConformance,
  expectPlausibleForecast,
  PLACES,
  TEST_RETRY_POLICY,
} from '../support/weatherProviderConformance';

const FETCHED_AT = new Date('2025-11-17T09:41:07.000Z');

describeWeatherProviderConformance('open-meteo', async ({ baseUrl, ...tuning }) => {
  const server = await startLocalOpenMeteo();
  return { provider: new OpenMeteoProvider({ baseUrl: baseUrl ?? server.url, ...tuning, clock: () => FETCHED_AT }), server };
});

describeWeatherProviderConformance('met-office', async ({ baseUrl, ...tuning }) => {
  const server = await startLocalMetOffice();
  return { provider: new MetOfficeProvider({ baseUrl: baseUrl ?? server.url, apiKey: server.apiKey, ...tuning }), server };
});

describe('the Open-Meteo adapter', () => {
  it('asks for the documented hourly variables in UTC and km/h, for every location of the batch at 4 decimals', async () => {
    const asked: URL[] = [];
    const recorder = createServer((request, response) => {
      asked.push(new URL(request.url ?? '/', 'http://x'));
      response.writeHead(400, { 'content-type': 'application/json' }).end('{"error":true,"reason":"Recorded"}');
    });
    await new Promise<void>((resolve) => recorder.listen(0, '127.0.0.1', resolve));
    try {
      const provider = new OpenMeteoProvider({
        baseUrl: `http://127.0.0.1:${(recorder.address() as AddressInfo).port}`,
        retry: TEST_RETRY_POLICY,
      });
      const outcomes = await provider.fetchForecasts([
        { region: 'a', latitude: 53.480812345, longitude: -2.242631 },
        { region: 'b', latitude: 55.95, longitude: -3.18830001 },
      ]);
      expect(outcomes).toEqual([
        { region: 'a', ok: false, reason: 'open-meteo answered HTTP 400: Recorded (not retried)' },
        { region: 'b', ok: false, reason: 'open-meteo answered HTTP 400: Recorded (not retried)' },
      ]);
      expect(asked).toHaveLength(1);
      expect(asked[0]?.pathname).toBe('/v1/forecast');
      expect(Object.fromEntries(asked[0]?.searchParams ?? [])).toEqual({
        latitude: '53.4808,55.95',
        longitude: '-2.2426,-3.1883',
        hourly: 'temperature_2m,precipitation_probability,precipitation,weather_code,wind_speed_10m,wind_gusts_10m,uv_index',
        timezone: 'UTC',
        forecast_days: '7',
        wind_speed_unit: 'kmh',
      });
    } finally {
      await new Promise<void>((resolve) => recorder.close(() => resolve()));
    }
  });

  it('stamps issuedAt with its clock, covers seven days from midnight UTC, and splits more than a batch', async () => {
    const server = await startLocalOpenMeteo({ clock: () => new Date('2025-11-17T09:00:00Z') });
    try {
      const provider = new OpenMeteoProvider({ baseUrl: server.url, batchSize: 2, retry: TEST_RETRY_POLICY, clock: () => FETCHED_AT });
      expect(provider.maxLocationsPerRequest).toBe(2);
      const outcomes = await provider.fetchForecasts(PLACES);
      for (const outcome of outcomes) {
        expectPlausibleForecast(outcome, provider);
        if (!outcome.ok) continue;
        expect(outcome.issuedAt).toBe(FETCHED_AT.toISOString());
        expect(outcome.hourly).toHaveLength(7 * 24);
        expect(outcome.hourly[0]?.time).toBe('2025-11-17T00:00:00.000Z');
      }
      expect(server.requests.map((request) => request.locations)).toEqual([2, 1]);
    } finally {
      await server.stop();
    }
  });
});

describe('the Met Office adapter', () => {
  let server: LocalMetOffice;
  beforeEach(async () => {
    server = await startLocalMetOffice({ clock: () => new Date('2025-11-17T10:20:00Z') });
  });
  afterEach(() => server.stop());

  it('takes issuedAt from the model run, keeps missing values null, and converts wind to km/h', async () => {
    const provider = new MetOfficeProvider({
      baseUrl: server.url,
      apiKey: server.apiKey,
      retry: TEST_RETRY_POLICY,
      clock: () => FETCHED_AT,
    });
    const [outcome] = await provider.fetchForecasts([PLACES[0]!]);
    expectPlausibleForecast(outcome, provider);
    if (!outcome?.ok) return;
    expect(outcome.issuedAt).toBe('2025-11-17T09:00:00.000Z');
    expect(outcome.hourly).toHaveLength(49);
    expect(outcome.hourly[0]).toMatchObject({ time: '2025-11-17T09:00:00.000Z', precipitationMm: null, precipitationProbability: null });
    expect(outcome.hourly[1]?.precipitationMm).not.toBeNull();
    // Synthetic wind is a few to tens of km/h; left in m/s it would read about 3.6 times too calm.
    const meanWind = outcome.hourly.reduce((sum, hour) => sum + hour.windKph, 0) / outcome.hourly.length;
    expect(meanWind).toBeGreaterThan(5);
  });

  it('sends its key, and fails at once with 401 when the key is wrong', async () => {
    const provider = new MetOfficeProvider({ baseUrl: server.url, apiKey: 'not-the-key', retry: TEST_RETRY_POLICY });
    expect(await provider.fetchForecasts([PLACES[0]!])).toEqual([
      { region: PLACES[0]!.region, ok: false, reason: 'met-office answered HTTP 401: Invalid client id or secret. (not retried)' },
    ]);
    expect(server.requests.map((request) => request.status)).toEqual([401]);
  });

  it('asks for one location per request, a few at a time', async () => {
    server.setFaults({ latencyMs: 100 });
    const provider = new MetOfficeProvider({ baseUrl: server.url, apiKey: server.apiKey, retry: TEST_RETRY_POLICY, concurrency: 3 });
    const locations = Array.from({ length: 9 }, (_, i) => ({ region: `r${i}`, latitude: 50 + i * 0.5, longitude: -4 + i * 0.3 }));
    const outcomes = await provider.fetchForecasts(locations);
    expect(outcomes.map((outcome) => outcome.region)).toEqual(locations.map((location) => location.region));
    for (const outcome of outcomes) expectPlausibleForecast(outcome, provider);
    expect(server.requests.every((request) => request.locations === 1 && request.path === '/sitespecific/v0/point/hourly')).toBe(true);
    expect(server.requests).toHaveLength(9);
    expect(server.peakInFlight).toBe(3);
  });
});
