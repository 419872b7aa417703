/**
 * Operations through the compiled app in the devhost (--offline): a correlation id sent with a
 * proposal shows up in the log lines of every function the proposal reaches; the forecast refresh
 * writes one summary line per cycle; and /api/health reports every dependency, then turns red within
 * its 2 s check time-out when storage (the devhost's Azurite child) is frozen (SIGSTOP: nothing
 * answers) and at once when it is killed (connections refused).
 */
import { execFileSync } from 'node:child_process';
import { startDevhostProcess, type DevhostProcess } from '../support/devhostProcess';

const CORRELATION_ID = 'e2e-corr-1';

/** The devhost's function log lines: `[time] <function> (<invocation>) <level>: <message>`. */
function functionLines(output: string): { fn: string; level: string; message: string }[] {
  return [...output.matchAll(/^\[[^\]]+\] (\w+) \([0-9a-f]{8}\) (\w+): (.*)$/gm)].map(([, fn = '', level = '', message = '']) => ({
    fn,
    level,
    message,
  }));
}

async function waitFor<T>(what: string, probe: () => T | undefined, timeoutMs: number, output: () => string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}. Output:\n${output().slice(-6000)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** The Azurite process the devhost started: its child running azuriteProcess.js. */
function azuritePid(devhostPid: number): number {
  const children = execFileSync('ps', ['--ppid', String(devhostPid), '-o', 'pid=,args='], { encoding: 'utf8' })
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.includes('azuriteProcess'));
  const [line] = children;
  if (children.length !== 1 || line === undefined)
    throw new Error(`Expected one Azurite child of ${devhostPid}, found: ${JSON.stringify(children)}`);
  return Number(line.split(/\s+/)[0]);
}

interface HealthBody {
  status: string;
  checks: Record<string, { status: string; critical: boolean; durationMs: number; detail?: string; error?: string }>;
}

describe('operations, through the devhost', () => {
  let devhost: DevhostProcess;
  beforeAll(async () => {
    devhost = await startDevhostProcess();
  });
  afterAll(async () => {
    await devhost.stop('SIGKILL');
  });

  it('reports every dependency healthy, with no secrets in the report', async () => {
    const answer = await fetch(`${devhost.url}/api/health`);
    const body = (await answer.json()) as HealthBody;
    expect(answer.status).toBe(200);
    expect(body.status).toBe('healthy');
    expect(Object.keys(body.checks).sort()).toEqual(['cosmos', 'eventGrid', 'storage', 'weather']);
    expect(body.checks).toMatchObject({
      cosmos: { status: 'healthy', critical: true },
      storage: {
        status: 'healthy',
        critical: true,
        detail: expect.stringMatching(/^forecast-refresh-requests: \d+ waiting, \d+ in forecast-refresh-requests-poison$/),
      },
      eventGrid: {
        status: 'healthy',
        critical: false,
        detail: expect.stringMatching(/^topic reachable \(HTTP 405 to an unauthenticated GET\)/),
      },
      weather: { status: 'healthy', critical: false, detail: expect.stringMatching(/^open-meteo answered/) },
    });
    const text = JSON.stringify(body);
    for (const secret of ['AccountKey', 'Eby8vdM02', devhost.keys.functionKey, devhost.keys.masterKey, '127.0.0.1', 'localhost', 'http:'])
      expect(text).not.toContain(secret);
    expect(answer.headers.get('x-correlation-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('writes one ForecastRefreshCycle line for the start-up cycle, not one per replay', async () => {
    const cycles = await waitFor(
      'the first cycle summary',
      () => {
        const found = functionLines(devhost.output()).filter((line) => line.message.startsWith('ForecastRefreshCycle '));
        return found.length > 0 ? found : undefined;
      },
      20_000,
      devhost.output,
    );
    // Give any replay of the cycle time to (wrongly) log again.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const all = functionLines(devhost.output()).filter((line) => line.message.startsWith('ForecastRefreshCycle '));
    expect(all).toHaveLength(1);
    expect(cycles[0]).toMatchObject({ fn: 'forecastRefresh', level: 'information' });
    const cycleId = /\bcycle=(\S+)/.exec(cycles[0]?.message ?? '')?.[1];
    expect(cycles[0]?.message).toMatch(/ n=1 outcome=completed source=open-meteo due=0 /);
    expect(cycles[0]?.message.endsWith(`correlationId=${cycleId}`)).toBe(true);
    // The plan activity of that cycle logs under the same id.
    expect(
      functionLines(devhost.output()).some(
        (line) => line.fn === 'planForecastRefresh' && line.message.endsWith(`correlationId=${cycleId}`),
      ),
    ).toBe(true);
  });

  it('GET /api/ops/forecast-refresh reports, beside the cycle, how fresh forecasts are by demand and the day’s calls', async () => {
    const answer = await fetch(`${devhost.url}/api/ops/forecast-refresh`, { headers: { 'x-functions-key': devhost.keys.masterKey } });
    expect(answer.status).toBe(200);
    const body = (await answer.json()) as {
      cycle: Record<string, unknown> | null;
      freshness: { staleness: Record<string, Record<string, unknown>>; calls: Record<string, unknown> };
    };
    expect(body.freshness).toMatchObject({
      at: expect.any(String),
      staleness: { searchedLast6h: { targetMinutes: 60 }, others: { targetMinutes: 60 } },
      calls: {
        day: new Date().toISOString().slice(0, 10),
        counted: expect.any(Number),
        allowedByNow: expect.any(Number),
        dailyBudget: 5000,
      },
    });
    for (const group of Object.values(body.freshness.staleness))
      expect(Object.keys(group).sort()).toEqual(['maxMinutes', 'overTarget', 'p95Minutes', 'regions', 'targetMinutes', 'withoutForecast']);
    expect(body.cycle).toMatchObject({ callsToday: expect.any(Number), callLimit: expect.any(Number), searchedDue: 0 });
  });

  it(`carries ${CORRELATION_ID} from the proposal into the log lines of every function it reaches`, async () => {
    const answer = await fetch(`${devhost.url}/api/places`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-functions-key': devhost.keys.functionKey, 'x-correlation-id': CORRELATION_ID },
      body: JSON.stringify({ name: 'Ops Test Museum', geolocation: { latitude: 54.9783, longitude: -1.6178 } }),
    });
    expect(answer.status).toBe(202);
    expect(answer.headers.get('x-correlation-id')).toBe(CORRELATION_ID);

    const functions = [
      'proposePlace',
      'projectEvents',
      'publishEvents',
      'validatePlaceLocation',
      'activateRegion',
      'fetchRegionForecastNow',
    ];
    const carrying = await waitFor(
      'log lines carrying the correlation id from every function',
      () => {
        const lines = functionLines(devhost.output()).filter((line) => line.message.includes(CORRELATION_ID));
        const seen = new Set(lines.map((line) => line.fn));
        return functions.every((fn) => seen.has(fn)) ? lines : undefined;
      },
      30_000,
      devhost.output,
    );
    // Single-event functions say correlationId=…; change-feed batches list theirs in correlationIds=….
    for (const line of carrying) expect(line.message).toMatch(new RegExp(` correlationIds?=(\\S+,)*${CORRELATION_ID}(,\\S+)*$`));
    const first = (fn: string) => carrying.find((line) => line.fn === fn)?.message.split(' ')[0];
    expect(functions.map(first)).toEqual([
      'PlaceCommand',
      'EventsProjected',
      'EventsPublished',
      'PlaceLocationChecked',
      'RegionActivation',
      'ForecastFetchNow',
    ]);
    expect(carrying.find((line) => line.fn === 'fetchRegionForecastNow')?.message).toMatch(/ outcome=updated /);
  }, 60_000);

  it('answers 503 within its 2 s check time-out, not a hang, while Azurite is frozen, and recovers when it resumes', async () => {
    const pid = azuritePid(devhost.child.pid!);
    // SIGSTOP: connections are still accepted by the kernel, but nothing answers them.
    process.kill(pid, 'SIGSTOP');
    try {
      const started = performance.now();
      const answer = await fetch(`${devhost.url}/api/health`);
      const elapsed = Math.round(performance.now() - started);
      const body = (await answer.json()) as HealthBody;
      console.log(`GET /api/health with storage frozen: ${elapsed} ms, storage: ${JSON.stringify(body.checks.storage)}`);
      expect(answer.status).toBe(503);
      expect(body.checks.storage).toMatchObject({ status: 'unhealthy', error: 'no answer within 2000 ms' });
      expect(body.checks.cosmos).toMatchObject({ status: 'healthy' });
      expect(elapsed).toBeGreaterThanOrEqual(1900);
      expect(elapsed).toBeLessThan(5000);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    let status = 0;
    for (let tries = 0; tries < 20 && status !== 200; tries++) {
      status = (await fetch(`${devhost.url}/api/health`)).status;
      if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(status).toBe(200);
  });

  it('turns red (503, storage unhealthy) well within 5 s once Azurite is killed, and shows no secrets', async () => {
    const pid = azuritePid(devhost.child.pid!);
    process.kill(pid, 'SIGKILL');
    // Ask as soon as it is gone: the devhost may start Azurite again (on the same ports) soon after.
    const deadline = Date.now() + 5000;
    while (isAlive(pid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(isAlive(pid)).toBe(false);

    const started = performance.now();
    const answer = await fetch(`${devhost.url}/api/health`);
    const body = (await answer.json()) as HealthBody;
    const elapsed = Math.round(performance.now() - started);
    console.log(`GET /api/health with storage killed: ${elapsed} ms, storage: ${JSON.stringify(body.checks.storage)}`);
    expect(answer.status).toBe(503);
    expect(elapsed).toBeLessThan(5000);
    expect(body.status).toBe('unhealthy');
    expect(body.checks.storage).toMatchObject({ status: 'unhealthy', critical: true, error: expect.any(String) });
    expect(body.checks.cosmos).toMatchObject({ status: 'healthy' });
    const text = JSON.stringify(body);
    for (const secret of ['AccountKey', 'Eby8vdM02', '127.0.0.1', 'http:', '    at ']) expect(text).not.toContain(secret);
    // The unhealthy report is logged, so an alert can follow it.
    await waitFor(
      'the HealthReport line',
      () =>
        functionLines(devhost.output()).some(
          (line) => line.fn === 'health' && line.message.startsWith('HealthReport status=unhealthy failed=storage'),
        )
          ? true
          : undefined,
      2000,
      devhost.output,
    );
  });
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
