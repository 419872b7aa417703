import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Hand-written text below this line in docs/performance.md survives regeneration. */
const KEEP_MARKER = '<!-- Everything below this line is written by hand and kept when the figures are regenerated. -->';

interface Machine {
  readonly cpus?: number;
  readonly cpu?: string;
  readonly memoryGiB?: number;
  readonly node?: string;
  readonly loadAverageAtStart?: number;
}
interface Section {
  readonly measuredAt?: string;
  readonly machine?: Machine;
  readonly runs?: number;
  readonly result?: unknown;
}
type Row = Record<string, string | number | boolean | null | undefined>;

/** Writes docs/performance.md from the sections of bench/results/latest.json; returns its path. */
export function writePerformanceReport(sections: Record<string, unknown>): string {
  const file = join(__dirname, '..', 'docs', 'performance.md');
  const kept = existsSync(file) ? readFileSync(file, 'utf8').split(KEEP_MARKER)[1] : undefined;
  const parts: string[] = [
    '# Performance',
    '',
    'Written by `npm run bench` from `bench/results/latest.json` (each figure the median of the runs noted; run one section again with `npm run bench -- <section>`). Local figures: the devhost, Azurite and the in-process Cosmos endpoint share the one machine noted under each table, so they show the app’s own costs and how they scale, not Azure’s latencies.',
    '',
  ];
  const section = (name: string) => sections[name] as Section | undefined;
  const add = (title: string, name: string, body: (result: never) => string[]) => {
    const found = section(name);
    if (!found?.result) return;
    parts.push(`## ${title}`, '', ...body(found.result as never), '', `_${describeRun(found)}_`, '');
  };

  add(
    'Event store appends',
    'eventStore',
    (result: { adapter: string; eventsPerSecond: number; appendLatency: { p50Ms: number; p99Ms: number; maxMs: number } }[]) => [
      '10,000 single-event appends over 1,000 streams, 32 streams in flight.',
      '',
      ...table(eventStoreRows(result)),
    ],
  );
  add(
    'Devhost overhead per HTTP invocation',
    'devhostOverhead',
    (r: {
      requests: number;
      direct: { p50Ms: number; p99Ms: number };
      throughDevhost: { p50Ms: number; p99Ms: number };
      overheadP50Ms: number;
      overheadP99Ms: number;
    }) => [
      `${r.requests} sequential requests over keep-alive; target ≤ 2 ms at p50.`,
      '',
      ...table([
        { '': 'handler called directly', 'p50 ms': r.direct.p50Ms, 'p99 ms': r.direct.p99Ms },
        { '': 'through the devhost', 'p50 ms': r.throughDevhost.p50Ms, 'p99 ms': r.throughDevhost.p99Ms },
        { '': 'overhead', 'p50 ms': r.overheadP50Ms, 'p99 ms': r.overheadP99Ms },
      ]),
    ],
  );
  add(
    'Read side',
    'readSide',
    (r: {
      nearby: { places: number; searchArea: string; queries: number; latency: { p50Ms: number; p99Ms: number }; meanResults: number }[];
      projection: { store: string; events: number; eventsPerSecond: number }[];
    }) => [
      'Nearby search (10 km, limit 20), in-process over the in-memory view store:',
      '',
      ...table(nearbyRows(r.nearby)),
      '',
      'Projection throughput (the events of 1,500 place lifecycles, batches of 100):',
      '',
      ...table(projectionRows(r.projection)),
    ],
  );
  add(
    'Durable engine (devhost, Azurite tables)',
    'durable',
    (r: {
      chain: { overheadP50Ms: number; overheadMeanMs: number; azuriteCheckpointP50Ms: number };
      fanOut: { activities: number; wallMs: number; activitiesPerSecond: number };
      entities?: {
        calls: number;
        perCallMs: number;
        perActivityMs: number;
        signals: number;
        signalsWallMs: number;
        signalsPerSecond: number;
      };
    }) => [
      ...table([
        { measure: 'engine overhead per activity, sequential chain (p50 ms)', value: r.chain.overheadP50Ms },
        { measure: '… of which one Azurite checkpoint transaction (p50 ms)', value: r.chain.azuriteCheckpointP50Ms },
        { measure: `fan-out of ${r.fanOut.activities} no-op activities (ms)`, value: r.fanOut.wallMs },
        { measure: 'fan-out throughput (activities/s)', value: r.fanOut.activitiesPerSecond },
        ...(r.entities
          ? [
              {
                measure: `entity call, ${r.entities.calls} in a row from one orchestration (ms per call; the activity chain of the same runs, ms per activity; each the median of its own)`,
                value: `${r.entities.perCallMs} (${r.entities.perActivityMs})`,
              },
              {
                measure: `${r.entities.signals} signals at once to one entity (ms; signals/s)`,
                value: `${r.entities.signalsWallMs}; ${r.entities.signalsPerSecond}`,
              },
            ]
          : []),
      ]),
    ],
  );
  add(
    'Cold start',
    'coldStart',
    (r: {
      app: { functions: number; loadMs: number; processMs: number };
      bare: { functions: number; loadMs: number; processMs: number };
      loadRatio: number;
      processRatio: number;
    }) => [
      'Loading the compiled function entries (package.json `main`) in a fresh node process until every function is registered, against a bare `@azure/functions` app with one HTTP function, loaded the same way.',
      '',
      ...table([
        { '': `this app (${r.app.functions} functions)`, 'load ms': r.app.loadMs, 'from process start ms': r.app.processMs },
        { '': 'bare app (1 function)', 'load ms': r.bare.loadMs, 'from process start ms': r.bare.processMs },
        { '': 'ratio', 'load ms': r.loadRatio, 'from process start ms': r.processRatio },
      ]),
    ],
  );
  add(
    'Starting the app',
    'start',
    (r: { firstStartMs: number; secondStartMs: number; devhostAloneMs: number; fullBuildStartMs: number }) => [
      '`npm start` timed from the command to the first 200 from `/api/health`, in a copy of the repository (node_modules linked), alternating the four in each run. Target: a second start healthy within 3 s.',
      '',
      ...table([
        { start: 'first start: nothing built, no local data', 'ms (median)': r.firstStartMs },
        { start: 'second start: nothing changed', 'ms (median)': r.secondStartMs },
        { start: 'reference: the devhost alone (`node packages/devhost/dist/main.js`, no npm, no build)', 'ms (median)': r.devhostAloneMs },
        {
          start: 'reference: the former start (full build of app, benches and fixtures, then the devhost)',
          'ms (median)': r.fullBuildStartMs,
        },
      ]),
    ],
  );
  add(
    'Forecast refresh',
    'forecastRefresh',
    (r: {
      regions: number;
      batchSize: number;
      parallelism: number;
      latencyMs: number;
      requestsPerCycle: number;
      callsIfOnePerRegion: number;
      callsIfOnePerPlace: { assumption: string; calls: number }[];
      idealWallMs: number;
      measuredWallMs: number;
      overheadMs: number;
      latencyExposedMs: number;
      target: { limitMs: number; holds: boolean; holdsByIdleTime: boolean };
      history: {
        cycles: number;
        wallMs: number;
        maxHistoryRows: number;
        maxPartitionRows: number;
        fullCycleHistoryRows: number;
        flat: boolean;
      };
    }) => [
      `${r.regions} regions against the local Open-Meteo-compatible server at ${r.latencyMs} ms per request; batches of ${r.batchSize}, ${r.parallelism} in flight; the app's orchestration and activities in the durable engine, recording into the local Cosmos endpoint.`,
      '',
      ...table([
        { measure: 'requests per cycle (ceil(regions / batch size))', value: r.requestsPerCycle },
        { measure: 'calls if one per region', value: r.callsIfOnePerRegion },
        ...r.callsIfOnePerPlace.map((p) => ({ measure: `calls if one per place (${p.assumption})`, value: p.calls })),
        { measure: 'ideal wall ms (requests × latency / parallelism)', value: r.idealWallMs },
        { measure: 'measured wall ms', value: r.measuredWallMs },
        { measure: 'engine + recording overhead ms (the same cycle at 0 ms latency)', value: r.overheadMs },
        { measure: 'latency exposed ms (idle time at 200 ms − at 0 ms)', value: r.latencyExposedMs },
        { measure: 'target: wall ≤ 1.5 × ideal + overhead', value: `${r.measuredWallMs} ≤ ${r.target.limitMs}: ${r.target.holds}` },
        { measure: 'target by idle time: exposed ≤ 1.5 × ideal', value: r.target.holdsByIdleTime },
        {
          measure: `history rows over ${r.history.cycles} cycles of continueAsNew (max; a full 2,000-region cycle: ${r.history.fullCycleHistoryRows})`,
          value: `${r.history.maxHistoryRows} (partition ${r.history.maxPartitionRows}), flat: ${r.history.flat}`,
        },
        { measure: `${r.history.cycles} empty cycles (ms)`, value: r.history.wallMs },
      ]),
    ],
  );

  mkdirSync(join(__dirname, '..', 'docs'), { recursive: true });
  // The kept part starts with its own line break: joining it with another would add a blank line per run.
  writeFileSync(file, `${parts.join('\n')}\n${KEEP_MARKER}${kept ?? '\n'}`);
  return file;
}

/** Rows of the tables that both the report and the console (bench/run.ts) show. */
export function eventStoreRows(
  result: readonly { adapter: string; eventsPerSecond: number; appendLatency: { p50Ms: number; p99Ms: number; maxMs: number } }[],
): Row[] {
  return result.map((r) => ({
    adapter: r.adapter,
    'events/s': r.eventsPerSecond,
    'p50 ms': r.appendLatency.p50Ms,
    'p99 ms': r.appendLatency.p99Ms,
    'max ms': r.appendLatency.maxMs,
  }));
}

export function nearbyRows(
  nearby: readonly {
    places: number;
    searchArea: string;
    queries: number;
    latency: { p50Ms: number; p99Ms: number };
    meanResults: number;
  }[],
): Row[] {
  return nearby.map((n) => ({
    places: n.places,
    'searched in': n.searchArea,
    queries: n.queries,
    'p50 ms': n.latency.p50Ms,
    'p99 ms': n.latency.p99Ms,
    'mean results': n.meanResults,
  }));
}

export function projectionRows(projection: readonly { store: string; events: number; eventsPerSecond: number }[]): Row[] {
  return projection.map((p) => ({ store: p.store, events: p.events, 'events/s': p.eventsPerSecond }));
}

function describeRun(section: Section): string {
  const machine = section.machine;
  const where = machine
    ? `${machine.cpus ?? '?'} × ${machine.cpu ?? '?'}, ${machine.memoryGiB ?? '?'} GiB, Node ${machine.node ?? '?'}${machine.loadAverageAtStart !== undefined ? `, load average ${machine.loadAverageAtStart} at start` : ''}`
    : 'machine not recorded';
  return `Measured ${section.measuredAt ?? '(date not recorded)'} on ${where}; median of ${section.runs ?? 1} run(s).`;
}

function table(rows: readonly Row[]): string[] {
  const [first] = rows;
  if (!first) return [];
  const columns = Object.keys(first);
  const cell = (value: Row[string]) => (value === undefined || value === null ? '' : String(value)).replace(/\|/g, '\\|');
  return [
    `| ${columns.join(' | ')} |`,
    `|${columns.map(() => '---').join('|')}|`,
    ...rows.map((row) => `| ${columns.map((column) => cell(row[column])).join(' | ')} |`),
  ];
}
