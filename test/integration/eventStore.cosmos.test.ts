import { CosmosClient, type Container } from '@azure/cosmos';
import { randomUUID } from 'node:crypto';
import { CONTAINERS, ensureCosmosContainers } from '../../shared/platform/adapters/cosmosClient';
import { CosmosEventStore, toEventDocumentId } from '../../shared/platform/eventSourcing/adapters/cosmosEventStore';
import { localCosmosClientOptions, startLocalCosmosEndpoint, type LocalCosmosEndpoint } from 'functions-devhost/cosmos/localCosmosEndpoint';
import { describeEventStoreConformance, newEvent } from '../support/eventStoreConformance';
import { handleCommand, type CommandContext } from '../../shared/platform/eventSourcing/handleCommand';
import type { Decider } from '../../shared/kernel/decider';
import type { Event } from '../../shared/kernel/event';

let endpoint: LocalCosmosEndpoint;
let client: CosmosClient;
let container: Container;

beforeAll(async () => {
  endpoint = await startLocalCosmosEndpoint();
  client = new CosmosClient(localCosmosClientOptions(endpoint));
  const database = await ensureCosmosContainers(client, `conformance-${randomUUID()}`);
  container = database.container(CONTAINERS.events);
});

afterAll(async () => {
  client.dispose();
  await endpoint.close();
});

describeEventStoreConformance('Cosmos DB (local endpoint)', {
  store: () => new CosmosEventStore(container),
  plantEventAt: async (streamId, version) => {
    const planted = newEvent('Planted');
    await container.items.create({
      id: toEventDocumentId(streamId, version),
      streamId,
      version,
      type: planted.type,
      data: {},
      metadata: planted.metadata,
    });
  },
});

describe('Cosmos event store documents', () => {
  it('stores one document per event, id streamId:version, partitioned by stream id', async () => {
    const store = new CosmosEventStore(container);
    const streamId = `place-${randomUUID()}`;
    await store.append(streamId, [newEvent('PlaceProposed', { name: 'Zoo' })], 0);
    const { resource } = await container.item(`${streamId}:1`, streamId).read<Record<string, unknown>>();
    expect(resource).toMatchObject({ id: `${streamId}:1`, streamId, version: 1, type: 'PlaceProposed', data: { name: 'Zoo' } });
    expect(resource?.metadata).toEqual(expect.objectContaining({ eventId: expect.any(String), occurredAt: expect.any(String) }));
  });
});

describe('starting a stream with handleCommand (a proposal)', () => {
  type Started = Event<'Started', { by: string }>;
  const startOnce: Decider<{ by: string }, { started: boolean }, Started> = {
    initialState: () => ({ started: false }),
    evolve: () => ({ started: true }),
    decide: ({ by }, { started }) => (started ? [] : [{ type: 'Started', data: { by } }]),
  };
  const isStarted = (event: Event): event is Started => event.type === 'Started';
  const context = (): CommandContext => ({ correlationId: 'c', causationId: 'c', now: new Date(), eventId: () => randomUUID() });

  it('costs one request at the endpoint with newStream, where reading the stream first costs more', async () => {
    const store = new CosmosEventStore(container);
    const requestsFor = async (options: { newStream?: boolean }) => {
      const before = endpoint.counters().containerRequests;
      await handleCommand(store, `place-${randomUUID()}`, startOnce, isStarted, { by: 'ann' }, context(), options);
      return endpoint.counters().containerRequests - before;
    };
    const read = await requestsFor({});
    const started = await requestsFor({ newStream: true });
    console.log(`Starting a stream: ${started} request(s) with newStream, ${read} reading first`);
    expect(started).toBe(1);
    expect(read).toBeGreaterThan(1);
  });
});
