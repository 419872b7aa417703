import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { benchmarkColdStart } from './coldStart.bench';
import { benchmarkDevhostOverhead, printDevhostOverhead } from '../packages/devhost/bench/devhostOverhead.bench';
import { benchmarkDurable, printDurable } from '../packages/devhost/bench/durable.bench';
import { benchmarkEventStores } from './eventStore.bench';
import { benchmarkForecastRefresh, printForecastRefresh } from './forecastRefresh.bench';
import { benchmarkReadSide } from './readSide.bench';
import { benchmarkStart } from './start.bench';
import { eventStoreRows, nearbyRows, projectionRows, writePerformanceReport } from './report';
import { describeMachine, medianOfRuns, parseBenchArgs } from '../packages/devhost/bench/stats';

/**
 * `npm run bench [-- sections…] [--runs N]`: runs the benchmarks (all, or the sections named:
 * eventStore devhost readSide durable coldStart start forecast), each section N times (default 3) and
 * keeps the median of every figure; merges them into bench/results/latest.json (sections not run
 * keep their previous figures, with their own date and machine) and rewrites docs/performance.md.
 */
async function main(): Promise<void> {
  const { runs, wanted } = parseBenchArgs(process.argv.slice(2));

  const machine = describeMachine();
  console.log(
    `Machine: ${machine.cpus} × ${machine.cpu}, ${machine.memoryGiB} GiB, Node ${machine.node}, load average ${machine.loadAverageAtStart}; ${runs} run(s) per section, medians\n`,
  );

  const file = join(__dirname, 'results', 'latest.json');
  const previous = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>) : {};
  const sections: Record<string, unknown> = { ...((previous.sections as Record<string, unknown> | undefined) ?? legacySections(previous)) };
  const record = (name: string, result: unknown) => {
    sections[name] = { measuredAt: new Date().toISOString(), machine, runs, result };
  };
  const repeat = async <T>(name: string, benchmark: () => Promise<T> | T): Promise<T> => {
    const results: T[] = [];
    for (let run = 1; run <= runs; run++) {
      console.log(`${name}: run ${run} of ${runs}…`);
      results.push(await benchmark());
    }
    return medianOfRuns(results);
  };

  if (wanted('eventStore')) {
    const eventStore = await repeat('eventStore', benchmarkEventStores);
    record('eventStore', eventStore);
    console.log('Event store: 10,000 single-event appends over 1,000 streams (32 streams in flight)');
    console.table(eventStoreRows(eventStore));
  }

  if (wanted('devhost')) {
    const devhost = await repeat('devhost', benchmarkDevhostOverhead);
    record('devhostOverhead', devhost);
    printDevhostOverhead(devhost);
  }

  if (wanted('readSide')) {
    const readSide = await repeat('readSide', benchmarkReadSide);
    record('readSide', readSide);
    console.log('\nNearby search (10 km, limit 20), in-process over the in-memory view store');
    console.table(nearbyRows(readSide.nearby));
    console.log('Projection throughput (events of 1,500 place lifecycles, batches of 100)');
    console.table(projectionRows(readSide.projection));
  }

  if (wanted('durable')) {
    const durable = await repeat('durable', () => benchmarkDurable());
    record('durable', durable);
    printDurable(durable);
  }

  if (wanted('coldStart')) {
    // Already the median of 15 fresh processes per side.
    const coldStart = benchmarkColdStart();
    sections.coldStart = { measuredAt: new Date().toISOString(), machine, runs: coldStart.runs, result: coldStart };
    console.log('\nCold start: loading the compiled function entries in a fresh node process (median of fresh processes)');
    console.table({
      [`this app (${coldStart.app.functions} functions)`]: {
        'load ms': coldStart.app.loadMs,
        'from process start ms': coldStart.app.processMs,
      },
      'bare @azure/functions app (1 HTTP function)': {
        'load ms': coldStart.bare.loadMs,
        'from process start ms': coldStart.bare.processMs,
      },
      ratio: { 'load ms': coldStart.loadRatio, 'from process start ms': coldStart.processRatio },
    });
  }

  if (wanted('start')) {
    // Already the median of five starts of each kind (each start is seconds, in a copy of the tree).
    const start = await benchmarkStart();
    sections.start = { measuredAt: new Date().toISOString(), machine, runs: start.runs, result: start };
    console.log('\n`npm start` to a healthy /api/health (median ms)');
    console.table({
      'first start (nothing built, no data)': start.firstStartMs,
      'second start (nothing changed)': start.secondStartMs,
      'reference: the devhost alone (no npm, no build)': start.devhostAloneMs,
      'reference: former start (full build of everything, then the devhost)': start.fullBuildStartMs,
    });
  }

  if (wanted('forecast')) {
    // One run: it is itself the median of three cycles at each latency, and takes minutes.
    const forecastRefresh = await benchmarkForecastRefresh();
    sections.forecastRefresh = { measuredAt: new Date().toISOString(), machine, runs: 1, result: forecastRefresh };
    printForecastRefresh(forecastRefresh);
  }

  mkdirSync(join(__dirname, 'results'), { recursive: true });
  writeFileSync(file, `${JSON.stringify({ updatedAt: new Date().toISOString(), sections }, null, 2)}\n`);
  const report = writePerformanceReport(sections);
  console.log(`\nWrote ${file} and ${report}.`);
}

/** The file's earlier shape (one run, every section at the top level): kept as measured. */
function legacySections(previous: Record<string, unknown>): Record<string, unknown> {
  const sections: Record<string, unknown> = {};
  const names: Record<string, string> = {
    eventStore: 'eventStore',
    devhostOverhead: 'devhostOverhead',
    readSide: 'readSide',
    durable: 'durable',
    forecastRefresh: 'forecastRefresh',
  };
  for (const [key, name] of Object.entries(names)) {
    const value = previous[key];
    if (value !== undefined && value !== null && !(Array.isArray(value) && value.length === 0))
      sections[name] = { measuredAt: previous.measuredAt, machine: previous.machine, runs: 1, result: value };
  }
  return sections;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
