import { startLocalOpenMeteo, type LocalOpenMeteo } from '../../local/weather/localOpenMeteo';

interface Forecast {
  latitude: number;
  longitude: number;
  generationtime_ms: number;
  utc_offset_seconds: number;
  timezone: string;
  timezone_abbreviation: string;
  elevation: number;
  hourly_units: Record<string, string>;
  hourly: Record<string, number[]> & { time: string[] };
}

const ALL = 'temperature_2m,precipitation_probability,precipitation,weather_code,wind_speed_10m,wind_gusts_10m,uv_index';
const RAIN = new Set([51, 53, 55, 61, 63, 65, 80, 81, 82]);
const SNOW = new Set([71, 73, 75, 77, 85, 86]);
const THUNDER = new Set([95, 96, 99]);
const DRY = new Set([0, 1, 2, 3, 45, 48]);

/** 2025-11-17 09:30 UTC: "today" starts at 2025-11-17T00:00. */
const NOVEMBER = () => new Date('2025-11-17T09:30:00Z');

const servers: LocalOpenMeteo[] = [];
async function server(options: Parameters<typeof startLocalOpenMeteo>[0] = {}): Promise<LocalOpenMeteo> {
  const started = await startLocalOpenMeteo({ clock: NOVEMBER, ...options });
  servers.push(started);
  return started;
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

const forecastPath = (lat: string, lon: string, extra = '') =>
  `/v1/forecast?latitude=${lat}&longitude=${lon}&hourly=${ALL}&timezone=UTC${extra}`;
async function get(
  base: LocalOpenMeteo,
  path: string,
  init: RequestInit = {},
): Promise<{ status: number; headers: Headers; body: unknown }> {
  const response = await fetch(`${base.url}${path}`, init);
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? (JSON.parse(text) as unknown) : undefined };
}

describe('the local Open-Meteo forecast API', () => {
  it('answers one location with one object, several with an array in the order asked', async () => {
    const api = await server();
    const one = await get(api, forecastPath('53.48', '-2.24', '&forecast_days=2'));
    expect(one.status).toBe(200);
    expect(Array.isArray(one.body)).toBe(false);
    expect(one.body).toMatchObject({
      latitude: expect.closeTo(53.48, 1),
      longitude: expect.closeTo(-2.24, 1),
      generationtime_ms: expect.any(Number),
      utc_offset_seconds: 0,
      timezone: 'GMT',
      timezone_abbreviation: 'GMT',
      elevation: expect.any(Number),
      hourly_units: {
        time: 'iso8601',
        temperature_2m: '°C',
        precipitation_probability: '%',
        precipitation: 'mm',
        weather_code: 'wmo code',
        wind_speed_10m: 'km/h',
        wind_gusts_10m: 'km/h',
        uv_index: '',
      },
    });

    const many = await get(api, forecastPath('53.48,51.5,55.95', '-2.24,-0.12,-3.19'));
    expect(many.status).toBe(200);
    const list = many.body as Forecast[];
    expect(list).toHaveLength(3);
    expect(list.map((f) => Math.round(f.latitude))).toEqual([53, 52, 56]);
    expect(list.map((f) => Math.round(f.longitude) + 0)).toEqual([-2, 0, -3]);
    // The same place alone or in a batch has the same weather.
    const alone = (await get(api, forecastPath('51.5', '-0.12'))).body as Forecast;
    expect(list[1]!.hourly).toEqual(alone.hourly);
  });

  it('returns only the variables asked for, forecast_days × 24 whole UTC hours from today 00:00', async () => {
    const api = await server();
    const answer = (
      await get(api, '/v1/forecast?latitude=53.48&longitude=-2.24&hourly=temperature_2m,uv_index&timezone=GMT&forecast_days=3')
    ).body as Forecast;
    expect(Object.keys(answer.hourly).sort()).toEqual(['temperature_2m', 'time', 'uv_index']);
    expect(Object.keys(answer.hourly_units).sort()).toEqual(['temperature_2m', 'time', 'uv_index']);
    expect(answer.hourly.time).toHaveLength(72);
    expect(answer.hourly.temperature_2m).toHaveLength(72);
    expect(answer.hourly.time[0]).toBe('2025-11-17T00:00');
    expect(answer.hourly.time[71]).toBe('2025-11-19T23:00');
    answer.hourly.time.forEach((time, i) => expect(Date.parse(`${time}Z`)).toBe(Date.UTC(2025, 10, 17) + i * 3600_000));

    const byDefault = (await get(api, '/v1/forecast?latitude=53.48&longitude=-2.24&hourly=weather_code')).body as Forecast;
    expect(byDefault.hourly.time).toHaveLength(7 * 24);
    const sixteen = (await get(api, '/v1/forecast?latitude=53.48&longitude=-2.24&hourly=weather_code&forecast_days=16')).body as Forecast;
    expect(sixteen.hourly.weather_code).toHaveLength(16 * 24);
  });

  it('converts wind to the unit asked for', async () => {
    const api = await server();
    const path = (unit: string) =>
      `/v1/forecast?latitude=55.95&longitude=-3.19&hourly=wind_speed_10m,wind_gusts_10m&forecast_days=1${unit}`;
    const kmh = (await get(api, path(''))).body as Forecast;
    const ms = (await get(api, path('&wind_speed_unit=ms'))).body as Forecast;
    const kn = (await get(api, path('&wind_speed_unit=kn'))).body as Forecast;
    expect(ms.hourly_units.wind_speed_10m).toBe('m/s');
    expect(kn.hourly_units.wind_gusts_10m).toBe('kn');
    kmh.hourly.wind_speed_10m!.forEach((speed, i) => {
      expect(ms.hourly.wind_speed_10m![i]).toBeCloseTo(speed / 3.6, 0);
      expect(kn.hourly.wind_speed_10m![i]).toBeCloseTo(speed / 1.852, 0);
    });
  });

  it('is deterministic: two servers (different fault seeds) give the same weather for the same places and hours', async () => {
    const [a, b] = [await server({ seed: 1 }), await server({ seed: 99 })];
    const path = forecastPath('53.48,50.36,57.48,51.45', '-2.24,-4.74,-4.22,-2.6', '&forecast_days=16');
    const first = await get(a, path);
    const second = await get(b, path);
    const strip = (list: unknown) => (list as Forecast[]).map(({ generationtime_ms: _ignored, ...rest }) => rest);
    expect(strip(second.body)).toEqual(strip(first.body));
    // A later "today" overlaps the earlier forecast on the hours both cover.
    const later = await server({ clock: () => new Date('2025-11-18T23:59:00Z') });
    const shifted = (await get(later, path)).body as Forecast[];
    expect(shifted[0]!.hourly.temperature_2m!.slice(0, 24)).toEqual((first.body as Forecast[])[0]!.hourly.temperature_2m!.slice(24, 48));
  });

  it('gives plausible UK weather across many places, seasons and hours', async () => {
    const lats: string[] = [];
    const lons: string[] = [];
    for (let lat = 50.1; lat <= 58.6; lat += 0.85) {
      for (let lon = -5.6; lon <= 1.6; lon += 0.9) {
        lats.push(lat.toFixed(2));
        lons.push(lon.toFixed(2));
      }
    }
    // Checked with plain conditions (a million expect() calls would take minutes); the first few
    // violations are reported.
    const problems: string[] = [];
    const check = (ok: boolean, what: () => string) => {
      if (!ok && problems.length < 20) problems.push(what());
    };
    const seen = { codes: new Set<number>(), wetHours: 0, hours: 0, thunder: 0 };
    for (const day of ['2025-01-15', '2025-04-15', '2025-07-15', '2025-10-15']) {
      const api = await server({ clock: () => new Date(`${day}T12:00:00Z`) });
      const answer = await get(api, forecastPath(lats.join(','), lons.join(','), '&forecast_days=16'));
      expect(answer.status).toBe(200);
      const summer = day.includes('-07-');
      const winter = day.includes('-01-');
      for (const forecast of answer.body as Forecast[]) {
        const h = forecast.hourly;
        const at = (i: number) => `${forecast.latitude},${forecast.longitude} ${h.time[i]}`;
        check(forecast.elevation >= 0 && forecast.elevation < 1400, () => `elevation ${forecast.elevation}`);
        let maxUv = 0;
        h.time.forEach((time, i) => {
          const temperature = h.temperature_2m![i]!;
          const probability = h.precipitation_probability![i]!;
          const amount = h.precipitation![i]!;
          const code = h.weather_code![i]!;
          const wind = h.wind_speed_10m![i]!;
          const gust = h.wind_gusts_10m![i]!;
          const uv = h.uv_index![i]!;
          const hour = Number(time.slice(11, 13));
          maxUv = Math.max(maxUv, uv);
          seen.hours += 1;
          seen.codes.add(code);
          check(
            temperature > (winter ? -18 : summer ? 0 : -10) && temperature < (summer ? 36 : winter ? 17 : 26),
            () => `${at(i)} temperature ${temperature}`,
          );
          check(Number.isInteger(probability) && probability >= 0 && probability <= 100, () => `${at(i)} probability ${probability}`);
          check(amount >= 0 && amount < 20, () => `${at(i)} precipitation ${amount}`);
          if (amount > 0) {
            seen.wetHours += 1;
            check(RAIN.has(code) || SNOW.has(code) || THUNDER.has(code), () => `${at(i)} ${amount} mm with code ${code}`);
            check(probability >= 50, () => `${at(i)} ${amount} mm at ${probability}%`);
          } else {
            check(DRY.has(code), () => `${at(i)} dry with code ${code}`);
          }
          if (SNOW.has(code)) check(temperature < 2, () => `${at(i)} snow at ${temperature} °C`);
          if (THUNDER.has(code)) seen.thunder += 1;
          if (code === 45 || code === 48) check(hour < 11 || hour >= 20, () => `${at(i)} fog in the afternoon`);
          check(wind >= 0 && wind < 100, () => `${at(i)} wind ${wind}`);
          check(gust >= wind && gust < 160, () => `${at(i)} gust ${gust} for wind ${wind}`);
          check(uv >= 0 && uv <= (summer ? 9 : 7), () => `${at(i)} uv ${uv}`);
          // The sun is down over the UK between 22:00 and 02:00 UTC all year, and in winter after 17:00 and before 08:00.
          if (hour >= 22 || hour <= 2 || (winter && (hour >= 17 || hour <= 7))) check(uv === 0, () => `${at(i)} uv ${uv} at night`);
          if (i > 0) {
            check(
              Math.abs(temperature - h.temperature_2m![i - 1]!) < 4,
              () => `${at(i)} temperature jumps from ${h.temperature_2m![i - 1]} to ${temperature}`,
            );
            check(Math.abs(wind - h.wind_speed_10m![i - 1]!) < 15, () => `${at(i)} wind jumps from ${h.wind_speed_10m![i - 1]} to ${wind}`);
          }
        });
        if (summer) check(maxUv > 3, () => `${at(0)} summer UV peaks at ${maxUv}`);
      }
    }
    expect(problems).toEqual([]);
    // Mostly dry, sometimes wet, thunder rare, and a variety of skies.
    expect(seen.wetHours / seen.hours).toBeGreaterThan(0.05);
    expect(seen.wetHours / seen.hours).toBeLessThan(0.4);
    expect(seen.thunder / seen.hours).toBeLessThan(0.02);
    for (const code of [0, 1, 2, 3, 45, 61]) expect(seen.codes).toContain(code);
  });

  it('varies smoothly between neighbouring places', async () => {
    const api = await server();
    const answer = (await get(api, forecastPath('53.40,53.46,53.52', '-2.30,-2.24,-2.18', '&forecast_days=7'))).body as Forecast[];
    const [a, b] = [answer[0]!.hourly.temperature_2m!, answer[1]!.hourly.temperature_2m!];
    a.forEach((temperature, i) => expect(Math.abs(temperature - b[i]!)).toBeLessThan(3));
  });

  it('answers bad requests as the real API does: 400 {error: true, reason}; other paths 404', async () => {
    const api = await server();
    const cases = [
      ['/v1/forecast?latitude=95&longitude=0&hourly=temperature_2m', /Latitude must be in range/],
      ['/v1/forecast?latitude=53,54&longitude=-2&hourly=temperature_2m', /same number of elements/],
      ['/v1/forecast?latitude=53&longitude=-2&hourly=temperature_2m&forecast_days=17', /Forecast days is invalid/],
      ['/v1/forecast?latitude=53&longitude=-2&hourly=temperature_2m&forecast_days=0', /Forecast days is invalid/],
      ['/v1/forecast?latitude=53&longitude=-2&hourly=temperature_2m,cloud_colour', /cloud_colour/],
      ['/v1/forecast?latitude=53&longitude=-2&hourly=temperature_2m&timezone=Europe%2FLondon', /timezone/],
      ['/v1/forecast?latitude=53&longitude=-2&hourly=temperature_2m&wind_speed_unit=furlongs', /wind_speed_unit/],
      ['/v1/forecast?latitude=53&longitude=-2&hourly=temperature_2m&temperature_unit=fahrenheit', /celsius/],
      ['/v1/forecast?longitude=-2&hourly=temperature_2m', /latitude/],
      ['/v1/forecast?latitude=abc&longitude=-2&hourly=temperature_2m', /latitude/],
    ] as const;
    for (const [path, reason] of cases) {
      const answer = await get(api, path);
      expect({ path, status: answer.status }).toEqual({ path, status: 400 });
      expect(answer.body).toEqual({ error: true, reason: expect.stringMatching(reason) });
    }
    const missing = await get(api, '/v1/archive?latitude=53&longitude=-2');
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ error: true });
  });

  it('logs every request: path, number of locations and status', async () => {
    const api = await server();
    await get(api, forecastPath('53,54', '-2,-1'));
    await get(api, '/v1/forecast?latitude=95&longitude=0');
    await get(api, '/nowhere');
    expect(api.requests).toEqual([
      { path: '/v1/forecast', locations: 2, status: 200 },
      { path: '/v1/forecast', locations: 1, status: 400 },
      { path: '/nowhere', locations: 0, status: 404 },
    ]);
  });
});

describe('fault injection', () => {
  it('adds the configured latency to every answer', async () => {
    const api = await server({ faults: { latencyMs: 200 } });
    const timed = async () => {
      const started = performance.now();
      expect((await get(api, forecastPath('53.48', '-2.24', '&forecast_days=1'))).status).toBe(200);
      return performance.now() - started;
    };
    const slow = [await timed(), await timed(), await timed()];
    for (const ms of slow) expect(ms).toBeGreaterThanOrEqual(195);
    api.setFaults({});
    expect(await timed()).toBeLessThan(150);
  });

  it('fails about errorRate of requests with errorStatus (503 by default), the same ones for the same seed', async () => {
    const run = async (faults: { errorRate: number; errorStatus?: number }) => {
      const api = await server({ seed: 7, faults });
      const statuses: number[] = [];
      for (let i = 0; i < 200; i += 1)
        statuses.push((await get(api, '/v1/forecast?latitude=53.48&longitude=-2.24&hourly=weather_code&forecast_days=1')).status);
      return statuses;
    };
    const first = await run({ errorRate: 0.3 });
    const failures = first.filter((status) => status === 503).length;
    expect(failures / first.length).toBeGreaterThan(0.2);
    expect(failures / first.length).toBeLessThan(0.4);
    expect(first.filter((status) => status !== 503 && status !== 200)).toEqual([]);
    expect(await run({ errorRate: 0.3 })).toEqual(first);
    const teapots = await run({ errorRate: 0.3, errorStatus: 500 });
    expect(teapots.map((status) => (status === 500 ? 503 : status))).toEqual(first);
  });

  it('answers exactly the next N requests with 429 and Retry-After, then serves again', async () => {
    const api = await server({ faults: { rateLimit: { next: 3, retryAfterSeconds: 2 } } });
    const answers = [];
    for (let i = 0; i < 5; i += 1) answers.push(await get(api, forecastPath('53.48', '-2.24', '&forecast_days=1')));
    expect(answers.map((a) => a.status)).toEqual([429, 429, 429, 200, 200]);
    expect(answers[0]!.headers.get('retry-after')).toBe('2');
    expect(answers[0]!.body).toEqual({ error: true, reason: expect.stringContaining('limit') });
    api.setFaults({ rateLimit: { next: 1, retryAfterSeconds: 30 } });
    const again = await get(api, forecastPath('53.48', '-2.24', '&forecast_days=1'));
    expect([again.status, again.headers.get('retry-after')]).toEqual([429, '30']);
    expect((await get(api, forecastPath('53.48', '-2.24', '&forecast_days=1'))).status).toBe(200);
    expect(api.requests.map((r) => r.status)).toEqual([429, 429, 429, 200, 200, 429, 200]);
  });

  it('hangs: the client times out, the log shows no answer, and stop() still returns promptly', async () => {
    const api = await startLocalOpenMeteo({ clock: NOVEMBER, faults: { hangRate: 1 } });
    const started = performance.now();
    await expect(fetch(`${api.url}${forecastPath('53.48', '-2.24')}`, { signal: AbortSignal.timeout(300) })).rejects.toThrow(
      /timeout|aborted/i,
    );
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
    // A second hung request still open when the server stops.
    const pending = fetch(`${api.url}${forecastPath('53.48', '-2.24')}`).then(
      () => 'answered',
      () => 'failed',
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(api.requests).toEqual([
      { path: '/v1/forecast', locations: 1, status: 0 },
      { path: '/v1/forecast', locations: 1, status: 0 },
    ]);
    const stopping = performance.now();
    await api.stop();
    expect(performance.now() - stopping).toBeLessThan(1000);
    await expect(pending).resolves.toBe('failed');
  });

  it('a hang rate hangs about that share of requests', async () => {
    const api = await server({ seed: 3, faults: { hangRate: 0.2 } });
    let hung = 0;
    for (let i = 0; i < 100; i += 1) {
      try {
        await fetch(`${api.url}${forecastPath('53.48', '-2.24', '&forecast_days=1')}`, { signal: AbortSignal.timeout(150) });
      } catch {
        hung += 1;
      }
    }
    expect(hung).toBeGreaterThan(10);
    expect(hung).toBeLessThan(32);
    expect(api.requests.filter((r) => r.status === 0)).toHaveLength(hung);
  });
});
