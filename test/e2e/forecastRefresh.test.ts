/**
 * Part 6 through the devhost, end to end: validated places activate regions, the queue consumer
 * fetches each new region's forecast at once (from a local Open-Meteo-compatible server), the
 * eternal refresh orchestration runs cycles (durable time sped up), and a SIGKILL in the middle of a
 * cycle loses nothing and doubles nothing.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalOpenMeteo, type LocalOpenMeteo } from '../../local/weather/localOpenMeteo';
import { regionOf } from '../../shared/regions/domain/geohash';
import { startDevhostProcess, type DevhostProcess } from '../support/devhostProcess';

const probeModule = join(__dirname, '..', '..', 'dist', 'test', 'fixtures', 'regionEventsProbe.js');

/** Twelve places about 11 km apart: twelve regions. */
const places = Array.from({ length: 12 }, (_, i) => ({
  name: `Park ${i + 1}`,
  geolocation: { latitude: 52 + Math.floor(i / 4) * 0.1, longitude: -1.6 + (i % 4) * 0.16 },
}));
const regions = places.map((place) => regionOf(place.geolocation, 5));

interface RefreshStatus {
  runtimeStatus: string;
  cycle: {
    cycle: number;
    cycleId: string;
    phase: string;
    planned: number;
    updated: number;
    failed: number;
    alreadyRecorded: number;
    requests: number;
  } | null;
}
interface ProbedEvent {
  type: string;
  version: number;
  cycleId?: string;
  ttlSeconds?: number;
}

async function eventually<T>(probe: () => Promise<T>, accept: (value: T) => boolean, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    try {
      last = await probe();
      if (accept(last)) return last;
    } catch {
      // The devhost may be restarting.
    }
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}; last: ${JSON.stringify(last)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('forecast refresh through the devhost', () => {
  let weather: LocalOpenMeteo;
  let devhost: DevhostProcess;
  const dataDir = mkdtempSync(join(tmpdir(), 'plannr-forecast-e2e-'));
  const env = {
    FORECAST_REFRESH_MINUTES: '5',
    FORECAST_BATCH_SIZE: '2',
    FORECAST_PARALLELISM: '2',
    // Five-minute cycles pass in ten seconds.
    DEVHOST_DURABLE_TIME_SCALE: '30',
  };
  const start = () =>
    startDevhostProcess({
      dataDir,
      extraModules: [probeModule],
      env: { ...env, WEATHER_PROVIDER: 'open-meteo', WEATHER_BASE_URL: weather.url },
    });

  beforeAll(async () => {
    weather = await startLocalOpenMeteo({ seed: 7 });
    devhost = await start();
  });
  afterAll(async () => {
    await devhost.stop();
    await weather.stop();
  });

  const status = async (): Promise<RefreshStatus> => {
    const answer = await fetch(`${devhost.url}/api/ops/forecast-refresh`, { headers: { 'x-functions-key': devhost.keys.masterKey } });
    if (answer.status !== 200) throw new Error(`HTTP ${answer.status}`);
    return (await answer.json()) as RefreshStatus;
  };
  const regionEvents = async (region: string) =>
    (await (await fetch(`${devhost.url}/api/test/region-events/${region}`)).json()) as ProbedEvent[];

  it('fetches a newly activated region at once, shows it in the region forecast and in nearby results', async () => {
    for (const place of places) {
      const answer = await fetch(`${devhost.url}/api/places`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-functions-key': devhost.keys.functionKey },
        body: JSON.stringify({ ...place, kind: 'outdoor', ageRange: { min: 0, max: 12 } }),
      });
      expect(answer.status).toBe(202);
      const { placeId } = (await answer.json()) as { placeId: string };
      await eventually(
        async () =>
          (
            (await (
              await fetch(`${devhost.url}/api/manage/places/${placeId}`, { headers: { 'x-functions-key': devhost.keys.functionKey } })
            ).json()) as { status?: string }
          ).status,
        (s) => s === 'locationValidated',
        20_000,
        `${place.name} validated`,
      );
      expect(
        (
          await fetch(`${devhost.url}/api/places/${placeId}/approve`, {
            method: 'POST',
            headers: { 'x-functions-key': devhost.keys.masterKey },
          })
        ).status,
      ).toBe(200);
    }
    for (const region of regions) {
      const forecast = await eventually(
        async () =>
          (await (await fetch(`${devhost.url}/api/regions/${region}/forecast`)).json()) as {
            hourly?: unknown[];
            source?: string;
            ageMinutes?: number;
          },
        (body) => (body.hourly?.length ?? 0) > 0,
        20_000,
        `the forecast of ${region}`,
      );
      expect(forecast).toMatchObject({ source: 'open-meteo', ageMinutes: expect.any(Number) });
    }
    const [first] = places;
    const at = new Date(Date.now() + 3 * 3_600_000).toISOString();
    const nearby = (await (
      await fetch(
        `${devhost.url}/api/places/nearby?lat=${first!.geolocation.latitude}&lon=${first!.geolocation.longitude}&radiusKm=1&at=${encodeURIComponent(at)}`,
      )
    ).json()) as { results: { forecast: unknown; suitability: unknown }[] };
    expect(nearby.results[0]).toMatchObject({
      forecast: { temperatureC: expect.any(Number), weather: expect.any(String), ageMinutes: expect.any(Number) },
      suitability: { score: expect.any(Number) },
    });
  }, 120_000);

  it('runs the singleton refresh in cycles that cover every region in ceil(regions / batch size) requests', async () => {
    const done = await eventually(
      status,
      (s) => s.runtimeStatus === 'Running' && s.cycle !== null && s.cycle.phase === 'waiting' && s.cycle.planned === regions.length,
      60_000,
      'a full cycle',
    );
    // The devhost's log says why a region failed, so a failure here shows its reason.
    const failures = devhost
      .output()
      .split('\n')
      .filter((line) => line.includes('ForecastRegionFailed') && line.includes(done.cycle!.cycleId));
    expect({ ...done.cycle, failures }).toMatchObject({
      requests: Math.ceil(regions.length / 2),
      updated: regions.length,
      failed: 0,
      failures: [],
    });
    const events = await regionEvents(regions[0]!);
    expect(events.filter((event) => event.cycleId === done.cycle!.cycleId)).toEqual([
      { type: 'ForecastUpdated', version: expect.any(Number), cycleId: done.cycle!.cycleId, ttlSeconds: 172_800 },
    ]);
  }, 90_000);

  it('SIGKILLed mid-cycle, restarted: the cycle resumes and completes with exactly one ForecastUpdated per (cycle, region)', async () => {
    weather.setFaults({ latencyMs: 1500 });
    const fetching = await eventually(
      status,
      (s) => s.cycle !== null && s.cycle.phase === 'fetching' && s.cycle.planned === regions.length,
      60_000,
      'a cycle fetching',
    );
    const cycleId = fetching.cycle!.cycleId;
    // The status tallies when the batch activities end (one wave here), so half-way is read from the streams.
    await eventually(
      async () =>
        (await Promise.all(regions.map(regionEvents))).filter((events) => events.some((event) => event.cycleId === cycleId)).length,
      (recorded) => recorded >= 2 && recorded < regions.length,
      60_000,
      'a cycle half-way',
    );
    expect(await devhost.stop('SIGKILL')).toBeNull();

    weather.setFaults({ latencyMs: 50 });
    devhost = await start();
    await eventually(
      async () =>
        (await Promise.all(regions.map(regionEvents))).map((events) => events.filter((event) => event.cycleId === cycleId).length),
      (counts) => counts.every((count) => count >= 1),
      60_000,
      `every region recorded in ${cycleId}`,
    );
    // Give a doubled append (if there were one) time to land before counting.
    await eventually(status, (s) => s.cycle !== null && s.cycle.cycleId !== cycleId, 60_000, 'the next cycle');
    for (const region of regions) {
      const recorded = (await regionEvents(region)).filter((event) => event.cycleId === cycleId);
      expect({ region, recorded }).toEqual({ region, recorded: [expect.objectContaining({ type: 'ForecastUpdated' })] });
    }
    expect((await status()).runtimeStatus).toBe('Running');
  }, 180_000);

  it('the ops answer shows no durable URLs or keys, and function keys are refused', async () => {
    const answer = await fetch(`${devhost.url}/api/ops/forecast-refresh`, { headers: { 'x-functions-key': devhost.keys.masterKey } });
    const text = await answer.text();
    expect(text).not.toMatch(/runtime\/webhooks|code=|taskHub|systemKey|statusQueryGetUri/i);
    expect(text).not.toContain(devhost.keys.masterKey);
    expect(
      (await fetch(`${devhost.url}/api/ops/forecast-refresh`, { headers: { 'x-functions-key': devhost.keys.functionKey } })).status,
    ).toBe(401);
  });
});
