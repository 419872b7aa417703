import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { round } from '../packages/devhost/bench/stats';

const root = join(__dirname, '..');
const RUNS = 15;

export interface ColdStartBenchmark {
  readonly runs: number;
  /** Medians, ms. `load`: requiring the entry files until every function is registered; `process`: from node's start until ready (entries loaded and appStart hooks run). */
  readonly app: { readonly functions: number; readonly loadMs: number; readonly processMs: number };
  readonly bare: { readonly functions: number; readonly loadMs: number; readonly processMs: number };
  /** app.loadMs / bare.loadMs and app.processMs / bare.processMs. */
  readonly loadRatio: number;
  readonly processRatio: number;
  /**
   * Time from node's start until a first invocation of one function of each trigger kind has
   * completed, each in fresh processes alternating with the bare app's first HTTP invocation
   * measured the same way (load, appStart hooks, invoke through the devhost's invocation path).
   */
  readonly firstInvocation: readonly FirstInvocationRow[];
}

export type TriggerKind = 'http' | 'changeFeed' | 'orchestration';

export interface FirstInvocationRow {
  readonly trigger: TriggerKind;
  /** The app's function invoked and what its invocation does (see FIRST_INVOCATIONS). */
  readonly functionName: string;
  readonly measures: string;
  /** Medians, ms from process start. */
  readonly appMs: number;
  readonly bareMs: number;
  /** appMs / bareMs: the target is ≤ 2 (COLD_START_TARGET_RATIO). */
  readonly ratio: number;
}

/** Cold start from process start, app against bare, for the registration row and each first-invocation row. */
export const COLD_START_TARGET_RATIO = 2;

/**
 * Cold start as the Functions host's Node worker sees it: a fresh node process requires the app's
 * compiled entry files (package.json `main`) under the @azure/functions-core stand-in, until every
 * function is registered — against a bare @azure/functions app with one HTTP function, loaded the
 * same way. Medians of fresh processes, alternating the two so machine load hits both alike.
 * Needs `npm run build` first (the bench command builds).
 */
export function benchmarkColdStart(runs = RUNS): ColdStartBenchmark {
  const app: Sample[] = [];
  const bare: Sample[] = [];
  for (let run = 0; run < runs + 2; run++) {
    const appSample = measure(APP_PROBE);
    const bareSample = measure(BARE_PROBE);
    // The first two of each warm the disk cache.
    if (run >= 2) {
      app.push(appSample);
      bare.push(bareSample);
    }
  }
  const summary = (samples: Sample[]) => ({
    functions: samples[0]?.functions ?? 0,
    loadMs: median(samples.map((s) => s.loadMs)),
    processMs: median(samples.map((s) => s.processMs)),
  });
  const appSummary = summary(app);
  const bareSummary = summary(bare);
  return {
    runs,
    app: appSummary,
    bare: bareSummary,
    loadRatio: round(appSummary.loadMs / bareSummary.loadMs, 2),
    processRatio: round(appSummary.processMs / bareSummary.processMs, 2),
    firstInvocation: FIRST_INVOCATIONS.map((row) => benchmarkFirstInvocation(row, runs)),
  };
}

interface FirstInvocation {
  readonly trigger: TriggerKind;
  readonly functionName: string;
  readonly measures: string;
  /** The devhost InvocationRequest's inputData[0].data, as JSON. */
  readonly data: string;
}

const STARTED = new Date(Date.UTC(2025, 5, 1, 9)).toISOString();

/**
 * Nothing answers at the app's Cosmos, storage or Event Grid settings (127.0.0.1:9): each invocation
 * is chosen to complete without them, so the rows measure loading and building the services, not a
 * network's time-outs.
 */
const FIRST_INVOCATIONS: readonly FirstInvocation[] = [
  {
    trigger: 'http',
    functionName: 'nearbyPlaces',
    measures:
      'GET /api/places/nearby with a malformed query: the handler module and the composition root load and the services are built; the answer is 400, before any Cosmos query',
    data: JSON.stringify({
      http: { method: 'GET', url: 'http://localhost/api/places/nearby?lat=x', headers: {}, query: { lat: 'x' }, params: {} },
    }),
  },
  {
    trigger: 'changeFeed',
    functionName: 'projectEvents',
    measures:
      'a change-feed batch with no documents: the handler module and the composition root load, the services are built, nothing is written',
    data: JSON.stringify({ json: '[]' }),
  },
  {
    trigger: 'orchestration',
    functionName: 'forecastRefresh',
    measures:
      "the orchestration's first episode (ExecutionStarted): durable-functions' orchestrator wrapper loads and the orchestrator runs until it schedules its plan activity",
    data: JSON.stringify({
      json: JSON.stringify({
        history: [
          { EventType: 12, EventId: -1, IsPlayed: false, Timestamp: STARTED },
          { EventType: 0, EventId: -1, IsPlayed: false, Timestamp: STARTED, Name: 'forecastRefresh', Input: '{"cycle":1}' },
        ],
        input: { cycle: 1 },
        instanceId: 'bench',
        isReplaying: false,
        upperSchemaVersion: 3,
        longRunningTimerIntervalDuration: '3.00:00:00',
        maximumShortTimerDuration: '6.00:00:00',
      }),
    }),
  },
];

function benchmarkFirstInvocation(row: FirstInvocation, runs: number): FirstInvocationRow {
  const app: number[] = [];
  const bare: number[] = [];
  for (let run = 0; run < runs + 2; run++) {
    const appMs = measureInvocation(invokeProbe('app', row.functionName, row.data));
    const bareMs = measureInvocation(
      invokeProbe(
        'bare',
        'hello',
        JSON.stringify({ http: { method: 'GET', url: 'http://localhost/api/hello', headers: {}, query: {}, params: {} } }),
      ),
    );
    if (run >= 2) {
      app.push(appMs);
      bare.push(bareMs);
    }
  }
  const appMs = median(app);
  const bareMs = median(bare);
  return { trigger: row.trigger, functionName: row.functionName, measures: row.measures, appMs, bareMs, ratio: round(appMs / bareMs, 2) };
}

interface Sample {
  readonly functions: number;
  readonly loadMs: number;
  readonly processMs: number;
}

// Ready as the Node worker is ready: every entry file loaded, then the appStart hooks run (the worker
// answers the host's init only after them, so no invocation comes before). `loadMs` is the loading alone.
const APP_PROBE = `
(async () => {
  const started = performance.now();
  const { loadFunctionApp } = require(${JSON.stringify(join(root, 'packages', 'devhost', 'dist', 'functionApp.js'))});
  const loaded = loadFunctionApp(${JSON.stringify(root)});
  const registered = performance.now();
  await require(${JSON.stringify(join(root, 'packages', 'devhost', 'dist', 'functionsCore.js'))}).runAppHooks('appStart', ${JSON.stringify(root)});
  const done = performance.now();
  process.stdout.write(JSON.stringify({ functions: loaded.registrations.length, loadMs: registered - started, processMs: done }));
})();
`;

const BARE_PROBE = `
(async () => {
  const started = performance.now();
  require(${JSON.stringify(join(root, 'packages', 'devhost', 'dist', 'functionApp.js'))}).installFunctionsCore();
  const { app } = require('@azure/functions');
  app.http('hello', { methods: ['GET'], authLevel: 'anonymous', handler: () => ({ body: 'hello' }) });
  const core = require(${JSON.stringify(join(root, 'packages', 'devhost', 'dist', 'functionsCore.js'))});
  const registered = performance.now();
  await core.runAppHooks('appStart', ${JSON.stringify(root)});
  const done = performance.now();
  process.stdout.write(JSON.stringify({ functions: core.registeredFunctions().length, loadMs: registered - started, processMs: done }));
})();
`;

const devhostDist = (file: string) => JSON.stringify(join(root, 'packages', 'devhost', 'dist', file));

/** Loads the app (or the bare one), runs appStart hooks, invokes one function as the devhost does, and prints when that completed. */
function invokeProbe(which: 'app' | 'bare', functionName: string, data: string): string {
  const load =
    which === 'app'
      ? `const loaded = require(${devhostDist('functionApp.js')}).loadFunctionApp(${JSON.stringify(root)});`
      : `require(${devhostDist('functionApp.js')}).installFunctionsCore();
const { app } = require('@azure/functions');
app.http('hello', { methods: ['GET'], authLevel: 'anonymous', handler: () => ({ body: 'hello' }) });
const core = require(${devhostDist('functionsCore.js')});
const loaded = { registrations: core.registeredFunctions(), programmingModel: core.getProgrammingModel() };`;
  return `
(async () => {
  ${load}
  await require(${devhostDist('functionsCore.js')}).runAppHooks('appStart', ${JSON.stringify(root)});
  const { invokeFunction, triggerOf } = require(${devhostDist('invoke.js')});
  const registration = loaded.registrations.find((r) => r.metadata.name === ${JSON.stringify(functionName)});
  const quiet = { info() {}, warn() {}, error() {}, debug() {}, functionLog() {}, enabled: () => false };
  const request = { inputData: [{ name: triggerOf(registration).name, data: ${data} }], triggerMetadata: {} };
  await invokeFunction(loaded.programmingModel, registration, request, quiet, 'bench');
  process.stdout.write(JSON.stringify({ ms: performance.now() }));
  process.exit(0);
})().catch((error) => { console.error(error); process.exit(1); });
`;
}

/** Nothing listens on port 9 (discard): a client that did reach out would fail at once. */
const NOWHERE = {
  AzureWebJobsStorage:
    'DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;QueueEndpoint=http://127.0.0.1:9/devstoreaccount1;',
  COSMOS_CONNECTION:
    'AccountEndpoint=http://127.0.0.1:9/;AccountKey=C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU5DE2nQ9nDuVTqobD4b8mGGyPMbIZnqyMsEcaGQy67XyHQ==;',
  COSMOS_DATABASE: 'bench',
  EVENTGRID_TOPIC_ENDPOINT: 'http://127.0.0.1:9/api/events',
  EVENTGRID_TOPIC_KEY: 'bench',
  WEATHER_PROVIDER: 'open-meteo',
  WEATHER_BASE_URL: 'http://127.0.0.1:9',
  GEOCODER_BASE_URL: 'http://127.0.0.1:9',
  POSTCODES_BASE_URL: 'http://127.0.0.1:9',
};

function measureInvocation(probe: string): number {
  const output = execFileSync(process.execPath, ['-e', probe], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, ...NOWHERE, NODE_ENV: 'production' },
  });
  return (JSON.parse(output) as { ms: number }).ms;
}

function measure(probe: string): Sample {
  // The settings the app's appStart hook validates: well-formed, pointing nowhere.
  const output = execFileSync(process.execPath, ['-e', probe], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, ...NOWHERE, NODE_ENV: 'production' },
  });
  return JSON.parse(output) as Sample;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return round(sorted.length % 2 === 1 ? (sorted[middle] ?? Number.NaN) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2, 1);
}

if (require.main === module) console.log(benchmarkColdStart());
