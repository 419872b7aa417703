import { checkHealth, type HealthCheck } from '../../../shared/platform/health/health';
import {
  cosmosHealthCheck,
  eventGridHealthCheck,
  storageHealthCheck,
  weatherHealthCheck,
  type QueueProperties,
} from '../../../shared/platform/health/healthChecks';
import type { PublishEvidence } from '../../../shared/platform/publishing/adapters/eventGridPublisher';
import type { CircuitStatus, ProviderEvidence, WeatherProviderHealth } from '../../../shared/regions/application/weatherProvider';

/** Runs one check through checkHealth, as the route does. */
async function run(check: HealthCheck, timeoutMs = 500) {
  const report = await checkHealth([check], timeoutMs);
  const result = report.checks[check.name];
  if (!result) throw new Error('no result');
  return result;
}

const restError = (statusCode: number, code: string) =>
  Object.assign(new Error(`${code}: https://acct.queue.core.windows.net/q?sig=secret`), { statusCode, code });

describe('cosmos check', () => {
  it('is critical, healthy when the events container answers, and passes the abort signal on', async () => {
    const signals: AbortSignal[] = [];
    const check = cosmosHealthCheck({ read: (options) => (signals.push(options.abortSignal), Promise.resolve({})) });
    expect(check.critical).toBe(true);
    await expect(run(check)).resolves.toMatchObject({ status: 'healthy' });
    expect(signals[0]).toBeInstanceOf(AbortSignal);
  });

  it('is unhealthy with the status of a refused read', async () => {
    const check = cosmosHealthCheck({
      read: () => Promise.reject(Object.assign(new Error('Resource Not Found; https://plannr.documents.azure.com'), { code: 404 })),
    });
    await expect(run(check)).resolves.toMatchObject({ status: 'unhealthy', error: 'HTTP 404' });
  });
});

describe('storage check', () => {
  const queue = (answer: () => Promise<{ approximateMessagesCount?: number }>): QueueProperties & { calls: number } => {
    const fake = { calls: 0, getProperties: () => (fake.calls++, answer()) };
    return fake;
  };

  it('is critical, healthy when both queues answer, and counts their messages', async () => {
    const check = storageHealthCheck(
      {
        requests: queue(() => Promise.resolve({ approximateMessagesCount: 3 })),
        poison: queue(() => Promise.resolve({ approximateMessagesCount: 1 })),
      },
      'forecast-refresh-requests',
    );
    expect(check.critical).toBe(true);
    await expect(run(check)).resolves.toMatchObject({
      status: 'healthy',
      detail: 'forecast-refresh-requests: 3 waiting, 1 in forecast-refresh-requests-poison',
    });
  });

  it('takes a queue that does not exist yet as an answer (the poison queue appears with the first poison message)', async () => {
    const check = storageHealthCheck(
      { requests: queue(() => Promise.resolve({})), poison: queue(() => Promise.reject(restError(404, 'QueueNotFound'))) },
      'q',
    );
    await expect(run(check)).resolves.toMatchObject({ status: 'healthy', detail: 'q: 0 waiting, 0 in q-poison' });
  });

  it('is unhealthy when the account refuses or cannot be reached, showing only the code', async () => {
    const refused = storageHealthCheck(
      { requests: queue(() => Promise.reject(restError(403, 'AuthorizationFailure'))), poison: queue(() => Promise.resolve({})) },
      'q',
    );
    await expect(run(refused)).resolves.toMatchObject({ status: 'unhealthy', error: 'HTTP 403 AuthorizationFailure' });
    const down = storageHealthCheck(
      {
        requests: queue(() => Promise.reject(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:10001'), { code: 'ECONNREFUSED' }))),
        poison: queue(() => Promise.resolve({})),
      },
      'q',
    );
    await expect(run(down)).resolves.toMatchObject({ status: 'unhealthy', error: 'ECONNREFUSED' });
  });
});

describe('Event Grid check', () => {
  const ENDPOINT = 'https://plannr-topic.uksouth-1.eventgrid.azure.net/api/events';
  const answering = (status: number) => {
    const requests: { url: string; init: RequestInit | undefined }[] = [];
    const fetchImpl: typeof fetch = (url, init) => {
      requests.push({ url: typeof url === 'string' ? url : url instanceof URL ? url.href : url.url, init });
      return Promise.resolve(new Response(status === 405 ? null : '{"error":{"code":"Unauthorized"}}', { status }));
    };
    return { requests, fetch: fetchImpl };
  };

  it('is not critical, and counts any answer below 500 to an unauthenticated GET as reachable, publishing nothing', async () => {
    const topic = answering(401);
    const check = eventGridHealthCheck(ENDPOINT, { fetch: topic.fetch });
    expect(check.critical).toBe(false);
    const result = await run(check);
    expect(result).toMatchObject({
      status: 'healthy',
      detail: expect.stringMatching(/^topic reachable \(HTTP 401 to an unauthenticated GET\); no publish in the last 15 min/),
    });
    expect(topic.requests).toHaveLength(1);
    expect(topic.requests[0]?.init?.method).toBe('GET');
    expect(topic.requests[0]?.init?.body).toBeUndefined();
    expect(JSON.stringify(topic.requests[0]?.init?.headers)).not.toMatch(/aeg-sas/i);
    expect(JSON.stringify(result)).not.toContain('eventgrid.azure.net');
  });

  it('is unhealthy when the topic answers 5xx or cannot be reached', async () => {
    await expect(run(eventGridHealthCheck(ENDPOINT, { fetch: answering(503).fetch }))).resolves.toMatchObject({
      status: 'unhealthy',
      error: 'the topic answered HTTP 503',
    });
    const unreachable = (() =>
      Promise.reject(
        new TypeError('fetch failed', { cause: Object.assign(new Error('getaddrinfo ENOTFOUND plannr-topic'), { code: 'ENOTFOUND' }) }),
      )) as typeof fetch;
    await expect(run(eventGridHealthCheck(ENDPOINT, { fetch: unreachable }))).resolves.toMatchObject({
      status: 'unhealthy',
      error: 'ENOTFOUND',
    });
  });

  it('is unhealthy when this instance’s last publish in the last 15 minutes failed (a wrong key or role), healthy when it was accepted', async () => {
    const now = 1_000_000_000;
    let last: PublishEvidence | undefined = { ok: false, at: now - 60_000, error: restError(401, 'Unauthorized') };
    const check = eventGridHealthCheck(ENDPOINT, { fetch: answering(405).fetch, lastPublish: () => last, now: () => now });
    await expect(run(check)).resolves.toMatchObject({
      status: 'unhealthy',
      error: 'topic reachable (HTTP 405 to an unauthenticated GET), but the last publish (60 s ago) failed: HTTP 401 Unauthorized',
    });
    last = { ok: false, at: now - 16 * 60_000, error: restError(401, 'Unauthorized') };
    await expect(run(check)).resolves.toMatchObject({ status: 'healthy' });
    last = { ok: true, at: now - 5_000 };
    await expect(run(check)).resolves.toMatchObject({
      status: 'healthy',
      detail: 'topic reachable (HTTP 405 to an unauthenticated GET); last publish (5 s ago) accepted',
    });
  });

  it('is bounded by the check time-out when the topic does not answer', async () => {
    const silent = ((_url: string, init?: RequestInit) =>
      new Promise((_, reject) =>
        init?.signal?.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError'))),
      )) as typeof fetch;
    const started = Date.now();
    await expect(run(eventGridHealthCheck(ENDPOINT, { fetch: silent }), 100)).resolves.toMatchObject({
      status: 'unhealthy',
      error: 'no answer within 100 ms',
    });
    expect(Date.now() - started).toBeLessThan(1000);
  });
});

describe('weather check', () => {
  const MIN = 60_000;

  /** A provider whose breaker, last answer and probe the test sets; it counts probes. */
  function fakeProvider(
    options: { circuit?: CircuitStatus; last?: ProviderEvidence; probe?: () => Promise<{ ok: true } | { ok: false; reason: string }> } = {},
  ) {
    const fake: WeatherProviderHealth & {
      circuit: CircuitStatus;
      last: ProviderEvidence | undefined;
      probes: number;
      probeAnswer: () => Promise<{ ok: true } | { ok: false; reason: string }>;
    } = {
      name: 'open-meteo',
      circuit: options.circuit ?? 'closed',
      last: options.last,
      probes: 0,
      probeAnswer: options.probe ?? (() => Promise.resolve({ ok: true as const })),
      circuitState: () => fake.circuit,
      lastAnswer: () => fake.last,
      probe: () => {
        fake.probes += 1;
        return fake.probeAnswer();
      },
    };
    return fake;
  }

  it('is not critical, and is unhealthy at once while the circuit is open, sending nothing', async () => {
    const provider = fakeProvider({ circuit: 'open', last: { ok: false, at: 0, reason: 'open-meteo unavailable: HTTP 503 (4 attempts)' } });
    const check = weatherHealthCheck(provider, { now: () => 10 * MIN });
    expect(check.critical).toBe(false);
    await expect(run(check)).resolves.toMatchObject({
      status: 'unhealthy',
      error: 'open-meteo circuit open after repeated failures, no request sent; last: open-meteo unavailable: HTTP 503 (4 attempts)',
    });
    expect(provider.probes).toBe(0);
  });

  it('trusts a recent answer from the refresh instead of probing', async () => {
    const now = 100 * MIN;
    const provider = fakeProvider({ last: { ok: true, at: now - 10 * MIN } });
    await expect(run(weatherHealthCheck(provider, { now: () => now }))).resolves.toMatchObject({
      status: 'healthy',
      detail: 'open-meteo answered (last answer 10 min ago); circuit closed',
    });
    provider.last = { ok: false, at: now - 2 * MIN, reason: 'open-meteo answered HTTP 429 (not retried)' };
    await expect(run(weatherHealthCheck(provider, { now: () => now }))).resolves.toMatchObject({
      status: 'unhealthy',
      error: 'open-meteo last answer 2 min ago failed: open-meteo answered HTTP 429 (not retried)',
    });
    expect(provider.probes).toBe(0);
  });

  it('probes at most once per 30 minutes while healthy, whatever the number of health checks', async () => {
    let now = 0;
    const provider = fakeProvider();
    const check = weatherHealthCheck(provider, { now: () => now });
    for (let minute = 0; minute < 24 * 60; minute++) {
      now = minute * MIN;
      expect((await run(check)).status).toBe('healthy');
    }
    // A day of per-minute probes of the route: 48 provider calls, not 1,440.
    expect(provider.probes).toBe(48);
  });

  it('shares one probe between checks that arrive together', async () => {
    let answer: (value: { ok: true }) => void = () => undefined;
    const provider = fakeProvider({ probe: () => new Promise((resolve) => (answer = resolve)) });
    const check = weatherHealthCheck(provider, { now: () => 0 });
    const both = Promise.all([run(check), run(check), run(check)]);
    await new Promise((resolve) => setTimeout(resolve, 10));
    answer({ ok: true });
    expect((await both).map((result) => result.status)).toEqual(['healthy', 'healthy', 'healthy']);
    expect(provider.probes).toBe(1);
  });

  it('after a failed probe, probes again only after 5 minutes', async () => {
    let now = 0;
    const provider = fakeProvider({
      probe: () => Promise.resolve({ ok: false, reason: 'open-meteo unavailable: ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:443' }),
    });
    const check = weatherHealthCheck(provider, { now: () => now });
    const first = await run(check);
    expect(first).toMatchObject({
      status: 'unhealthy',
      error: expect.stringMatching(/^open-meteo probed now failed: open-meteo unavailable: ECONNREFUSED/),
    });
    expect(first.error).not.toContain('127.0.0.1');
    for (let minute = 1; minute < 5; minute++) {
      now = minute * MIN;
      expect((await run(check)).status).toBe('unhealthy');
    }
    expect(provider.probes).toBe(1);
    provider.probeAnswer = () => Promise.resolve({ ok: true });
    now = 5 * MIN;
    await expect(run(check)).resolves.toMatchObject({ status: 'healthy' });
    expect(provider.probes).toBe(2);
  });

  it('reports a slow probe as a time-out, and uses its answer when it comes', async () => {
    const provider = fakeProvider({ probe: () => new Promise((resolve) => setTimeout(() => resolve({ ok: true }), 200)) });
    const check = weatherHealthCheck(provider, { now: () => 0 });
    await expect(run(check, 50)).resolves.toMatchObject({ status: 'unhealthy', error: 'no answer within 50 ms' });
    await new Promise((resolve) => setTimeout(resolve, 250));
    await expect(run(check, 50)).resolves.toMatchObject({ status: 'healthy' });
    expect(provider.probes).toBe(1);
  });
});
