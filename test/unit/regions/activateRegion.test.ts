import type { RecordedEvent } from '../../../shared/kernel/event';
import { InMemoryEventStore } from '../../../shared/platform/eventSourcing/adapters/inMemoryEventStore';
import { activateRegion } from '../../../shared/regions/application/activateRegion';
import { InMemoryForecastRefreshQueue } from '../../../shared/regions/application/forecastRefreshRequests';
import { toRegionStreamId } from '../../../shared/regions/domain/region';

/** An event store that counts the events it hands out. */
class CountingEventStore extends InMemoryEventStore {
  eventsRead = 0;
  override async read(streamId: string, fromVersion?: number, maxCount?: number): Promise<RecordedEvent[]> {
    const events = await super.read(streamId, fromVersion, maxCount);
    this.eventsRead += events.length;
    return events;
  }
}

describe('activating a region', () => {
  it('reads one event per validated place, however many forecasts the region stream holds', async () => {
    const eventStore = new CountingEventStore();
    const forecastRefreshQueue = new InMemoryForecastRefreshQueue();
    const deps = { eventStore, forecastRefreshQueue, clock: () => new Date('2026-12-06T10:00:00.000Z') };
    await activateRegion(deps, 'gcw2h', { eventId: 'place-1-validated', correlationId: 'c-1' });
    const streamId = toRegionStreamId('gcw2h');
    const metadata = (n: number) => ({
      eventId: `forecast-${n}`,
      correlationId: 'cycle',
      causationId: 'cycle',
      occurredAt: '2026-12-06T10:00:00.000Z',
    });
    for (let n = 1; n <= 100; n++) {
      await eventStore.append(
        streamId,
        [{ type: 'ForecastFetchFailed', data: { region: 'gcw2h', cycleId: `c${n}`, reason: 'x' }, metadata: metadata(n) }],
        n,
      );
    }

    eventStore.eventsRead = 0;
    const outcome = await activateRegion(deps, 'gcw2h', { eventId: 'place-2-validated', correlationId: 'c-2' });
    expect(outcome).toEqual({ activatedByThisEvent: false, refreshRequested: false });
    expect(eventStore.eventsRead).toBe(1);

    // A redelivery of the activating place's event still finds itself the activator.
    expect(await activateRegion(deps, 'gcw2h', { eventId: 'place-1-validated', correlationId: 'c-1' })).toEqual({
      activatedByThisEvent: true,
      refreshRequested: true,
    });
  });
});
