import type { CosmosClient, PartitionKey } from '@azure/cosmos';
import { connectionStringPart, cosmosClientFor, type CosmosConnection } from '../cosmos/cosmosConnection';
import type { RpcBindingInfo } from '../functionsCore';
import type { RpcTypedData } from '../invoke';
import { isRecord, typedDataValue } from './bindingData';

/**
 * Cosmos DB input and output bindings as the host's Cosmos DB extension (v4; v3 option names too)
 * carries them out. Input: with `id`, that item (no value when missing); with `sqlQuery`, the
 * query's items (its `{expressions}` passed as parameters), within `partitionKey` when given.
 * Output: each item (or each element of an array) upserted; `createIfNotExists` creates the
 * database and container first, partitioned on the binding's `partitionKey` path (default `/id`).
 */
export class CosmosAccounts {
  readonly #clients = new Map<string, CosmosClient>();
  readonly #created = new Set<string>();

  constructor(private readonly settings: Readonly<Record<string, string | undefined>>) {}

  /** The connection a binding names (v4 `connection`, v3 `connectionStringSetting`), or a start-up error. */
  connection(functionName: string, binding: RpcBindingInfo): CosmosConnection {
    const name = typeof binding.connection === 'string' ? binding.connection : binding.connectionStringSetting;
    if (typeof name !== 'string' || name === '')
      throw new Error(`Function "${functionName}": its cosmosDB binding names no connection setting.`);
    const connectionString = this.settings[name];
    if (connectionString) {
      const accountEndpoint = connectionStringPart(connectionString, 'AccountEndpoint');
      if (!accountEndpoint) throw new Error(`Function "${functionName}": the app setting ${name} is not a Cosmos DB connection string.`);
      return { connectionString, accountEndpoint };
    }
    const accountEndpoint = this.settings[`${name}__accountEndpoint`];
    if (accountEndpoint) return { accountEndpoint };
    throw new Error(
      `Function "${functionName}": the app setting ${name} (or ${name}__accountEndpoint), its cosmosDB connection, is not set.`,
    );
  }

  client(connection: CosmosConnection): CosmosClient {
    const key = connection.connectionString ?? `identity:${connection.accountEndpoint}`;
    let client = this.#clients.get(key);
    if (!client) {
      client = cosmosClientFor(connection);
      this.#clients.set(key, client);
    }
    return client;
  }

  async ensureContainer(connection: CosmosConnection, database: string, container: string, partitionKeyPath: string): Promise<void> {
    const key = `${connection.accountEndpoint}/${database}/${container}`;
    if (this.#created.has(key)) return;
    const client = this.client(connection);
    const { database: created } = await client.databases.createIfNotExists({ id: database });
    await created.containers.createIfNotExists({ id: container, partitionKey: { paths: [partitionKeyPath] } });
    this.#created.add(key);
  }

  dispose(): void {
    for (const client of this.#clients.values()) client.dispose();
    this.#clients.clear();
  }
}

export interface CosmosInputQuery {
  readonly database: string;
  readonly container: string;
  readonly id?: string;
  readonly partitionKey?: string;
  readonly sqlQuery?: { query: string; parameters: { name: string; value: string }[] };
}

export async function readCosmosInput(client: CosmosClient, input: CosmosInputQuery): Promise<RpcTypedData> {
  const container = client.database(input.database).container(input.container);
  if (input.id !== undefined) {
    const partitionKey: PartitionKey | undefined = input.partitionKey ?? undefined;
    const { resource, statusCode } = await container.item(input.id, partitionKey).read<Record<string, unknown>>();
    return statusCode === 404 || resource === undefined ? {} : { json: JSON.stringify(resource) };
  }
  const query = input.sqlQuery ?? { query: 'SELECT * FROM c', parameters: [] };
  const { resources } = await container.items
    .query<Record<string, unknown>>(query, input.partitionKey !== undefined ? { partitionKey: input.partitionKey } : {})
    .fetchAll();
  return { json: JSON.stringify(resources) };
}

export async function writeCosmosOutput(client: CosmosClient, database: string, containerName: string, data: RpcTypedData): Promise<void> {
  const value = typedDataValue(data);
  const items = Array.isArray(value) ? value : [value];
  const container = client.database(database).container(containerName);
  for (const item of items) {
    if (item === undefined || item === null) continue;
    if (!isRecord(item)) throw new Error(`A cosmosDB output must be an object (or an array of objects), not ${typeof item}.`);
    await container.items.upsert(item);
  }
}
