import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { benchmarkDevhostOverhead, printDevhostOverhead } from './devhostOverhead.bench';
import { benchmarkDurable, printDurable } from './durable.bench';
import { describeMachine, medianOfRuns, parseBenchArgs } from './stats';

/**
 * `npm run bench -w functions-devhost [-- --runs N] [overhead] [durable]`: the devhost's own
 * benchmarks, each the median of N runs (default 3), written to bench/results/latest.json. The app's
 * `npm run bench` runs them too, beside its own, into its performance report.
 */
async function main(): Promise<void> {
  const { runs, wanted } = parseBenchArgs(process.argv.slice(2));
  const machine = describeMachine();
  console.log(
    `Machine: ${machine.cpus} × ${machine.cpu}, ${machine.memoryGiB} GiB, Node ${machine.node}; ${runs} run(s) per section, medians\n`,
  );
  const repeat = async <T>(name: string, benchmark: () => Promise<T>): Promise<T> => {
    const results: T[] = [];
    for (let run = 1; run <= runs; run++) {
      console.log(`${name}: run ${run} of ${runs}…`);
      results.push(await benchmark());
    }
    return medianOfRuns(results);
  };
  const sections: Record<string, unknown> = {};
  if (wanted('overhead')) {
    const overhead = await repeat('overhead', benchmarkDevhostOverhead);
    sections.devhostOverhead = overhead;
    printDevhostOverhead(overhead);
  }
  if (wanted('durable')) {
    const durable = await repeat('durable', () => benchmarkDurable());
    sections.durable = durable;
    printDurable(durable);
  }
  const folder = join(__dirname, 'results');
  mkdirSync(folder, { recursive: true });
  writeFileSync(
    join(folder, 'latest.json'),
    `${JSON.stringify({ measuredAt: new Date().toISOString(), machine, runs, sections }, null, 2)}\n`,
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
