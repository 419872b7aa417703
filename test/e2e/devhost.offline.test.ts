import { join } from 'node:path';
import { startDevhostProcess, type DevhostProcess } from '../support/devhostProcess';

const probeModule = join(__dirname, '..', '..', 'dist', 'test', 'fixtures', 'weatherSettingsProbe.js');

describe('npm start -- --offline', () => {
  let devhost: DevhostProcess;
  beforeAll(async () => {
    devhost = await startDevhostProcess({
      args: ['--offline'],
      extraModules: [probeModule],
      // Offline wins over weather settings from the environment (and local.settings.json).
      env: {
        WEATHER_PROVIDER: 'met-office',
        WEATHER_BASE_URL: 'http://127.0.0.1:9/not-this-one',
        POSTCODES_BASE_URL: 'http://127.0.0.1:9/nor-this',
        GEOCODER_BASE_URL: 'http://127.0.0.1:9/nor-this',
      },
    });
  });
  afterAll(async () => {
    await devhost.stop();
  });

  it('geocodes postcodes and the sample towns locally: parents can search without a network', async () => {
    expect(devhost.output()).toMatch(
      /Geocoding: local \(offline\), postcodes\.io stand-in at http:\/\/\S+, Open-Meteo geocoding stand-in at http:\/\/\S+/,
    );
    const geocode = async (q: string) => {
      const answer = await fetch(`${devhost.url}/api/geocode?q=${encodeURIComponent(q)}`);
      return { status: answer.status, body: await answer.json() };
    };
    await expect(geocode('m3 4fp')).resolves.toEqual({
      status: 200,
      body: { latitude: 53.477, longitude: -2.2549, label: 'M3 4FP, England' },
    });
    await expect(geocode('Knutsford')).resolves.toMatchObject({ status: 200, body: { label: 'Knutsford, England, GB' } });
    // Richmond, Virginia comes first from the geocoder; parents get the one in the service area.
    await expect(geocode('Richmond')).resolves.toMatchObject({ status: 200, body: { latitude: 51.46171, label: 'Richmond, England, GB' } });
    await expect(geocode('Atlantis')).resolves.toMatchObject({ status: 404, body: { status: 404 } });
    await expect(geocode('Paris')).resolves.toMatchObject({ status: 404, body: { detail: expect.stringContaining('outside the area') } });
    await expect(geocode('x')).resolves.toMatchObject({ status: 400, body: { errors: [{ field: 'q' }] } });
  });

  it('points the app at a local Open-Meteo-compatible server, says so, and stops it with the devhost', async () => {
    const banner = /Forecasts: local \(offline\), from the Open-Meteo-compatible server at (http:\/\/\S+)\/v1\/forecast/.exec(
      devhost.output(),
    );
    expect(banner).not.toBeNull();
    const weatherUrl = banner?.[1] ?? '';

    const seen = (await (await fetch(`${devhost.url}/api/test/weather-settings`)).json()) as { provider: string; baseUrl: string };
    expect(seen).toEqual({ provider: 'open-meteo', baseUrl: weatherUrl });

    const answer = await fetch(
      `${seen.baseUrl}/v1/forecast?latitude=53.48&longitude=-2.24&hourly=temperature_2m,weather_code&timezone=UTC&forecast_days=7`,
    );
    expect(answer.status).toBe(200);
    const forecast = (await answer.json()) as {
      timezone: string;
      hourly: { time: string[]; temperature_2m: number[]; weather_code: number[] };
    };
    expect(forecast.timezone).toBe('GMT');
    expect(forecast.hourly.time).toHaveLength(7 * 24);
    expect(forecast.hourly.temperature_2m).toHaveLength(7 * 24);

    expect(await devhost.stop()).toBe(0);
    await expect(fetch(`${seen.baseUrl}/v1/forecast?latitude=53.48&longitude=-2.24`)).rejects.toThrow();
  });
});
