import { everyoneApproved, functionKeyCaller } from '../../support/callers';
import { InMemoryEventStore } from '../../../shared/platform/eventSourcing/adapters/inMemoryEventStore';
import { executePlaceCommand, proposePlace, type EditingDeps } from '../../../shared/places/application/placeCommands';
import { toPlaceStreamId } from '../../../shared/places/domain/place';

/** A clock that moves on a second every time it is read, so a second reading shows. */
function tickingClock(start: string): () => Date {
  let at = Date.parse(start);
  return () => new Date((at += 1000) - 1000);
}

/** An in-memory command side whose clock starts at 10:00 and ticks on every reading. */
function commandSide(): { eventStore: InMemoryEventStore; deps: EditingDeps } {
  const eventStore = new InMemoryEventStore();
  let ids = 0;
  const newId = () => `00000000-0000-4000-8000-${String(ids++).padStart(12, '0')}`;
  return { eventStore, deps: { eventStore, clock: tickingClock('2026-12-06T10:00:00.000Z'), newId, editorAccess: everyoneApproved } };
}

describe('place commands read the clock once', () => {
  const origin = { correlationId: 'corr-1', requestId: 'req-1' };

  it('a proposal is recorded as happening when it was decided', async () => {
    const { eventStore, deps } = commandSide();
    const { placeId } = await proposePlace(
      deps,
      { name: 'Chester Zoo', geolocation: { latitude: 53.227, longitude: -2.8847 }, details: {} },
      functionKeyCaller,
      origin,
    );
    const [proposed] = await eventStore.read(toPlaceStreamId(placeId));
    expect((proposed?.data as { proposedAt: string }).proposedAt).toBe('2026-12-06T10:00:00.000Z');
    expect(proposed?.metadata.occurredAt).toBe('2026-12-06T10:00:00.000Z');
  });

  it('a command that carries its time records its events at that time', async () => {
    const { eventStore, deps } = commandSide();
    const { placeId } = await proposePlace(
      deps,
      { name: 'Heaton Park', geolocation: { latitude: 53.5349, longitude: -2.2562 }, details: {} },
      functionKeyCaller,
      origin,
    );
    await executePlaceCommand(
      deps,
      { type: 'RecordLocationValidated', data: { placeId, geolocation: { latitude: 53.5349, longitude: -2.2562 }, region: 'gcw2n' } },
      origin,
    );
    await executePlaceCommand(deps, { type: 'ApprovePlace', data: { placeId, now: '2026-12-06T12:00:00.000Z' } }, origin);
    const events = await eventStore.read(toPlaceStreamId(placeId));
    expect(events.at(-1)?.type).toBe('PlaceApproved');
    expect(events.at(-1)?.metadata.occurredAt).toBe('2026-12-06T12:00:00.000Z');
  });
});
