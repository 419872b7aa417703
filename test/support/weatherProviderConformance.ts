/**
 * The contract every WeatherProvider adapter honours (see shared/regions/adapters/weather/weatherProvider.ts), run
 * against each adapter and its local server: normalised outcomes per location in order, batching,
 * bounded retries of transient faults, no retries of other 4xx, a circuit breaker that stops
 * sending, and failures as outcomes rather than exceptions.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { WeatherFaults } from '../../local/weather/localOpenMeteo';
import type { RetryHooks, RetryPolicy } from '../../shared/platform/outbound/httpRetry';
import type { CircuitBreakerSettings } from '../../shared/regions/adapters/weather/providerClient';
import type {
  ForecastLocation,
  LocationForecast,
  WeatherProvider,
  WeatherProviderHealth,
} from '../../shared/regions/application/weatherProvider';
import { hourlyForecastSchema, WEATHER_CONDITIONS } from '../../shared/kernel/forecast';

/** What the suite needs of an adapter's local server. */
export interface WeatherServerControls {
  setFaults(faults: WeatherFaults): void;
  readonly requests: readonly { path: string; locations: number; status: number }[];
  stop(): Promise<void>;
}

export interface ProviderTuning {
  readonly retry: RetryPolicy;
  readonly circuitBreaker: CircuitBreakerSettings;
  readonly hooks: RetryHooks;
  /** Point the provider here instead of at the server (the suite's own misbehaving server). */
  readonly baseUrl?: string;
}

/** Starts a fresh local server and a provider for it (or for `tuning.baseUrl`). */
export type WeatherProviderFactory = (
  tuning: ProviderTuning,
) => Promise<{ provider: WeatherProvider & WeatherProviderHealth; server: WeatherServerControls }>;

/** Short enough for tests, shaped like the real policy. */
export const TEST_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 4,
  attemptTimeoutMs: 2000,
  baseDelayMs: 10,
  maxDelayMs: 40,
  retryAfterCapMs: 2000,
  deadlineMs: 8000,
};
const TEST_CIRCUIT: CircuitBreakerSettings = { consecutiveFailures: 3, halfOpenAfterMs: 400 };

export const PLACES: readonly ForecastLocation[] = [
  { region: 'gcw2j', latitude: 53.4808, longitude: -2.2426 },
  { region: 'gcvwr', latitude: 55.9533, longitude: -3.1883 },
  { region: 'gcjsz', latitude: 51.4816, longitude: -3.17909 },
];
const [MANCHESTER] = PLACES as [ForecastLocation, ...ForecastLocation[]];

const HOUR_MS = 3_600_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Asserts one outcome is a success with a forecast a parent could be shown. */
export function expectPlausibleForecast(outcome: LocationForecast | undefined, provider: WeatherProvider): void {
  if (!outcome?.ok) throw new Error(`expected a forecast, got ${JSON.stringify(outcome)}`);
  expect(outcome.source).toBe(provider.name);
  expect(new Date(outcome.issuedAt).toISOString()).toBe(outcome.issuedAt);
  expect(outcome.hourly.length).toBeGreaterThanOrEqual(24);
  let previous = Number.NEGATIVE_INFINITY;
  for (const hour of outcome.hourly) {
    expect(hourlyForecastSchema.safeParse(hour).success).toBe(true);
    const at = Date.parse(hour.time);
    expect(new Date(at).toISOString()).toBe(hour.time);
    expect(at % HOUR_MS).toBe(0);
    expect(at).toBeGreaterThan(previous);
    previous = at;
    expect(hour.temperatureC).toBeGreaterThan(-40);
    expect(hour.temperatureC).toBeLessThan(45);
    if (hour.precipitationProbability !== null) expect(hour.precipitationProbability).toBeGreaterThanOrEqual(0);
    if (hour.precipitationProbability !== null) expect(hour.precipitationProbability).toBeLessThanOrEqual(100);
    expect(hour.windKph).toBeGreaterThanOrEqual(0);
    expect(hour.windKph).toBeLessThan(250);
    if (hour.gustKph !== null) expect(hour.gustKph).toBeGreaterThanOrEqual(0);
    expect(WEATHER_CONDITIONS).toContain(hour.weather);
  }
}

export function describeWeatherProviderConformance(adapterName: string, factory: WeatherProviderFactory): void {
  describe(`WeatherProvider conformance: ${adapterName}`, () => {
    let stops: (() => Promise<void>)[] = [];
    let onRetry: NonNullable<RetryHooks['onRetry']> = () => undefined;

    const start = async (overrides: Partial<ProviderTuning> = {}) => {
      const started = await factory({
        retry: TEST_RETRY_POLICY,
        circuitBreaker: TEST_CIRCUIT,
        hooks: { onRetry: (info) => onRetry(info) },
        ...overrides,
      });
      stops.push(() => started.server.stop());
      return started;
    };
    /** Requests one fetch of `count` locations should make. */
    const requestsFor = (provider: WeatherProvider, count: number) => Math.ceil(count / provider.maxLocationsPerRequest);

    afterEach(async () => {
      await Promise.all(stops.map((stop) => stop()));
      stops = [];
      onRetry = () => undefined;
    });

    it('answers one location with a normalised hourly forecast', async () => {
      const { provider, server } = await start();
      const outcomes = await provider.fetchForecasts([MANCHESTER]);
      expect(outcomes.map((outcome) => outcome.region)).toEqual([MANCHESTER.region]);
      expectPlausibleForecast(outcomes[0], provider);
      expect(server.requests).toHaveLength(1);
    });

    it('answers a batch of locations in order, with as few requests as the provider allows', async () => {
      const { provider, server } = await start();
      const outcomes = await provider.fetchForecasts(PLACES);
      expect(outcomes.map((outcome) => outcome.region)).toEqual(PLACES.map((place) => place.region));
      for (const outcome of outcomes) expectPlausibleForecast(outcome, provider);
      expect(server.requests).toHaveLength(requestsFor(provider, PLACES.length));
      expect(server.requests.reduce((sum, request) => sum + request.locations, 0)).toBe(PLACES.length);
      // Each location gets its own weather, not copies of the first.
      const first = (outcome: LocationForecast | undefined) => (outcome?.ok ? outcome.hourly[5]?.temperatureC : undefined);
      expect(new Set(outcomes.map(first)).size).toBeGreaterThan(1);
    });

    it('sends no request for no locations', async () => {
      const { provider, server } = await start();
      await expect(provider.fetchForecasts([])).resolves.toEqual([]);
      expect(server.requests).toHaveLength(0);
    });

    it('retries a 503 twice and then succeeds, in three requests', async () => {
      const { provider, server } = await start();
      server.setFaults({ errorRate: 1, errorStatus: 503 });
      onRetry = ({ attempt }) => {
        if (attempt === 2) server.setFaults({});
      };
      const [outcome] = await provider.fetchForecasts([MANCHESTER]);
      expectPlausibleForecast(outcome, provider);
      expect(server.requests.map((request) => request.status)).toEqual([503, 503, 200]);
    });

    it('waits out a 429’s Retry-After and then succeeds', async () => {
      const { provider, server } = await start();
      server.setFaults({ rateLimit: { next: 1, retryAfterSeconds: 1 } });
      const waits: number[] = [];
      onRetry = ({ delayMs }) => waits.push(delayMs);
      const started = Date.now();
      const [outcome] = await provider.fetchForecasts([MANCHESTER]);
      expectPlausibleForecast(outcome, provider);
      expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
      // The wait itself, not the elapsed time, so a busy test machine cannot fail this.
      expect(waits).toHaveLength(1);
      expect(waits[0]).toBeGreaterThanOrEqual(1000);
      expect(waits[0]).toBeLessThanOrEqual(1000 + TEST_RETRY_POLICY.baseDelayMs);
      expect(server.requests.map((request) => request.status)).toEqual([429, 200]);
    });

    it('fails a 400 at once, naming the status, without retrying', async () => {
      const { provider, server } = await start();
      server.setFaults({ errorRate: 1, errorStatus: 400 });
      const outcomes = await provider.fetchForecasts([MANCHESTER]);
      expect(outcomes).toEqual([{ region: MANCHESTER.region, ok: false, reason: expect.stringMatching(/HTTP 400/) }]);
      expect(server.requests).toHaveLength(1);
    });

    it('fails every location of a request that keeps failing, and does not throw', async () => {
      const { provider, server } = await start({ retry: { ...TEST_RETRY_POLICY, maxAttempts: 2 } });
      server.setFaults({ errorRate: 1, errorStatus: 502 });
      const outcomes = await provider.fetchForecasts(PLACES);
      expect(outcomes).toEqual(
        PLACES.map((place) => ({ region: place.region, ok: false, reason: expect.stringMatching(/unavailable.*HTTP 502.*2 attempts/) })),
      );
      expect(server.requests).toHaveLength(2 * requestsFor(provider, PLACES.length));
    });

    it('gives up on a hung request within the policy’s bounds', async () => {
      const policy: RetryPolicy = { ...TEST_RETRY_POLICY, maxAttempts: 2, attemptTimeoutMs: 300, deadlineMs: 2000 };
      const { provider, server } = await start({ retry: policy });
      server.setFaults({ hangRate: 1 });
      const started = Date.now();
      const outcomes = await provider.fetchForecasts([MANCHESTER]);
      expect(Date.now() - started).toBeLessThan(policy.maxAttempts * policy.attemptTimeoutMs + policy.maxDelayMs + 700);
      expect(outcomes).toEqual([{ region: MANCHESTER.region, ok: false, reason: expect.stringMatching(/unavailable/) }]);
      expect(server.requests).toHaveLength(2);
    });

    it('rejects when the caller aborts, without waiting for the attempt to time out', async () => {
      const { provider, server } = await start();
      server.setFaults({ hangRate: 1 });
      const controller = new AbortController();
      setTimeout(() => controller.abort(new Error('activity cancelled')), 100);
      const started = Date.now();
      await expect(provider.fetchForecasts([MANCHESTER], { signal: controller.signal })).rejects.toThrow('activity cancelled');
      expect(Date.now() - started).toBeLessThan(TEST_RETRY_POLICY.attemptTimeoutMs);
      expect(server.requests).toHaveLength(1);
    });

    it('rejects when the caller aborts between attempts, without finishing the backoff', async () => {
      const { provider, server } = await start({ retry: { ...TEST_RETRY_POLICY, baseDelayMs: 3000, maxDelayMs: 3000 } });
      server.setFaults({ errorRate: 1, errorStatus: 503 });
      const controller = new AbortController();
      onRetry = () => setTimeout(() => controller.abort(new Error('activity cancelled')), 50);
      const started = Date.now();
      await expect(provider.fetchForecasts([MANCHESTER], { signal: controller.signal })).rejects.toThrow('activity cancelled');
      expect(Date.now() - started).toBeLessThan(1000);
      expect(server.requests).toHaveLength(1);
    });

    it('opens the circuit after consecutive transient failures, sends nothing while open, and recovers after half-open', async () => {
      const retry: RetryPolicy = { ...TEST_RETRY_POLICY, maxAttempts: 2 };
      const { provider, server } = await start({ retry });
      server.setFaults({ errorRate: 1, errorStatus: 503 });
      for (let i = 0; i < TEST_CIRCUIT.consecutiveFailures; i++) {
        expect(await provider.fetchForecasts([MANCHESTER])).toEqual([
          { region: MANCHESTER.region, ok: false, reason: expect.stringMatching(/HTTP 503/) },
        ]);
      }
      const sentBeforeOpen = server.requests.length;
      expect(sentBeforeOpen).toBe(TEST_CIRCUIT.consecutiveFailures * retry.maxAttempts);

      // Open: every location fails fast and nothing is sent.
      expect(await provider.fetchForecasts(PLACES)).toEqual(
        PLACES.map((place) => ({ region: place.region, ok: false, reason: expect.stringMatching(/circuit open/) })),
      );
      expect(server.requests).toHaveLength(sentBeforeOpen);

      // Half-open while still failing: one trial request, then open again.
      await sleep(TEST_CIRCUIT.halfOpenAfterMs + 50);
      expect(await provider.fetchForecasts([MANCHESTER])).toEqual([
        { region: MANCHESTER.region, ok: false, reason: expect.stringMatching(/HTTP 503/) },
      ]);
      expect(server.requests).toHaveLength(sentBeforeOpen + retry.maxAttempts);
      expect(await provider.fetchForecasts([MANCHESTER])).toEqual([
        { region: MANCHESTER.region, ok: false, reason: expect.stringMatching(/circuit open/) },
      ]);
      expect(server.requests).toHaveLength(sentBeforeOpen + retry.maxAttempts);

      // Half-open after recovery: the trial succeeds and the circuit closes.
      server.setFaults({});
      await sleep(TEST_CIRCUIT.halfOpenAfterMs + 50);
      expectPlausibleForecast((await provider.fetchForecasts([MANCHESTER]))[0], provider);
      const outcomes = await provider.fetchForecasts(PLACES);
      for (const outcome of outcomes) expectPlausibleForecast(outcome, provider);
    });

    it('tells the time of each request it sends, and none for a request the open circuit refused', async () => {
      const { provider, server } = await start({ retry: { ...TEST_RETRY_POLICY, maxAttempts: 1 } });
      const times: number[] = [];
      await provider.fetchForecasts(PLACES, { onRequest: (ms) => times.push(ms) });
      expect(times).toHaveLength(requestsFor(provider, PLACES.length));
      for (const ms of times) expect(ms).toBeGreaterThanOrEqual(0);

      server.setFaults({ errorRate: 1, errorStatus: 503 });
      for (let i = 0; i < TEST_CIRCUIT.consecutiveFailures; i++) await provider.fetchForecasts([MANCHESTER]);
      const sent = server.requests.length;
      const whileOpen: number[] = [];
      await provider.fetchForecasts([MANCHESTER], { onRequest: (ms) => whileOpen.push(ms) });
      expect(server.requests).toHaveLength(sent);
      expect(whileOpen).toEqual([]);
    });

    it('shows its circuit state and last answer, read-only, for the health check', async () => {
      const { provider, server } = await start({ retry: { ...TEST_RETRY_POLICY, maxAttempts: 1 } });
      expect(provider.circuitState()).toBe('closed');
      expect(provider.lastAnswer()).toBeUndefined();
      const before = Date.now();
      await provider.fetchForecasts([MANCHESTER]);
      expect(provider.lastAnswer()).toEqual({ ok: true, at: expect.any(Number) });
      expect(provider.lastAnswer()!.at).toBeGreaterThanOrEqual(before);

      server.setFaults({ errorRate: 1, errorStatus: 503 });
      for (let i = 0; i < TEST_CIRCUIT.consecutiveFailures; i++) await provider.fetchForecasts([MANCHESTER]);
      expect(provider.circuitState()).toBe('open');
      expect(provider.lastAnswer()).toEqual({ ok: false, at: expect.any(Number), reason: expect.stringMatching(/HTTP 503/) });
      // A refused request is not an answer: the last answer stays the last real one.
      const last = provider.lastAnswer();
      await provider.fetchForecasts([MANCHESTER]);
      expect(provider.lastAnswer()).toBe(last);
    });

    it('probes with one request for one location, no retries, outside the circuit', async () => {
      const { provider, server } = await start();
      await expect(provider.probe()).resolves.toEqual({ ok: true });
      expect(server.requests).toEqual([expect.objectContaining({ locations: 1, status: 200 })]);

      server.setFaults({ errorRate: 1, errorStatus: 503 });
      await expect(provider.probe()).resolves.toEqual({ ok: false, reason: expect.stringMatching(/HTTP 503.*1 attempt/) });
      expect(server.requests).toHaveLength(2);
      expect(provider.lastAnswer()).toEqual({ ok: false, at: expect.any(Number), reason: expect.stringMatching(/HTTP 503/) });

      // Probes never open the circuit, and an open circuit does not stop a probe.
      for (let i = 0; i < TEST_CIRCUIT.consecutiveFailures + 1; i++) await provider.probe();
      expect(provider.circuitState()).toBe('closed');
      for (let i = 0; i < TEST_CIRCUIT.consecutiveFailures; i++) await provider.fetchForecasts([MANCHESTER]);
      expect(provider.circuitState()).toBe('open');
      server.setFaults({});
      await expect(provider.probe()).resolves.toEqual({ ok: true });
      expect(provider.circuitState()).toBe('open');
      expect(provider.lastAnswer()).toEqual({ ok: true, at: expect.any(Number) });
    });

    it('does not count other 4xx towards opening the circuit', async () => {
      const { provider, server } = await start();
      server.setFaults({ errorRate: 1, errorStatus: 400 });
      const fetches = TEST_CIRCUIT.consecutiveFailures + 2;
      for (let i = 0; i < fetches; i++) {
        expect(await provider.fetchForecasts([MANCHESTER])).toEqual([
          { region: MANCHESTER.region, ok: false, reason: expect.stringMatching(/HTTP 400/) },
        ]);
      }
      expect(server.requests).toHaveLength(fetches);
    });

    it.each([
      ['JSON of another shape', 'application/json', '{"hello":"world"}'],
      ['a body that is not JSON', 'application/json', '{"type":"FeatureCollection","hourly":'],
      ['an HTML page', 'text/html', '<html><body>Service maintenance</body></html>'],
    ])('fails a 200 with %s, without retrying', async (_label, contentType, body) => {
      const garbage = await startFixedServer(contentType, body);
      stops.push(garbage.stop);
      const { provider } = await start({ baseUrl: garbage.url });
      const outcomes = await provider.fetchForecasts([MANCHESTER]);
      expect(outcomes).toEqual([{ region: MANCHESTER.region, ok: false, reason: expect.stringMatching(/unexpected body/) }]);
      expect(garbage.requests()).toBe(1);
    });
  });
}

/** Answers every request 200 with the same body. */
async function startFixedServer(
  contentType: string,
  body: string,
): Promise<{ url: string; requests: () => number; stop: () => Promise<void> }> {
  let requests = 0;
  const server = createServer((request, response) => {
    request.resume();
    requests += 1;
    response.writeHead(200, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
    response.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests: () => requests,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
