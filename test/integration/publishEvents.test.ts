import { adminActing, everyoneApproved, functionKeyCaller } from '../support/callers';
/**
 * The publisher (functions/publishEvents.cosmos.ts, registered as the app registers it) run by the
 * devhost's Cosmos DB trigger over the local Cosmos endpoint, publishing with the real Event Grid
 * client to the devhost's Event Grid topic, where a subscriber counts what arrives.
 */
import { randomUUID } from 'node:crypto';
import { CosmosClient, type Database } from '@azure/cosmos';
import { app } from '@azure/functions';
import { localCosmosClientOptions, startLocalCosmosEndpoint, type LocalCosmosEndpoint } from 'functions-devhost/cosmos/localCosmosEndpoint';
import { getProgrammingModel, registeredFunctions, type Registration } from 'functions-devhost/functionsCore';
import { invokeFunction } from 'functions-devhost/invoke';
import type { Logger } from 'functions-devhost/logger';
import { startCosmosTriggers, type RunningCosmosTriggers } from 'functions-devhost/triggers/cosmosTrigger';
import type { TriggerHostContext } from 'functions-devhost/triggers/triggerHost';
import '../../functions/publishEvents.cosmos';
import { executePlaceCommand, proposePlace } from '../../shared/places/application/placeCommands';
import { CONTAINERS, ensureCosmosContainers } from '../../shared/platform/adapters/cosmosClient';
import { CosmosEventStore } from '../../shared/platform/eventSourcing/adapters/cosmosEventStore';
import { toCloudEvent } from '../../shared/platform/publishing/cloudEvents';
import { parseDeliveredEvent, readDeliveredEvent, type DeliveredEvent } from '../../shared/platform/publishing/deliveredEvent';
import { createEventGridPublisherClient, EventGridEventPublisher } from '../../shared/platform/publishing/adapters/eventGridPublisher';
import { LOCAL_TOPIC_KEY, startLocalTopic, type LocalTopic } from '../support/localTopic';

const received: DeliveredEvent[] = [];
const receivedRaw: unknown[] = [];
app.eventGrid<unknown>('countingSubscriber', {
  handler: (event) => {
    receivedRaw.push(event);
    received.push(parseDeliveredEvent(event));
  },
});

let endpoint: LocalCosmosEndpoint;
let client: CosmosClient;
let database: Database;
let topic: LocalTopic;
let triggers: RunningCosmosTriggers | undefined;
const logs: string[] = [];

const logger: Logger = {
  info: () => undefined,
  warn: (message) => logs.push(message),
  error: (message, error) => logs.push(`${message} ${error instanceof Error ? error.message : ''}`),
  functionLog: (_name, _id, _level, _category, message) => logs.push(message),
};

function registration(name: string): Registration {
  const found = registeredFunctions().find((candidate) => candidate.metadata.name === name);
  if (!found) throw new Error(`${name} is not registered`);
  return found;
}

beforeAll(async () => {
  endpoint = await startLocalCosmosEndpoint();
  client = new CosmosClient(localCosmosClientOptions(endpoint));
  database = await ensureCosmosContainers(client, `publish-${randomUUID()}`);
  topic = await startLocalTopic([registration('countingSubscriber')], { baseDelayMs: 20, maxDelayMs: 100 });
  // The app reads its settings once, from the environment, as in Azure (appServices()).
  Object.assign(process.env, {
    AzureWebJobsStorage: 'UseDevelopmentStorage=true',
    COSMOS_CONNECTION: endpoint.connectionString,
    COSMOS_DATABASE: database.id,
    EVENTGRID_TOPIC_ENDPOINT: topic.topicEndpoint,
    EVENTGRID_TOPIC_KEY: LOCAL_TOPIC_KEY,
  });
  const model = getProgrammingModel();
  if (!model) throw new Error('no programming model');
  const context: TriggerHostContext = {
    invoke: (target, request, reason) => invokeFunction(model, target, request, logger, reason),
    logger,
    settings: process.env,
    hostJson: {},
    dataDir: '/nonexistent',
  };
  triggers = await startCosmosTriggers([registration('publishEvents')], context, {
    feedPollDelayMs: 50,
    retry: { initialDelayMs: 50, maxDelayMs: 400 },
  });
});

afterAll(async () => {
  await triggers?.stop();
  await topic.stop();
  client.dispose();
  await endpoint.close();
});

async function eventually(condition: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('publishing the change feed to Event Grid', () => {
  it('publishes the events of a burst of 200 proposals made while the topic was down, once it is back, and loses none', async () => {
    const store = new CosmosEventStore(database.container(CONTAINERS.events));
    const deps = { eventStore: store, clock: () => new Date(), newId: randomUUID, editorAccess: everyoneApproved };
    received.length = 0;

    topic.outage.down = true;
    topic.outage.mode = 'unavailable';
    const placeIds: string[] = [];
    const burst = Array.from({ length: 200 }, async (_, i) => {
      const { placeId } = await proposePlace(
        deps,
        { name: `Burst ${i}`, geolocation: { latitude: 53 + i / 1000, longitude: -2 }, details: {} },
        functionKeyCaller,
        { correlationId: `burst-${i}`, requestId: randomUUID() },
      );
      placeIds.push(placeId);
      // Some streams get a second event, so there is an order per stream to keep.
      if (i % 10 === 0)
        await executePlaceCommand(
          deps,
          { type: 'UpdatePlaceDetails', data: { ...adminActing(), placeId, changes: { kind: 'outdoor' } } },
          { correlationId: `burst-${i}`, requestId: randomUUID() },
        );
    });
    await Promise.all(burst);
    await eventually(() => topic.outage.refused >= 3, 'publishes refused while the topic is down');
    // Down another way: the connection is dropped, as by an unreachable host.
    topic.outage.mode = 'unreachable';
    const refusedBefore = topic.outage.refused;
    await eventually(() => topic.outage.refused > refusedBefore + 1, 'publishes failing on a dropped connection');
    expect(received).toHaveLength(0);
    topic.outage.down = false;

    const stored = (await Promise.all(placeIds.map((placeId) => store.read(`place-${placeId}`)))).flat();
    expect(stored).toHaveLength(220);
    await eventually(() => new Set(received.map((event) => event.id)).size >= stored.length, 'every event to arrive');
    await topic.eventGrid.idle();

    const ids = new Set(received.map((event) => event.id));
    expect(ids.size).toBe(220);
    for (const event of stored) expect(ids.has(event.metadata.eventId)).toBe(true);
    // At least once: a batch that failed half-way may be republished, never partly skipped.
    expect(received.length).toBeGreaterThanOrEqual(220);
    // Each arrives as it was stored.
    const delivered = received.find((event) => event.eventType === 'PlaceDetailsUpdated');
    const original = stored.find((event) => event.metadata.eventId === delivered?.id);
    expect(delivered).toEqual({
      id: original?.metadata.eventId,
      eventType: 'PlaceDetailsUpdated',
      streamId: original?.streamId,
      version: 2,
      metadata: original?.metadata,
      payload: { kind: 'inline', data: { kind: 'outdoor' } },
    });
    expect(receivedRaw.find((event) => (event as { id: string }).id === delivered?.id)).toMatchObject({
      specversion: '1.0',
      type: 'VisitPlannr.PlaceDetailsUpdated',
      source: `/places/${original?.streamId.slice('place-'.length) ?? ''}`,
      subject: original?.streamId,
      time: original?.metadata.occurredAt,
      datacontenttype: 'application/json',
      correlationid: original?.metadata.correlationId,
    });
    expect(logs.some((line) => /publishEvents/.test(line) || /Published/.test(line))).toBe(true);
  }, 90_000);

  it('splits what it publishes into requests Event Grid accepts (under 1 MB each)', async () => {
    received.length = 0;
    const publisher = new EventGridEventPublisher(
      createEventGridPublisherClient({ topicEndpoint: topic.topicEndpoint, topicKey: LOCAL_TOPIC_KEY }),
    );
    const padding = 'x'.repeat(60 * 1024);
    const events = Array.from({ length: 40 }, (_, i) =>
      toCloudEvent(
        {
          streamId: 'place-big',
          version: i + 1,
          type: 'PlaceDetailsUpdated',
          data: { description: padding },
          metadata: { eventId: randomUUID(), correlationId: 'split', causationId: 'test', occurredAt: new Date().toISOString() },
        },
        64 * 1024,
      ),
    );
    expect(events.every((event) => 'data' in event.data)).toBe(true);
    const publishedBefore = topic.eventGrid.stats().published;
    await publisher.publish(events);
    expect(topic.eventGrid.stats().published - publishedBefore).toBe(40);
    await eventually(() => received.length >= 40, 'the padded events to arrive');
    expect(new Set(received.map((event) => event.version)).size).toBe(40);
  }, 60_000);

  it('publishes an event too large for Event Grid as a reference that subscribers read from the store', async () => {
    const store = new CosmosEventStore(database.container(CONTAINERS.events));
    received.length = 0;
    const hourly = Array.from({ length: 9000 }, (_, hour) => ({
      time: new Date(Date.UTC(2026, 0, 1, hour)).toISOString(),
      temperatureC: 12.5,
      weather: 'rain',
      windKph: 10,
    }));
    const eventId = randomUUID();
    await store.append(
      'region-gcmyy',
      [
        {
          type: 'ForecastUpdated',
          data: { region: 'gcmyy', hourly },
          metadata: { eventId, correlationId: 'big', causationId: 'test', occurredAt: new Date().toISOString() },
        },
      ],
      0,
    );
    await eventually(() => received.some((event) => event.id === eventId), 'the large event to arrive');
    const delivered = received.find((event) => event.id === eventId);
    expect(delivered?.payload).toEqual({ kind: 'reference' });
    expect(Buffer.byteLength(JSON.stringify(receivedRaw.find((event) => (event as { id: string }).id === eventId)))).toBeLessThan(2048);
    if (!delivered) throw new Error('not delivered');
    const full = await readDeliveredEvent(store, delivered);
    expect(Buffer.byteLength(JSON.stringify(full.data))).toBeGreaterThan(1024 * 1024 * 0.5);
    expect(full.data).toEqual({ region: 'gcmyy', hourly });
  }, 60_000);
});
