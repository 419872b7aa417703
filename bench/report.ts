import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { COLD_START_TARGET_RATIO, type ColdStartBenchmark } from './coldStart.bench';
import type { AppendBenchmark } from './eventStore.bench';
import type { ForecastRefreshBenchmark } from './forecastRefresh.bench';
import type { ReadSideBenchmark } from './readSide.bench';
import type { SearchBenchmark } from './search.bench';
import type { StartBenchmark } from './start.bench';
import type { DevhostOverheadBenchmark } from '../packages/devhost/bench/devhostOverhead.bench';
import type { DurableBenchmark } from '../packages/devhost/bench/durable.bench';
import {
  atLeast,
  atMost,
  atMostTimes,
  describeBound,
  inEveryRun,
  judge,
  round,
  type Bound,
  type Target,
} from '../packages/devhost/bench/stats';

/** Hand-written text below this line in docs/performance.md survives regeneration. */
const KEEP_MARKER = '<!-- Everything below this line is written by hand and kept when the figures are regenerated. -->';

/**
 * One line of a section's table: a figure, the same quantity measured in the same run as its
 * reference (so load on the machine falls on both), and the target it is held to, judged from it.
 */
export interface FigureRow {
  readonly measure: string;
  readonly figure: number | string;
  readonly reference?: { readonly name: string; readonly figure: number | string };
  readonly target?: Target;
}

/** What a section shows: a sentence or two on what was measured, then its figures. */
export interface SectionView {
  readonly about: string;
  readonly rows: readonly FigureRow[];
}

/** A row; with a bound, its target is judged here from the figure the row shows. */
export function figure(
  measure: string,
  value: number | string,
  options: { readonly reference?: readonly [name: string, figure: number | string]; readonly target?: Bound } = {},
): FigureRow {
  const [referenceName, referenceFigure] = options.reference ?? [];
  return {
    measure,
    figure: value,
    ...(referenceName !== undefined && referenceFigure !== undefined
      ? { reference: { name: referenceName, figure: referenceFigure } }
      : {}),
    // A figure that is not a number (null from a run that measured nothing) fails its target.
    ...(options.target ? { target: judge(measure, typeof value === 'number' ? value : Number.NaN, options.target) } : {}),
  };
}

export function targetsOf(view: SectionView): Target[] {
  return view.rows.flatMap((row) => (row.target ? [row.target] : []));
}

export interface Machine {
  readonly cpus: number;
  readonly cpu: string;
  readonly memoryGiB: number;
  readonly node: string;
}

/** One section as this invocation measured it (or failed to). */
export interface SectionRecord {
  readonly name: string;
  readonly title: string;
  readonly runs: number;
  readonly startedAt: string;
  readonly finishedAt: string;
  /** The 1-minute load average before the first run and after the last. */
  readonly loadAverage: { readonly start: number; readonly end: number };
  readonly view?: SectionView;
  readonly error?: string;
}

export interface BenchInvocation {
  readonly machine: Machine;
  readonly runs: number;
  readonly sections: readonly SectionRecord[];
  /** Titles of the sections this invocation did not run: the report names them and shows no figures. */
  readonly notRun: readonly { readonly name: string; readonly title: string }[];
}

/** Writes docs/performance.md from one invocation's sections, keeping the hand-written part; returns its path. */
export function writePerformanceReport(invocation: BenchInvocation): string {
  const file = join(__dirname, '..', 'docs', 'performance.md');
  const kept = existsSync(file) ? readFileSync(file, 'utf8').split(KEEP_MARKER)[1] : undefined;
  const measured = invocation.sections.map((section) => section.title);
  const parts: string[] = [
    '# Performance',
    '',
    `Written by \`npm run bench\` (bench/run.ts), figures in \`bench/results/latest.json\`. Method: each section ran ${invocation.runs} times (\`--runs N\`; with fewer than 3 nothing is written), every run in a fresh Node process, and every figure is the median over those runs; each figure stands beside a reference measured in the same run (the same work done directly, by a bare app, in-process, or its ideal), so other load on the machine falls on both, and each target is judged from the same run's figures (\`npm run bench\` exits non-zero if one fails). Under each table: the 1-minute load average at the section's start and end, since the machine (${describeMachine(invocation.machine)}) is shared with other work. The devhost, Azurite and the local Cosmos endpoint (on a thread of the devhost's, or a process of its own in the bench's sections) run on that machine too, so the figures show the app's own costs and how they scale, not Azure's latencies.`,
    '',
    invocation.notRun.length === 0
      ? `This file holds every section, all measured by the one invocation: ${measured.join(', ')}.`
      : `This file holds only the sections this invocation ran: ${measured.join(', ') || 'none'}. Not run, so no figures here: ${invocation.notRun.map((section) => section.title).join(', ')} (\`npm run bench\` runs them all).`,
    '',
    summariseTargets(invocation.sections),
    '',
  ];
  for (const section of invocation.sections) {
    parts.push(`## ${section.title}`, '');
    if (section.view) parts.push(section.view.about, '', ...markdownTable(section.view.rows));
    else parts.push(`**Failed:** ${section.error ?? 'no result'}`);
    parts.push('', `_${describeSection(section, invocation.machine)}_`, '');
  }
  for (const section of invocation.notRun) parts.push(`## ${section.title}`, '', '_Not run by this invocation: no figures._', '');

  mkdirSync(join(__dirname, '..', 'docs'), { recursive: true });
  // The kept part starts with its own line break: joining it with another would add a blank line per run.
  writeFileSync(file, `${parts.join('\n')}\n${KEEP_MARKER}${kept ?? '\n'}`);
  return file;
}

/** The console's version of a section: the same table as the report, and its run line. */
export function printSection(section: SectionRecord, machine: Machine): void {
  console.log(`\n${section.title}`);
  if (section.view) {
    console.log(section.view.about);
    // Keyed by measure, so the table's index column says what each line is.
    console.table(Object.fromEntries(section.view.rows.map((row) => [row.measure, withoutMeasure(rowCells(row))])));
  } else console.log(`FAILED: ${section.error ?? 'no result'}`);
  console.log(describeSection(section, machine));
}

function summariseTargets(sections: readonly SectionRecord[]): string {
  const targets = sections.flatMap((section) => (section.view ? targetsOf(section.view).map((target) => ({ section, target })) : []));
  const failed = targets.filter(({ target }) => !target.pass);
  const broken = sections.filter((section) => section.error !== undefined).map((section) => section.title);
  return [
    targets.length === 0
      ? 'No targets in these sections.'
      : failed.length === 0
        ? `Targets: ${targets.length} of ${targets.length} met.`
        : `Targets: ${failed.length} of ${targets.length} **failed** (${failed.map(({ section, target }) => `${section.title}: ${target.name}`).join('; ')}).`,
    ...(broken.length > 0 ? [`Sections that failed to run: ${broken.join(', ')}.`] : []),
  ].join(' ');
}

export function describeMachine(machine: Machine): string {
  return `${machine.cpus} × ${machine.cpu}, ${machine.memoryGiB} GiB, Node ${machine.node}`;
}

function describeSection(section: SectionRecord, machine: Machine): string {
  const day = section.startedAt.slice(0, 10);
  const time = (at: string) => at.slice(11, 19);
  const targets = section.view ? targetsOf(section.view) : [];
  const failed = targets.filter((target) => !target.pass).length;
  return [
    `Median of ${section.runs} run${section.runs === 1 ? '' : 's'}`,
    `${day} ${time(section.startedAt)}–${time(section.finishedAt)} UTC`,
    `load average (1 min) ${section.loadAverage.start} at start, ${section.loadAverage.end} at end`,
    describeMachine(machine),
    targets.length === 0
      ? 'no targets'
      : failed === 0
        ? `${targets.length} of ${targets.length} targets met`
        : `${failed} of ${targets.length} targets FAILED`,
  ].join(' · ');
}

type Cell = string | number;

function rowCells(row: FigureRow): Record<string, Cell> {
  return {
    measure: row.measure,
    figure: row.figure,
    'reference (same run)': row.reference ? `${String(row.reference.figure)} (${row.reference.name})` : '',
    target: row.target ? describeBound(row.target) : '',
    'met?': row.target ? (row.target.pass ? 'pass' : 'FAIL') : '',
  };
}

function withoutMeasure({ measure: _, ...rest }: Record<string, Cell>): Record<string, Cell> {
  return rest;
}

function markdownTable(rows: readonly FigureRow[]): string[] {
  const cells = rows.map(rowCells);
  const [first] = cells;
  if (!first) return [];
  const columns = Object.keys(first);
  const cell = (value: Cell | undefined) => String(value ?? '').replace(/\|/g, '\\|');
  return [
    `| ${columns.join(' | ')} |`,
    `|${columns.map(() => '---').join('|')}|`,
    ...cells.map((row) => `| ${columns.map((column) => cell(row[column])).join(' | ')} |`),
  ];
}

const count = (value: number) => value.toLocaleString('en-GB');

/*
 * Presenters: each turns one section's (median) result into its rows, references and targets.
 */

export function presentEventStore(result: readonly AppendBenchmark[]): SectionView {
  const memory = result.find((r) => r.adapter === 'in-memory');
  const reference = (value: (r: AppendBenchmark) => number) => (memory ? (['in-memory', value(memory)] as const) : undefined);
  const first = result[0];
  return {
    about: `${first?.events.toLocaleString('en-GB') ?? '?'} single-event appends over ${first?.streams.toLocaleString('en-GB') ?? '?'} streams, each stream in order, ${first?.concurrency ?? '?'} streams in flight: each adapter beside the in-memory store doing the same appends.`,
    rows: result
      .filter((r) => r !== memory)
      .flatMap((r) => [
        figure(`${r.adapter}: events/s`, r.eventsPerSecond, { reference: reference((m) => m.eventsPerSecond) }),
        figure(`${r.adapter}: append p50 ms`, r.appendLatency.p50Ms, { reference: reference((m) => m.appendLatency.p50Ms) }),
        figure(`${r.adapter}: append p99 ms`, r.appendLatency.p99Ms, { reference: reference((m) => m.appendLatency.p99Ms) }),
        figure(`${r.adapter}: append max ms`, r.appendLatency.maxMs, { reference: reference((m) => m.appendLatency.maxMs) }),
      ]),
  };
}

export function presentDevhost(r: DevhostOverheadBenchmark): SectionView {
  const direct = 'handler called directly';
  return {
    about: `${count(r.requests)} sequential POSTs over keep-alive to a small echo function through the devhost (route match, key check, @azure/functions' invocation model, response conversion, the socket), beside the same handler called directly as a unit test would.`,
    rows: [
      figure('through the devhost, p50 ms', r.throughDevhost.p50Ms, { reference: [direct, r.direct.p50Ms] }),
      figure('through the devhost, p99 ms', r.throughDevhost.p99Ms, { reference: [direct, r.direct.p99Ms] }),
      figure('overhead (devhost − direct), p50 ms', r.overheadP50Ms, { target: atMost(2) }),
      figure('overhead (devhost − direct), p99 ms', r.overheadP99Ms),
    ],
  };
}

export function presentReadSide(r: ReadSideBenchmark): SectionView {
  const nearby = r.nearby.flatMap((large) => {
    const small = r.nearby.find((n) => n.searchArea === large.searchArea && n.places < large.places);
    if (!small) return [];
    const at = `${large.places.toLocaleString('en-GB')} places (${large.searchArea})`;
    const reference = (value: number): readonly [string, number] => [`${small.places.toLocaleString('en-GB')} places`, value];
    return [
      figure(`nearby at ${at}, p50 ms`, large.latency.p50Ms, { reference: reference(small.latency.p50Ms) }),
      figure(`nearby at ${at}, p99 ms`, large.latency.p99Ms, { reference: reference(small.latency.p99Ms) }),
      figure(`nearby at ${at}, mean results`, large.meanResults, { reference: reference(small.meanResults) }),
    ];
  });
  const memory = r.projection.find((p) => p.store === 'in-memory');
  const projection = r.projection
    .filter((p) => p !== memory)
    .map((p) =>
      figure(`projection into ${p.store}, events/s`, p.eventsPerSecond, memory ? { reference: ['in-memory', memory.eventsPerSecond] } : {}),
    );
  return {
    about: `Nearby search (10 km, limit 20) in-process over the in-memory view store, ${r.nearby[0] ? count(r.nearby[0].queries) : '?'} queries each after a warm-up: the larger set beside the smaller, all over Great Britain and in one area both sets fill equally densely (the same number of places per circle). Projection: the ${memory ? count(memory.events) : '?'} events of 1,500 place lifecycles in batches of 100, each view store beside the in-memory one.`,
    rows: [...nearby, ...projection],
  };
}

export function presentDurable(r: DurableBenchmark): SectionView {
  const chainRate = round(1000 / r.entities.perActivityMs, 0);
  return {
    about: `The devhost's durable engine on Azurite (in memory): a sequential chain of ${count(r.chain.activities)} no-op activities, a fan-out of ${count(r.fanOut.activities)}, ${count(r.entities.calls)} entity calls in a row from one orchestration and ${count(r.entities.signals)} signals at once to one entity.`,
    rows: [
      figure('chain: one activity to the next, p50 ms', r.chain.stepLatency.p50Ms, {
        reference: ['the activity invoked bare, p50', r.bareInvocation.p50Ms],
      }),
      figure('chain: engine overhead per activity, p50 ms', r.chain.overheadP50Ms, {
        reference: ['one 5-row Azurite checkpoint transaction, p50', r.chain.azuriteCheckpointP50Ms],
      }),
      figure('chain: engine overhead per activity, mean ms', r.chain.overheadMeanMs),
      figure(`fan-out of ${count(r.fanOut.activities)}: activities/s`, r.fanOut.activitiesPerSecond, {
        reference: ['the sequential chain, activities/s', chainRate],
      }),
      figure('entity call in a row, ms per call', r.entities.perCallMs, {
        reference: ['activity in the chain, ms', r.entities.perActivityMs],
      }),
      figure(`${count(r.entities.signals)} signals at once to one entity: signals/s`, r.entities.signalsPerSecond, {
        reference: [`the fan-out of ${count(r.fanOut.activities)} activities, activities/s`, r.fanOut.activitiesPerSecond],
      }),
    ],
  };
}

export function presentColdStart(r: ColdStartBenchmark): SectionView {
  const bare = (what: string) => `bare app, ${what}`;
  const limit = (bareMs: number) => atMostTimes(COLD_START_TARGET_RATIO, { name: 'bare app', figure: bareMs });
  return {
    about: `Fresh node processes from their start: the app's compiled entries (package.json \`main\`) loaded until every function is registered and the appStart hooks have run (the worker answers the host only then), and a first invocation of one function of each trigger kind through the devhost's invocation path, each beside a bare @azure/functions app with one HTTP function measured the same way (registered; its first HTTP invocation), alternating; each run the median of ${r.runs} processes of each. Ratios of the medians: ${round(r.app.processMs / r.bare.processMs, 2)} to be ready, ${r.firstInvocation.map((row) => `${round(row.appMs / row.bareMs, 2)} for ${row.trigger}`).join(', ')}.`,
    rows: [
      figure(`this app (${r.app.functions} functions) ready (entries loaded, appStart hooks run), ms from process start`, r.app.processMs, {
        reference: [bare('ready'), r.bare.processMs],
        target: limit(r.bare.processMs),
      }),
      figure(`this app: loading the entries, ms`, r.app.loadMs, { reference: [bare('loading'), r.bare.loadMs] }),
      ...r.firstInvocation.map((row) =>
        // The issue's target is the registration above; these show what a first call of each kind adds, beside the same reference.
        figure(`first ${row.trigger} invocation (${row.functionName}), ms from process start`, row.appMs, {
          reference: [bare('first HTTP invocation'), row.bareMs],
        }),
      ),
    ],
  };
}

export function presentStart(r: StartBenchmark): SectionView {
  return {
    about: `\`npm start\` timed from the command to the first 200 from \`/api/health\`, in a copy of the repository (node_modules linked), alternating the four kinds of start; each run the median of ${r.runs} rounds.`,
    rows: [
      figure('second start, nothing changed, ms', r.secondStartMs, {
        reference: ['the devhost alone, no npm, no build', r.devhostAloneMs],
        target: atMost(3000),
      }),
      figure('first start, nothing built, no local data, ms', r.firstStartMs, {
        reference: ['the former start: full build, then the devhost', r.fullBuildStartMs],
      }),
    ],
  };
}

/** The forecast section's targets, as issue #18 states them (forecastRefresh.bench.ts keeps its own copy for its console output). */
const FORECAST_WALL_TIMES_IDEAL = 1.3;

export function presentForecast(r: ForecastRefreshBenchmark): SectionView {
  const zero = r.breakdown.atZeroLatency;
  return {
    about: `${count(r.regions)} regions against the local Open-Meteo-compatible server at ${r.latencyMs} ms per request, batches of ${r.batchSize}, ${r.parallelism} in flight: the app's orchestration and activities in the durable engine, recording into the local Cosmos endpoint; each run the median of ${r.runs} cycles at each latency, beside the same cycle at 0 ms latency and the ideal (requests × latency / parallelism). Bytes: what one region's recorded forecast writes (JSON, without Cosmos's own properties), over every region of a cycle.`,
    rows: [
      figure(`cycle wall ms at ${r.latencyMs} ms latency`, r.measuredWallMs, {
        reference: ['ideal', r.idealWallMs],
        target: atMostTimes(FORECAST_WALL_TIMES_IDEAL, { name: 'ideal', figure: r.idealWallMs }),
      }),
      figure("… the app's CPU ms (engine, activities, recording)", r.breakdown.appCpuMs, { reference: ['at 0 ms latency', zero.appCpuMs] }),
      figure("… the local Cosmos endpoint's own work, ms", r.breakdown.cosmosEndpointMs, {
        reference: ['at 0 ms latency', zero.cosmosEndpointMs],
      }),
      figure("… the weather server's own work, ms", r.breakdown.weatherServerMs, { reference: ['at 0 ms latency', zero.weatherServerMs] }),
      figure('… idle, waiting on the provider, Cosmos or Azurite, ms', r.breakdown.idleMs, { reference: ['at 0 ms latency', zero.idleMs] }),
      figure('the same cycle at 0 ms latency, wall ms', r.overheadMs),
      figure('requests per cycle', r.requestsPerCycle, { reference: ['calls if one per region', r.callsIfOnePerRegion] }),
      // The level with the most forecasts in the stream: a full TTL's worth of cycles.
      ...r.recordingGrowth.slice(-1).map((level) =>
        figure(
          `recording one outcome at the planned version, p50 ms (${level.forecastsInStream} forecasts in the stream)`,
          level.appendAtVersionP50Ms,
          {
            reference: ['probing the stream first', level.probeThenAppendP50Ms],
          },
        ),
      ),
      figure('ForecastUpdated event, bytes (largest)', r.bytes.eventMax, {
        reference: ['median', r.bytes.eventMedian],
        target: inEveryRun(atMost(r.bytes.target.limit)),
      }),
      figure('region forecast view, bytes (largest)', r.bytes.viewMax, {
        reference: ['median', r.bytes.viewMedian],
        target: inEveryRun(atMost(r.bytes.target.limit)),
      }),
      figure(`history rows over ${count(r.history.cycles)} cycles of continueAsNew, max`, r.history.maxHistoryRows, {
        reference: ['the first 10 cycles', r.history.maxHistoryRowsFirst10Cycles],
        // The benchmark's own test of a flat history: no more than 10 rows above the first 10 cycles.
        target: inEveryRun(atMost(r.history.maxHistoryRowsFirst10Cycles + 10)),
      }),
    ],
  };
}

export function presentSearch(r: SearchBenchmark): SectionView {
  const smallest = r.sizes[0];
  const largest = r.sizes.at(-1);
  const perSize = r.sizes.flatMap((size) => {
    const at = `${count(size.places)} places`;
    return [
      figure(`${at}: HTTP search p50 ms, one at a time`, size.httpP50Ms, {
        reference: ['the same search in-process', size.inProcessP50Ms],
        target: atMost(2),
      }),
      figure(`${at}: HTTP search p99 ms, one at a time`, size.httpP99Ms),
      figure(`${at}: requests/s with ${r.clients} clients`, size.concurrentRequestsPerSecond, {
        reference: ['p50 ms under that load', size.concurrentP50Ms],
        target: atLeast(1000),
      }),
      figure(`${at}: errors`, size.errors, { target: inEveryRun(atMost(0)) }),
      figure(`${at}: Cosmos requests per search`, size.cosmosRequestsPerSearch, { target: inEveryRun(atMost(1)) }),
      figure(`${at}: index load ms`, size.indexLoadMs),
    ];
  });
  const scaling =
    smallest && largest && largest !== smallest
      ? [
          figure(`HTTP search p50 ms at ${count(largest.places)} places`, largest.httpP50Ms, {
            reference: [`at ${count(smallest.places)} places`, smallest.httpP50Ms],
            target: atMostTimes(1.5, { name: `p50 at ${count(smallest.places)}`, figure: smallest.httpP50Ms }),
          }),
        ]
      : [];
  return {
    about: `\`GET /api/places/nearby\` (${r.radiusKm} km, limit ${r.limit}) over HTTP through the devhost, the app answering from its in-memory index over the local Cosmos endpoint, at ${r.sizes.map((size) => count(size.places)).join(', ')} approved places: one search at a time, then ${r.clients} clients at once; beside the same search in-process over the same places.`,
    rows: [...perSize, ...scaling],
  };
}
