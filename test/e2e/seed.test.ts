import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { eventually } from '../../packages/devhost/test/support/eventually';
import { startDevhostProcess, type DevhostProcess } from '../support/devhostProcess';

const root = join(__dirname, '..', '..');
const seedScript = join(root, 'dist', 'local', 'seed.js');
const samples = (
  JSON.parse(readFileSync(join(root, 'local', 'data', 'uk-places.json'), 'utf8')) as {
    places: { name: string; geolocation: { latitude: number; longitude: number } }[];
  }
).places;
const MANCHESTER = { latitude: 53.48, longitude: -2.24 };

function runSeed(args: readonly string[], env: Record<string, string> = {}): Promise<{ code: number; output: string; ms: number }> {
  const started = Date.now();
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [seedScript, ...args],
      { cwd: root, env: { ...process.env, ...env }, timeout: 180_000 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        resolve({ code, output: `${stdout}${stderr}`, ms: Date.now() - started });
      },
    );
  });
}

function distanceKm(a: { latitude: number; longitude: number }, b: { latitude: number; longitude: number }): number {
  const rad = Math.PI / 180;
  const h =
    Math.sin(((b.latitude - a.latitude) * rad) / 2) ** 2 +
    Math.cos(a.latitude * rad) * Math.cos(b.latitude * rad) * Math.sin(((b.longitude - a.longitude) * rad) / 2) ** 2;
  return 2 * 6371 * Math.asin(Math.sqrt(h));
}

describe('npm run seed', () => {
  let devhost: DevhostProcess;
  beforeAll(async () => {
    devhost = await startDevhostProcess({ args: ['--offline'] });
  });
  afterAll(async () => {
    await devhost.stop();
  });

  const names = async (path: string) =>
    ((await (await fetch(`${devhost.url}${path}`)).json()) as { results: { name: string }[] }).results.map((r) => r.name).sort();
  const newest = () => names('/api/places/newest?limit=50');
  const nearManchester = () => names(`/api/places/nearby?lat=${MANCHESTER.latitude}&lon=${MANCHESTER.longitude}&radiusKm=10&limit=100`);
  const allNames = samples.map((place) => place.name).sort();
  const manchesterNames = samples
    .filter((place) => distanceKm(place.geolocation, MANCHESTER) <= 10)
    .map((place) => place.name)
    .sort();

  it('proposes, validates and approves every sample place; run again, it doubles nothing', async () => {
    expect(manchesterNames.length).toBeGreaterThanOrEqual(6);

    const first = await runSeed(['--url', devhost.url, '--keys', join(devhost.dataDir, 'keys.json')]);
    expect({ code: first.code, output: first.output }).toEqual({
      code: 0,
      output: expect.stringContaining(`Done: ${samples.length} proposed, 0 already there, ${samples.length} approved, 0 failed.`),
    });
    expect(first.output).toContain(`[${samples.length}/${samples.length}]`);
    console.log(`first seed of ${samples.length} places: ${first.ms} ms`);

    expect(await eventually(newest, (found) => found.length >= allNames.length)).toEqual(allNames);
    expect(await eventually(nearManchester, (found) => found.length >= manchesterNames.length)).toEqual(manchesterNames);

    // Each new region's forecast is fetched at once (the fetch-now queue), well inside one refresh cycle.
    const at = new Date(Date.now() + 2 * 3_600_000).toISOString();
    const forecasts = async () =>
      (
        (await (
          await fetch(
            `${devhost.url}/api/places/nearby?lat=${MANCHESTER.latitude}&lon=${MANCHESTER.longitude}&radiusKm=10&limit=100&at=${encodeURIComponent(at)}`,
          )
        ).json()) as { results: { forecast: unknown }[] }
      ).results.map((result) => result.forecast);
    const withForecasts = await eventually(
      forecasts,
      (found) => found.length === manchesterNames.length && found.every((forecast) => forecast !== null),
    );
    for (const forecast of withForecasts)
      expect(forecast).toEqual(expect.objectContaining({ temperatureC: expect.any(Number), weather: expect.any(String) }));
    expect(withForecasts).toHaveLength(manchesterNames.length);

    // Keys from the environment this time, as DEVHOST_*_KEY set them for the devhost.
    const second = await runSeed(['--url', devhost.url], {
      DEVHOST_FUNCTION_KEY: devhost.keys.functionKey,
      DEVHOST_MASTER_KEY: devhost.keys.masterKey,
    });
    expect({ code: second.code, output: second.output }).toEqual({
      code: 0,
      output: expect.stringContaining(`Done: 0 proposed, ${samples.length} already there, 0 approved, 0 failed.`),
    });
    console.log(`second seed: ${second.ms} ms`);

    // Give any stray projection time to show, then nothing is doubled.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(await newest()).toEqual(allNames);
    expect(await nearManchester()).toEqual(manchesterNames);
  }, 240_000);

  it('fails clearly, with a non-zero exit, when no devhost answers', async () => {
    const port = await new Promise<number>((resolve) => {
      const probe = createServer();
      probe.listen(0, '127.0.0.1', () => {
        const { port: free } = probe.address() as { port: number };
        probe.close(() => resolve(free));
      });
    });
    const answer = await runSeed(['--url', `http://127.0.0.1:${port}`], { DEVHOST_FUNCTION_KEY: 'f', DEVHOST_MASTER_KEY: 'm' });
    expect(answer.code).not.toBe(0);
    expect(answer.output).toContain(`The devhost is not reachable at http://127.0.0.1:${port}`);
    expect(answer.output).not.toContain('Done:');
  });
});
