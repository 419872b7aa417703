import { CosmosClient } from '@azure/cosmos';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { localCosmosClientOptions, startLocalCosmosEndpoint } from 'functions-devhost/cosmos/localCosmosEndpoint';
import { CONTAINERS, ensureCosmosContainers } from '../shared/platform/adapters/cosmosClient';
import { CosmosEventStore } from '../shared/platform/eventSourcing/adapters/cosmosEventStore';
import type { NewEvent } from '../shared/kernel/event';
import type { EventStore } from '../shared/platform/eventSourcing/eventStore';
import { InMemoryEventStore } from '../shared/platform/eventSourcing/adapters/inMemoryEventStore';
import { round, summarise, withConcurrency, type LatencySummary } from '../packages/devhost/bench/stats';

const STREAMS = 1000;
const EVENTS_PER_STREAM = 10;
const CONCURRENCY = 32;

export interface AppendBenchmark {
  readonly adapter: string;
  readonly events: number;
  readonly streams: number;
  readonly concurrency: number;
  readonly eventsPerSecond: number;
  readonly appendLatency: LatencySummary;
}

function event(stream: number, n: number): NewEvent {
  return {
    type: 'PlaceDetailsUpdated',
    data: { description: `Stream ${stream}, change ${n}`, kind: n % 2 ? 'indoor' : 'outdoor' },
    metadata: { eventId: randomUUID(), correlationId: randomUUID(), causationId: randomUUID(), occurredAt: new Date().toISOString() },
  };
}

/** 10,000 single-event appends over 1,000 streams, each stream written in order, 32 streams at a time. */
async function measure(adapter: string, store: EventStore): Promise<AppendBenchmark> {
  const run = randomUUID().slice(0, 8);
  const latencies: number[] = [];
  const streams = Array.from({ length: STREAMS }, (_, i) => i);
  const started = performance.now();
  await withConcurrency(streams, CONCURRENCY, async (stream) => {
    const streamId = `bench-${run}-${stream}`;
    for (let version = 0; version < EVENTS_PER_STREAM; version++) {
      const t0 = performance.now();
      await store.append(streamId, [event(stream, version)], version);
      latencies.push(performance.now() - t0);
    }
  });
  const seconds = (performance.now() - started) / 1000;
  return {
    adapter,
    events: latencies.length,
    streams: STREAMS,
    concurrency: CONCURRENCY,
    eventsPerSecond: round(latencies.length / seconds, 0),
    appendLatency: summarise(latencies),
  };
}

export async function benchmarkEventStores(): Promise<AppendBenchmark[]> {
  const results = [await measure('in-memory', new InMemoryEventStore())];
  const endpoint = await startLocalCosmosEndpoint();
  const client = new CosmosClient(localCosmosClientOptions(endpoint));
  try {
    const database = await ensureCosmosContainers(client, `bench-${randomUUID().slice(0, 8)}`);
    results.push(await measure('cosmos (local endpoint, HTTP)', new CosmosEventStore(database.container(CONTAINERS.events))));
  } finally {
    client.dispose();
    await endpoint.close();
  }
  return results;
}
