import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  presentColdStart,
  presentDevhost,
  presentDurable,
  presentEventStore,
  presentForecast,
  presentReadSide,
  presentSearch,
  presentStart,
  printSection,
  targetsOf,
  writePerformanceReport,
  type BenchInvocation,
  type Machine,
  type SectionRecord,
  type SectionView,
} from './report';
import { describeBound, describeMachine, loadAverage1m, medianOfRuns, parseBenchArgs, type Target } from '../packages/devhost/bench/stats';

/**
 * `npm run bench [-- section…] [--runs N]`: runs every section (or the ones named), each N times
 * (default 3) in a fresh Node process per run, keeps the median of every figure, judges each
 * section's targets from those figures, prints them, and writes bench/results/latest.json and
 * docs/performance.md with this invocation's sections only (the report names those not run). Exits
 * non-zero when a target fails or a section throws; the files are written all the same, since a
 * failing figure is worth as much on record as a passing one. There is no flag to exit zero anyway:
 * it would only make a failure easy to miss. With fewer than 3 runs nothing is written, because a
 * median of one or two runs is not a figure to publish (useful to check a section's wiring).
 *
 * Adding a section (`search` is an example):
 * 1. a benchmark function returning a plain, JSON-safe result, one run per call
 *    (`benchmarkSearch(): Promise<SearchBenchmark>` in bench/search.bench.ts); each call runs in a
 *    fresh process, so it may start servers and register functions without cleaning up after itself;
 * 2. a presenter turning the median result into a `SectionView` (`presentSearch` in bench/report.ts):
 *    a sentence on what was measured, and rows built with `figure(measure, value, { reference:
 *    [name, value], target })`, each beside a reference measured in the same run, each target a
 *    `Bound` from packages/devhost/bench/stats.ts (`atMost(2)`, `atLeast(1000)`, `equals`,
 *    `atMostTimes(1.5, reference)`), judged from the figure it sits beside;
 * 3. one `section({ name, title, run, present })` in SECTIONS below, importing the benchmark inside
 *    `run` so that only the process running it loads its module.
 */
const SECTIONS: readonly RegisteredSection[] = [
  section({
    name: 'eventStore',
    title: 'Event store appends',
    run: async () => (await import('./eventStore.bench')).benchmarkEventStores(),
    present: presentEventStore,
  }),
  section({
    name: 'devhost',
    title: 'Devhost overhead per HTTP invocation',
    run: async () => (await import('../packages/devhost/bench/devhostOverhead.bench')).benchmarkDevhostOverhead(),
    present: presentDevhost,
  }),
  section({
    name: 'readSide',
    title: 'Read side',
    run: async () => (await import('./readSide.bench')).benchmarkReadSide(),
    present: presentReadSide,
  }),
  section({
    name: 'search',
    title: 'Nearby search over HTTP',
    run: async () => (await import('./search.bench')).benchmarkSearch(),
    present: presentSearch,
  }),
  section({
    name: 'durable',
    title: 'Durable engine (devhost, Azurite tables)',
    run: async () => (await import('../packages/devhost/bench/durable.bench')).benchmarkDurable(),
    present: presentDurable,
  }),
  section({
    name: 'coldStart',
    title: 'Cold start',
    // Each run the median of 15 fresh processes of each kind, alternating (the minimum).
    run: async () => (await import('./coldStart.bench')).benchmarkColdStart(15),
    present: presentColdStart,
  }),
  section({
    name: 'start',
    title: 'Starting the app',
    run: async () => (await import('./start.bench')).benchmarkStart(),
    present: presentStart,
  }),
  section({
    name: 'forecast',
    title: 'Forecast refresh',
    run: async () =>
      (await import('./forecastRefresh.bench')).benchmarkForecastRefresh({
        progress: (message) => console.error(`[${new Date().toISOString()}] forecast: ${message}`),
      }),
    present: presentForecast,
  }),
];

/** Fewer runs than this and nothing is written. */
const MIN_RUNS_TO_WRITE = 3;

interface BenchSection<R> {
  /** On the command line and in latest.json. */
  readonly name: string;
  /** The report's heading (other documents link to it). */
  readonly title: string;
  /** One run. */
  readonly run: () => Promise<R> | R;
  readonly present: (result: R) => SectionView;
}

/** A section with its result type hidden, so that sections of different results share one list. */
interface RegisteredSection {
  readonly name: string;
  readonly title: string;
  readonly run: () => Promise<unknown>;
  readonly present: (result: unknown) => SectionView;
}

function section<R>(definition: BenchSection<R>): RegisteredSection {
  return {
    name: definition.name,
    title: definition.title,
    run: async () => definition.run(),
    // The result handed back is the median of this section's own runs, so it has the shape `run` returned.
    present: (result) => definition.present(result as R),
  };
}

const ONE_RUN = '--one-run';

async function main(args: readonly string[]): Promise<void> {
  const oneRun = args.indexOf(ONE_RUN);
  if (oneRun >= 0) return runOnce(args[oneRun + 1] ?? '', args[oneRun + 2] ?? '');

  const { runs, named } = parseBenchArgs(args);
  const unknown = named.filter((name) => !SECTIONS.some((s) => s.name === name));
  if (unknown.length > 0)
    throw new Error(`Unknown section(s) ${unknown.join(', ')}; the sections: ${SECTIONS.map((s) => s.name).join(' ')}`);
  const chosen = SECTIONS.filter((s) => named.length === 0 || named.includes(s.name));
  const { cpus, cpu, memoryGiB, node } = describeMachine();
  const machine: Machine = { cpus, cpu, memoryGiB, node };
  const writes = runs >= MIN_RUNS_TO_WRITE;
  console.log(
    `Machine: ${machine.cpus} × ${machine.cpu}, ${machine.memoryGiB} GiB, Node ${machine.node}; ${runs} run(s) per section in fresh processes, medians` +
      (writes ? '' : `; fewer than ${MIN_RUNS_TO_WRITE} runs, so nothing will be written`),
  );

  const records: SectionRecord[] = [];
  const results: Record<string, SectionResult> = {};
  for (const chosenSection of chosen) {
    const { record, ...result } = await measureSection(chosenSection, runs);
    records.push(record);
    results[chosenSection.name] = result;
    printSection(record, machine);
  }

  const failures = records.flatMap((record) => [
    ...(record.error ? [`${record.name}: ${record.error}`] : []),
    ...(record.view ? targetsOf(record.view) : [])
      .filter((target) => !target.pass)
      .map((target) => `${record.name}: ${target.name} = ${target.figure}, target ${describeBound(target)}`),
  ]);
  const invocation: BenchInvocation = {
    machine,
    runs,
    sections: records,
    notRun: SECTIONS.filter((s) => !chosen.includes(s)).map(({ name, title }) => ({ name, title })),
  };
  if (writes) {
    const folder = join(__dirname, 'results');
    mkdirSync(folder, { recursive: true });
    const file = join(folder, 'latest.json');
    writeFileSync(file, `${JSON.stringify(toJson(invocation, results), null, 2)}\n`);
    console.log(`\nWrote ${file} and ${writePerformanceReport(invocation)}.`);
  } else console.log(`\nNothing written: ${runs} run(s) per section, fewer than ${MIN_RUNS_TO_WRITE}.`);

  if (failures.length > 0) {
    console.log(`\n${failures.length} failure(s):\n  ${failures.join('\n  ')}`);
    process.exitCode = 1;
  } else {
    const judged = records.reduce((sum, record) => sum + (record.view ? targetsOf(record.view).length : 0), 0);
    console.log(judged === 0 ? '\nNo targets in these sections.' : `\nEvery target met (${judged}).`);
  }
}

/** Runs one section `runs` times, each in a fresh process, and presents the median. A run that throws fails the section, not the invocation. */
async function measureSection(chosen: RegisteredSection, runs: number): Promise<{ record: SectionRecord } & SectionResult> {
  const startedAt = new Date().toISOString();
  const loadAtStart = loadAverage1m();
  const base = { name: chosen.name, title: chosen.title, runs, startedAt };
  const finish = () => ({ finishedAt: new Date().toISOString(), loadAverage: { start: loadAtStart, end: loadAverage1m() } });
  try {
    const each: unknown[] = [];
    for (let run = 1; run <= runs; run++) {
      console.log(`${chosen.name}: run ${run} of ${runs}…`);
      each.push(await runInFreshProcess(chosen.name));
    }
    const result = medianOfRuns(each);
    const targetsByRun = each.map((run) => targetsOf(chosen.present(run)));
    const view = holdEveryRun(chosen.present(result), targetsByRun);
    const eachRun = Object.fromEntries(
      targetsOf(view).map(({ name }) => [
        name,
        targetsByRun.map((targets) => targets.find((target) => target.name === name)?.figure ?? null),
      ]),
    );
    return { record: { ...base, ...finish(), view }, result, eachRun };
  } catch (error) {
    return { record: { ...base, ...finish(), error: error instanceof Error ? error.message : String(error) } };
  }
}

/** A target that must hold in every run fails when any run's own figure failed it, whatever the median. */
function holdEveryRun(view: SectionView, targetsByRun: readonly (readonly Target[])[]): SectionView {
  const failedInARun = (name: string) => targetsByRun.some((targets) => targets.find((target) => target.name === name)?.pass === false);
  return {
    ...view,
    rows: view.rows.map((row) =>
      row.target?.everyRun && row.target.pass && failedInARun(row.target.name) ? { ...row, target: { ...row.target, pass: false } } : row,
    ),
  };
}

/**
 * Each run in its own process: no JIT, caches, registrations or module state carried from one run to
 * the next (and the forecast benchmark reads its settings once per process).
 */
async function runInFreshProcess(name: string): Promise<unknown> {
  const folder = mkdtempSync(join(tmpdir(), 'plannr-bench-'));
  const file = join(folder, 'result.json');
  try {
    const code = await new Promise<number | null>((resolve, reject) => {
      const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', __filename, ONE_RUN, name, file], {
        cwd: join(__dirname, '..'),
        stdio: 'inherit',
      });
      child.once('error', reject);
      child.once('exit', (exitCode) => resolve(exitCode));
    });
    if (code !== 0) throw new Error(`run of ${name} exited ${String(code)}`);
    return JSON.parse(readFileSync(file, 'utf8')) as unknown;
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

async function runOnce(name: string, file: string): Promise<void> {
  const chosen = SECTIONS.find((s) => s.name === name);
  if (!chosen || !file) throw new Error(`${ONE_RUN} needs a section and a result file`);
  try {
    writeFileSync(file, JSON.stringify(await chosen.run()));
  } catch (error) {
    console.error(error);
    process.exitCode = 1;
  }
  // Servers a benchmark left behind (keep-alive sockets, timers), failed or not, must not keep the run open.
  process.exit();
}

interface SectionResult {
  /** The median of the runs; absent when a run failed. */
  readonly result?: unknown;
  /** Each target's figure in every run, by target name, so a marginal pass shows in latest.json. */
  readonly eachRun?: Readonly<Record<string, readonly (number | null)[]>>;
}

/** latest.json: this invocation only; each section's median result beside the rows and targets the report showed of it. */
function toJson(invocation: BenchInvocation, results: Record<string, SectionResult>): unknown {
  return {
    writtenAt: new Date().toISOString(),
    runsPerSection: invocation.runs,
    machine: invocation.machine,
    notRun: invocation.notRun.map((s) => s.name),
    sections: Object.fromEntries(
      invocation.sections.map((record) => [
        record.name,
        {
          title: record.title,
          runs: record.runs,
          startedAt: record.startedAt,
          finishedAt: record.finishedAt,
          loadAverage: record.loadAverage,
          ...(record.error ? { error: record.error } : {}),
          ...(record.view
            ? {
                targets: targetsOf(record.view).map((target) => ({ ...target, eachRun: results[record.name]?.eachRun?.[target.name] })),
                rows: record.view.rows,
              }
            : {}),
          result: results[record.name]?.result,
        },
      ]),
    ),
  };
}

main(process.argv.slice(2)).catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
