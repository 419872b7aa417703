/**
 * Faults under load, through the compiled devhost:
 *   a) the devhost SIGKILLed during a burst of proposals and approvals, restarted on the same data;
 *   b) its Azurite child killed under load (the devhost restarts it on the same ports);
 *   c) its local Cosmos endpoint restarted under load (the test control route, 3 s down).
 * Each time: whatever got a 2xx is there exactly once, what got no answer is there at most once and
 * a retry with the same Idempotency-Key does not make it twice, every view ends up saying what its
 * events say, and the app answers an outage with 503 problem+json (never another 5xx, never a hang).
 * The recovery figures are printed and written to test-artifacts/reliability/faults.json.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { placeIdForIdempotencyKey } from '../../shared/places/application/placeCommands';
import { startDevhostProcess, type DevhostProcess, type DevhostProcessOptions } from '../support/devhostProcess';
import {
  httpClient,
  latencyFigures,
  requestMix,
  runOpenLoop,
  summarise,
  summaryTable,
  type Answer,
  type HttpClient,
  type PlannedRequest,
  type RequestResult,
} from '../support/loadGenerator';
import {
  azuritePid,
  eventually,
  forEachLimited,
  managedPlace,
  placeEvents,
  placeEventsProbeModule,
  streamProblems,
  typeCounts,
  waitForConvergence,
  waitForExit,
} from '../support/placeChecks';

const regionProbeModule = join(__dirname, '..', '..', 'dist', 'test', 'fixtures', 'regionEventsProbe.js');
const artifacts = join(__dirname, '..', '..', 'test-artifacts', 'reliability');
const figures: Record<string, unknown> = {};
/**
 * Requests per second of the load the faults happen under (RELIABILITY_FAULT_RATE): what one devhost
 * sustains with room to spare on a small machine (see load.test.ts for its limits), so that what the
 * faults do is not hidden by an overload of its own.
 */
const FAULT_LOAD_RATE = Number(process.env.RELIABILITY_FAULT_RATE ?? 20);

/** Progress as it happens (jest holds console output back until a test ends; these tests take minutes). */
function progress(message: string): void {
  process.stderr.write(`[faults ${new Date().toISOString().slice(11, 23)}] ${message}\n`);
}

/**
 * Devhost settings for every scenario: test controls on, forecast cycles every 10 s (5 min at ×30),
 * and a queue message fetched by a request whose answer was lost comes back after 20 s, not the host's 10 min.
 */
function devhostOptions(dataDir: string, extra: Partial<DevhostProcessOptions> = {}): DevhostProcessOptions {
  return {
    dataDir,
    extraModules: [placeEventsProbeModule, regionProbeModule],
    env: {
      DEVHOST_TEST_CONTROLS: '1',
      FORECAST_REFRESH_MINUTES: '5',
      DEVHOST_DURABLE_TIME_SCALE: '30',
      DEVHOST_QUEUE_MESSAGE_LEASE_SECONDS: '20',
    },
    ...extra,
  };
}

const proposal = (devhost: DevhostProcess, key: string, body: unknown): PlannedRequest => ({
  kind: 'propose',
  method: 'POST',
  path: '/api/places',
  headers: { 'x-functions-key': devhost.keys.functionKey, 'idempotency-key': key },
  json: body,
  tag: key,
});

const approval = (devhost: DevhostProcess, placeId: string): PlannedRequest => ({
  kind: 'approve',
  method: 'POST',
  path: `/api/places/${placeId}/approve`,
  headers: { 'x-functions-key': devhost.keys.masterKey },
  tag: placeId,
});

const placeIdOf = (answer: Answer) => (JSON.parse(answer.text) as { placeId: string }).placeId;

/** Proposes and waits until each place's location is validated (or rejected); returns the validated ones. */
async function validatedPlaces(
  devhost: DevhostProcess,
  client: HttpClient,
  bodies: readonly { key: string; body: unknown }[],
): Promise<string[]> {
  const validated: string[] = [];
  await forEachLimited(bodies, 8, async ({ key, body }) => {
    const answer = await client.send(proposal(devhost, key, body));
    if (answer.status !== 202) throw new Error(`proposal ${key}: HTTP ${answer.status} ${answer.text}`);
    const placeId = placeIdOf(answer);
    const place = await eventually(
      () => managedPlace(client, devhost.keys.functionKey, placeId),
      (p) => p.view?.status === 'locationValidated' || p.view?.status === 'locationRejected',
      60_000,
      `${placeId} checked`,
    );
    if (place.view?.status === 'locationValidated') validated.push(placeId);
  });
  return validated;
}

/** Polls GET /api/health every 100 ms until stopped; the answers with their times. */
function healthWatch(url: string): { stop(): Promise<{ at: number; status: number | 'error' }[]> } {
  const client = httpClient(url, { timeoutMs: 5000 });
  const seen: { at: number; status: number | 'error' }[] = [];
  let running = true;
  const isRunning = () => running;
  const loop = (async () => {
    while (isRunning()) {
      const at = Date.now();
      try {
        seen.push({ at, status: (await client.send({ kind: 'health', method: 'GET', path: '/api/health' })).status });
      } catch {
        seen.push({ at, status: 'error' });
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      client.close();
      return seen;
    },
  };
}

/** From a health timeline: when it first went red after `since`, and when it was green again after that. */
function outageOf(timeline: readonly { at: number; status: number | 'error' }[], since: number): { redAt?: number; greenAt?: number } {
  const red = timeline.find((entry) => entry.at >= since && entry.status !== 200);
  if (!red) return {};
  const green = timeline.find((entry) => entry.at > red.at && entry.status === 200);
  return { redAt: red.at, ...(green && { greenAt: green.at }) };
}

/** What the devhost logged after it started (to look for its own lines). */
const logOf = (devhost: DevhostProcess) => devhost.output();

/** Keeps a devhost's whole output beside the figures, for a look after a failure. */
function keepLog(name: string, devhost: DevhostProcess): void {
  mkdirSync(artifacts, { recursive: true });
  writeFileSync(join(artifacts, `${name}.log`), devhost.output());
}

afterAll(() => {
  mkdirSync(artifacts, { recursive: true });
  writeFileSync(join(artifacts, 'faults.json'), `${JSON.stringify({ when: new Date().toISOString(), ...figures }, null, 2)}\n`);
  console.log(`Fault figures (also in ${join(artifacts, 'faults.json')}):\n${JSON.stringify(figures, null, 2)}`);
});

describe('a) the devhost SIGKILLed during a burst of commands', () => {
  it(
    'keeps every acknowledged command exactly once; unanswered ones exist at most once and a retry does not double them; the views converge',
    async () => {
      const dataDir = mkdtempSync(join(tmpdir(), 'plannr-faults-kill-'));
      const mix = requestMix(101);
      let devhost = await startDevhostProcess(devhostOptions(dataDir));
      let client = httpClient(devhost.url);
      const runId = Date.now().toString(36);
      try {
        // Places ready for approval, so that the burst carries approvals as well as proposals.
        const toApprove = await validatedPlaces(
          devhost,
          client,
          Array.from({ length: 12 }, (_, i) => ({ key: `kill-pre-${runId}-${i}`, body: mix.proposal(`Before the kill ${runId}-${i}`) })),
        );
        progress(`a) ${toApprove.length} places validated for approval; the burst begins`);
        const proposals = Array.from({ length: 160 }, (_, i) => ({ key: `kill-${runId}-${i}`, body: mix.proposal(`Burst ${runId}-${i}`) }));
        const tasks: PlannedRequest[] = [
          ...proposals.map(({ key, body }) => proposal(devhost, key, body)),
          ...toApprove.map((placeId) => approval(devhost, placeId)),
        ];
        // Approvals spread through the burst.
        mix.shuffle(tasks);

        // The burst, 32 at a time; the devhost is killed once 60 proposals have been acknowledged.
        const outcomes = new Map<PlannedRequest, { answer?: Answer; error?: string }>();
        const azurite = azuritePid(devhost);
        let killedAt: number | undefined;
        const acknowledgedProposals = () =>
          [...outcomes.entries()].filter(([request, outcome]) => request.kind === 'propose' && outcome.answer?.status === 202).length;
        await forEachLimited(tasks, 32, async (request) => {
          try {
            outcomes.set(request, { answer: await client.send(request) });
          } catch (error) {
            outcomes.set(request, { error: error instanceof Error ? error.message : String(error) });
          }
          if (killedAt === undefined && acknowledgedProposals() >= 60) {
            killedAt = Date.now();
            devhost.child.kill('SIGKILL');
          }
        });
        await devhost.stop('SIGKILL');
        keepLog('faults-a-killed', devhost);
        client.close();
        // The Azurite child closes (and saves) on its own once its parent is gone: let it finish first.
        if (azurite !== undefined) await waitForExit(azurite);

        const answered = (kind: string, status: number) =>
          tasks.filter((request) => request.kind === kind && outcomes.get(request)?.answer?.status === status);
        const unanswered = (kind: string) =>
          tasks.filter((request) => request.kind === kind && outcomes.get(request)?.answer === undefined);
        const otherAnswers = tasks.filter((request) => {
          const status = outcomes.get(request)?.answer?.status;
          return status !== undefined && status !== (request.kind === 'propose' ? 202 : 200);
        });
        expect(
          otherAnswers.map(
            (request) => `${request.kind} ${outcomes.get(request)?.answer?.status ?? ''} ${outcomes.get(request)?.answer?.text ?? ''}`,
          ),
        ).toEqual([]);
        expect(unanswered('propose').length).toBeGreaterThan(0);

        progress(
          `a) killed after ${answered('propose', 202).length} acknowledged proposals; ${unanswered('propose').length} proposals and ${unanswered('approve').length} approvals unanswered; restarting`,
        );
        // Back on the same data.
        const restartStarted = Date.now();
        devhost = await startDevhostProcess(devhostOptions(dataDir));
        const restartMs = Date.now() - restartStarted;
        client = httpClient(devhost.url);

        // Every 202: its place exists with exactly one PlaceProposed; every 200'd approval: exactly one PlaceApproved.
        const acknowledged = answered('propose', 202).map((request) => placeIdOf(outcomes.get(request)!.answer!));
        for (const placeId of acknowledged) {
          const events = await eventually(
            () => placeEvents(client, placeId),
            (list) => list.length > 0,
            10_000,
            `events of ${placeId}`,
          );
          expect({ placeId, proposed: typeCounts(events).PlaceProposed }).toEqual({ placeId, proposed: 1 });
        }
        for (const request of answered('approve', 200)) {
          expect({ placeId: request.tag, approved: typeCounts(await placeEvents(client, String(request.tag))).PlaceApproved }).toEqual({
            placeId: request.tag,
            approved: 1,
          });
        }

        // Unanswered: at most once; retried with the same key, still once (and the same place).
        const existedBefore: Record<string, number> = {};
        const retried: string[] = [];
        for (const request of unanswered('propose')) {
          const placeId = placeIdForIdempotencyKey(String(request.tag));
          const proposed = typeCounts(await placeEvents(client, placeId)).PlaceProposed ?? 0;
          existedBefore[placeId] = proposed;
          expect({ placeId, proposed: Math.min(proposed, 2) }).toEqual({ placeId, proposed: Math.min(proposed, 1) });
          const again = await client.send(request);
          expect({ placeId, status: again.status }).toEqual({ placeId, status: 202 });
          expect(placeIdOf(again)).toBe(placeId);
          retried.push(placeId);
        }
        for (const request of unanswered('approve')) {
          const again = await client.send(request);
          expect({ placeId: request.tag, status: again.status }).toEqual({ placeId: request.tag, status: 200 });
        }
        for (const placeId of retried)
          expect({ placeId, proposed: typeCounts(await placeEvents(client, placeId)).PlaceProposed }).toEqual({ placeId, proposed: 1 });

        // Views converge to what the events say; approved places are listed once in newest and nearby.
        progress(`a) restarted in ${restartMs} ms; ${retried.length} unanswered proposals retried; waiting for the views`);
        const everyPlace = [...new Set([...toApprove, ...acknowledged, ...retried])];
        const convergence = await waitForConvergence(client, devhost.keys.functionKey, everyPlace, 180_000);
        expect(convergence.problems).toEqual({});
        for (const placeId of toApprove)
          expect({ placeId, approved: typeCounts(await placeEvents(client, placeId)).PlaceApproved }).toEqual({ placeId, approved: 1 });
        await expectListedOnce(devhost, client, toApprove);

        figures.sigkill = {
          burst: { proposals: proposals.length, approvals: toApprove.length, concurrency: 32 },
          acknowledgedBeforeKill: { proposals: acknowledged.length, approvals: answered('approve', 200).length },
          unanswered: {
            proposals: unanswered('propose').length,
            approvals: unanswered('approve').length,
            proposalsThatExistedAfterRestart: Object.values(existedBefore).filter((count) => count > 0).length,
          },
          restartToReadyMs: restartMs,
          convergedAfterRetriesMs: convergence.elapsedMs,
        };
      } finally {
        client.close();
        await devhost.stop();
        keepLog('faults-a-restarted', devhost);
      }
    },
    10 * 60_000,
  );
});

/** Approved places appear once in newest and once in a nearby search at their own location. */
async function expectListedOnce(devhost: DevhostProcess, client: HttpClient, approved: readonly string[]): Promise<void> {
  const newest = JSON.parse((await client.send({ kind: 'newest', method: 'GET', path: '/api/places/newest?limit=50' })).text) as {
    results: { placeId: string }[];
  };
  const newestIds = newest.results.map((entry) => entry.placeId);
  expect(newestIds.length).toBe(new Set(newestIds).size);
  for (const placeId of approved.slice(0, 50)) expect(newestIds.filter((id) => id === placeId).length).toBe(1);
  for (const placeId of approved) {
    const { view } = await managedPlace(client, devhost.keys.functionKey, placeId);
    const { latitude, longitude } = view?.geolocation as { latitude: number; longitude: number };
    const nearby = JSON.parse(
      (
        await client.send({
          kind: 'nearby',
          method: 'GET',
          path: `/api/places/nearby?lat=${latitude}&lon=${longitude}&radiusKm=1&limit=100`,
        })
      ).text,
    ) as { results: { placeId: string }[] };
    const ids = nearby.results.map((entry) => entry.placeId);
    expect({ placeId, duplicates: ids.length - new Set(ids).size, found: ids.filter((id) => id === placeId).length }).toEqual({
      placeId,
      duplicates: 0,
      found: 1,
    });
  }
}

interface RefreshStatus {
  readonly runtimeStatus: string;
  readonly cycle: { readonly cycle: number; readonly phase: string } | null;
}

async function refreshStatus(devhost: DevhostProcess, client: HttpClient): Promise<RefreshStatus> {
  const answer = await client.send({
    kind: 'ops',
    method: 'GET',
    path: '/api/ops/forecast-refresh',
    headers: { 'x-functions-key': devhost.keys.masterKey },
  });
  if (answer.status !== 200) throw new Error(`forecast-refresh status: HTTP ${answer.status}`);
  return JSON.parse(answer.text) as RefreshStatus;
}

/**
 * Open-loop load of proposals (35 %) and nearby searches while `fault` runs at `faultAfterMs`;
 * returns the run, its summary and the health timeline (GET /api/health every 100 ms).
 */
async function loadWithFault(
  devhost: DevhostProcess,
  client: HttpClient,
  options: { seed: number; label: string; ratePerSecond: number; seconds: number; faultAfterMs: number; fault: () => Promise<void> },
) {
  const mix = requestMix(options.seed);
  const health = healthWatch(devhost.url);
  let faultDone: Promise<void> = Promise.resolve();
  const timer = setTimeout(() => {
    faultDone = options.fault();
    // Awaited once the load is over; until then a failure must not count as unhandled.
    faultDone.catch(() => undefined);
  }, options.faultAfterMs);
  try {
    const run = await runOpenLoop({
      client,
      ratePerSecond: options.ratePerSecond,
      durationMs: options.seconds * 1000,
      plan: (i) =>
        mix.chance(0.35)
          ? proposal(devhost, `${options.label}-${i}`, mix.proposal(`${options.label} ${i}`))
          : { kind: 'nearby', method: 'GET', path: mix.nearbyPath() },
    });
    await faultDone;
    // Let health see the way back if it has not yet.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    return { run, timeline: await health.stop(), summary: summarise(run) };
  } finally {
    clearTimeout(timer);
    await health.stop();
  }
}

const acknowledgedIds = (results: readonly RequestResult[]) =>
  results.filter((result) => result.request.kind === 'propose' && result.answer?.status === 202).map((result) => placeIdOf(result.answer!));

describe('b) Azurite killed under load', () => {
  for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
    it(
      `(${signal}) is restarted on the same ports; health is red, then green; nothing acknowledged is lost, queue messages are delivered, the refresh orchestration carries on`,
      async () => {
        const dataDir = mkdtempSync(join(tmpdir(), 'plannr-faults-azurite-'));
        const devhost = await startDevhostProcess(devhostOptions(dataDir));
        const client = httpClient(devhost.url);
        try {
          const before = await eventually(
            () => refreshStatus(devhost, client),
            (status) => status.runtimeStatus === 'Running' && (status.cycle?.cycle ?? 0) >= 1,
            60_000,
            'the forecast refresh running',
          );
          progress(`b/${signal}) forecast refresh at cycle ${before.cycle?.cycle ?? '?'}; load begins`);
          const killed: { pid?: number; at?: number } = {};
          const { run, timeline, summary } = await loadWithFault(devhost, client, {
            seed: signal === 'SIGKILL' ? 202 : 203,
            label: `azurite-${signal}-${Date.now().toString(36)}`,
            ratePerSecond: FAULT_LOAD_RATE,
            seconds: 30,
            faultAfterMs: 8000,
            fault: async () => {
              killed.pid = azuritePid(devhost);
              killed.at = Date.now();
              if (killed.pid === undefined) throw new Error('The devhost wrote no azurite.pid');
              process.kill(killed.pid, signal);
              progress(`b/${signal}) Azurite (pid ${killed.pid}) killed`);
              await eventually(
                () => Promise.resolve(azuritePid(devhost)),
                (pid) => pid !== undefined && pid !== killed.pid,
                60_000,
                'Azurite restarted',
              );
            },
          });
          console.log(summaryTable(`Azurite ${signal} under load`, summary));

          // The requests under load need Cosmos only: no 5xx, no transport errors, even while storage is down.
          expect(
            run.results
              .filter((result) => result.error !== undefined || (result.answer?.status ?? 0) >= 500)
              .map((result) => `${result.request.kind} ${result.answer?.status ?? result.error ?? ''}`),
          ).toEqual([]);
          // The devhost noticed and restarted its child; health went red and came back.
          expect(logOf(devhost)).toMatch(/Azurite \(pid \d+\) exited unexpectedly/);
          expect(logOf(devhost)).toMatch(/Azurite is back \(pid \d+, restart 1\)/);
          const outage = outageOf(timeline, killed.at ?? 0);
          expect(outage.redAt).toBeDefined();
          expect(outage.greenAt).toBeDefined();

          // Nothing acknowledged is lost; views converge.
          const placeIds = acknowledgedIds(run.results);
          progress(`b/${signal}) load done (${placeIds.length} proposals acknowledged); waiting for the views`);
          const convergence = await waitForConvergence(client, devhost.keys.functionKey, placeIds, 180_000);
          expect(convergence.problems).toEqual({});
          progress(`b/${signal}) views converged in ${convergence.elapsedMs} ms; checking the queue and the refresh orchestration`);

          // Queue: every region the load activated had its fetch-now request delivered and the queue drained.
          const regions = await activatedRegions(client, devhost, placeIds);
          const deliveredFor = (region: string) => new RegExp(`ForecastFetchNow region=${region}\\b`).test(logOf(devhost));
          await eventually(
            () => Promise.resolve(regions.filter((region) => !deliveredFor(region))),
            (missing) => missing.length === 0,
            120_000,
            'a fetch-now delivery for every activated region',
          );
          const queues = await eventually(
            async () =>
              JSON.parse((await client.send({ kind: 'health', method: 'GET', path: '/api/health' })).text) as {
                checks: { storage: { status: string; detail?: string } };
              },
            (report) => report.checks.storage.status === 'healthy' && /: 0 waiting, 0 in /.test(report.checks.storage.detail ?? ''),
            120_000,
            'the forecast-refresh-requests queue drained, nothing poisoned',
          );

          // Durable: the same instance carries on with new cycles.
          const after = await eventually(
            () => refreshStatus(devhost, client),
            (status) => status.runtimeStatus === 'Running' && (status.cycle?.cycle ?? 0) >= (before.cycle?.cycle ?? 0) + 3,
            120_000,
            'refresh cycles after the restart',
          );

          const downMs = /Azurite is back \(pid \d+, restart 1\) after (\d+) ms down/.exec(logOf(devhost))?.[1];
          figures[`azurite${signal}`] = {
            load: {
              ratePerS: summary.achievedRatePerS,
              requests: summary.requests,
              statuses: summary.statuses,
              latencyMs: summary.latencyMs,
              byKind: Object.fromEntries(Object.entries(summary.byKind).map(([kind, entry]) => [kind, entry.latencyMs])),
            },
            azuriteDownMs: downMs === undefined ? null : Number(downMs),
            healthRedAfterKillMs: outage.redAt! - killed.at!,
            healthGreenAfterKillMs: outage.greenAt! - killed.at!,
            acknowledgedProposals: placeIds.length,
            convergedAfterLoadMs: convergence.elapsedMs,
            activatedRegions: regions.length,
            queue: queues.checks.storage.detail,
            refreshCycles: { before: before.cycle?.cycle, after: after.cycle?.cycle },
          };
        } finally {
          client.close();
          await devhost.stop();
          keepLog(`faults-b-${signal}`, devhost);
        }
      },
      10 * 60_000,
    );
  }
});

/** Regions with a RegionActivated event among the regions of these places' validated locations. */
async function activatedRegions(client: HttpClient, devhost: DevhostProcess, placeIds: readonly string[]): Promise<string[]> {
  const regions = new Set<string>();
  await forEachLimited(placeIds, 16, async (placeId) => {
    const { view } = await managedPlace(client, devhost.keys.functionKey, placeId);
    if (typeof view?.region === 'string') regions.add(view.region);
  });
  const activated: string[] = [];
  await forEachLimited([...regions], 16, async (region) => {
    const events = JSON.parse((await client.send({ kind: 'probe', method: 'GET', path: `/api/test/region-events/${region}` })).text) as {
      type: string;
    }[];
    if (events.some((event) => event.type === 'RegionActivated')) activated.push(region);
  });
  return activated.sort();
}

describe('c) the local Cosmos endpoint restarted under load', () => {
  it(
    'commands and queries answer 503 problem+json with Retry-After while it is down (no other 5xx, no hang); afterwards nothing acknowledged is lost, retries do not double, everything converges',
    async () => {
      const dataDir = mkdtempSync(join(tmpdir(), 'plannr-faults-cosmos-'));
      const devhost = await startDevhostProcess(devhostOptions(dataDir));
      const client = httpClient(devhost.url);
      const control = httpClient(devhost.url, { timeoutMs: 120_000 });
      try {
        // Without DEVHOST_TEST_CONTROLS the route does not exist; with it, it needs the master key.
        expect(
          (
            await control.send({
              kind: 'control',
              method: 'POST',
              path: '/devhost/control/restart-cosmos',
              headers: { 'x-functions-key': devhost.keys.functionKey },
            })
          ).status,
        ).toBe(401);

        const restart: { at?: number; answer?: Answer } = {};
        const { run, timeline, summary } = await loadWithFault(devhost, client, {
          seed: 303,
          label: `cosmos-${Date.now().toString(36)}`,
          ratePerSecond: FAULT_LOAD_RATE,
          seconds: 30,
          faultAfterMs: 8000,
          fault: async () => {
            restart.at = Date.now();
            restart.answer = await control.send({
              kind: 'control',
              method: 'POST',
              path: '/devhost/control/restart-cosmos?downMs=3000',
              headers: { 'x-functions-key': devhost.keys.masterKey },
            });
          },
        });
        console.log(summaryTable('Cosmos endpoint restarted (3 s down) under load', summary));
        progress(`c) load done: ${JSON.stringify(summary.statuses)}`);
        expect(restart.answer?.status).toBe(200);
        const { downMs } = JSON.parse(restart.answer!.text) as { downMs: number };
        const backAt = restart.at! + downMs;

        // No transport errors; every failure is a clean 503 problem that says when to retry and nothing of the infrastructure.
        expect(
          run.results.filter((result) => result.error !== undefined).map((result) => `${result.request.kind} ${result.error ?? ''}`),
        ).toEqual([]);
        const failed = run.results.filter((result) => result.answer!.status >= 300);
        expect(
          failed
            .filter((result) => result.answer!.status !== 503)
            .map((result) => `${result.request.kind} ${result.answer!.status} ${result.answer!.text.slice(0, 200)}`),
        ).toEqual([]);
        expect(failed.length).toBeGreaterThan(0);
        for (const result of failed) {
          const answer = result.answer!;
          expect(answer.headers['content-type']).toBe('application/problem+json');
          expect(Number(answer.headers['retry-after'])).toBeGreaterThanOrEqual(1);
          expect(JSON.parse(answer.text)).toMatchObject({ status: 503, type: expect.stringMatching(/service-unavailable$/) });
          expect(answer.text).not.toMatch(/127\.0\.0\.1|localhost|ECONN|:\d{4,5}\b|cosmos|stack/i);
        }
        // The outage shows in the answers only around the restart.
        const lastFailure = Math.max(...failed.map((result) => result.endedAt));
        const firstFailure = Math.min(...failed.map((result) => result.sentAt));
        expect(firstFailure).toBeGreaterThanOrEqual(restart.at! - 1000);

        // Health: red while down, green again after.
        const outage = outageOf(timeline, restart.at!);
        expect(outage.redAt).toBeDefined();
        expect(outage.greenAt).toBeDefined();

        // Proposals that got a 503: retried with the same key after the restart, each exists once.
        const refused = failed.filter((result) => result.request.kind === 'propose');
        const retried: string[] = [];
        for (const result of refused) {
          const placeId = placeIdForIdempotencyKey(String(result.request.tag));
          const again = await client.send(result.request);
          expect({ placeId, status: again.status }).toEqual({ placeId, status: 202 });
          expect(placeIdOf(again)).toBe(placeId);
          retried.push(placeId);
        }
        const placeIds = [...acknowledgedIds(run.results), ...retried];
        progress(`c) ${retried.length} refused proposals retried; waiting for the views`);
        const convergence = await waitForConvergence(client, devhost.keys.functionKey, placeIds, 180_000);
        expect(convergence.problems).toEqual({});
        for (const placeId of retried) expect(streamProblems(await placeEvents(client, placeId))).toEqual([]);

        const recovered = run.results.filter((result) => result.sentAt >= backAt && result.answer!.status < 300);
        figures.cosmosRestart = {
          load: {
            ratePerS: summary.achievedRatePerS,
            requests: summary.requests,
            statuses: summary.statuses,
            latencyMs: summary.latencyMs,
            byKind: Object.fromEntries(Object.entries(summary.byKind).map(([kind, entry]) => [kind, entry.latencyMs])),
          },
          endpointDownMs: downMs,
          answered503: {
            proposals: refused.length,
            searches: failed.length - refused.length,
            firstSentAfterRestartMs: firstFailure - restart.at!,
            lastEndedAfterRestartMs: lastFailure - restart.at!,
          },
          firstSuccessAfterBackMs: recovered.length > 0 ? Math.min(...recovered.map((result) => result.endedAt)) - backAt : null,
          healthRedAfterRestartMs: outage.redAt! - restart.at!,
          healthGreenAfterRestartMs: outage.greenAt! - restart.at!,
          latencyOf503Ms: latencyFigures(failed.map((result) => result.endedAt - result.sentAt)),
          acknowledgedProposals: placeIds.length - retried.length,
          retriedAfter503: retried.length,
          convergedAfterLoadMs: convergence.elapsedMs,
        };
      } finally {
        client.close();
        control.close();
        await devhost.stop();
        keepLog('faults-c', devhost);
      }
    },
    10 * 60_000,
  );
});
