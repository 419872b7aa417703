import { CosmosClient, type Container } from '@azure/cosmos';
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { localCosmosClientOptions, startLocalCosmosEndpoint, type LocalCosmosEndpoint } from 'functions-devhost/cosmos/localCosmosEndpoint';
import { CONTAINERS, ensureCosmosContainers } from '../../shared/platform/adapters/cosmosClient';
import { CosmosViewStore } from '../../shared/platform/views/adapters/cosmosViewStore';
import { CosmosViewFeed } from '../../shared/platform/views/adapters/cosmosViewFeed';
import { InMemoryViewStore } from '../../shared/platform/views/adapters/inMemoryViewStore';
import { PlaceSearchIndex } from '../../shared/places/adapters/placeSearchIndex';
import { SearchState } from '../../shared/places/adapters/searchState';
import { searchPartitions } from '../../shared/places/adapters/searchPartitions';
import { distanceKm, type NearbyFilter } from '../../shared/places/application/nearbySearch';
import type { PlaceViews } from '../../shared/places/application/placeViews';
import type { ViewDocument } from '../../shared/platform/views/documents';
import type { ViewChanges, ViewFeed } from '../../shared/platform/views/viewFeed';
import {
  nearbyEntryKey,
  newestEntryKey,
  type NearbyEntry,
  type NewestEntry,
  type RemovedListing,
} from '../../shared/places/projection/placeDocuments';
import { regionForecastKey, type RegionForecastView } from '../../shared/regions/projection/regionForecastDocument';
import { nearbyEntry } from '../support/nearbyEntries';
import { seededRandom } from '../support/placeScenario';

const centreOfManchester = { latitude: 53.4771, longitude: -2.2547 };

/** What a search must answer: every live entry in the circle passing the filter, nearest, then by name, then id. */
function bruteForce(entries: readonly NearbyEntry[], centre: typeof centreOfManchester, radiusKm: number, filter: NearbyFilter): string[] {
  return entries
    .filter((e) => distanceKm(centre, e.geolocation) <= radiusKm)
    .filter((e) => filter.kind === undefined || e.kind === filter.kind)
    .filter((e) => filter.free === undefined || (e.free ?? false) === filter.free)
    .filter((e) => filter.age === undefined || !e.ageRange || (e.ageRange.min <= filter.age && filter.age <= e.ageRange.max))
    .map((e) => ({ id: e.placeId, name: e.name, d: distanceKm(centre, e.geolocation) }))
    .sort((a, b) => a.d - b.d || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .map((e) => e.id);
}

function tombstone(entry: NearbyEntry | NewestEntry, version: number): RemovedListing {
  return { id: entry.id, partitionKey: entry.partitionKey, type: 'removedListing', placeId: entry.placeId, sourceVersion: version };
}

describe('SearchState: the in-memory search', () => {
  const random = seededRandom(7);
  const kinds = ['indoor', 'outdoor', 'mixed'] as const;
  const place = (i: number, latitude: number, longitude: number, version = 3): NearbyEntry =>
    nearbyEntry(latitude, longitude, {
      placeId: `p${String(i).padStart(5, '0')}`,
      name: `Place ${i % 7}`, // names repeat: ties by name, then id
      kind: kinds[i % 3],
      free: i % 2 === 0,
      ageRange: { min: 0, max: 4 + (i % 12) },
      sourceVersion: version,
    });

  it('answers exactly as a brute-force scan, through thousands of changes (moves, withdrawals, stale and repeated documents)', () => {
    const state = new SearchState();
    const live = new Map<string, NearbyEntry>();
    const docs: ViewDocument[] = [];
    // 3,000 places over Greater Manchester, some at the very same point.
    for (let i = 0; i < 3_000; i++) {
      const entry = i % 50 === 0 ? place(i, 53.48, -2.24) : place(i, 53.2 + random() * 0.6, -2.7 + random() * 0.9);
      live.set(entry.placeId, entry);
      docs.push(entry);
    }
    state.apply(docs);
    const check = () => {
      for (let q = 0; q < 20; q++) {
        const centre = { latitude: 53.25 + random() * 0.5, longitude: -2.65 + random() * 0.8 };
        const radiusKm = 0.5 + random() * 30;
        const filter: NearbyFilter = {
          ...(q % 3 === 0 && { kind: kinds[q % 3] }),
          ...(q % 4 === 0 && { age: 6 }),
          ...(q % 5 === 0 && { free: true }),
        };
        expect([...state.nearby(centre, radiusKm, filter)].map(({ entry }) => entry.placeId)).toEqual(
          bruteForce([...live.values()], centre, radiusKm, filter),
        );
      }
    };
    check();
    const versions = new Map<number, number>();
    // 2,500 changes, in batches: more than the tree keeps beside it, so it is rebuilt on the way.
    for (let batch = 0; batch < 25; batch++) {
      const changes: ViewDocument[] = [];
      for (let c = 0; c < 100; c++) {
        const i = Math.floor(random() * 3_000);
        const current = live.get(`p${String(i).padStart(5, '0')}`);
        const version = (versions.get(i) ?? 3) + 1; // a place's versions only go up, withdrawn or not
        versions.set(i, version);
        if (current && random() < 0.3) {
          changes.push(tombstone(current, version));
          live.delete(current.placeId);
        } else {
          const moved = place(i, 53.2 + random() * 0.6, -2.7 + random() * 0.9, version);
          if (current && current.partitionKey !== moved.partitionKey) changes.push(tombstone(current, version));
          changes.push(moved);
          live.set(moved.placeId, moved);
          // A stale copy, read again after the newer one: kept out.
          changes.push({ ...moved, sourceVersion: version - 1, geolocation: { latitude: 0, longitude: 0 } });
        }
      }
      state.apply(changes);
      state.apply(changes.slice(0, 10)); // redelivered
      if (batch % 5 === 4) check();
    }
    expect(state.places).toBe(live.size);
  });

  it('agrees with a brute-force scan on any set of places and search (property)', () => {
    const point = fc.record({
      latitude: fc.double({ min: 53, max: 54, noNaN: true }),
      longitude: fc.double({ min: -3, max: -2, noNaN: true }),
    });
    fc.assert(
      fc.property(
        fc.array(fc.tuple(point, fc.nat(2)), { maxLength: 200 }),
        point,
        fc.double({ min: 0.1, max: 80, noNaN: true }),
        fc.option(fc.constantFrom(...kinds), { nil: undefined }),
        (points, centre, radiusKm, kind) => {
          const entries = points.map(([p, copies], i) => place(i * 3 + copies, p.latitude, p.longitude));
          const state = new SearchState();
          state.apply(entries);
          const filter = kind === undefined ? {} : { kind };
          expect([...state.nearby(centre, radiusKm, filter)].map(({ entry }) => entry.placeId)).toEqual(
            bruteForce(entries, centre, radiusKm, filter),
          );
        },
      ),
      { numRuns: 300 },
    );
  });

  it('lists the newest approvals first and forgets withdrawn ones; keeps the newest forecast of each region', () => {
    const state = new SearchState();
    const newest = (placeId: string, approvedAt: string, sourceVersion = 4): NewestEntry => ({
      ...newestEntryKey(placeId),
      type: 'newest',
      placeId,
      name: placeId,
      region: 'gcw2h',
      approvedAt,
      sourceVersion,
    });
    const a = newest('a', '2026-11-01T00:00:00Z');
    const b = newest('b', '2026-11-03T00:00:00Z');
    const c = newest('c', '2026-11-02T00:00:00Z');
    state.apply([a, b, c]);
    expect(state.newest(2).map((e) => e.placeId)).toEqual(['b', 'c']);
    state.apply([tombstone(b, 5), { ...b, sourceVersion: 4 }]);
    expect(state.newest(5).map((e) => e.placeId)).toEqual(['c', 'a']);

    const forecast = (version: number): RegionForecastView => ({
      ...regionForecastKey('gcw2h'),
      type: 'regionForecast',
      region: 'gcw2h',
      centre: null,
      version,
      source: 'open-meteo',
      issuedAt: null,
      updatedAt: null,
      cycleId: `cycle-${version}`,
      hourly: [],
      lastFailure: null,
    });
    state.apply([forecast(3), forecast(2)]);
    expect(state.regionForecasts(['gcw2h', 'nowhere']).map((view) => view.version)).toEqual([3]);
  });
});

/** A feed over a list the test appends to; counts its reads. */
class ListFeed implements ViewFeed {
  readonly documents: ViewDocument[] = [];
  private position = 0;
  reads = 0;
  failing = false;
  loads = 0;
  /** What the store holds, when not every document in the log (a rebuild deleted some). */
  stored: ViewDocument[] | undefined;
  load(): Promise<ViewDocument[]> {
    this.loads++;
    this.position = this.documents.length;
    return Promise.resolve([...(this.stored ?? this.documents)]);
  }
  /** When set, a read waits for it (a slow feed). */
  gate: Promise<void> | undefined;
  async changes(): Promise<ViewChanges> {
    this.reads++;
    if (this.failing) throw new Error('feed down');
    // What the read finds is what was there when it began, however long it then takes.
    const changed = this.documents.slice(this.position);
    this.position = this.documents.length;
    await this.gate;
    return { documents: changed, caughtUp: true };
  }
}

describe('PlaceSearchIndex: when it answers from memory, and how fresh', () => {
  let now = 0;
  const clock = () => now;
  const ids = async (views: PlaceViews) => [...(await views.nearby(centreOfManchester, 5, {}))].map(({ entry }) => entry.placeId);

  async function loadedIndex() {
    const store = new InMemoryViewStore();
    const feed = new ListFeed();
    const first = nearbyEntry(53.478, -2.255, { placeId: 'first' });
    await store.write(first, 'any');
    feed.documents.push(first);
    const index = new PlaceSearchIndex(store, feed, { clock });
    await index.warmUp();
    return { store, feed, index };
  }

  beforeEach(() => {
    now = 1_000_000;
  });

  it('answers from the store while it loads, then from memory', async () => {
    const store = new InMemoryViewStore();
    const feed = new ListFeed();
    const entry = nearbyEntry(53.478, -2.255, { placeId: 'museum' });
    await store.write(entry, 'any');
    const storeSearch = jest.spyOn(store, 'nearby');
    const index = new PlaceSearchIndex(
      store,
      { load: () => new Promise<ViewDocument[]>(() => {}), changes: () => feed.changes() },
      { clock },
    );
    expect(await ids(index)).toEqual(['museum']);
    expect(storeSearch).toHaveBeenCalledTimes(1);
    expect(index.loaded).toBe(false);

    const loaded = await loadedIndex();
    const fromStore = jest.spyOn(loaded.store, 'nearby');
    expect(await ids(loaded.index)).toEqual(['first']);
    expect(fromStore).not.toHaveBeenCalled();
  });

  it('reads the feed at most once per second however many searches, and never answers older than two seconds', async () => {
    const { feed, index } = await loadedIndex();
    const readsAfterLoad = feed.reads;
    const approved = nearbyEntry(53.479, -2.256, { placeId: 'approved' });
    feed.documents.push(approved);
    // Fresh: answered as it is, no read.
    for (let i = 0; i < 100; i++) expect(await ids(index)).toEqual(['first']);
    expect(feed.reads).toBe(readsAfterLoad);
    // Past a second: answered at once, and the feed is read for the next search.
    now += 1_500;
    await ids(index);
    await Promise.resolve();
    expect(await ids(index)).toEqual(['first', 'approved']);
    expect(feed.reads).toBe(readsAfterLoad + 1);
    // Idle for longer than two seconds: the search waits for the read.
    feed.documents.push(tombstone(approved, 4));
    now += 2_500;
    expect(await ids(index)).toEqual(['first']);
    expect(feed.reads).toBe(readsAfterLoad + 2);
  });

  it('never answers from a read that began before a change when the search came more than two seconds after it', async () => {
    const { store, feed, index } = await loadedIndex();
    let open = () => {};
    feed.gate = new Promise<void>((resolve) => (open = resolve));
    now += 1_500;
    await ids(index); // starts a read, which stalls
    const later = nearbyEntry(53.479, -2.256, { placeId: 'later' });
    await store.write(later, 'any');
    feed.documents.push(later); // written just after the read began: not in it
    now += 2_400;
    const asked = ids(index); // 2.4 s after the write: waits for the stalled read, which must not be the answer
    feed.gate = undefined;
    open();
    expect(await asked).toEqual(['first', 'later']); // from the store: the read began 2.4 s before
  });

  it('keeps reading after a read that threw at once, and waits a moment before asking a failing feed again', async () => {
    const { store, feed, index } = await loadedIndex();
    const fromStore = jest.spyOn(store, 'nearby');
    feed.failing = true;
    now += 2_500;
    await ids(index);
    const readsAfterFailure = feed.reads;
    await ids(index); // within the back-off: the store answers, the feed is not asked
    expect(feed.reads).toBe(readsAfterFailure);
    expect(fromStore).toHaveBeenCalledTimes(2);
    feed.failing = false;
    feed.documents.push(nearbyEntry(53.479, -2.256, { placeId: 'later' }));
    now += 5_000;
    expect(await ids(index)).toEqual(['first', 'later']);
    expect(fromStore).toHaveBeenCalledTimes(2);
  });

  it('lets the store answer when the feed cannot be read, and follows it again once it can', async () => {
    const { store, feed, index } = await loadedIndex();
    const later = nearbyEntry(53.479, -2.256, { placeId: 'later' });
    await store.write(later, 'any');
    feed.documents.push(later);
    feed.failing = true;
    now += 5_000;
    expect(await ids(index)).toEqual(['first', 'later']); // the store's answer
    feed.failing = false;
    now += 5_000;
    const fromStore = jest.spyOn(store, 'nearby');
    expect(await ids(index)).toEqual(['first', 'later']);
    expect(fromStore).not.toHaveBeenCalled();
  });
});

describe('CosmosViewFeed', () => {
  it('hands out the pages of a read that failed half-way with the next read, since the feed has moved past them', async () => {
    const first = nearbyEntry(53.478, -2.255, { placeId: 'first' });
    const second = nearbyEntry(53.479, -2.256, { placeId: 'second' });
    const script: (() => { statusCode: number; result: unknown[] })[] = [
      () => ({ statusCode: 304, result: [] }), // pinned at load
      () => ({ statusCode: 200, result: [first] }),
      () => {
        throw new Error('429 after retries');
      },
      () => ({ statusCode: 200, result: [second] }),
      () => ({ statusCode: 304, result: [] }),
    ];
    const iterator = { readNext: () => Promise.resolve().then(() => script.shift()!()) };
    const container = {
      items: {
        getChangeFeedIterator: () => iterator,
        query: () => ({ hasMoreResults: () => false, fetchNext: () => Promise.resolve({ resources: [] }) }),
      },
    } as unknown as Container;
    const feed = new CosmosViewFeed(container, searchPartitions());
    await feed.load();
    await expect(feed.changes()).rejects.toThrow('429');
    expect((await feed.changes()).documents.map((document) => (document as NearbyEntry).placeId)).toEqual(['first', 'second']);
  });
});

describe('PlaceSearchIndex after a rebuild of the views', () => {
  it('loads again when the feed shows a rebuild, so a place the rebuild did not write again is no longer found', async () => {
    let now = 0;
    const feed = new ListFeed();
    const kept = nearbyEntry(53.478, -2.255, { placeId: 'kept' });
    const dropped = nearbyEntry(53.479, -2.256, { placeId: 'dropped' });
    feed.documents.push(kept, dropped);
    const index = new PlaceSearchIndex(new InMemoryViewStore(), feed, { clock: () => now });
    await index.warmUp();
    const ids = async () => [...(await index.nearby(centreOfManchester, 5, {}))].map(({ entry }) => entry.placeId);
    expect(await ids()).toEqual(['kept', 'dropped']);

    // The rebuild deletes every view (unseen in the feed), marks itself, and writes back only `kept`.
    const marker: ViewDocument = {
      id: 'rebuild-marker',
      partitionKey: 'rebuild-marker',
      type: 'rebuildMarker',
      rebuildId: 'rebuild-1',
      rebuiltAt: '2026-12-07T12:00:00Z',
    };
    feed.documents.push(marker, kept);
    feed.stored = [marker, kept];
    now += 1_500;
    await ids(); // reads the feed, sees the marker, starts loading again
    await index.warmUp();
    expect(feed.loads).toBe(2);
    now += 500;
    expect(await ids()).toEqual(['kept']);
    // The marker read again (the feed's start margin) is the same rebuild: no third load.
    feed.documents.push(marker);
    now += 2_500;
    await ids();
    expect(feed.loads).toBe(2);
  });
});

describe('PlaceSearchIndex over the local Cosmos endpoint', () => {
  let endpoint: LocalCosmosEndpoint;
  let client: CosmosClient;
  let views: Container;
  beforeAll(async () => {
    endpoint = await startLocalCosmosEndpoint();
    client = new CosmosClient(localCosmosClientOptions(endpoint));
    const database = await ensureCosmosContainers(client, `search-${randomUUID().slice(0, 8)}`);
    views = database.container(CONTAINERS.views);
  });
  afterAll(async () => {
    client.dispose();
    await endpoint.close();
  });

  it('shows a place approved after it loaded within 2 s, and hides a withdrawn one within 2 s, at no store request per fresh search', async () => {
    const store = new CosmosViewStore(views);
    const feed = new CosmosViewFeed(views, searchPartitions());
    const before = nearbyEntry(53.478, -2.255, { placeId: `before-${randomUUID()}` });
    await store.write(before, 'any');
    const index = new PlaceSearchIndex(store, feed);
    await index.warmUp();
    expect(index.loaded).toBe(true);

    const searches = async () => [...(await index.nearby(centreOfManchester, 5, {}))].map(({ entry }) => entry.placeId);
    const until = async (test: (found: string[]) => boolean): Promise<number> => {
      const started = Date.now();
      while (!test(await searches())) {
        if (Date.now() - started > 5_000) throw new Error('not within 5 s');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      return Date.now() - started;
    };

    const storeRequestsBefore = store.requestCount;
    const approved = nearbyEntry(53.479, -2.256, { placeId: `approved-${randomUUID()}`, sourceVersion: 4 });
    await store.write(approved, 'any');
    expect(await until((found) => found.includes(approved.placeId))).toBeLessThanOrEqual(2_000);

    await store.write(tombstone(approved, 5), 'any');
    expect(await until((found) => !found.includes(approved.placeId))).toBeLessThanOrEqual(2_000);
    expect(await searches()).toEqual([before.placeId]);
    expect(store.requestCount - storeRequestsBefore).toBe(2); // the two writes: every search was answered from memory

    // A burst of searches within a second costs no request, or the one feed read.
    const burstStart = store.requestCount + feed.requestCount;
    for (let i = 0; i < 200; i++) await searches();
    expect(store.requestCount + feed.requestCount - burstStart).toBeLessThanOrEqual(1);
  }, 30_000);

  it('loads what the views hold, changes in the feed since included', async () => {
    const store = new CosmosViewStore(views);
    await store.clear();
    const entries = Array.from({ length: 300 }, (_, i) => nearbyEntry(53.3 + (i % 30) * 0.01, -2.5 + Math.floor(i / 30) * 0.02));
    for (const entry of entries) await store.write(entry, 'any');
    const withdrawn = entries[0]!;
    await store.write(tombstone(withdrawn, 9), 'any');
    const index = new PlaceSearchIndex(store, new CosmosViewFeed(views, searchPartitions()));
    await index.warmUp();
    const found = [...(await index.nearby({ latitude: 53.45, longitude: -2.4 }, 50, {}))].map(({ entry }) => entry.placeId);
    expect(found.sort()).toEqual(
      entries
        .slice(1)
        .map((entry) => entry.placeId)
        .sort(),
    );
    expect(nearbyEntryKey(withdrawn.placeId, withdrawn.cell5.slice(0, 3)).id).toBe(withdrawn.id);
  }, 30_000);
});
