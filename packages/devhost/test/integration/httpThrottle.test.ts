import { app } from '@azure/functions';
import { getProgrammingModel, registeredFunctions } from '../../src/functionsCore';
import { startHttpHost, type HttpHost } from '../../src/http/httpHost';
import { consoleLogger } from '../../src/logger';

/** Requests to `slow` wait here until the test lets them go. */
let letGo: () => void = () => undefined;
let gate = new Promise<void>((resolve) => (letGo = resolve));
let started = 0;

app.http('throttleTestSlow', {
  methods: ['GET'],
  route: 'slow',
  authLevel: 'anonymous',
  handler: async () => {
    started++;
    await gate;
    return { status: 200, body: 'done' };
  },
});

describe('the devhost honours host.json maxConcurrentRequests and maxOutstandingRequests', () => {
  let host: HttpHost;
  beforeAll(async () => {
    const model = getProgrammingModel();
    if (!model) throw new Error('no programming model');
    host = await startHttpHost(
      model,
      registeredFunctions().filter((registration) => registration.metadata.name === 'throttleTestSlow'),
      {
        port: 0,
        routePrefix: 'api',
        keys: { functionKey: 'f', masterKey: 'm' },
        corsOrigins: [],
        throttle: { maxConcurrentRequests: 1, maxOutstandingRequests: 2 },
      },
      consoleLogger({ quiet: true }),
    );
  });
  afterAll(() => host.close());

  it('runs one at a time, holds two, answers the third 429 with Retry-After at once, and serves the held ones', async () => {
    gate = new Promise<void>((resolve) => (letGo = resolve));
    const first = fetch(`${host.url}/api/slow`);
    const second = fetch(`${host.url}/api/slow`);
    for (const deadline = Date.now() + 5000; started < 1 && Date.now() < deadline;) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 100));
    expect(started).toBe(1);

    const turnedAwayAt = Date.now();
    const third = await fetch(`${host.url}/api/slow`);
    expect(third.status).toBe(429);
    expect(third.headers.get('retry-after')).toBe('1');
    expect(Date.now() - turnedAwayAt).toBeLessThan(1000);

    letGo();
    expect((await first).status).toBe(200);
    expect((await second).status).toBe(200);
    expect(started).toBe(2);
    // Free again: a new request runs.
    expect((await fetch(`${host.url}/api/slow`)).status).toBe(200);
  });

  it("keeps idle connections open as long as Kestrel does (130 s), not Node's 5 s", async () => {
    gate = new Promise<void>((resolve) => (letGo = resolve));
    letGo();
    const answer = await fetch(`${host.url}/api/slow`);
    await answer.text();
    expect(answer.headers.get('keep-alive')).toBe('timeout=130');
  });
});
