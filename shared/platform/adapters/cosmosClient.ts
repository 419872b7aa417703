import type { Container, CosmosClient, CosmosClientOptions, Database } from '@azure/cosmos';
import type { AppConfig } from '../config';
import { loadOnce } from '../loadOnce';
import { appCredential } from './azureCredential';

/** Container names; the Bicep template and the local endpoint create the same ones. */
export const CONTAINERS = { events: 'events', views: 'views', leases: 'leases', deadletters: 'deadletters' } as const;
export type ContainerName = (typeof CONTAINERS)[keyof typeof CONTAINERS];

/**
 * What a Cosmos adapter works on: a container, or how to reach one (the composition root's, which
 * loads the SDK at the first request, so functions that never touch Cosmos never load it).
 */
export type ContainerSource = Container | (() => Promise<Container>);

export function containerOf(source: ContainerSource): () => Promise<Container> {
  return typeof source === 'function' ? source : () => Promise.resolve(source);
}

/**
 * The database's containers on one client per process, built (and `@azure/cosmos` loaded) at the
 * first request of any of them. A bad endpoint fails that request, as building the client would have.
 */
export function lazyCosmosContainers(cosmos: AppConfig['cosmos']): (name: ContainerName) => () => Promise<Container> {
  const database = loadOnce(async () => cosmosDatabase(await createCosmosClient(cosmos), cosmos));
  return (name) => loadOnce(async () => (await database()).container(name));
}

/**
 * A Cosmos client from the settings: a connection string, or the account endpoint with the app's
 * managed identity. Endpoint discovery (multi-region routing) is off only for a loopback endpoint,
 * which has no regions to discover.
 */
export async function createCosmosClient(cosmos: AppConfig['cosmos']): Promise<CosmosClient> {
  const { CosmosClient } = await import('@azure/cosmos');
  const endpoint = cosmos.accountEndpoint ?? /AccountEndpoint=([^;]+)/i.exec(cosmos.connectionString ?? '')?.[1] ?? '';
  const local = isLoopback(endpoint);
  const options: CosmosClientOptions = cosmos.connectionString
    ? { ...parseConnectionString(cosmos.connectionString) }
    : { endpoint, aadCredentials: appCredential };
  return new CosmosClient({ ...options, ...(local && { connectionPolicy: { enableEndpointDiscovery: false } }) });
}

export function cosmosDatabase(client: CosmosClient, cosmos: AppConfig['cosmos']): Database {
  return client.database(cosmos.database);
}

/**
 * Creates the database and containers when missing. In Azure the template owns them; this is for the
 * local endpoint and tests. `events` allows per-event TTL (defaultTtl -1: on, but no default expiry).
 */
export async function ensureCosmosContainers(client: CosmosClient, databaseName: string): Promise<Database> {
  const { database } = await client.databases.createIfNotExists({ id: databaseName });
  await database.containers.createIfNotExists({ id: CONTAINERS.events, partitionKey: { paths: ['/streamId'] }, defaultTtl: -1 });
  await database.containers.createIfNotExists({ id: CONTAINERS.views, partitionKey: { paths: ['/partitionKey'] } });
  await database.containers.createIfNotExists({ id: CONTAINERS.leases, partitionKey: { paths: ['/id'] } });
  await database.containers.createIfNotExists({ id: CONTAINERS.deadletters, partitionKey: { paths: ['/streamId'] } });
  return database;
}

function parseConnectionString(connectionString: string): { endpoint: string; key: string } {
  const parts = new Map(
    connectionString
      .split(';')
      .map((part) => part.trim())
      .filter(Boolean)
      .map((part) => {
        const at = part.indexOf('=');
        return [part.slice(0, at).toLowerCase(), part.slice(at + 1)] as const;
      }),
  );
  return { endpoint: parts.get('accountendpoint') ?? '', key: parts.get('accountkey') ?? '' };
}

function isLoopback(endpoint: string): boolean {
  if (!URL.canParse(endpoint)) return false;
  const { hostname } = new URL(endpoint);
  return hostname === 'localhost' || hostname === '[::1]' || hostname.startsWith('127.');
}
