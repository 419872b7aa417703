import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { round } from '../packages/devhost/bench/stats';

const root = join(__dirname, '..');
const RUNS = 15;

export interface ColdStartBenchmark {
  readonly runs: number;
  /** Medians, ms. `load`: requiring the entry files until every function is registered; `process`: from node's start to then. */
  readonly app: { readonly functions: number; readonly loadMs: number; readonly processMs: number };
  readonly bare: { readonly functions: number; readonly loadMs: number; readonly processMs: number };
  /** app.loadMs / bare.loadMs and app.processMs / bare.processMs. */
  readonly loadRatio: number;
  readonly processRatio: number;
}

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
  };
}

interface Sample {
  readonly functions: number;
  readonly loadMs: number;
  readonly processMs: number;
}

const APP_PROBE = `
const started = performance.now();
const { loadFunctionApp } = require(${JSON.stringify(join(root, 'packages', 'devhost', 'dist', 'functionApp.js'))});
const loaded = loadFunctionApp(${JSON.stringify(root)});
const done = performance.now();
process.stdout.write(JSON.stringify({ functions: loaded.registrations.length, loadMs: done - started, processMs: done }));
`;

const BARE_PROBE = `
const started = performance.now();
require(${JSON.stringify(join(root, 'packages', 'devhost', 'dist', 'functionApp.js'))}).installFunctionsCore();
const { app } = require('@azure/functions');
app.http('hello', { methods: ['GET'], authLevel: 'anonymous', handler: () => ({ body: 'hello' }) });
const { registeredFunctions } = require(${JSON.stringify(join(root, 'packages', 'devhost', 'dist', 'functionsCore.js'))});
const done = performance.now();
process.stdout.write(JSON.stringify({ functions: registeredFunctions().length, loadMs: done - started, processMs: done }));
`;

function measure(probe: string): Sample {
  const output = execFileSync(process.execPath, ['-e', probe], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, NODE_ENV: 'production' },
  });
  return JSON.parse(output) as Sample;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return round(sorted.length % 2 === 1 ? (sorted[middle] ?? Number.NaN) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2, 1);
}

if (require.main === module) console.log(benchmarkColdStart());
