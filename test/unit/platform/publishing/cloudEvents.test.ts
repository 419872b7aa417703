import type { RecordedEvent } from '../../../../shared/kernel/event';
import { InMemoryEventStore } from '../../../../shared/platform/eventSourcing/adapters/inMemoryEventStore';
import { cloudEventBytes, EVENT_GRID_MAX_EVENT_BYTES, sourceOf, toCloudEvent } from '../../../../shared/platform/publishing/cloudEvents';
import { MalformedDeliveryError, parseDeliveredEvent, readDeliveredEvent } from '../../../../shared/platform/publishing/deliveredEvent';
import { InMemoryEventPublisher } from '../../../../shared/platform/publishing/adapters/inMemoryEventPublisher';
import { publishChanges } from '../../../../shared/platform/publishing/publishChanges';
import { readChangeFeedBatch } from '../../../../shared/platform/eventSourcing/adapters/cosmosEventStore';

const metadata = {
  eventId: '6b1f2c1e-0000-4000-8000-000000000001',
  correlationId: 'corr-1',
  causationId: 'request-1',
  occurredAt: '2026-11-27T09:00:00.123Z',
};
const proposed: RecordedEvent = {
  streamId: 'place-3f2a9c4e-1b7d-4e59-a0c1-2d3e4f5a6b7c',
  version: 1,
  type: 'PlaceProposed',
  data: {
    placeId: '3f2a9c4e-1b7d-4e59-a0c1-2d3e4f5a6b7c',
    name: 'Chester Zoo',
    geolocation: { latitude: 53.227, longitude: -2.8847 },
    details: {},
    proposedAt: '2026-11-27T09:00:00.123Z',
  },
  metadata,
};

describe('events on the topic: CloudEvents 1.0', () => {
  it('carry the event id, a VisitPlannr type, the aggregate as source, the stream as subject and the time it happened', () => {
    expect(toCloudEvent(proposed)).toEqual({
      specversion: '1.0',
      id: metadata.eventId,
      type: 'VisitPlannr.PlaceProposed',
      source: '/places/3f2a9c4e-1b7d-4e59-a0c1-2d3e4f5a6b7c',
      subject: proposed.streamId,
      time: metadata.occurredAt,
      datacontenttype: 'application/json',
      correlationid: 'corr-1',
      data: { streamId: proposed.streamId, version: 1, data: proposed.data, metadata },
    });
    expect(sourceOf('region-gcmyy')).toBe('/regions/gcmyy');
    expect(sourceOf('cycle-1')).toBe('/streams/cycle-1');
  });

  it('reference an event too large to travel, and never come near Event Grid’s 1 MB', () => {
    const hourly = Array.from({ length: 20_000 }, (_, hour) => ({ time: `hour ${hour}`, temperatureC: 12.5, weather: 'rain' }));
    const forecast: RecordedEvent = {
      streamId: 'region-gcmyy',
      version: 7,
      type: 'ForecastUpdated',
      data: { region: 'gcmyy', hourly },
      metadata,
    };
    expect(Buffer.byteLength(JSON.stringify(forecast))).toBeGreaterThan(EVENT_GRID_MAX_EVENT_BYTES);
    const published = toCloudEvent(forecast);
    expect(published.data).toEqual({ streamId: 'region-gcmyy', version: 7, metadata, ref: true });
    expect(cloudEventBytes(published)).toBeLessThan(1024);
    // Just under and just over a chosen limit.
    const limit = cloudEventBytes(toCloudEvent(proposed));
    expect(toCloudEvent(proposed, limit).data).toHaveProperty('data');
    expect(toCloudEvent(proposed, limit - 1).data).toHaveProperty('ref', true);
    expect(() => toCloudEvent(proposed, EVENT_GRID_MAX_EVENT_BYTES + 1)).toThrow(RangeError);
  });

  it('are read back by subscribers, inline or by reference from the event store', async () => {
    const store = new InMemoryEventStore();
    await store.append(proposed.streamId, [proposed], 0);
    const inline = parseDeliveredEvent(JSON.parse(JSON.stringify(toCloudEvent(proposed))));
    expect(inline).toEqual({
      id: metadata.eventId,
      eventType: 'PlaceProposed',
      streamId: proposed.streamId,
      version: 1,
      metadata,
      payload: { kind: 'inline', data: proposed.data },
    });
    const referenced = parseDeliveredEvent(toCloudEvent(proposed, 10));
    expect(referenced.payload).toEqual({ kind: 'reference' });
    await expect(readDeliveredEvent(store, referenced)).resolves.toMatchObject({ type: 'PlaceProposed', data: proposed.data, metadata });
    await expect(readDeliveredEvent(store, inline)).resolves.toMatchObject({ type: 'PlaceProposed', data: proposed.data });
    await expect(readDeliveredEvent(new InMemoryEventStore(), referenced)).rejects.toThrow(/not in the event store/);
  });

  it('are read from an Event Grid schema delivery too', () => {
    const cloud = toCloudEvent(proposed);
    const delivered = parseDeliveredEvent({
      id: cloud.id,
      topic: '/t',
      subject: cloud.subject,
      eventType: cloud.type,
      eventTime: cloud.time,
      data: cloud.data,
      dataVersion: '',
      metadataVersion: '1',
    });
    expect(delivered).toMatchObject({ eventType: 'PlaceProposed', streamId: proposed.streamId, payload: { kind: 'inline' } });
  });

  it('refuse deliveries that are not Visit Plannr events', () => {
    const cloud = toCloudEvent(proposed);
    expect(() => parseDeliveredEvent({ hello: 'world' })).toThrow(MalformedDeliveryError);
    expect(() => parseDeliveredEvent({ ...cloud, type: 'Other.PlaceProposed' })).toThrow(/not a VisitPlannr/);
    expect(() => parseDeliveredEvent({ ...cloud, id: 'another id' })).toThrow(/carries the metadata of event/);
    const { data: _data, ...withoutData } = cloud.data as { data: unknown };
    expect(() => parseDeliveredEvent({ ...cloud, data: withoutData })).toThrow(/neither data nor a reference/);
  });
});

describe('publishing a change-feed batch', () => {
  it('publishes each stream in version order, sets apart documents that are not events, and publishes nothing on an empty batch', async () => {
    const publisher = new InMemoryEventPublisher();
    const doc = (streamId: string, version: number) => ({
      id: `${streamId}:${version}`,
      streamId,
      version,
      type: 'PlaceDetailsUpdated',
      data: {},
      metadata: { ...metadata, eventId: `${streamId}/${version}` },
      _lsn: 4,
      _etag: '"x"',
    });
    const { events, notEvents } = readChangeFeedBatch([
      doc('place-a', 2),
      doc('place-b', 1),
      doc('place-a', 1),
      { id: 'lease-ish' },
      doc('place-a', 3),
      doc('place-a', 2),
    ]);
    expect(notEvents.map((notEvent) => notEvent.id)).toEqual(['lease-ish']);
    expect(notEvents[0]?.reason).not.toContain('\n');
    const result = await publishChanges(publisher, events);
    expect(result).toEqual({ published: 4 });
    expect(publisher.published.map((event) => `${event.subject}@${(event.data as { version: number }).version}`)).toEqual([
      'place-a@1',
      'place-a@2',
      'place-a@3',
      'place-b@1',
    ]);

    await expect(publishChanges(publisher, [])).resolves.toEqual({ published: 0 });
    publisher.failing = new Error('topic down');
    await expect(publishChanges(publisher, readChangeFeedBatch([doc('place-c', 1)]).events)).rejects.toThrow('topic down');
  });
});
