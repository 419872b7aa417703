import { everyoneApproved } from '../support/callers';
import { functionKeyCaller } from '../support/callers';
/**
 * The Event Grid subscribers (validate a place's location; activate its region) against the
 * in-memory event store: every delivery duplicated and the deliveries shuffled and run concurrently
 * give the same final state as one orderly delivery each, with no duplicate result events; and a
 * geocoder with 30 % 5xx, 10 % hangs and a 429 burst only delays valid places, through the devhost's
 * Event Grid retries.
 */
import { randomUUID } from 'node:crypto';
import { app, InvocationContext } from '@azure/functions';
import { activateRegionHandler } from '../../handlers/activateRegion.eventGrid';
import { validatePlaceLocationHandler } from '../../handlers/validatePlaceLocation.eventGrid';
import { registeredFunctions } from 'functions-devhost/functionsCore';
import { proposePlace } from '../../shared/places/application/placeCommands';
import { fold } from '../../shared/kernel/decider';
import type { RecordedEvent } from '../../shared/kernel/event';
import { readTyped } from '../../shared/platform/eventSourcing/eventStore';
import { InMemoryEventStore } from '../../shared/platform/eventSourcing/adapters/inMemoryEventStore';
import type { Geocoder } from '../../shared/places/application/geocoder';
import { HttpGeocoder } from '../../shared/places/adapters/httpGeocoder';
import { placeDecider } from '../../shared/places/domain/decide';
import { isPlaceEvent, toPlaceStreamId, type PlaceState } from '../../shared/places/domain/place';
import type { PlaceProposal } from '../../shared/places/domain/proposal';
import { toCloudEvent, type OutgoingCloudEvent } from '../../shared/platform/publishing/cloudEvents';
import { createEventGridPublisherClient, EventGridEventPublisher } from '../../shared/platform/publishing/adapters/eventGridPublisher';
import { InMemoryForecastRefreshQueue } from '../../shared/regions/application/forecastRefreshRequests';
import { regionOf } from '../../shared/regions/domain/geohash';
import { POSTCODES, seededRandom, startFakeOpenMeteoGeocoding, startFakePostcodesIo, UK_PLACES } from '../support/fakeGeocoders';
import { LOCAL_TOPIC_KEY, startLocalTopic } from '../support/localTopic';
import { TableGeocoder } from '../support/fakeGeocoders';

const context = () => new InvocationContext({ invocationId: randomUUID(), functionName: 'test', logHandler: () => undefined });

/** Proposals with every outcome: coordinates in and out of the area (several sharing a region), postcodes, names, unknowns. */
function proposals(): PlaceProposal[] {
  const byCoordinates = UK_PLACES.slice(0, 14).map((place): PlaceProposal => ({
    name: place.name,
    geolocation: { latitude: place.latitude, longitude: place.longitude },
    details: {},
  }));
  const byPostcode = POSTCODES.slice(0, 6).map((record): PlaceProposal => ({
    name: `At ${record.postcode}`,
    address: record.postcode,
    details: {},
  }));
  const byName = UK_PLACES.slice(20, 26).map((place): PlaceProposal => ({ name: `Named ${place.name}`, address: place.name, details: {} }));
  return [
    ...byCoordinates,
    ...byPostcode,
    ...byName,
    { name: 'Mont Saint-Michel', geolocation: { latitude: 48.636, longitude: -1.5115 }, details: {} },
    { name: 'Somewhere in Calais', address: 'Calais', details: {} },
    { name: 'Unknown postcode', address: 'CH2 9ZZ', details: {} },
  ];
}

interface World {
  readonly store: InMemoryEventStore;
  readonly queue: InMemoryForecastRefreshQueue;
  readonly geocoder: TableGeocoder;
  readonly validate: (event: unknown) => Promise<void>;
  readonly activate: (event: unknown) => Promise<void>;
  readonly placeIds: Map<string, string>;
}

async function world(): Promise<World> {
  const store = new InMemoryEventStore();
  const queue = new InMemoryForecastRefreshQueue();
  const geocoder = new TableGeocoder();
  const deps = {
    eventStore: store,
    clock: () => new Date(),
    newId: randomUUID,
    editorAccess: everyoneApproved,
    geocoder,
    regionPrecision: 5,
    forecastRefreshQueue: queue,
  };
  const placeIds = new Map<string, string>();
  for (const proposal of proposals()) {
    const { placeId } = await proposePlace(deps, proposal, functionKeyCaller, {
      correlationId: `corr-${proposal.name}`,
      requestId: randomUUID(),
    });
    placeIds.set(proposal.name, placeId);
  }
  return {
    store,
    queue,
    geocoder,
    placeIds,
    validate: (event) => validatePlaceLocationHandler(deps)(event, context()),
    activate: (event) => activateRegionHandler(deps)(event, context()),
  };
}

/** What the topic would carry for events appended after `from` (of the store's global log), as delivered (JSON). */
function published(store: InMemoryEventStore, from: number, type: string): OutgoingCloudEvent[] {
  return store
    .allEvents()
    .slice(from)
    .filter((event) => event.type === type)
    .map((event) => JSON.parse(JSON.stringify(toCloudEvent(event))) as OutgoingCloudEvent);
}

function shuffle<T>(items: readonly T[], random: () => number): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
  }
  return copy;
}

/** Delivers in random groups that run concurrently, as parallel Event Grid deliveries do. */
async function deliverConcurrently(
  events: readonly unknown[],
  handler: (event: unknown) => Promise<void>,
  random: () => number,
): Promise<void> {
  for (let i = 0; i < events.length;) {
    const size = 1 + Math.floor(random() * 6);
    await Promise.all(events.slice(i, i + size).map((event) => handler(event)));
    i += size;
  }
}

interface Outcome {
  readonly places: Record<string, { status: string; region?: string; reason?: string; events: string[] }>;
  readonly regions: Record<string, string[]>;
  readonly requestedRegions: string[];
}

async function outcomeOf(world: World): Promise<Outcome> {
  const places: Outcome['places'] = {};
  for (const [name, placeId] of world.placeIds) {
    const { events } = await readTyped(world.store, toPlaceStreamId(placeId), isPlaceEvent);
    const state: PlaceState = fold(placeDecider, events);
    places[name] = {
      status: state.status,
      ...(state.status === 'locationValidated' && { region: state.place.region }),
      ...(state.status === 'locationRejected' && { reason: state.reason }),
      events: events.map((event) => event.type),
    };
  }
  const regions: Outcome['regions'] = {};
  for (const event of world.store.allEvents().filter((candidate) => candidate.streamId.startsWith('region-'))) {
    regions[event.streamId] = [...(regions[event.streamId] ?? []), event.type];
  }
  return { places, regions, requestedRegions: [...new Set(world.queue.requests().map((request) => request.region))].sort() };
}

describe('the subscribers under duplicated, shuffled and concurrent delivery', () => {
  it('reach the same state as an orderly delivery, with no duplicate result events', async () => {
    // The reference: every event delivered once, in order, one at a time.
    const orderly = await world();
    for (const event of published(orderly.store, 0, 'PlaceProposed')) await orderly.validate(event);
    for (const event of published(orderly.store, 0, 'PlaceLocationValidated')) await orderly.activate(event);
    const expected = await outcomeOf(orderly);

    const random = seededRandom(20261127);
    const messy = await world();
    const proposed = published(messy.store, 0, 'PlaceProposed');
    // Each event two or three times, shuffled, concurrently.
    const copies = <T>(events: readonly T[]) =>
      events.flatMap((event) => Array.from({ length: 2 + Math.floor(random() * 2) }, () => event));
    await deliverConcurrently(shuffle(copies(proposed), random), messy.validate, random);
    const afterValidation = messy.store.allEvents().length;
    const validated = published(messy.store, 0, 'PlaceLocationValidated');
    // Region activations arrive duplicated, shuffled and concurrent, mixed with late redeliveries of proposals.
    const late = shuffle(
      [
        ...copies(validated).map((event) => ({ event, to: messy.activate })),
        ...proposed.slice(0, 10).map((event) => ({ event, to: messy.validate })),
      ],
      random,
    );
    await deliverConcurrently(
      late,
      (item) => (item as { event: unknown; to: (event: unknown) => Promise<void> }).to((item as { event: unknown }).event),
      random,
    );
    // ... and once more after everything settled.
    await deliverConcurrently(
      shuffle([...validated, ...proposed], random),
      async (event) => {
        const type = (event as OutgoingCloudEvent).type;
        await (type === 'VisitPlannr.PlaceProposed' ? messy.validate(event) : messy.activate(event));
      },
      random,
    );
    const outcome = await outcomeOf(messy);

    expect(outcome).toEqual(expected);
    // The proposals were decided, every decision once.
    for (const place of Object.values(outcome.places)) expect(place.events).toHaveLength(2);
    expect(Object.values(outcome.places).filter((place) => place.status === 'locationValidated').length).toBe(26);
    expect(
      Object.entries(outcome.places)
        .filter(([, place]) => place.status === 'locationRejected')
        .map(([name, place]) => [name, place.reason]),
    ).toEqual([
      ['Mont Saint-Michel', 'The location (48.636, -1.5115) is outside the service area (Great Britain and Ireland).'],
      ['Somewhere in Calais', 'The address "Calais" is outside the service area (Great Britain and Ireland): it was found at Calais, FR.'],
      ['Unknown postcode', 'The address "CH2 9ZZ" could not be located: no place matches "CH2 9ZZ".'],
    ]);
    // One activation per region of a validated place, and a refresh request for each.
    const regions = new Set(Object.values(outcome.places).flatMap((place) => (place.region ? [place.region] : [])));
    expect(regions.size).toBeLessThan(26);
    expect(Object.keys(outcome.regions).sort()).toEqual([...regions].map((region) => `region-${region}`).sort());
    for (const events of Object.values(outcome.regions)) expect(events).toEqual(['RegionActivated']);
    expect(outcome.requestedRegions).toEqual([...regions].sort());
    // Late redeliveries of proposals changed nothing and asked the geocoder nothing.
    expect(messy.store.allEvents().length - afterValidation).toBe(regions.size);
  });

  it('carry each cause’s correlation id into the events it leads to, with the cause as causation', async () => {
    const w = await world();
    for (const event of published(w.store, 0, 'PlaceProposed')) await w.validate(event);
    for (const event of published(w.store, 0, 'PlaceLocationValidated')) await w.activate(event);
    const byId = new Map<string, RecordedEvent>(w.store.allEvents().map((event) => [event.metadata.eventId, event]));
    for (const event of w.store.allEvents().filter((candidate) => candidate.type !== 'PlaceProposed')) {
      const cause = byId.get(event.metadata.causationId);
      expect(cause?.type).toBe(event.type === 'RegionActivated' ? 'PlaceLocationValidated' : 'PlaceProposed');
      expect(event.metadata.correlationId).toBe(cause?.metadata.correlationId);
    }
    for (const request of w.queue.requests()) expect(request.correlationId).toMatch(/^corr-/);
  });

  it('send the refresh request again when the activating delivery failed after appending, and only then', async () => {
    const w = await world();
    for (const event of published(w.store, 0, 'PlaceProposed')) await w.validate(event);
    const regionOfEvent = (event: OutgoingCloudEvent) => (event.data as { data: { region: string } }).data.region;
    const validated = published(w.store, 0, 'PlaceLocationValidated');
    const shared = validated.find((event) => validated.filter((other) => regionOfEvent(other) === regionOfEvent(event)).length > 1);
    const [first, second] = validated.filter((event) => shared !== undefined && regionOfEvent(event) === regionOfEvent(shared));
    if (!first || !second) throw new Error('expected two places in one region');
    // The queue is down: the activation is appended, the request is not sent, the delivery fails.
    const send = w.queue.send.bind(w.queue);
    w.queue.send = () => Promise.reject(new Error('queue unavailable'));
    await expect(w.activate(first)).rejects.toThrow('queue unavailable');
    w.queue.send = send;
    // Another place of the region does not send; the activator's redelivery does.
    await w.activate(second);
    expect(w.queue.messages).toHaveLength(0);
    await w.activate(first);
    expect(w.queue.requests()).toEqual([
      expect.objectContaining({ region: regionOfEvent(first), reason: 'regionActivated', correlationId: first.correlationid }),
    ]);
    // The activation was appended once, by the first delivery.
    expect(w.store.allEvents().filter((event) => event.type === 'RegionActivated')).toHaveLength(1);
  });
});

describe('the location validator with a faulty geocoder, through the devhost’s Event Grid', () => {
  const deps = {
    eventStore: new InMemoryEventStore(),
    clock: () => new Date(),
    newId: randomUUID,
    editorAccess: everyoneApproved,
    regionPrecision: 5,
    geocoder: undefined as unknown as Geocoder,
  };
  app.eventGrid<unknown>('validateWithFaultyGeocoder', {
    handler: (event, invocation) => validatePlaceLocationHandler(deps)(event, invocation),
  });

  it('never rejects a valid place because of 30 % 5xx, 10 % hangs and a 429 burst: it only delays it', async () => {
    const postcodes = await startFakePostcodesIo({ errorRate: 0.3, hangRate: 0.1, latencyMs: [0, 20] }, 11);
    const names = await startFakeOpenMeteoGeocoding({ errorRate: 0.3, hangRate: 0.1, latencyMs: [0, 20] }, 12);
    postcodes.burst429(6, 1);
    names.burst429(6, 1);
    deps.geocoder = new HttpGeocoder({
      postcodesBaseUrl: postcodes.url,
      placeNamesBaseUrl: names.url,
      retry: { maxAttempts: 3, attemptTimeoutMs: 300, baseDelayMs: 20, maxDelayMs: 100, retryAfterCapMs: 1500, deadlineMs: 2500 },
    });
    const registration = registeredFunctions().find((candidate) => candidate.metadata.name === 'validateWithFaultyGeocoder');
    if (!registration) throw new Error('not registered');
    const topic = await startLocalTopic([registration], { maxDeliveryAttempts: 30, baseDelayMs: 50, maxDelayMs: 400 }, 10_000);
    try {
      const valid: PlaceProposal[] = [
        ...POSTCODES.map((record): PlaceProposal => ({
          name: `At ${record.postcode}`,
          address: record.postcode.toLowerCase().replace(' ', ''),
          details: {},
        })),
        ...UK_PLACES.slice(0, 14).map((place): PlaceProposal => ({ name: place.name, address: `${place.name}, somewhere`, details: {} })),
      ];
      const invalid: PlaceProposal[] = [
        { name: 'No such postcode', address: 'CH2 9ZZ', details: {} },
        { name: 'Across the Channel', address: 'Calais', details: {} },
      ];
      const ids = new Map<string, string>();
      for (const proposal of [...valid, ...invalid])
        ids.set(
          proposal.name,
          (await proposePlace(deps, proposal, functionKeyCaller, { correlationId: randomUUID(), requestId: randomUUID() })).placeId,
        );

      const publisher = new EventGridEventPublisher(
        createEventGridPublisherClient({ topicEndpoint: topic.topicEndpoint, topicKey: LOCAL_TOPIC_KEY }),
      );
      await publisher.publish(deps.eventStore.allEvents().map((event) => toCloudEvent(event)));
      await topic.eventGrid.idle();

      const statuses = new Map<string, PlaceState>();
      for (const [name, placeId] of ids)
        statuses.set(name, fold(placeDecider, (await readTyped(deps.eventStore, toPlaceStreamId(placeId), isPlaceEvent)).events));
      for (const proposal of valid) {
        const state = statuses.get(proposal.name);
        expect({ name: proposal.name, status: state?.status }).toEqual({ name: proposal.name, status: 'locationValidated' });
      }
      const postcodeState = statuses.get('At CH2 1LH');
      expect(postcodeState?.status === 'locationValidated' && postcodeState.place.region).toBe(
        regionOf({ latitude: 53.2268, longitude: -2.8845 }, 5),
      );
      expect(statuses.get('No such postcode')).toMatchObject({
        status: 'locationRejected',
        reason: expect.stringContaining('there is no postcode CH2 9ZZ'),
      });
      expect(statuses.get('Across the Channel')).toMatchObject({
        status: 'locationRejected',
        reason: expect.stringContaining('outside the service area'),
      });

      // The faults happened, and were absorbed by the geocoder's retries and Event Grid's redeliveries.
      expect(postcodes.stats.tooManyRequests + names.stats.tooManyRequests).toBe(12);
      expect(postcodes.stats.errors + names.stats.errors).toBeGreaterThan(5);
      expect(postcodes.stats.hangs + names.stats.hangs).toBeGreaterThan(1);
      const stats = topic.eventGrid.stats();
      expect(stats).toMatchObject({ pending: 0, deadLettered: 0, delivered: valid.length + invalid.length });
      expect(stats.failedAttempts).toBeGreaterThan(0);
      // Nothing was decided twice.
      expect(deps.eventStore.allEvents().filter((event) => event.type !== 'PlaceProposed')).toHaveLength(valid.length + invalid.length);
    } finally {
      await topic.stop();
      await postcodes.close();
      await names.close();
    }
  }, 120_000);
});
