import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { benchmarkEventStores } from './eventStore.bench';

/** `npm run bench`: runs every benchmark, prints a table and writes bench/results/latest.json. */
async function main(): Promise<void> {
  const machine = { cpus: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version };
  console.log(`Machine: ${machine.cpus} × ${machine.cpu}, ${machine.memoryGiB} GiB, Node ${machine.node}\n`);

  const eventStore = await benchmarkEventStores();
  console.log('Event store: 10,000 single-event appends over 1,000 streams (32 streams in flight)');
  console.table(eventStore.map((r) => ({ adapter: r.adapter, 'events/s': r.eventsPerSecond, 'p50 ms': r.appendLatency.p50Ms, 'p99 ms': r.appendLatency.p99Ms, 'max ms': r.appendLatency.maxMs })));

  const results = { measuredAt: new Date().toISOString(), machine, eventStore };
  const dir = join(__dirname, 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'latest.json'), `${JSON.stringify(results, null, 2)}\n`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
