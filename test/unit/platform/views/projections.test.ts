import ngeohash from 'ngeohash';
import { randomUUID } from 'node:crypto';
import { projectEvents, type ProjectionDeps } from '../../../../shared/platform/views/projectEvents';
import { rebuildViews } from '../../../../shared/platform/views/rebuildViews';
import type { RecordedEvent } from '../../../../shared/kernel/event';
import { InMemoryEventStore } from '../../../../shared/platform/eventSourcing/adapters/inMemoryEventStore';
import { InMemoryDeadLetterStore } from '../../../../shared/platform/views/deadLetters';
import { InMemoryViewStore } from '../../../../shared/platform/views/adapters/inMemoryViewStore';
import { evolvePlaceView } from '../../../../shared/places/projection/placeView';
import type { PlaceEvent } from '../../../../shared/places/domain/place';
import { placeLifecycles, regionWithForecast, seededRandom } from '../../../support/placeScenario';
import { type PlaceView } from '../../../../shared/places/projection/placeDocuments';
import { batches, shuffle } from '../../../support/delivery';

const clock = () => new Date('2026-11-27T09:00:00Z');

function projectionInto(store: InMemoryEventStore): ProjectionDeps & { views: InMemoryViewStore; deadLetters: InMemoryDeadLetterStore } {
  return { views: new InMemoryViewStore(), eventStore: store, deadLetters: new InMemoryDeadLetterStore(), geohash: ngeohash.encode, clock };
}

// A place's status entry and its removal markers share an id, in different partitions.
const byId = (documents: { id: string; partitionKey: string }[]) =>
  [...documents].sort((a, b) => `${a.partitionKey}/${a.id}`.localeCompare(`${b.partitionKey}/${b.id}`));

describe('projections: given the events, then the views', () => {
  let store: InMemoryEventStore;
  let reference: InMemoryViewStore;
  beforeAll(async () => {
    store = new InMemoryEventStore();
    await placeLifecycles(store, 60, 7);
    await regionWithForecast(store, 'gcw2h', '2026-11-27T00:00:00Z');
    const deps = projectionInto(store);
    await projectEvents(deps, store.allEvents());
    reference = deps.views;
  });

  it('lists exactly the approved places in nearby and newest, and every place in details', () => {
    const all = reference.all();
    const places = all.filter((document): document is PlaceView => document.type === 'place');
    expect(places).toHaveLength(60);
    const approved = places.filter((document) => document.status === 'approved').map((document) => document.id.replace('place-', ''));
    expect(approved.length).toBeGreaterThan(10);
    const listedNearby = all.filter((document) => document.type === 'nearby').map((document) => document.id.replace('nearby-', ''));
    const listedNewest = all.filter((document) => document.type === 'newest').map((document) => document.id.replace('newest-', ''));
    expect(listedNearby.sort()).toEqual([...approved].sort());
    expect(listedNewest.sort()).toEqual([...approved].sort());
    expect(all.filter((document) => document.type === 'regionForecast')).toHaveLength(1);
  });

  it("lists every place once, under its current status only (and once in its owner's list)", async () => {
    const all = reference.all();
    const places = all.filter((document): document is PlaceView => document.type === 'place');
    const listed = all.filter((document) => document.type === 'status' && document.partitionKey.startsWith('status-'));
    const owners = [...new Set(places.map((place) => place.owner?.id ?? '?'))];
    const owned = (await Promise.all(owners.map((owner) => reference.ownedBy(owner, 100)))).flat();
    expect(owned.map((entry) => `${entry.owner?.id ?? '?'}/${entry.placeId}`).sort()).toEqual(
      places.map((place) => `${place.owner?.id ?? '?'}/${place.placeId}`).sort(),
    );
    expect(listed.map((entry) => `${entry.partitionKey}/${entry.id}`).sort()).toEqual(
      places.map((place) => `status-${place.status}/status-${place.placeId}`).sort(),
    );
    const waiting = places.filter((place) => place.status === 'locationValidated');
    expect((await reference.withStatus('locationValidated', 100)).map((entry) => entry.placeId).sort()).toEqual(
      waiting.map((place) => place.placeId).sort(),
    );
  });

  it('every batch delivered twice, batches in shuffled order across streams: the same views as one in-order delivery', async () => {
    for (const seed of [1, 2, 3]) {
      const random = seededRandom(seed);
      const deps = projectionInto(store);
      const delivery = shuffle(batches(store.allEvents() as RecordedEvent[], random), random);
      for (const batch of delivery) {
        await projectEvents(deps, batch);
        await projectEvents(deps, shuffle(batch, random));
      }
      expect(byId(deps.views.all())).toEqual(byId(reference.all()));
      expect(deps.deadLetters.letters.size).toBe(0);
    }
  });

  it('a rebuild from all events gives the same documents as incremental processing', async () => {
    const deps = projectionInto(store);
    await deps.views.write(
      { id: 'stale', partitionKey: 'stale', type: 'newest', placeId: 'x', name: 'x', region: 'x', approvedAt: 'x', sourceVersion: 1 },
      'any',
    );
    const outcome = await rebuildViews(deps);
    expect(outcome.events).toBe(store.allEvents().length);
    expect(byId(deps.views.all())).toEqual(byId(reference.all()));
  });

  it('dead-letters a poison event with its reason and applies the rest of the batch', async () => {
    const own = new InMemoryEventStore();
    const [placeId] = await placeLifecycles(own, 1, 3);
    const meta = { eventId: randomUUID(), correlationId: 'c', causationId: 'c', occurredAt: '2026-11-27T09:00:00Z' };
    await own.append('place-bad', [{ type: 'PlaceProposed', data: { name: 42 }, metadata: meta }], 0);
    await own.append('mystery-1', [{ type: 'Whatever', data: {}, metadata: { ...meta, eventId: randomUUID() } }], 0);
    const deps = projectionInto(own);
    const outcome = await projectEvents(deps, own.allEvents());
    expect(outcome.deadLettered).toBe(2);
    expect([...deps.deadLetters.letters.values()].map((letter) => letter.reason).sort()).toEqual([
      expect.stringContaining('Malformed PlaceProposed'),
      expect.stringContaining('No projection handles stream'),
    ]);
    expect(await deps.views.read({ id: `place-${placeId}`, partitionKey: `place-${placeId}` })).toBeDefined();
    await projectEvents(deps, own.allEvents());
    expect(deps.deadLetters.letters.size).toBe(2);
  });
});

describe('place view: given/when/then', () => {
  const placeId = '7d1c2a4e-5b6f-4c3d-8e9f-0a1b2c3d4e5f';
  const meta = (version: number) => ({
    streamId: `place-${placeId}`,
    version,
    metadata: { eventId: `e${version}`, correlationId: 'c', causationId: 'c', occurredAt: `2026-11-27T09:0${version}:00.000Z` },
  });
  const proposed: RecordedEvent<PlaceEvent> = {
    type: 'PlaceProposed',
    data: { placeId, name: 'Zoo', details: { kind: 'outdoor' }, proposedAt: '2026-11-27T09:01:00.000Z' },
    ...meta(1),
  };
  const renamed: RecordedEvent<PlaceEvent> = {
    type: 'PlaceDetailsUpdated',
    data: { name: 'City Zoo', kind: null, description: 'Lions' },
    ...meta(2),
  };

  it('given nothing, when proposed, then a proposed view at version 1', () => {
    expect(evolvePlaceView(null, proposed)).toMatchObject({
      id: `place-${placeId}`,
      status: 'proposed',
      version: 1,
      name: 'Zoo',
      kind: 'outdoor',
      geolocation: null,
      region: null,
    });
  });

  it('given a proposed view, when details change, then the view changes them and removes nulls', () => {
    const view = evolvePlaceView(evolvePlaceView(null, proposed), renamed);
    expect(view).toMatchObject({ name: 'City Zoo', description: 'Lions', version: 2 });
    expect(view).not.toHaveProperty('kind');
  });

  it('given a view at version 2, when version 1 or 2 comes again, then nothing changes', () => {
    const view = evolvePlaceView(evolvePlaceView(null, proposed), renamed);
    expect(evolvePlaceView(view, proposed)).toBe(view);
    expect(evolvePlaceView(view, renamed)).toBe(view);
  });

  it('given nothing, when a later event comes first, then still no view (the runner fills the gap)', () => {
    expect(evolvePlaceView(null, renamed)).toBeNull();
  });
});
