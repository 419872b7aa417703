/**
 * Load: the compiled app through the devhost (offline), open loop at 200 requests/s for 60 s, a mix
 * of nearby searches (random points in GB, random filters) and proposals (valid bodies, each with its
 * own Idempotency-Key). No answer may be a 5xx and no request may fail in transport; the figures
 * (achieved rate, p50/p90/p99/max overall and per kind) are printed and written to
 * test-artifacts/reliability/load.json. Afterwards every proposal that got a 202 must show up in the
 * read model, exactly once.
 *
 * RELIABILITY_LOAD_RATE and RELIABILITY_LOAD_SECONDS change the rate and duration (for a quick run).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startDevhostProcess, type DevhostProcess } from '../support/devhostProcess';
import {
  httpClient,
  requestMix,
  runOpenLoop,
  summarise,
  summaryTable,
  type HttpClient,
  type PlannedRequest,
  type RequestResult,
} from '../support/loadGenerator';
import { eventually, forEachLimited, managedPlace, placeEvents, placeEventsProbeModule, typeCounts } from '../support/placeChecks';

const RATE = Number(process.env.RELIABILITY_LOAD_RATE ?? 200);
const SECONDS = Number(process.env.RELIABILITY_LOAD_SECONDS ?? 60);
/** Share of the requests that are proposals; the rest are nearby searches. */
const PROPOSAL_SHARE = 0.25;
/** Approved places seeded before the load, so searches find something. */
const SEEDED = 60;
const artifacts = join(__dirname, '..', '..', 'test-artifacts', 'reliability');

describe(`load: ${RATE} requests/s for ${SECONDS} s through the devhost`, () => {
  let devhost: DevhostProcess;
  let client: HttpClient;
  const runId = Date.now().toString(36);
  const mix = requestMix(20261127);

  beforeAll(async () => {
    // --quiet: at this rate the per-invocation log lines would cost the devhost more than the requests.
    devhost = await startDevhostProcess({ extraModules: [placeEventsProbeModule], args: ['--quiet'] });
    // 230 s: the longest an HTTP-triggered function may take to answer in Azure; a slower answer is latency, not a failure.
    client = httpClient(devhost.url, { timeoutMs: 230_000 });
  });
  afterAll(async () => {
    client.close();
    await devhost.stop();
  });

  const propose = (body: unknown, key: string): PlannedRequest => ({
    kind: 'propose',
    method: 'POST',
    path: '/api/places',
    headers: { 'x-functions-key': devhost.keys.functionKey, 'idempotency-key': key },
    json: body,
    tag: key,
  });

  it(
    'answers every request without a 5xx or a transport error, and every acknowledged proposal reaches the read model once',
    async () => {
      // Seed approved places across GB, so that searches have something to find and rank.
      const seeded: string[] = [];
      await forEachLimited(
        Array.from({ length: SEEDED }, (_, i) => i),
        8,
        async (i) => {
          const answer = await client.send(propose(mix.proposal(`Seeded ${runId}-${i}`), `seed-${runId}-${i}`));
          expect(answer.status).toBe(202);
          seeded.push((JSON.parse(answer.text) as { placeId: string }).placeId);
        },
      );
      await forEachLimited(seeded, 8, async (placeId) => {
        const place = await eventually(
          () => managedPlace(client, devhost.keys.functionKey, placeId),
          (p) => p.view?.status === 'locationValidated' || p.view?.status === 'locationRejected',
          60_000,
          `${placeId} checked`,
        );
        if (place.view?.status !== 'locationValidated') return;
        const approved = await client.send({
          kind: 'approve',
          method: 'POST',
          path: `/api/places/${placeId}/approve`,
          headers: { 'x-functions-key': devhost.keys.masterKey },
        });
        expect(approved.status).toBe(200);
      });

      // The load.
      const run = await runOpenLoop({
        client,
        ratePerSecond: RATE,
        durationMs: SECONDS * 1000,
        plan: (i) =>
          mix.chance(PROPOSAL_SHARE)
            ? propose(mix.proposal(`Load ${runId}-${i}`), `load-${runId}-${i}`)
            : { kind: 'nearby', method: 'GET', path: mix.nearbyPath() },
      });
      const summary = summarise(run);
      console.log(summaryTable(`Load at ${RATE}/s for ${SECONDS} s`, summary));
      const failures = run.results.filter((result) => result.error !== undefined || (result.answer?.status ?? 0) >= 500);
      const unexpected = run.results.filter(
        (result) => result.answer !== undefined && result.answer.status !== (result.request.kind === 'propose' ? 202 : 200),
      );

      // Every 202'd proposal must reach the read model, once.
      const acknowledged = run.results.filter(
        (result): result is RequestResult & { answer: NonNullable<RequestResult['answer']> } =>
          result.request.kind === 'propose' && result.answer?.status === 202,
      );
      const placeIds = acknowledged.map((result) => (JSON.parse(result.answer.text) as { placeId: string }).placeId);
      const readModelStarted = Date.now();
      const missing = new Set(placeIds);
      const doubled: Record<string, Record<string, number>> = {};
      const deadline = Date.now() + 180_000;
      const checkErrors: string[] = [];
      while (missing.size > 0 && Date.now() < deadline && devhost.child.exitCode === null && devhost.child.signalCode === null) {
        await forEachLimited([...missing], 16, async (placeId) => {
          try {
            const place = await managedPlace(client, devhost.keys.functionKey, placeId);
            if (place.status !== 200) return;
            const counts = typeCounts(await placeEvents(client, placeId));
            if (counts.PlaceProposed !== 1) doubled[placeId] = counts;
            missing.delete(placeId);
          } catch (error) {
            checkErrors.push(`${placeId}: ${error instanceof Error ? error.message : String(error)}`);
          }
        });
        if (missing.size > 0) await new Promise((resolve) => setTimeout(resolve, 1000));
      }
      const readModelMs = Date.now() - readModelStarted;

      const report = {
        when: new Date().toISOString(),
        target: { ratePerS: RATE, seconds: SECONDS, proposalShare: PROPOSAL_SHARE, seededApprovedPlaces: seeded.length },
        ...summary,
        readModel: {
          acknowledgedProposals: placeIds.length,
          distinctPlaceIds: new Set(placeIds).size,
          missing: missing.size,
          doubled: Object.keys(doubled).length,
          allVisibleWithinMs: readModelMs,
        },
        devhostExited: devhost.child.exitCode ?? devhost.child.signalCode,
        checkErrors: checkErrors.slice(0, 20),
        failures: failures.slice(0, 20).map((result) => ({
          kind: result.request.kind,
          status: result.answer?.status,
          error: result.error,
          body: result.answer?.text.slice(0, 300),
        })),
      };
      mkdirSync(artifacts, { recursive: true });
      writeFileSync(join(artifacts, 'load.json'), `${JSON.stringify(report, null, 2)}\n`);
      console.log(
        `read model: ${placeIds.length} acknowledged proposals, all visible after the load within ${readModelMs} ms; missing ${missing.size}, doubled ${Object.keys(doubled).length}\n` +
          `(written to ${join(artifacts, 'load.json')})`,
      );

      // --quiet: what the devhost printed are its warnings and errors.
      if (devhost.child.exitCode !== null || devhost.child.signalCode !== null || checkErrors.length > 0)
        console.log(`devhost output (tail):\n${devhost.output().slice(-5000)}`);
      expect(devhost.child.exitCode ?? devhost.child.signalCode).toBeNull();
      expect(checkErrors.slice(0, 5)).toEqual([]);
      expect(failures.map((result) => `${result.request.kind} ${result.answer?.status ?? result.error ?? ''}`)).toEqual([]);
      expect(
        unexpected.map((result) => `${result.request.kind} ${result.answer?.status ?? ''} ${result.answer?.text.slice(0, 200) ?? ''}`),
      ).toEqual([]);
      expect(summary.requests).toBe(Math.round(RATE * SECONDS));
      // Open loop: the schedule was kept (the client itself never fell far behind).
      expect(summary.achievedRatePerS).toBeGreaterThanOrEqual(RATE * 0.95);
      expect(new Set(placeIds).size).toBe(placeIds.length);
      expect([...missing]).toEqual([]);
      expect(doubled).toEqual({});
    },
    15 * 60_000,
  );
});
