import { CosmosClient, type Container } from '@azure/cosmos';
import { randomUUID } from 'node:crypto';
import { CONTAINERS, ensureCosmosContainers } from '../../shared/platform/adapters/cosmosClient';
import { CosmosEventStore, toEventDocumentId } from '../../shared/platform/eventSourcing/adapters/cosmosEventStore';
import { localCosmosClientOptions, startLocalCosmosEndpoint, type LocalCosmosEndpoint } from 'functions-devhost/cosmos/localCosmosEndpoint';
import { describeEventStoreConformance, newEvent } from '../support/eventStoreConformance';

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
