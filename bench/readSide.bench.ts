import { CosmosClient } from '@azure/cosmos';
import ngeohash from 'ngeohash';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { localCosmosClientOptions, startLocalCosmosEndpoint } from 'functions-devhost/cosmos/localCosmosEndpoint';
import { findNearby } from '../shared/places/application/placeQueries';
import { projectEvents } from '../shared/platform/views/projectEvents';
import { CONTAINERS, ensureCosmosContainers } from '../shared/platform/adapters/cosmosClient';
import { CosmosViewStore } from '../shared/platform/views/adapters/cosmosViewStore';
import type { RecordedEvent } from '../shared/kernel/event';
import type { EventStore } from '../shared/platform/eventSourcing/eventStore';
import { InMemoryEventStore } from '../shared/platform/eventSourcing/adapters/inMemoryEventStore';
import { InMemoryDeadLetterStore } from '../shared/platform/views/deadLetters';
import { InMemoryViewStore } from '../shared/platform/views/adapters/inMemoryViewStore';
import type { ViewStore } from '../shared/platform/views/viewStore';
import { placeLifecycles, seededRandom } from '../test/support/placeScenario';
import { nearbyEntry } from '../test/support/nearbyEntries';
import { round, summarise, type LatencySummary } from '../packages/devhost/bench/stats';
import { parseNearbyQuery } from '../shared/places/http/placeRequests';

export interface NearbyBenchmark {
  readonly places: number;
  /** Where the searches were: all over Great Britain, or in the one area both sets populate equally densely. */
  readonly searchArea: 'Great Britain' | 'equal-density area';
  readonly queries: number;
  readonly latency: LatencySummary;
  readonly meanResults: number;
}

export interface ProjectionBenchmark {
  readonly store: string;
  readonly events: number;
  readonly eventsPerSecond: number;
}

const now = new Date('2026-11-27T09:00:00Z');

/** Great Britain, roughly, and one area of it (about 1/100 of the box). */
const GB = { south: 50, west: -5.7, height: 8.6, width: 7.5 };
const AREA = { south: 52.6, west: -2.6, height: 0.86, width: 0.75 };

/**
 * Nearby queries (default 10 km radius) in-process over the in-memory view store. `places` are spread
 * over Great Britain; with `equalDensity`, 1/100 of them fill AREA at the same density as the full
 * set, and the searches happen there, so both sets put the same number of places in each circle.
 */
async function nearbyAt(places: number, equalDensity: boolean): Promise<NearbyBenchmark> {
  const random = seededRandom(places + (equalDensity ? 1 : 0));
  const views = new InMemoryViewStore();
  const spread = equalDensity && places <= 1000 ? AREA : GB;
  for (let i = 0; i < places; i++)
    await views.write(
      nearbyEntry(spread.south + random() * spread.height, spread.west + random() * spread.width, { kind: 'outdoor' }),
      'any',
    );
  const searchIn = equalDensity
    ? { south: AREA.south + 0.1, west: AREA.west + 0.15, height: AREA.height - 0.2, width: AREA.width - 0.3 }
    : { south: 50.5, west: -4.5, height: 7.5, width: 5 };
  const latencies: number[] = [];
  let results = 0;
  for (let i = 0; i < 2200; i++) {
    const params = new URLSearchParams({
      lat: String(searchIn.south + random() * searchIn.height),
      lon: String(searchIn.west + random() * searchIn.width),
      limit: '20',
    });
    const t0 = performance.now();
    const found = await findNearby({ views, clock: () => now }, parseNearbyQuery(params, now));
    const elapsed = performance.now() - t0;
    if (i >= 200) {
      latencies.push(elapsed);
      results += found.results.length;
    }
  }
  return {
    places,
    searchArea: equalDensity ? 'equal-density area' : 'Great Britain',
    queries: latencies.length,
    latency: summarise(latencies),
    meanResults: round(results / latencies.length, 1),
  };
}

async function projectionThroughput(
  store: string,
  eventStore: EventStore,
  views: ViewStore,
  events: readonly RecordedEvent[],
): Promise<ProjectionBenchmark> {
  const deps = { views, eventStore, deadLetters: new InMemoryDeadLetterStore(), geohash: ngeohash.encode, clock: () => now };
  const t0 = performance.now();
  for (let i = 0; i < events.length; i += 100) await projectEvents(deps, events.slice(i, i + 100));
  return { store, events: events.length, eventsPerSecond: round(events.length / ((performance.now() - t0) / 1000), 0) };
}

export interface ReadSideBenchmark {
  readonly nearby: readonly NearbyBenchmark[];
  readonly projection: readonly ProjectionBenchmark[];
}

export async function benchmarkReadSide(): Promise<ReadSideBenchmark> {
  const nearby = [await nearbyAt(1000, false), await nearbyAt(100_000, false), await nearbyAt(1000, true), await nearbyAt(100_000, true)];

  const eventStore = new InMemoryEventStore();
  await placeLifecycles(eventStore, 1500, 5);
  const events = eventStore.allEvents();
  const projection = [await projectionThroughput('in-memory', eventStore, new InMemoryViewStore(), events)];
  const endpoint = await startLocalCosmosEndpoint();
  const client = new CosmosClient(localCosmosClientOptions(endpoint));
  try {
    const database = await ensureCosmosContainers(client, `bench-views-${randomUUID().slice(0, 8)}`);
    projection.push(
      await projectionThroughput(
        'cosmos (local endpoint, HTTP)',
        eventStore,
        new CosmosViewStore(database.container(CONTAINERS.views)),
        events,
      ),
    );
  } finally {
    client.dispose();
    await endpoint.close();
  }
  return { nearby, projection };
}
