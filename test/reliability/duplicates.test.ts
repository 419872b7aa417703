import { adminActing, everyoneApproved, functionKeyCaller } from '../support/callers';
/**
 * At-least-once delivery, twice over: every change-feed batch, every Event Grid event and every queue
 * message delivered twice gives the same final state as delivering each once.
 *
 * Application level: the real function handlers (projectEvents, publishEvents, validatePlaceLocation,
 * activateRegion, fetchRegionForecastNow) over in-memory adapters, on a scenario of 50 places proposed
 * through the command side (by coordinates in and out of the area, by postcode, by place name,
 * unknowns; several sharing a region), then moderated (approved, rejected, changed, withdrawn), plus
 * poison: a malformed event, an event of a stream nobody projects, a change-feed document that is not
 * an event, a delivery that is not a Visit Plannr event, a queue message that is not a request. The
 * flow runs in rounds, as the triggers would: each round delivers the change feed since each lease's
 * checkpoint (in batches), the events the topic took, the queue's new messages. Once: in order, each
 * delivery once. Twice: every delivery twice, the copies shuffled, interleaved, run concurrently where
 * the trigger allows it (Event Grid and queue deliveries; each change-feed lease is one worker), and
 * the second copy often rounds later, after everything it caused has happened (a late redelivery).
 * Failed deliveries are retried as the triggers do (change feed until it succeeds, Event Grid 30
 * times, the queue 5 times, then dead letter / poison). Compared: every event stream, every view
 * document, the dead letters, the published events (by id), the refresh requests, what was given up on.
 * The consumers' clock is the round's time in both runs, so timestamps compare exactly.
 *
 * Devhost: once a few places have been validated, their regions activated and forecasts fetched,
 * every event of the subscriptions' types is delivered again, twice and concurrently, through the
 * host's Event Grid webhook (/runtime/webhooks/eventgrid, as Event Grid redelivers): nothing changes.
 */
import { InvocationContext } from '@azure/functions';
import ngeohash from 'ngeohash';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { v5 as uuidV5 } from 'uuid';
import { activateRegionHandler } from '../../handlers/activateRegion.eventGrid';
import { fetchRegionForecastNowHandler } from '../../handlers/fetchRegionForecastNow.queue';
import { projectEventsHandler } from '../../handlers/projectEvents.cosmos';
import { publishEventsHandler } from '../../handlers/publishEvents.cosmos';
import { validatePlaceLocationHandler } from '../../handlers/validatePlaceLocation.eventGrid';
import { executePlaceCommand, proposePlace, type EditingDeps } from '../../shared/places/application/placeCommands';
import { toEventDocumentId } from '../../shared/platform/eventSourcing/adapters/cosmosEventStore';
import { fold } from '../../shared/kernel/decider';
import type { RecordedEvent } from '../../shared/kernel/event';
import { readTyped } from '../../shared/platform/eventSourcing/eventStore';
import { InMemoryEventStore } from '../../shared/platform/eventSourcing/adapters/inMemoryEventStore';
import { placeDecider, type PlaceCommand } from '../../shared/places/domain/decide';
import { isPlaceEvent, toPlaceStreamId } from '../../shared/places/domain/place';
import type { PlaceProposal } from '../../shared/places/domain/proposal';
import { toCloudEvent, type OutgoingCloudEvent } from '../../shared/platform/publishing/cloudEvents';
import { InMemoryEventPublisher } from '../../shared/platform/publishing/adapters/inMemoryEventPublisher';
import { InMemoryForecastRefreshQueue } from '../../shared/regions/application/forecastRefreshRequests';
import { InMemoryDeadLetterStore } from '../../shared/platform/views/deadLetters';
import { InMemoryViewStore } from '../../shared/platform/views/adapters/inMemoryViewStore';
import type { ForecastLocation, LocationForecast, WeatherProvider } from '../../shared/regions/application/weatherProvider';
import { startDevhostProcess, type DevhostProcess } from '../support/devhostProcess';
import { POSTCODES, UK_PLACES } from '../support/fakeGeocoders';
import { hourly, seededRandom } from '../support/placeScenario';
import { EVENT_COUNT_PROBE, eventCount, loadFunctionRegistrations, root, triggerTypes } from './support/endpoints';
import { batches, shuffle } from '../support/delivery';
import { TableGeocoder } from '../support/fakeGeocoders';

/** Subscriptions as the devhost's topic routes them (and infra creates them): function → event types. */
const SUBSCRIPTIONS = (
  JSON.parse(readFileSync(join(root, 'devhost.eventgrid.json'), 'utf8')) as {
    subscriptions: Record<string, { includedEventTypes?: string[] }>;
  }
).subscriptions;
const triggers = triggerTypes(loadFunctionRegistrations());

const ID_NAMESPACE = '6f1d3c2b-8a4e-4b7f-9c1d-2e3f4a5b6c7d';
const HOUR = 3_600_000;
const CONSUMER_EPOCH = [Date.parse('2030-01-01T00:00:00Z'), Date.parse('2030-02-01T00:00:00Z')] as const;
/** Placeholders the flow injects: poison of every kind a consumer can meet. */
const POISON_PLACE = 'place-00000000-0000-4000-8000-00000000dead';
const JUNK_DOCUMENT = {
  id: 'not-an-event',
  streamId: 'place-junk',
  note: 'a document in the events container that is not an event',
  _ts: 1,
};
const FOREIGN_DELIVERY = { specversion: '1.0', id: 'foreign-1', type: 'Contoso.Something', source: '/x', data: 42 };
const MALFORMED_MESSAGE = JSON.stringify({ region: '!!', reason: 'regionActivated' });

const context = (functionName: string) =>
  new InvocationContext({ invocationId: uuidV5(functionName, ID_NAMESPACE), functionName, logHandler: () => undefined });

/** The same forecast for a region on every call; one region in five always fails (a ForecastFetchFailed). */
class ScriptedWeather implements WeatherProvider {
  readonly name = 'scripted';
  readonly maxLocationsPerRequest = 50;
  calls = 0;
  fetchForecasts(locations: readonly ForecastLocation[]): Promise<LocationForecast[]> {
    this.calls += locations.length;
    return Promise.resolve(
      locations.map(({ region }): LocationForecast =>
        Array.from({ length: region.length }, (_, i) => region.charCodeAt(i)).reduce((sum, code) => sum + code, 0) % 5 === 0
          ? { region, ok: false, reason: 'HTTP 503 (4 attempts)' }
          : {
              region,
              ok: true,
              source: 'scripted',
              issuedAt: '2029-12-31T18:00:00.000Z',
              hourly: hourly('2029-12-31T18:00:00Z', 48, region.charCodeAt(4) % 100),
            },
      ),
    );
  }
}

/** 50 proposals with every outcome. */
function proposals(seed: number): PlaceProposal[] {
  const random = seededRandom(seed);
  const scattered = Array.from({ length: 16 }, (_, i): PlaceProposal => ({
    name: `Scattered ${i}`,
    geolocation: { latitude: 50.2 + random() * 7.5, longitude: -5 + random() * 6.5 },
    details: { kind: (['indoor', 'outdoor', 'mixed'] as const)[i % 3] },
  }));
  // Six places in one region (about 5 × 5 km round Chester Zoo), so most of them find it active already.
  const clustered = Array.from({ length: 6 }, (_, i): PlaceProposal => ({
    name: `Near Chester ${i}`,
    geolocation: { latitude: 53.2268 + (i - 3) * 0.002, longitude: -2.8846 + (i % 2) * 0.003 },
    details: {},
  }));
  const famous = UK_PLACES.slice(0, 10).map((place): PlaceProposal => ({
    name: place.name,
    geolocation: { latitude: place.latitude, longitude: place.longitude },
    details: { price: { free: true } },
  }));
  const byPostcode = POSTCODES.slice(0, 6).map((record): PlaceProposal => ({
    name: `At ${record.postcode}`,
    address: record.postcode,
    details: {},
  }));
  const byName = UK_PLACES.slice(20, 26).map((place): PlaceProposal => ({ name: `Named ${place.name}`, address: place.name, details: {} }));
  const abroad: PlaceProposal[] = [
    { name: 'Mont Saint-Michel', geolocation: { latitude: 48.636, longitude: -1.5115 }, details: {} },
    { name: 'Bergen aquarium', geolocation: { latitude: 60.399, longitude: 5.305 }, details: {} },
    { name: 'Somewhere in Calais', address: 'Calais', details: {} },
    { name: 'Unknown postcode', address: 'CH2 9ZZ', details: {} },
    { name: 'Nowhere', address: 'Nowhere at all', details: {} },
    { name: 'Mid-Atlantic', geolocation: { latitude: 45, longitude: -30 }, details: {} },
  ];
  return [...scattered, ...clustered, ...famous, ...byPostcode, ...byName, ...abroad];
}

type Lane = 'projections' | 'publish' | 'subscribers';

interface Delivery {
  /** The consumer and what it got (a batch's first document, an event id, a message): a copy has the same key. */
  readonly key: string;
  readonly lane: Lane;
  readonly maxAttempts: number;
  readonly run: () => Promise<void>;
  attempts: number;
}

/** The whole asynchronous side of the app in memory, run round by round. */
class Flow {
  readonly store = new InMemoryEventStore();
  readonly views = new InMemoryViewStore();
  readonly deadLetters = new InMemoryDeadLetterStore();
  readonly publisher = new InMemoryEventPublisher();
  readonly queue = new InMemoryForecastRefreshQueue();
  readonly weather = new ScriptedWeather();
  readonly geocoder = new TableGeocoder();
  /** Deliveries given up on: Event Grid's dead letters, the poison queue. */
  readonly givenUp = new Set<string>();
  readonly stats = { deliveries: 0, failedAttempts: 0, rounds: 0 };
  readonly placeIds: string[] = [];

  private readonly random: () => number;
  private phase = 0;
  private round = 0;
  private ids = 0;
  private commandTime = Date.parse('2026-11-01T09:00:00Z');
  private readonly cursors = { projections: 0, publish: 0, published: 0, queue: 0 };
  private pending: { due: number; delivery: Delivery }[] = [];
  private poisonQueued = false;

  constructor(
    readonly twice: boolean,
    seed: number,
  ) {
    this.random = seededRandom(seed);
  }

  /** The consumers' clock: the round's time. */
  readonly clock = () => new Date((CONSUMER_EPOCH[this.phase] ?? 0) + this.round * HOUR);

  private readonly commandDeps: EditingDeps = {
    editorAccess: everyoneApproved,
    eventStore: this.store,
    clock: () => new Date((this.commandTime += 60_000)),
    newId: () => uuidV5(`id-${this.ids++}`, ID_NAMESPACE),
  };

  private readonly handlers = {
    projectEvents: projectEventsHandler({
      views: this.views,
      eventStore: this.store,
      deadLetters: this.deadLetters,
      geohash: (lat, lon, precision) => ngeohash.encode(lat, lon, precision),
      clock: this.clock,
    }),
    publishEvents: publishEventsHandler({ eventPublisher: this.publisher }),
    validatePlaceLocation: validatePlaceLocationHandler({
      ...this.commandDeps,
      clock: this.clock,
      geocoder: this.geocoder,
      regionPrecision: 5,
    }),
    activateRegion: activateRegionHandler({ eventStore: this.store, clock: this.clock, forecastRefreshQueue: this.queue }),
    fetchRegionForecastNow: fetchRegionForecastNowHandler(() => ({
      eventStore: this.store,
      views: this.views,
      weather: this.weather,
      clock: this.clock,
      forecast: { refreshMinutes: 60, dailyCallBudget: 5000, parallelism: 4 },
    })),
  };

  /** Which handler serves each Event Grid subscription. */
  private readonly subscribers: Record<string, (event: unknown, context: InvocationContext) => Promise<void>> = {
    validatePlaceLocation: this.handlers.validatePlaceLocation,
    activateRegion: this.handlers.activateRegion,
  };

  async propose(all: readonly PlaceProposal[]): Promise<void> {
    for (const [i, proposal] of all.entries()) {
      const { placeId } = await proposePlace(
        this.commandDeps,
        proposal,
        functionKeyCaller,
        { correlationId: `proposal-${i}`, requestId: `proposal-${i}` },
        `duplicates-${i}`,
      );
      this.placeIds.push(placeId);
    }
    // Poison in the event store: a PlaceProposed that breaks its schema, and a stream no projection knows.
    const meta = (n: number) => ({
      eventId: uuidV5(`poison-${n}`, ID_NAMESPACE),
      correlationId: 'poison',
      causationId: 'poison',
      occurredAt: '2026-11-01T08:00:00.000Z',
    });
    await this.store.append(POISON_PLACE, [{ type: 'PlaceProposed', data: { name: 42 }, metadata: meta(1) }], 0);
    await this.store.append('mystery-1', [{ type: 'Whatever', data: {}, metadata: meta(2) }], 0);
  }

  /** Admins at work once the locations are settled: approve, reject, change, withdraw. */
  async moderate(): Promise<void> {
    for (const [i, placeId] of this.placeIds.entries()) {
      const { events } = await readTyped(this.store, toPlaceStreamId(placeId), isPlaceEvent);
      if (fold(placeDecider, events).status !== 'locationValidated') continue;
      const act = async (command: Exclude<PlaceCommand, { type: 'ProposePlace' }>) => {
        await executePlaceCommand(this.commandDeps, command, {
          correlationId: `moderation-${i}`,
          requestId: `moderation-${i}`,
          commandId: `moderation-${i}-${command.type}`,
        });
      };
      const now = () => this.commandDeps.clock().toISOString();
      if (i % 5 === 1) {
        await act({ type: 'RejectPlace', data: { placeId, reason: 'Not for children', now: now() } });
        continue;
      }
      if (i % 5 === 4) continue;
      await act({ type: 'ApprovePlace', data: { placeId, now: now() } });
      if (i % 5 === 2)
        await act({
          type: 'UpdatePlaceDetails',
          data: { ...adminActing(), placeId, changes: { description: `Updated ${i}`, kind: 'mixed' } },
        });
      if (i % 5 === 3) await act({ type: 'WithdrawPlace', data: { ...adminActing(), placeId, reason: 'Closed', now: now() } });
    }
  }

  /** Runs rounds until nothing is left to deliver. */
  async settle(): Promise<void> {
    this.round = 0;
    for (;;) {
      if (this.round > 200) throw new Error('The flow does not settle: a delivery keeps making more work.');
      const fresh = this.collect();
      for (const delivery of fresh) {
        this.schedule(delivery, this.round);
        // The second copy: at once, or some rounds later, after what the first caused.
        if (this.twice) this.schedule({ ...delivery, attempts: 0 }, this.round + Math.floor(this.random() * 4));
      }
      const due = this.pending.filter((entry) => entry.due <= this.round).map((entry) => entry.delivery);
      this.pending = this.pending.filter((entry) => entry.due > this.round);
      if (due.length === 0 && this.pending.length === 0) break;
      await this.deliver(this.twice ? shuffle(due, this.random) : due);
      this.round += 1;
      this.stats.rounds += 1;
    }
    this.phase += 1;
  }

  private schedule(delivery: Delivery, due: number): void {
    this.pending.push({ due, delivery });
  }

  /** Runs a round: each change-feed lease is one worker (its batches one after another); subscribers run concurrently when twice. */
  private async deliver(deliveries: readonly Delivery[]): Promise<void> {
    const lane = (name: Lane) => deliveries.filter((delivery) => delivery.lane === name);
    const sequential = async (items: readonly Delivery[]) => {
      for (const item of items) await this.attempt(item);
    };
    const concurrent = async (items: readonly Delivery[]) => {
      for (let i = 0; i < items.length;) {
        const size = this.twice ? 1 + Math.floor(this.random() * 4) : 1;
        await Promise.all(items.slice(i, i + size).map((item) => this.attempt(item)));
        i += size;
      }
    };
    await Promise.all([sequential(lane('projections')), sequential(lane('publish')), concurrent(lane('subscribers'))]);
  }

  private async attempt(delivery: Delivery): Promise<void> {
    this.stats.deliveries += 1;
    delivery.attempts += 1;
    try {
      await delivery.run();
    } catch {
      this.stats.failedAttempts += 1;
      if (delivery.attempts >= delivery.maxAttempts) this.givenUp.add(delivery.key);
      else this.schedule(delivery, this.round + 1);
    }
  }

  /** What the triggers would deliver now: the change feed past each checkpoint, the topic's new events, the queue's new messages. */
  private collect(): Delivery[] {
    const deliveries: Delivery[] = [];
    const events = this.store.allEvents();
    for (const lease of ['projections', 'publish'] as const) {
      const documents: unknown[] = events.slice(this.cursors[lease]).map(toDocument);
      // A document in the events container that is not an event, in the first batch of each lease.
      if (this.cursors[lease] === 0) documents.unshift(JUNK_DOCUMENT);
      this.cursors[lease] = events.length;
      for (const batch of batches(documents, this.random)) {
        const handler = lease === 'projections' ? this.handlers.projectEvents : this.handlers.publishEvents;
        // The change feed retries a failed batch until it succeeds (an unlimited retry policy).
        deliveries.push({
          key: `${lease}:${documentKey(batch[0])}+${batch.length}`,
          lane: lease,
          maxAttempts: 20,
          attempts: 0,
          run: () => handler(clone(batch), context(lease)),
        });
      }
    }
    const published = this.published().slice(this.cursors.published);
    this.cursors.published += published.length;
    if (!this.poisonQueued) published.unshift(FOREIGN_DELIVERY);
    for (const event of published) {
      const type = typeof event === 'object' && event !== null && 'type' in event ? event.type : undefined;
      for (const [name, subscription] of Object.entries(SUBSCRIPTIONS)) {
        const handler = this.subscribers[name];
        if (!handler) throw new Error(`No handler for the Event Grid subscription ${name}: add it to the flow.`);
        // Event Grid's own filter, except for the foreign delivery, which every subscriber gets once (as a misrouted event).
        if (event !== FOREIGN_DELIVERY && !(subscription.includedEventTypes ?? []).includes(String(type))) continue;
        const id = (event as { id: string }).id;
        deliveries.push({
          key: `${name}:${id}`,
          lane: 'subscribers',
          maxAttempts: 30,
          attempts: 0,
          run: () => handler(clone(event), context(name)),
        });
      }
    }
    const messages = this.queue.messages.slice(this.cursors.queue);
    this.cursors.queue += messages.length;
    // The queue trigger decodes base64 and hands over the text.
    const texts = messages.map((message) => Buffer.from(message, 'base64').toString('utf8'));
    if (!this.poisonQueued) texts.unshift(MALFORMED_MESSAGE);
    this.poisonQueued = true;
    for (const text of texts)
      deliveries.push({
        key: `fetchRegionForecastNow:${text}`,
        lane: 'subscribers',
        maxAttempts: 5,
        attempts: 0,
        run: () => this.handlers.fetchRegionForecastNow(text, context('fetchRegionForecastNow')),
      });
    return deliveries;
  }

  /** The published events as subscribers receive them (JSON). */
  private published(): unknown[] {
    return this.publisher.published.map((event) => clone(event));
  }

  /** Everything that should come out the same. */
  outcome(): Outcome {
    const streams: Record<string, unknown[]> = {};
    for (const event of this.store.allEvents()) (streams[event.streamId] ??= []).push(clone(event));
    for (const list of Object.values(streams)) (list as RecordedEvent[]).sort((a, b) => a.version - b.version);
    const published = new Map<string, OutgoingCloudEvent>();
    for (const event of this.publisher.published) {
      const earlier = published.get(event.id);
      // Republished events are the same events, with the same ids.
      if (earlier) expect(clone(event)).toEqual(clone(earlier));
      published.set(event.id, event);
    }
    return {
      streams: Object.fromEntries(Object.entries(streams).sort(([a], [b]) => a.localeCompare(b))),
      views: clone([...this.views.all()].sort((a, b) => `${a.partitionKey}/${a.id}`.localeCompare(`${b.partitionKey}/${b.id}`))),
      deadLetters: clone([...this.deadLetters.letters.values()].sort((a, b) => a.id.localeCompare(b.id))),
      published: clone([...published.values()].sort((a, b) => a.id.localeCompare(b.id))),
      refreshRequests: [...new Set(this.queue.requests().map((request) => JSON.stringify(request)))].sort(),
      givenUp: [...this.givenUp].sort(),
    };
  }
}

interface Outcome {
  readonly streams: Record<string, unknown[]>;
  readonly views: unknown;
  readonly deadLetters: unknown;
  readonly published: unknown;
  readonly refreshRequests: readonly string[];
  readonly givenUp: readonly string[];
}

/** An event as the change feed delivers its document: the stored shape with Cosmos's system properties. */
function toDocument(event: RecordedEvent): unknown {
  return {
    id: toEventDocumentId(event.streamId, event.version),
    streamId: event.streamId,
    version: event.version,
    type: event.type,
    data: event.data,
    metadata: event.metadata,
    ...(event.ttlSeconds !== undefined && { ttl: event.ttlSeconds }),
    _rid: 'rid',
    _self: 'self',
    _etag: `"${event.metadata.eventId}"`,
    _attachments: 'attachments/',
    _ts: Math.floor(Date.parse(event.metadata.occurredAt) / 1000),
    _lsn: event.version,
  };
}

function documentKey(document: unknown): string {
  return typeof document === 'object' && document !== null && 'id' in document ? String(document.id) : '?';
}

function clone<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

const ACTIVATOR = '<the first validated place of the region>';

/**
 * Which validated place activates a region (its event is the activation's cause, its correlation id
 * travels on to the refresh request and the forecast it fetches) depends on which of the region's
 * validations is delivered first: an ordering, which shuffling changes, not a duplicate. Those ids are
 * set aside for the comparison; {@link expectActivatorsConsistent} checks them on their own.
 */
function withoutActivators(outcome: Outcome): Outcome {
  const isRequested = (event: { data?: unknown }) =>
    typeof event.data === 'object' && event.data !== null && 'cycleId' in event.data && String(event.data.cycleId).startsWith('request:');
  const streams = Object.fromEntries(
    Object.entries(outcome.streams).map(([streamId, events]) => [
      streamId,
      (events as RecordedEvent[]).map((event) =>
        event.type === 'RegionActivated'
          ? { ...event, metadata: { ...event.metadata, causationId: ACTIVATOR, correlationId: ACTIVATOR } }
          : isRequested(event)
            ? { ...event, metadata: { ...event.metadata, correlationId: ACTIVATOR } }
            : event,
      ),
    ]),
  );
  const published = (outcome.published as OutgoingCloudEvent[]).map((event) => {
    if (
      event.type !== 'VisitPlannr.RegionActivated' &&
      !(event.type.startsWith('VisitPlannr.Forecast') && 'data' in event.data && isRequested(event.data))
    )
      return event;
    const causationId = event.type === 'VisitPlannr.RegionActivated' ? ACTIVATOR : event.data.metadata.causationId;
    return {
      ...event,
      correlationid: ACTIVATOR,
      data: { ...event.data, metadata: { ...event.data.metadata, correlationId: ACTIVATOR, causationId } },
    };
  });
  const refreshRequests = outcome.refreshRequests.map((text) =>
    JSON.stringify({ ...(JSON.parse(text) as object), correlationId: ACTIVATOR }),
  );
  return { ...outcome, streams, published, refreshRequests };
}

/** Each region was activated by one of its validated places, with that validation's correlation id, carried on to its refresh request. */
function expectActivatorsConsistent(outcome: Outcome): void {
  const events = Object.values(outcome.streams).flat() as RecordedEvent[];
  const validations = new Map(
    events.filter((event) => event.type === 'PlaceLocationValidated').map((event) => [event.metadata.eventId, event]),
  );
  const requests = outcome.refreshRequests.map((text) => JSON.parse(text) as { region: string; correlationId: string });
  for (const activation of events.filter((event) => event.type === 'RegionActivated')) {
    const cause = validations.get(activation.metadata.causationId);
    const region = (activation.data as { region: string }).region;
    expect({
      region,
      causeRegion: (cause?.data as { region?: string } | undefined)?.region,
      correlationId: cause?.metadata.correlationId,
    }).toEqual({ region, causeRegion: region, correlationId: activation.metadata.correlationId });
    expect(requests.filter((request) => request.region === region)).toEqual([
      expect.objectContaining({ correlationId: activation.metadata.correlationId }),
    ]);
  }
}

async function run(twice: boolean, seed: number): Promise<Flow> {
  const flow = new Flow(twice, seed);
  await flow.propose(proposals(20261127));
  await flow.settle();
  await flow.moderate();
  await flow.settle();
  return flow;
}

describe('duplicates: every change-feed batch, Event Grid event and queue message delivered twice', () => {
  let once: Flow;
  let reference: Outcome;
  const started = performance.now();
  const report: string[] = [];

  beforeAll(async () => {
    once = await run(false, 1);
    reference = once.outcome();
  });

  afterAll(() => {
    console.log(`Duplicates (${((performance.now() - started) / 1000).toFixed(1)} s):\n${report.join('\n')}`);
  });

  it('drives every asynchronous consumer the app registers (a new one must join the flow)', () => {
    const consumers = Object.entries(triggers)
      .filter(([, type]) => ['cosmosDBTrigger', 'eventGridTrigger', 'queueTrigger'].includes(type))
      .map(([name]) => name)
      .sort();
    expect(consumers).toEqual(['activateRegion', 'fetchRegionForecastNow', 'projectEvents', 'publishEvents', 'validatePlaceLocation']);
    expect(Object.keys(SUBSCRIPTIONS).sort()).toEqual(consumers.filter((name) => triggers[name] === 'eventGridTrigger'));
  });

  it('the single delivery reaches every outcome: validated and rejected places, active regions with forecasts and failures, moderation, dead letters', () => {
    const types = Object.values(reference.streams)
      .flat()
      .map((event) => (event as RecordedEvent).type);
    const count = (type: string) => types.filter((candidate) => candidate === type).length;
    expect(once.placeIds).toHaveLength(50);
    expect(count('PlaceLocationValidated')).toBeGreaterThan(25);
    expect(count('PlaceLocationRejected')).toBeGreaterThan(5);
    for (const type of [
      'RegionActivated',
      'ForecastUpdated',
      'ForecastFetchFailed',
      'PlaceApproved',
      'PlaceRejected',
      'PlaceDetailsUpdated',
      'PlaceWithdrawn',
    ])
      expect({ type, seen: count(type) > 0 }).toEqual({ type, seen: true });
    expect(count('RegionActivated')).toBeLessThan(count('PlaceLocationValidated'));
    expect(once.queue.requests()).toHaveLength(count('RegionActivated'));
    expect((reference.deadLetters as { reason: string }[]).map((letter) => letter.reason)).toEqual(
      expect.arrayContaining([
        expect.stringContaining('Not an event document'),
        expect.stringContaining('Malformed PlaceProposed'),
        expect.stringContaining('No projection handles stream "mystery-1"'),
      ]),
    );
    expect(reference.givenUp).toEqual([
      `activateRegion:${FOREIGN_DELIVERY.id}`,
      `fetchRegionForecastNow:${MALFORMED_MESSAGE}`,
      `validatePlaceLocation:${FOREIGN_DELIVERY.id}`,
    ]);
    report.push(
      `  once: ${once.stats.deliveries} deliveries in ${once.stats.rounds} rounds, ${types.length} events, ${(reference.views as unknown[]).length} view documents, ${once.weather.calls} weather fetches, ${once.geocoder.calls} geocoder calls`,
    );
  });

  it.each([1, 2, 3, 4])(
    'twice, shuffled, concurrent and late (seed %i): the same streams, views, dead letters, published events and requests',
    async (seed) => {
      const twice = await run(true, seed);
      const outcome = twice.outcome();
      expectActivatorsConsistent(outcome);
      const [expected, actual] = [withoutActivators(reference), withoutActivators(outcome)];
      expect(actual.streams).toEqual(expected.streams);
      expect(actual.views).toEqual(expected.views);
      expect(actual.deadLetters).toEqual(expected.deadLetters);
      expect(actual.published).toEqual(expected.published);
      expect(actual.refreshRequests).toEqual(expected.refreshRequests);
      expect(actual.givenUp).toEqual(expected.givenUp);
      expect(twice.stats.deliveries).toBeGreaterThan(2 * once.stats.deliveries * 0.9);
      report.push(
        `  twice (seed ${seed}): ${twice.stats.deliveries} deliveries (${twice.stats.failedAttempts} failed attempts, retried) in ${twice.stats.rounds} rounds, ${twice.publisher.published.length} publications of ${(outcome.published as unknown[]).length} events, ${twice.queue.messages.length} refresh requests sent (${outcome.refreshRequests.length} distinct), ${twice.weather.calls} weather fetches, ${twice.geocoder.calls} geocoder calls`,
      );
    },
  );
});

describe('duplicates through the devhost: Event Grid redelivers every event twice, through the host’s webhook', () => {
  let devhost: DevhostProcess;
  beforeAll(async () => {
    devhost = await startDevhostProcess({ extraModules: [EVENT_COUNT_PROBE], args: ['--quiet'] });
  }, 60_000);
  afterAll(async () => {
    await devhost.stop();
  });

  const allEvents = async (): Promise<RecordedEvent[]> => {
    const response = await fetch(`${devhost.url}/api/test/event-count?events=true`, {
      headers: { 'x-functions-key': devhost.keys.masterKey },
    });
    return ((await response.json()) as { events: RecordedEvent[] }).events;
  };

  /** Waits until the event count has not moved for `quietMs`. */
  const quiet = async (quietMs: number, until: (events: readonly RecordedEvent[]) => boolean = () => true): Promise<RecordedEvent[]> => {
    const deadline = Date.now() + 60_000;
    let last = -1;
    let since = Date.now();
    for (;;) {
      const events = await allEvents();
      if (events.length !== last) {
        last = events.length;
        since = Date.now();
      }
      if (Date.now() - since >= quietMs && until(events)) return events;
      if (Date.now() > deadline)
        throw new Error(`The devhost did not settle within 60 s (${events.length} events):\n${devhost.output().slice(-3000)}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  };

  it('changes nothing: no event, no forecast fetched again', async () => {
    const places = [
      { name: 'Chester Zoo', geolocation: { latitude: 53.2268, longitude: -2.8846 } },
      { name: 'Chester Zoo car park', geolocation: { latitude: 53.2281, longitude: -2.8832 } },
      { name: 'Science and Industry Museum', geolocation: { latitude: 53.4771, longitude: -2.2547 } },
      { name: 'At M3 4FP', address: 'M3 4FP' },
      { name: 'Mont Saint-Michel', geolocation: { latitude: 48.636, longitude: -1.5115 } },
      { name: 'Unknown postcode', address: 'CH2 9ZZ' },
    ];
    for (const place of places) {
      const answer = await fetch(`${devhost.url}/api/places`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-functions-key': devhost.keys.functionKey },
        body: JSON.stringify(place),
      });
      expect(answer.status).toBe(202);
    }
    // Settled: every place decided, every active region with a forecast (or a failure) recorded.
    const settled = (events: readonly RecordedEvent[]) => {
      const decided = events.filter((event) => event.type === 'PlaceLocationValidated' || event.type === 'PlaceLocationRejected').length;
      const regions = events.filter((event) => event.type === 'RegionActivated').map((event) => event.streamId);
      const fetched = new Set(
        events.filter((event) => event.type === 'ForecastUpdated' || event.type === 'ForecastFetchFailed').map((event) => event.streamId),
      );
      return decided === places.length && regions.length > 0 && regions.every((stream) => fetched.has(stream));
    };
    const before = await quiet(3_000, settled);
    expect(before.filter((event) => event.type === 'RegionActivated').length).toBe(2);

    const redelivered = before.flatMap((event) =>
      Object.entries(SUBSCRIPTIONS)
        .filter(([, subscription]) => (subscription.includedEventTypes ?? []).includes(`VisitPlannr.${event.type}`))
        .map(([functionName]) => ({ functionName, cloudEvent: toCloudEvent(event) })),
    );
    expect(redelivered.length).toBe(places.length + before.filter((event) => event.type === 'PlaceLocationValidated').length);
    const deliver = (functionName: string, cloudEvent: OutgoingCloudEvent) =>
      fetch(`${devhost.url}/runtime/webhooks/eventgrid?functionName=${functionName}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/cloudevents+json; charset=utf-8',
          'aeg-event-type': 'Notification',
          'x-functions-key': devhost.keys.masterKey,
        },
        body: JSON.stringify(cloudEvent),
      });
    const statuses = await Promise.all(
      redelivered.flatMap(({ functionName, cloudEvent }) =>
        [deliver(functionName, cloudEvent), deliver(functionName, cloudEvent)].map(async (response) => (await response).status),
      ),
    );
    expect(new Set(statuses)).toEqual(new Set([200]));

    // Long enough for the change feed (0.5–1 s), the queue (polls at most every 2 s) and a forecast fetch.
    const after = await quiet(5_000);
    const summary = (events: readonly RecordedEvent[]) =>
      events.map((event) => `${event.streamId}#${event.version} ${event.type} ${event.metadata.eventId}`).sort();
    expect(summary(after)).toEqual(summary(before));
    expect(await eventCount(devhost.url, devhost.keys.masterKey)).toBe(before.length);
  }, 120_000);
});
