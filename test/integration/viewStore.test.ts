import { CosmosClient, type Container } from '@azure/cosmos';
import ngeohash from 'ngeohash';
import { randomUUID } from 'node:crypto';
import { localCosmosClientOptions, startLocalCosmosEndpoint, type LocalCosmosEndpoint } from 'functions-devhost/cosmos/localCosmosEndpoint';
import { findNearby } from '../../shared/places/application/placeQueries';
import { projectEvents } from '../../shared/platform/views/projectEvents';
import { rebuildViews } from '../../shared/platform/views/rebuildViews';
import { CONTAINERS, ensureCosmosContainers } from '../../shared/platform/adapters/cosmosClient';
import { CosmosEventStore } from '../../shared/platform/eventSourcing/adapters/cosmosEventStore';
import { CosmosViewStore } from '../../shared/platform/views/adapters/cosmosViewStore';
import { InMemoryDeadLetterStore } from '../../shared/platform/views/deadLetters';
import { InMemoryViewStore } from '../../shared/platform/views/adapters/inMemoryViewStore';
import { distanceKm } from '../../shared/places/application/nearbySearch';
import { placeLifecycles, regionWithForecast, seededRandom } from '../support/placeScenario';
import { nearbyEntry } from '../support/nearbyEntries';
import { describeViewStoreConformance } from '../support/viewStoreConformance';
import { describeSearchDemandConformance } from '../support/searchDemandConformance';
import { parseNearbyQuery } from '../../shared/places/http/placeRequests';

let endpoint: LocalCosmosEndpoint;
let client: CosmosClient;
let databaseId: string;
beforeAll(async () => {
  endpoint = await startLocalCosmosEndpoint();
  client = new CosmosClient(localCosmosClientOptions(endpoint));
  databaseId = `views-${randomUUID().slice(0, 8)}`;
  await ensureCosmosContainers(client, databaseId);
});
afterAll(async () => {
  client.dispose();
  await endpoint.close();
});
const container = (name: string): Container => client.database(databaseId).container(name);

describeViewStoreConformance('in-memory', () => new InMemoryViewStore());
describeViewStoreConformance('Cosmos DB (local endpoint)', () => new CosmosViewStore(container(CONTAINERS.views)));
describeSearchDemandConformance('in-memory', () => new InMemoryViewStore());
describeSearchDemandConformance('Cosmos DB (local endpoint)', () => new CosmosViewStore(container(CONTAINERS.views)));

describe('nearby search', () => {
  const now = new Date('2026-11-27T09:00:00Z');
  const random = seededRandom(42);
  // 10,000 places over Great Britain.
  const entries = Array.from({ length: 10_000 }, () =>
    nearbyEntry(50 + random() * 8.6, -5.7 + random() * 7.5, {
      kind: (['indoor', 'outdoor', 'mixed'] as const)[Math.floor(random() * 3)],
      free: random() < 0.5,
      ageRange: { min: 0, max: 4 + Math.floor(random() * 14) },
    }),
  );

  it('returns exactly what a brute-force scan over 10,000 places returns, in the same order', async () => {
    const views = new InMemoryViewStore();
    for (const entry of entries) await views.write(entry, 'any');
    for (let i = 0; i < 100; i++) {
      const params = new URLSearchParams({
        lat: String(50.5 + random() * 7.5),
        lon: String(-5 + random() * 6.5),
        radiusKm: String(0.5 + random() * 49.5),
        limit: '100',
      });
      if (i % 3 === 0) params.set('kind', 'outdoor');
      if (i % 4 === 0) params.set('age', '6');
      if (i % 5 === 0) params.set('free', 'true');
      const query = parseNearbyQuery(params, now);
      const { results } = await findNearby({ views, clock: () => now }, query);
      const centre = { latitude: query.lat, longitude: query.lon };
      const expected = entries
        .filter((e) => distanceKm(centre, e.geolocation) <= query.radiusKm)
        .filter((e) => query.kind === undefined || e.kind === query.kind)
        .filter((e) => query.free === undefined || e.free === query.free)
        .filter((e) => query.age === undefined || (e.ageRange!.min <= query.age && query.age <= e.ageRange!.max))
        .map((e) => ({ placeId: e.placeId, name: e.name, d: distanceKm(centre, e.geolocation) }))
        .sort((a, b) => a.d - b.d || a.name.localeCompare(b.name) || a.placeId.localeCompare(b.placeId))
        .slice(0, 100)
        .map((e) => e.placeId);
      expect(results.map((r) => r.placeId)).toEqual(expected);
    }
  });

  it('makes at most 10 Cosmos requests for a radius up to 25 km, however many places there are', async () => {
    const views = new CosmosViewStore(container(CONTAINERS.views));
    await views.clear();
    for (let i = 0; i < entries.length; i += 50) await Promise.all(entries.slice(i, i + 50).map((entry) => views.write(entry, 'any')));
    for (const [lat, lon, radiusKm] of [
      [53.48, -2.24, 25],
      [51.5, -0.12, 25],
      [55.95, -3.19, 10],
      [52.2, 0.12, 1],
      [50.0, -5.5, 25],
    ] as const) {
      views.requestCount = 0;
      const { results } = await findNearby(
        { views, clock: () => now },
        parseNearbyQuery(new URLSearchParams({ lat: String(lat), lon: String(lon), radiusKm: String(radiusKm), limit: '100' }), now),
      );
      expect({ at: [lat, lon, radiusKm], requests: views.requestCount }).toEqual({
        at: [lat, lon, radiusKm],
        requests: expect.any(Number),
      });
      expect(views.requestCount).toBeLessThanOrEqual(10);
      expect(results.every((r) => r.distanceKm <= radiusKm)).toBe(true);
    }
  }, 120_000);
});

describe('rebuild against the local Cosmos endpoint', () => {
  it('replaying every event into empty views gives exactly the documents incremental processing gave', async () => {
    const database = await ensureCosmosContainers(client, `rebuild-${randomUUID().slice(0, 8)}`);
    const eventStore = new CosmosEventStore(database.container(CONTAINERS.events));
    const views = new CosmosViewStore(database.container(CONTAINERS.views));
    const deps = {
      views,
      eventStore,
      deadLetters: new InMemoryDeadLetterStore(),
      geohash: ngeohash.encode,
      clock: () => new Date('2026-11-27T09:00:00Z'),
    };
    await placeLifecycles(eventStore, 40, 11);
    await regionWithForecast(eventStore, 'gcw2h', '2026-11-27T00:00:00Z');
    const all = [];
    for await (const page of eventStore.readAll(25)) all.push(...page);
    for (let i = 0; i < all.length; i += 17) await projectEvents(deps, all.slice(i, i + 17));
    const snapshot = async () =>
      (await database.container(CONTAINERS.views).items.query<Record<string, unknown>>('SELECT * FROM c').fetchAll()).resources
        .map(({ _rid, _self, _etag, _attachments, _ts, _lsn, ...document }) => document)
        .filter((document) => document.type !== 'rebuildMarker')
        .sort((a, b) => `${String(a.partitionKey)}/${String(a.id)}`.localeCompare(`${String(b.partitionKey)}/${String(b.id)}`));
    const incremental = await snapshot();
    expect(incremental.length).toBeGreaterThan(40);
    const outcome = await rebuildViews(deps);
    expect(outcome.events).toBe(all.length);
    expect(await snapshot()).toEqual(incremental);
  }, 120_000);
});
