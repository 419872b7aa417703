import { execFileSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { startDevhostProcess, type DevhostProcess } from '../support/devhostProcess';

const proposal = { name: 'Chester Zoo', geolocation: { latitude: 53.2268, longitude: -2.8846 } };

describe('npm start: the devhost serves the app over HTTP', () => {
  let devhost: DevhostProcess;
  let startupMs: number;
  beforeAll(async () => {
    const started = performance.now();
    devhost = await startDevhostProcess();
    const health = await fetch(`${devhost.url}/api/health`);
    startupMs = performance.now() - started;
    expect(health.status).toBe(200);
  });
  afterAll(async () => {
    await devhost.stop();
  });

  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${devhost.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });

  it('answers /api/health within 15 s of start, reporting each dependency', async () => {
    expect(startupMs).toBeLessThan(15_000);
    await expect((await fetch(`${devhost.url}/api/health`)).json()).resolves.toMatchObject({
      status: 'healthy',
      checks: { cosmos: { status: 'healthy' } },
    });
  });

  it('takes a proposal with the function key (header or ?code=) and refuses one without a key (401)', async () => {
    expect((await post('/api/places', proposal)).status).toBe(401);
    expect((await post('/api/places', proposal, { 'x-functions-key': 'wrong' })).status).toBe(401);
    const accepted = await post('/api/places', proposal, { 'x-functions-key': devhost.keys.functionKey });
    expect(accepted.status).toBe(202);
    const { placeId } = (await accepted.json()) as { placeId: string };
    expect(accepted.headers.get('location')).toBe(`/api/places/${placeId}`);
    expect((await post(`/api/places?code=${encodeURIComponent(devhost.keys.functionKey)}`, proposal)).status).toBe(202);

    // The read side follows the change feed: poll briefly until the projection has the place.
    let place = await fetch(`${devhost.url}/api/manage/places/${placeId}`, { headers: { 'x-functions-key': devhost.keys.functionKey } });
    for (let tries = 0; place.status === 404 && tries < 50; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      place = await fetch(`${devhost.url}/api/manage/places/${placeId}`, { headers: { 'x-functions-key': devhost.keys.functionKey } });
    }
    await expect(place.json()).resolves.toMatchObject({ placeId, name: 'Chester Zoo' });
  });

  it('refuses a function key on admin routes (403: the app knows the key, it is not an admin); the master key gets through to the domain', async () => {
    // Outside the service area, so the location validator can only reject it: approving is always 409.
    const abroad = { name: 'Mont Saint-Michel', geolocation: { latitude: 48.636, longitude: -1.5115 } };
    const { placeId } = (await (await post('/api/places', abroad, { 'x-functions-key': devhost.keys.functionKey })).json()) as {
      placeId: string;
    };
    const refused = await post(`/api/places/${placeId}/approve`, {}, { 'x-functions-key': devhost.keys.functionKey });
    expect({ status: refused.status, type: refused.headers.get('content-type') }).toEqual({
      status: 403,
      type: 'application/problem+json',
    });
    expect((await post(`/api/places/${placeId}/approve`, {}, { 'x-functions-key': 'wrong' })).status).toBe(401);
    const answer = await post(`/api/places/${placeId}/approve`, {}, { 'x-functions-key': devhost.keys.masterKey });
    expect(answer.status).toBe(409);
    expect(answer.headers.get('content-type')).toBe('application/problem+json');
  });

  it('answers 404 for unknown routes and methods, and problem+json for bad input', async () => {
    expect((await fetch(`${devhost.url}/api/nowhere`)).status).toBe(404);
    expect((await fetch(`${devhost.url}/api/health`, { method: 'DELETE' })).status).toBe(404);
    const bad = await post('/api/places', { name: '' }, { 'x-functions-key': devhost.keys.functionKey });
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toBe('application/problem+json');
  });

  it('serves the site at / beside the API under /api (routePrefix ""), with its own 404 page', async () => {
    for (const path of ['/', '/editor', '/moderation']) {
      const page = await fetch(`${devhost.url}${path}`);
      expect({
        path,
        status: page.status,
        type: page.headers.get('content-type'),
        csp: page.headers.get('content-security-policy')?.startsWith("default-src 'self'"),
      }).toEqual({ path, status: 200, type: 'text/html; charset=utf-8', csp: true });
    }
    const script = await fetch(`${devhost.url}/assets/js/parents.js`);
    expect({
      status: script.status,
      type: script.headers.get('content-type'),
      nosniff: script.headers.get('x-content-type-options'),
    }).toEqual({ status: 200, type: 'text/javascript; charset=utf-8', nosniff: 'nosniff' });
    for (const path of ['/nowhere', '/api', '/assets/..%2Fpackage.json', '/assets/js', '/assets/../host.json']) {
      const answer = await fetch(`${devhost.url}${path}`);
      expect({ path, status: answer.status }).toEqual({ path, status: 404 });
    }
    expect((await fetch(`${devhost.url}/api/health`)).status).toBe(200);
    expect((await fetch(`${devhost.url}/api/places/newest`)).status).toBe(200);
  });

  it('describes its API at /api/openapi.json (OpenAPI 3.1, anonymous, revalidated by ETag)', async () => {
    const answer = await fetch(`${devhost.url}/api/openapi.json`);
    expect({ status: answer.status, type: answer.headers.get('content-type') }).toEqual({
      status: 200,
      type: 'application/json; charset=utf-8',
    });
    const described = (await answer.json()) as { openapi: string; paths: Record<string, unknown> };
    expect(described.openapi).toMatch(/^3\.1\.\d+$/);
    expect(Object.keys(described.paths)).toContain('/api/places/nearby');
    const etag = answer.headers.get('etag') ?? '';
    expect((await fetch(`${devhost.url}/api/openapi.json`, { headers: { 'if-none-match': etag } })).status).toBe(304);
  });

  it('applies CORS from local.settings: allowed origins only', async () => {
    const allowed = await fetch(`${devhost.url}/api/health`, { headers: { origin: 'http://localhost:7071' } });
    expect(allowed.headers.get('access-control-allow-origin')).toBe('http://localhost:7071');
    const other = await fetch(`${devhost.url}/api/health`, { headers: { origin: 'https://evil.example' } });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    const preflight = await fetch(`${devhost.url}/api/places`, {
      method: 'OPTIONS',
      headers: { origin: 'http://localhost:7071', 'access-control-request-method': 'POST' },
    });
    expect(preflight.status).toBe(204);
  });
});

/** Every process below `pid` (children, grandchildren…). */
function descendantsOf(pid: number): number[] {
  const pairs = execFileSync('ps', ['-e', '-o', 'pid=,ppid='], { encoding: 'utf8' })
    .split('\n')
    .map((line) => line.trim().split(/\s+/).map(Number))
    .filter((pair): pair is [number, number] => pair.length === 2);
  const below = (parent: number): number[] => pairs.filter(([, ppid]) => ppid === parent).flatMap(([child]) => [child, ...below(child)]);
  return below(pid);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function allGone(pids: readonly number[], timeoutMs: number): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  let alive = pids.filter(isAlive);
  while (alive.length > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    alive = alive.filter(isAlive);
  }
  return alive;
}

describe('stopping the devhost leaves nothing running', () => {
  it.each(['SIGINT', 'SIGTERM'] as const)('exits cleanly on %s and stops its children', async (signal) => {
    const devhost = await startDevhostProcess();
    try {
      const children = descendantsOf(devhost.child.pid!);
      expect(children.length).toBeGreaterThan(0);
      expect(await devhost.stop(signal)).toBe(0);
      expect(devhost.output()).toContain('stopping the devhost');
      expect(await allGone(children, 5000)).toEqual([]);
    } finally {
      await devhost.stop('SIGKILL');
    }
  });

  it('leaves no orphan when the devhost is killed with SIGKILL', async () => {
    const devhost = await startDevhostProcess();
    const children = descendantsOf(devhost.child.pid!);
    expect(children.length).toBeGreaterThan(0);
    await devhost.stop('SIGKILL');
    expect(await allGone(children, 8000)).toEqual([]);
  });
});
