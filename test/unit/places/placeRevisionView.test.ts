import type { RecordedEvent } from '../../../shared/kernel/event';
import type { PlaceEvent } from '../../../shared/places/domain/place';
import { evolvePlaceView, listingsOf } from '../../../shared/places/projection/placeView';
import type { PlaceView } from '../../../shared/places/projection/placeDocuments';

const placeId = '7d1c2a4e-5b6f-4c3d-8e9f-0a1b2c3d4e5f';
const at = '2026-12-07T09:00:00.000Z';
const ann = { id: 'ann-oid', name: 'Ann' };
const geolocation = { latitude: 53.4771, longitude: -2.2547 };
const geohash = () => 'gcw2jxx';

function recorded(events: readonly PlaceEvent[]): RecordedEvent<PlaceEvent>[] {
  return events.map((event, i) => ({
    ...event,
    streamId: `place-${placeId}`,
    version: i + 1,
    metadata: { eventId: `e${i}`, correlationId: 'c', causationId: 'c', occurredAt: at },
  }));
}
const fold = (events: readonly PlaceEvent[]) => recorded(events).reduce<PlaceView | null>(evolvePlaceView, null);

const approvedPlace: PlaceEvent[] = [
  { type: 'PlaceProposed', data: { placeId, name: 'Museum', geolocation, details: { description: 'Trains' }, proposedAt: at, owner: ann } },
  { type: 'PlaceLocationValidated', data: { geolocation, region: 'gcw2j' } },
  { type: 'PlaceApproved', data: { approvedAt: at } },
];
const revision = (n: number, description: string): PlaceEvent => ({
  type: 'PlaceRevisionProposed',
  data: { revision: n, changes: { description }, proposedBy: ann, proposedAt: at },
});

describe('place view: revisions, given the events, then the view', () => {
  it('a pending revision is held apart from the approved details, and listed for admins; parents keep the old details', () => {
    const view = fold([...approvedPlace, revision(1, 'Looms')]);
    expect(view).toMatchObject({ description: 'Trains', pendingRevision: { revision: 1, changes: { description: 'Looms' } } });
    const listings = listingsOf(view!, geohash);
    expect(listings.find((listing) => listing.partitionKey === 'status-revisionPending')).toMatchObject({ type: 'status' });
    expect(listings.find((listing) => listing.type === 'nearby')).not.toHaveProperty('description');
  });

  it('rejected: the details stay, the owner is told why, and the admins’ list entry is removed', () => {
    const view = fold([
      ...approvedPlace,
      revision(1, 'Looms'),
      { type: 'PlaceRevisionRejected', data: { revision: 1, reason: 'Not true', rejectedAt: at } },
    ]);
    expect(view).toMatchObject({
      description: 'Trains',
      lastRevision: { revision: 1, outcome: 'rejected', reason: 'Not true', decidedAt: at },
    });
    expect(view).not.toHaveProperty('pendingRevision');
    expect(listingsOf(view!, geohash).find((listing) => listing.partitionKey === 'status-revisionPending')).toMatchObject({
      type: 'removedListing',
    });
  });

  it('approved: the changes apply; superseded: the newer revision waits and the older one is said to be superseded', () => {
    expect(
      fold([...approvedPlace, revision(1, 'Looms'), { type: 'PlaceRevisionApproved', data: { revision: 1, approvedAt: at } }]),
    ).toMatchObject({
      description: 'Looms',
      lastRevision: { revision: 1, outcome: 'approved' },
    });
    expect(fold([...approvedPlace, revision(1, 'Looms'), revision(2, 'Engines')])).toMatchObject({
      description: 'Trains',
      pendingRevision: { revision: 2 },
      lastRevision: { revision: 1, outcome: 'superseded' },
    });
  });

  it('withdrawn: a revision still waiting goes with it', () => {
    const view = fold([...approvedPlace, revision(1, 'Looms'), { type: 'PlaceWithdrawn', data: { reason: 'Closed', withdrawnAt: at } }]);
    expect(view).toMatchObject({ status: 'withdrawn' });
    expect(view).not.toHaveProperty('pendingRevision');
  });
});
