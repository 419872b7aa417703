import { CosmosClient } from '@azure/cosmos';
import { Agent } from 'node:https';
import { createServer, type AddressInfo } from 'node:net';
import { startLocalCosmosEndpoint, type LocalCosmosEndpoint } from '../../src/cosmos/localCosmosEndpoint';
import { portsFree, startEmulatorPort, type EmulatorPort } from '../../src/wellKnownPorts';

/**
 * The Cosmos DB emulator's port in front of the local endpoint (here on a free port standing in for
 * 8081, which another devhost may hold): clients of the emulator speak HTTPS to it, with
 * certificate checks off as they must for the emulator's self-signed certificate; plain HTTP works too.
 */
describe('the well-known local ports', () => {
  let endpoint: LocalCosmosEndpoint;
  let front: EmulatorPort;

  beforeAll(async () => {
    endpoint = await startLocalCosmosEndpoint();
    front = await startEmulatorPort(endpoint.endpoint, 0);
  });

  afterAll(async () => {
    await front.close();
    await endpoint.close();
  });

  it('tells a port held by another listener from a free one', async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const held = (holder.address() as AddressInfo).port;
    try {
      expect(await portsFree([held])).toBe(false);
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
    expect(await portsFree([held])).toBe(true);
  });

  it('serves an emulator client over HTTPS (endpoint discovery on, the SDK default) and a plain HTTP client on the same port', async () => {
    const https = new CosmosClient({
      endpoint: `https://localhost:${front.port}/`,
      key: 'C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU5DE2nQ9nDuVTqobD4b8mGGyPMbIZnqyMsEcaGQy67XIw/Jw==',
      agent: new Agent({ rejectUnauthorized: false }),
    });
    const http = new CosmosClient({
      endpoint: `http://localhost:${front.port}/`,
      key: 'C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU5DE2nQ9nDuVTqobD4b8mGGyPMbIZnqyMsEcaGQy67XIw/Jw==',
      connectionPolicy: { enableEndpointDiscovery: false },
    });
    try {
      const { database } = await https.databases.createIfNotExists({ id: 'shop' });
      const { container } = await database.containers.createIfNotExists({ id: 'items', partitionKey: { paths: ['/id'] } });
      await container.items.create({ id: 'kite', price: 3 });
      const { resource } = await http.database('shop').container('items').item('kite', 'kite').read<{ price: number }>();
      expect(resource?.price).toBe(3);
      // What the devhost's own endpoint holds, read without the front.
      const direct = new CosmosClient({
        endpoint: endpoint.endpoint,
        key: endpoint.key,
        connectionPolicy: { enableEndpointDiscovery: false },
      });
      expect((await direct.database('shop').container('items').item('kite', 'kite').read()).resource).toMatchObject({ id: 'kite' });
      direct.dispose();
    } finally {
      https.dispose();
      http.dispose();
    }
  });
});
