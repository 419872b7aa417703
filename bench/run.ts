import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { benchmarkDevhostOverhead } from './devhostOverhead.bench';
import { benchmarkDurable } from './durable.bench';
import { benchmarkEventStores } from './eventStore.bench';
import { benchmarkReadSide } from './readSide.bench';

/** `npm run bench`: runs every benchmark, prints a table and writes bench/results/latest.json. */
async function main(): Promise<void> {
  const machine = { cpus: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version };
  console.log(`Machine: ${machine.cpus} × ${machine.cpu}, ${machine.memoryGiB} GiB, Node ${machine.node}\n`);

  // `npm run bench -- devhost` runs only the sections named; no names runs them all.
  const only = process.argv.slice(2);
  const wanted = (section: string) => only.length === 0 || only.includes(section);

  const eventStore = wanted('eventStore') ? await benchmarkEventStores() : [];
  if (eventStore.length > 0) {
    console.log('Event store: 10,000 single-event appends over 1,000 streams (32 streams in flight)');
    console.table(eventStore.map((r) => ({ adapter: r.adapter, 'events/s': r.eventsPerSecond, 'p50 ms': r.appendLatency.p50Ms, 'p99 ms': r.appendLatency.p99Ms, 'max ms': r.appendLatency.maxMs })));
  }

  const devhost = wanted('devhost') ? await benchmarkDevhostOverhead() : undefined;
  if (devhost) {
    console.log(`\nDevhost overhead per HTTP invocation (${devhost.requests} sequential requests over keep-alive)`);
    console.table({
      'handler called directly': { 'p50 ms': devhost.direct.p50Ms, 'p99 ms': devhost.direct.p99Ms },
      'through the devhost': { 'p50 ms': devhost.throughDevhost.p50Ms, 'p99 ms': devhost.throughDevhost.p99Ms },
      overhead: { 'p50 ms': devhost.overheadP50Ms, 'p99 ms': devhost.overheadP99Ms },
    });
  }

  const readSide = wanted('readSide') ? await benchmarkReadSide() : undefined;
  if (readSide) {
    console.log('\nNearby search (10 km, limit 20), in-process over the in-memory view store');
    console.table(readSide.nearby.map((n) => ({ places: n.places, 'searched in': n.searchArea, queries: n.queries, 'p50 ms': n.latency.p50Ms, 'p99 ms': n.latency.p99Ms, 'mean results': n.meanResults })));
    console.log('Projection throughput (events of 1,500 place lifecycles, batches of 100)');
    console.table(readSide.projection.map((p) => ({ store: p.store, events: p.events, 'events/s': p.eventsPerSecond })));
  }

  const durable = wanted('durable') ? await benchmarkDurable() : undefined;
  if (durable) {
    console.log('\nDurable engine in the devhost (Azurite tables)');
    console.table({
      'overhead per activity (sequential chain)': { 'p50 ms': durable.chain.overheadP50Ms, 'mean ms': durable.chain.overheadMeanMs, 'of which Azurite p50 ms': durable.chain.azuriteCheckpointP50Ms },
    });
    console.log(`Fan-out of ${durable.fanOut.activities} no-op activities: ${durable.fanOut.wallMs} ms (${durable.fanOut.activitiesPerSecond} activities/s)`);
  }

  const results = { measuredAt: new Date().toISOString(), machine, eventStore, devhostOverhead: devhost, readSide, durable };
  const dir = join(__dirname, 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'latest.json'), `${JSON.stringify(results, null, 2)}\n`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
