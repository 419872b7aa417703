import { CosmosClient } from '@azure/cosmos';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { localCosmosClientOptions, startLocalCosmosEndpoint } from '../packages/devhost/src/cosmos/localCosmosEndpoint';
import { CONTAINERS, ensureCosmosContainers } from '../shared/platform/adapters/cosmosClient';
import { findNearby } from '../shared/places/application/placeQueries';
import { parseNearbyQuery } from '../shared/places/http/placeRequests';
import { InMemoryViewStore } from '../shared/platform/views/adapters/inMemoryViewStore';
import { PlaceSearchIndex } from '../shared/places/adapters/placeSearchIndex';
import type { ViewDocument } from '../shared/platform/views/documents';
import type { NearbyEntry } from '../shared/places/projection/placeDocuments';
import { startDevhostProcess } from '../test/support/devhostProcess';
import { httpClient, GB_TOWNS } from '../test/support/loadGenerator';
import { nearbyEntry } from '../test/support/nearbyEntries';
import { seededRandom } from '../test/support/placeScenario';
import { round, summarise } from '../packages/devhost/bench/stats';

export const SEARCH_SIZES = [1_000, 10_000, 100_000] as const;
const SEQUENTIAL_SEARCHES = 1_000;
const CLIENTS = 16;
const CONCURRENT_MS = 5_000;
/** The parents' page asks this: 25 km, 20 places. */
const RADIUS_KM = 25;
const LIMIT = 20;
const OPENING_HOURS = [
  'Mo-Su 10:00-17:00',
  'Tu-Su 09:30-16:30; PH off',
  'Mo-Fr 09:00-17:00; Sa,Su 10:00-16:00',
  'Apr-Oct: Mo-Su 10:00-18:00; Nov-Mar: Sa,Su 10:00-15:00',
  '24/7',
];

export interface SearchSizeResult {
  readonly places: number;
  /** From a new instance's first search until the index answers (ms): loading every search document from the store. */
  readonly indexLoadMs: number;
  /** Reference: the same search, in process (findNearby over the loaded index), no HTTP. */
  readonly inProcessP50Ms: number;
  readonly httpP50Ms: number;
  readonly httpP99Ms: number;
  readonly concurrentRequestsPerSecond: number;
  readonly concurrentP50Ms: number;
  readonly errors: number;
  /** Requests the app sent to Cosmos DB while searching, per search: counted at the local endpoint (feed reads and demand writes included). */
  readonly cosmosRequestsPerSearch: number;
}

export interface SearchBenchmark {
  readonly radiusKm: number;
  readonly limit: number;
  readonly clients: number;
  readonly sizes: readonly SearchSizeResult[];
}

/**
 * `GET /api/places/nearby` over HTTP through the devhost, the app served from its in-memory index
 * over the local Cosmos endpoint, at each number of approved places: one search at a time, then
 * 16 clients for 5 s. Places are written straight into the views container (as the projection
 * would) across Great Britain; searches are around its towns.
 */
export async function benchmarkSearch(sizes: readonly number[] = SEARCH_SIZES): Promise<SearchBenchmark> {
  const results: SearchSizeResult[] = [];
  for (const places of sizes) results.push(await measureSize(places));
  return { radiusKm: RADIUS_KM, limit: LIMIT, clients: CLIENTS, sizes: results };
}

async function measureSize(places: number): Promise<SearchSizeResult> {
  const random = seededRandom(places);
  const entries = Array.from({ length: places }, () => {
    // Most places near towns, as they are: within ~30 km of one, the rest anywhere in Great Britain.
    const town = GB_TOWNS[Math.floor(random() * GB_TOWNS.length)]!;
    const near = random() < 0.8;
    const latitude = near ? town.latitude + (random() - 0.5) * 0.5 : 50 + random() * 8.6;
    const longitude = near ? town.longitude + (random() - 0.5) * 0.8 : -5.7 + random() * 7.5;
    return nearbyEntry(latitude, longitude, {
      kind: (['indoor', 'outdoor', 'mixed'] as const)[Math.floor(random() * 3)],
      ageRange: { min: 0, max: 5 + Math.floor(random() * 12) },
      free: random() < 0.4,
      // Most places give their hours, in a handful of common shapes (evaluated per result, as for real places).
      ...(random() < 0.8 && { openingHours: OPENING_HOURS[Math.floor(random() * OPENING_HOURS.length)] }),
    });
  });
  const paths = Array.from({ length: 2_000 }, () => {
    const town = GB_TOWNS[Math.floor(random() * GB_TOWNS.length)]!;
    const lat = (town.latitude + (random() - 0.5) * 0.1).toFixed(4);
    const lon = (town.longitude + (random() - 0.5) * 0.1).toFixed(4);
    return `/api/places/nearby?lat=${lat}&lon=${lon}&radiusKm=${RADIUS_KM}&limit=${LIMIT}`;
  });

  const inProcessP50Ms = await inProcessReference(entries, paths);

  const endpoint = await startLocalCosmosEndpoint();
  const client = new CosmosClient(localCosmosClientOptions(endpoint));
  const databaseId = `search-${randomUUID().slice(0, 8)}`;
  const database = await ensureCosmosContainers(client, databaseId);
  const views = database.container(CONTAINERS.views);
  // Plain upserts, 64 at a time (the local endpoint emulates atomic batches, not bulk).
  for (let i = 0; i < entries.length; i += 64) await Promise.all(entries.slice(i, i + 64).map((entry) => views.items.upsert({ ...entry })));
  client.dispose();

  const devhost = await startDevhostProcess({
    env: {
      COSMOS_CONNECTION: endpoint.connectionString,
      COSMOS_DATABASE: databaseId,
      // e.g. DEVHOST_NODE_OPTIONS=--cpu-prof to see where the devhost's time goes.
      ...(process.env.DEVHOST_NODE_OPTIONS && { NODE_OPTIONS: process.env.DEVHOST_NODE_OPTIONS }),
    },
  });
  const http = httpClient(devhost.url, { maxSockets: CLIENTS });
  try {
    // A new instance: the first search starts the load (the store answers meanwhile); wait until the index answers.
    const firstAt = performance.now();
    // The store answers while the index loads, and locally that load keeps the embedded Cosmos endpoint busy: give it time.
    const patient = httpClient(devhost.url, { timeoutMs: 600_000 });
    await patient.send({ kind: 'search', method: 'GET', path: paths[0]! });
    patient.close();
    const loaded = /SearchIndexLoaded places=(\d+) .*\bms=(\d+)/;
    while (!loaded.test(devhost.output())) {
      if (performance.now() - firstAt > 600_000) throw new Error('The search index did not load within 10 minutes.');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const [, loadedPlaces, loadMs] = loaded.exec(devhost.output()) ?? [];
    // A load that missed places would make every figure below look better than it is.
    if (Number(loadedPlaces) !== places) throw new Error(`The index loaded ${loadedPlaces ?? '?'} places of ${places}.`);
    const indexLoadMs = Number(loadMs);
    for (let i = 0; i < 200; i++) await http.send({ kind: 'warm', method: 'GET', path: paths[i % paths.length]! });

    const requestsBefore = endpoint.counters().containerRequests;
    let errors = 0;
    const sequential: number[] = [];
    for (let i = 0; i < SEQUENTIAL_SEARCHES; i++) {
      const started = performance.now();
      const answer = await http.send({ kind: 'search', method: 'GET', path: paths[i % paths.length]! });
      sequential.push(performance.now() - started);
      if (answer.status !== 200) errors++;
    }
    const concurrent: number[] = [];
    const until = performance.now() + CONCURRENT_MS;
    let next = 0;
    await Promise.all(
      Array.from({ length: CLIENTS }, async () => {
        while (performance.now() < until) {
          const started = performance.now();
          const answer = await http.send({ kind: 'search', method: 'GET', path: paths[next++ % paths.length]! });
          concurrent.push(performance.now() - started);
          if (answer.status !== 200) errors++;
        }
      }),
    );
    const searches = sequential.length + concurrent.length;
    const sequentialSummary = summarise(sequential);
    return {
      places,
      indexLoadMs,
      inProcessP50Ms,
      httpP50Ms: sequentialSummary.p50Ms,
      httpP99Ms: sequentialSummary.p99Ms,
      concurrentRequestsPerSecond: Math.round(concurrent.length / (CONCURRENT_MS / 1000)),
      concurrentP50Ms: summarise(concurrent).p50Ms,
      errors,
      cosmosRequestsPerSearch: round((endpoint.counters().containerRequests - requestsBefore) / searches, 3),
    };
  } catch (error) {
    // What the app said is what tells why (its log lines: SearchIndexFeedFailed, HttpFailed…).
    console.error(devhost.output().split('\n').slice(-40).join('\n'));
    throw error;
  } finally {
    http.close();
    await devhost.stop();
    await endpoint.close();
  }
}

/** The search the handler runs, in this process over the same places loaded into the same index. */
async function inProcessReference(entries: readonly NearbyEntry[], paths: readonly string[]): Promise<number> {
  const documents: ViewDocument[] = [...entries];
  const index = new PlaceSearchIndex(new InMemoryViewStore(), {
    load: () => Promise.resolve(documents),
    changes: () => Promise.resolve({ documents: [], caughtUp: true }),
  });
  await index.warmUp();
  const now = new Date();
  const deps = { views: index, clock: () => now };
  const times: number[] = [];
  for (let i = 0; i < SEQUENTIAL_SEARCHES + 200; i++) {
    const query = parseNearbyQuery(new URL(paths[i % paths.length]!, 'http://local').searchParams, now);
    const started = performance.now();
    await findNearby(deps, query);
    if (i >= 200) times.push(performance.now() - started);
  }
  return summarise(times).p50Ms;
}

if (require.main === module) {
  const sizes = process.argv
    .slice(2)
    .map(Number)
    .filter((n) => n > 0);
  benchmarkSearch(sizes.length > 0 ? sizes : SEARCH_SIZES)
    .then((result) => console.log(JSON.stringify(result, null, 2)))
    .catch((error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    });
}
