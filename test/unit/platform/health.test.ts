import { HttpRequest, HttpResponse, InvocationContext } from '@azure/functions';
import { healthHandler } from '../../../handlers/health.http';
import { checkHealth, describeFailure, HealthCheckFailure, redact, type HealthCheck } from '../../../shared/platform/health/health';

const ok = (name: string, critical: boolean, detail?: string): HealthCheck => ({ name, critical, check: () => Promise.resolve(detail) });
const failing = (name: string, critical: boolean, error: unknown): HealthCheck => ({
  name,
  critical,
  check: () => Promise.reject(error instanceof Error ? error : new Error(String(error))),
});
const hanging = (name: string, critical: boolean): HealthCheck => ({ name, critical, check: () => new Promise<never>(() => undefined) });

describe('checkHealth', () => {
  it('is healthy when every check is, with each check’s duration and note', async () => {
    const report = await checkHealth([ok('cosmos', true), ok('storage', true, 'forecast-refresh-requests: 0 waiting')]);
    expect(report).toEqual({
      status: 'healthy',
      checks: {
        cosmos: { status: 'healthy', critical: true, durationMs: expect.any(Number) },
        storage: { status: 'healthy', critical: true, durationMs: expect.any(Number), detail: 'forecast-refresh-requests: 0 waiting' },
      },
    });
  });

  it('is degraded when only non-critical checks fail, unhealthy when a critical one does', async () => {
    await expect(
      checkHealth([ok('cosmos', true), failing('weather', false, new HealthCheckFailure('circuit open'))]),
    ).resolves.toMatchObject({
      status: 'degraded',
      checks: { weather: { status: 'unhealthy', critical: false, error: 'circuit open' } },
    });
    await expect(
      checkHealth([failing('storage', true, new HealthCheckFailure('down')), failing('weather', false, new HealthCheckFailure('down'))]),
    ).resolves.toMatchObject({
      status: 'unhealthy',
    });
  });

  it('bounds a hung check by the time-out, running checks in parallel', async () => {
    const started = Date.now();
    const report = await checkHealth([hanging('storage', true), hanging('eventGrid', false), ok('cosmos', true)], 150);
    const elapsed = Date.now() - started;
    expect(elapsed).toBeLessThan(1000);
    expect(report.status).toBe('unhealthy');
    expect(report.checks.storage).toMatchObject({ status: 'unhealthy', error: 'no answer within 150 ms' });
    expect(report.checks.eventGrid).toMatchObject({ status: 'unhealthy', error: 'no answer within 150 ms' });
  });

  it('reports a check that gives up on the abort signal as timed out', async () => {
    const obeying: HealthCheck = {
      name: 'cosmos',
      critical: true,
      check: (signal) =>
        new Promise((_, reject) =>
          signal.addEventListener('abort', () => reject(Object.assign(new Error('The operation was aborted'), { name: 'AbortError' }))),
        ),
    };
    await expect(checkHealth([obeying], 50)).resolves.toMatchObject({ checks: { cosmos: { error: 'no answer within 50 ms' } } });
  });
});

describe('what the report may show', () => {
  const key = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

  it('shows an SDK error as its status and code, never its message', () => {
    const restError = Object.assign(
      new Error(`Server failed to authenticate the request. https://acct.queue.core.windows.net/q?sig=${key}`),
      { statusCode: 403, code: 'AuthenticationFailed' },
    );
    expect(describeFailure(restError)).toBe('HTTP 403 AuthenticationFailed');
    const cosmosError = Object.assign(
      new Error('Message: {"Errors":["Resource Not Found"]}\nActivityId: …, Request URI: /dbs/x/colls/events'),
      { code: 404 },
    );
    expect(describeFailure(cosmosError)).toBe('HTTP 404');
    expect(describeFailure(Object.assign(new Error('connect ECONNREFUSED 10.0.0.4:443'), { code: 'ECONNREFUSED' }))).toBe('ECONNREFUSED');
    expect(
      describeFailure(
        new TypeError('fetch failed', {
          cause: Object.assign(new Error('getaddrinfo ENOTFOUND mytopic.uksouth-1.eventgrid.azure.net'), { code: 'ENOTFOUND' }),
        }),
      ),
    ).toBe('ENOTFOUND');
  });

  it('takes addresses, URLs and keys out of any other message, and keeps only its first line', () => {
    const text = `Failed for AccountName=devstoreaccount1;AccountKey=${key};QueueEndpoint=http://127.0.0.1:10001/devstoreaccount1 at https://plannr.documents.azure.com:443/?code=abc\n    at Stack (/home/site/wwwroot/x.js:1:1)`;
    const shown = redact(text);
    expect(shown).not.toContain(key);
    expect(shown).not.toContain('127.0.0.1');
    expect(shown).not.toContain('documents.azure.com');
    expect(shown).not.toContain('code=abc');
    expect(shown).not.toContain('Stack');
    expect(shown).toContain('AccountKey=<redacted>');
    expect(describeFailure(new Error(text))).toBe(shown);
    expect(redact('x'.repeat(500))).toHaveLength(200);
  });

  it('redacts a check’s own messages and notes too (they may quote a provider)', async () => {
    const report = await checkHealth([
      failing(
        'weather',
        false,
        new HealthCheckFailure(
          'open-meteo unavailable: connect ECONNREFUSED 127.0.0.1:9 (https://api.open-meteo.com/v1/forecast?latitude=1)',
        ),
      ),
      ok('eventGrid', false, 'topic at mytopic.uksouth-1.eventgrid.azure.net reachable'),
    ]);
    expect(JSON.stringify(report)).not.toMatch(/127\.0\.0\.1|open-meteo\.com|eventgrid\.azure\.net/);
  });
});

describe('GET /api/health', () => {
  function invoke(checks: readonly HealthCheck[], headers: Record<string, string> = {}) {
    const logs: string[] = [];
    const context = new InvocationContext({
      invocationId: 'inv-1',
      functionName: 'health',
      logHandler: (level, ...args) => logs.push(`${level}: ${args.map(String).join(' ')}`),
    });
    const request = new HttpRequest({ method: 'GET', url: 'http://localhost:7071/api/health', headers });
    return healthHandler(() => checks, 100)(request, context).then(async (init) => {
      const response = new HttpResponse(init);
      return { status: response.status, headers: response.headers, body: (await response.json()) as { status: string }, logs };
    });
  }

  it('answers 200 when healthy, without logging (probes come every minute)', async () => {
    const answer = await invoke([ok('cosmos', true)], { 'x-correlation-id': 'probe-1' });
    expect(answer.status).toBe(200);
    expect(answer.body.status).toBe('healthy');
    expect(answer.headers.get('cache-control')).toBe('no-store');
    expect(answer.headers.get('x-correlation-id')).toBe('probe-1');
    expect(answer.logs).toEqual([]);
  });

  it('answers 200 when degraded and 503 when unhealthy, logging which checks failed', async () => {
    const degraded = await invoke([ok('cosmos', true), failing('weather', false, new HealthCheckFailure('circuit open'))]);
    expect(degraded.status).toBe(200);
    expect(degraded.body.status).toBe('degraded');
    expect(degraded.logs).toEqual([
      'warning: HealthReport status=degraded failed=weather errors="weather: circuit open" correlationId=inv-1',
    ]);

    const unhealthy = await invoke([hanging('storage', true), ok('cosmos', true)]);
    expect(unhealthy.status).toBe(503);
    expect(unhealthy.body.status).toBe('unhealthy');
    expect(unhealthy.headers.get('x-correlation-id')).toBe('inv-1');
    expect(unhealthy.logs).toEqual([
      'warning: HealthReport status=unhealthy failed=storage errors="storage: no answer within 100 ms" correlationId=inv-1',
    ]);
  });
});

describe('checks with local work to prepare', () => {
  it('does not count preparing (an SDK loading on a new instance) against the check', async () => {
    let prepared = false;
    const slowToLoad = {
      name: 'cosmos',
      critical: true,
      prepare: () => new Promise<void>((resolve) => setTimeout(() => ((prepared = true), resolve()), 150)),
      check: () => (prepared ? Promise.resolve(undefined) : Promise.reject(new HealthCheckFailure('not prepared'))),
    };
    const report = await checkHealth([slowToLoad], 100);
    expect(report.status).toBe('healthy');
  });
});
