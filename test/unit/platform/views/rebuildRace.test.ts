import { adminActing, everyoneApproved, functionKeyCaller } from '../../../support/callers';
import ngeohash from 'ngeohash';
import { executePlaceCommand, proposePlace, type EditingDeps } from '../../../../shared/places/application/placeCommands';
import { InMemoryEventStore } from '../../../../shared/platform/eventSourcing/adapters/inMemoryEventStore';
import { InMemoryViewStore } from '../../../../shared/platform/views/adapters/inMemoryViewStore';
import { InMemoryDeadLetterStore } from '../../../../shared/platform/views/deadLetters';
import type { ViewDocument } from '../../../../shared/platform/views/documents';
import { projectEvents, type ProjectionDeps } from '../../../../shared/platform/views/projectEvents';
import { rebuildViews } from '../../../../shared/platform/views/rebuildViews';
import type { ViewStore, WriteCondition } from '../../../../shared/platform/views/viewStore';

const clock = () => new Date('2026-12-06T10:00:00.000Z');
const origin = { correlationId: 'race', requestId: 'race' };
const CHESTER_ZOO = { latitude: 53.227, longitude: -2.8847 };

/** The same views, but the writer stops before its `pauseAt`-th listing write until released. */
class PausingViewStore implements ViewStore {
  private listingWrites = 0;
  private release!: () => void;
  readonly released = new Promise<void>((resolve) => (this.release = resolve));
  readonly paused: Promise<void>;
  private reachedPause!: () => void;

  constructor(
    private readonly inner: InMemoryViewStore,
    private readonly pauseAt: number,
  ) {
    this.paused = new Promise<void>((resolve) => (this.reachedPause = resolve));
  }

  read: ViewStore['read'] = (key) => this.inner.read(key);
  remove: ViewStore['remove'] = (key) => this.inner.remove(key);
  clear: ViewStore['clear'] = () => this.inner.clear();

  async write(document: ViewDocument, condition: WriteCondition): Promise<void> {
    if (document.type !== 'place' && ++this.listingWrites === this.pauseAt) {
      this.reachedPause();
      await this.released;
    }
    return this.inner.write(document, condition);
  }

  resume(): void {
    this.release();
  }
}

/** A place proposed, validated and approved: three events, ready for its withdrawal. */
async function approvedPlace(eventStore: InMemoryEventStore): Promise<{ deps: EditingDeps; placeId: string }> {
  let ids = 0;
  const deps: EditingDeps = {
    eventStore,
    clock,
    newId: () => `00000000-0000-4000-8000-${String(ids++).padStart(12, '0')}`,
    editorAccess: everyoneApproved,
  };
  const { placeId } = await proposePlace(deps, { name: 'Chester Zoo', geolocation: CHESTER_ZOO, details: {} }, functionKeyCaller, origin);
  await executePlaceCommand(
    deps,
    { type: 'RecordLocationValidated', data: { placeId, geolocation: CHESTER_ZOO, region: 'gcmyy' } },
    origin,
  );
  await executePlaceCommand(deps, { type: 'ApprovePlace', data: { placeId, now: clock().toISOString() } }, origin);
  return { deps, placeId };
}

describe('a rebuild racing the live projection', () => {
  // Pause the rebuild before each of its listing writes in turn (status, earlier statuses, nearby, newest).
  it.each([1, 2, 3, 4, 5])('never brings back a place withdrawn while it ran (rebuild paused before listing write %i)', async (pauseAt) => {
    const eventStore = new InMemoryEventStore();
    const views = new InMemoryViewStore();
    const live: ProjectionDeps = { views, eventStore, deadLetters: new InMemoryDeadLetterStore(), geohash: ngeohash.encode, clock };
    const { deps, placeId } = await approvedPlace(eventStore);
    await projectEvents(live, await eventStore.read(`place-${placeId}`));
    expect((await views.newest(10)).map((entry) => entry.placeId)).toEqual([placeId]);

    // The rebuild reads the approved place's three events, saves its view, and stops before a listing write.
    const pausing = new PausingViewStore(views, pauseAt);
    const rebuilding = rebuildViews({ ...live, views: pausing });
    await pausing.paused;

    // Meanwhile the place is withdrawn and the live projection applies it completely.
    await executePlaceCommand(
      deps,
      { type: 'WithdrawPlace', data: { ...adminActing(), placeId, reason: 'closed', now: clock().toISOString() } },
      origin,
    );
    const [withdrawn] = await eventStore.read(`place-${placeId}`, 4);
    await projectEvents(live, [withdrawn!]);

    pausing.resume();
    await rebuilding;

    const cell3 = ngeohash.encode(CHESTER_ZOO.latitude, CHESTER_ZOO.longitude, 3);
    const cell5 = ngeohash.encode(CHESTER_ZOO.latitude, CHESTER_ZOO.longitude, 5);
    expect(await views.nearbyInCells(`nearby-${cell3}`, 'cell5', [cell5])).toEqual([]);
    expect(await views.newest(10)).toEqual([]);
    expect((await views.withStatus('approved', 10)).map((entry) => entry.placeId)).toEqual([]);
    expect((await views.withStatus('withdrawn', 10)).map((entry) => entry.placeId)).toEqual([placeId]);
  });
});
