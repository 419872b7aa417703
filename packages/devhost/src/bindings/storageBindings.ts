import { BlobServiceClient } from '@azure/storage-blob';
import { QueueServiceClient } from '@azure/storage-queue';
import { odata, TableClient, TableTransaction, type TableEntity, type TransactionAction } from '@azure/data-tables';
import { statusOf } from '../azureErrors';
import type { RpcBindingInfo } from '../functionsCore';
import type { RpcTypedData } from '../invoke';
import { isRecord, textOf, typedDataValue } from './bindingData';

/**
 * Storage bindings (queue output, blob input and output, table input and output) as the host's
 * Storage and Tables extensions carry them out, against whatever account the binding's
 * `connection` setting names (Azurite when it names local storage). Sources checked: the Tables
 * extension's TablesExtensionConfigProvider and TableEntityWriter (azure-sdk-for-net), the
 * bindings' reference pages on learn.microsoft.com.
 */
export const DEFAULT_STORAGE_CONNECTION = 'AzureWebJobsStorage';

export class StorageAccounts {
  readonly #queues = new Map<string, QueueServiceClient>();
  readonly #blobs = new Map<string, BlobServiceClient>();
  readonly #created = new Set<string>();

  constructor(private readonly settings: Readonly<Record<string, string | undefined>>) {}

  /** The connection string a binding names, or a start-up error saying which setting is missing. */
  connectionString(functionName: string, binding: RpcBindingInfo): string {
    const name = typeof binding.connection === 'string' && binding.connection !== '' ? binding.connection : DEFAULT_STORAGE_CONNECTION;
    const value = this.settings[name];
    if (value === undefined || value === '') {
      const identity = Object.keys(this.settings).some((setting) => setting.startsWith(`${name}__`));
      throw new Error(
        identity
          ? `Function "${functionName}": its ${binding.type} binding uses an identity-based connection (${name}__…), which the devhost does not serve; set ${name} to a connection string.`
          : `Function "${functionName}": the app setting "${name}" (its ${binding.type} binding's connection) is not set.`,
      );
    }
    return value;
  }

  queue(connectionString: string): QueueServiceClient {
    let client = this.#queues.get(connectionString);
    if (!client) {
      client = QueueServiceClient.fromConnectionString(connectionString);
      this.#queues.set(connectionString, client);
    }
    return client;
  }

  blob(connectionString: string): BlobServiceClient {
    let client = this.#blobs.get(connectionString);
    if (!client) {
      client = BlobServiceClient.fromConnectionString(connectionString);
      this.#blobs.set(connectionString, client);
    }
    return client;
  }

  table(connectionString: string, tableName: string): TableClient {
    return TableClient.fromConnectionString(connectionString, tableName, { allowInsecureConnection: true });
  }

  /** Runs `create` once per resource for the life of the devhost (queues and containers are created on first write, as the host does). */
  async ensure(key: string, create: () => Promise<unknown>): Promise<void> {
    if (this.#created.has(key)) return;
    await create();
    this.#created.add(key);
  }
}

/**
 * Queue output: one message per value, or one per element when the function gives an array (the
 * collector behaviour documented for JavaScript); objects as JSON; base64 unless host.json says
 * `messageEncoding: none`. The queue is created if it does not exist.
 */
export async function writeQueueOutput(
  accounts: StorageAccounts,
  connectionString: string,
  queueName: string,
  data: RpcTypedData,
  encoding: 'base64' | 'none',
): Promise<void> {
  const value = typedDataValue(data);
  const messages = Array.isArray(value) ? value : [value];
  const queue = accounts.queue(connectionString).getQueueClient(queueName);
  await accounts.ensure(`queue:${connectionString}:${queueName}`, () => queue.createIfNotExists());
  for (const message of messages) {
    if (message === undefined || message === null) continue;
    const bytes = Buffer.isBuffer(message) ? message : Buffer.from(textOf(message));
    await queue.sendMessage(encoding === 'base64' ? bytes.toString('base64') : bytes.toString('utf8'));
  }
}

/** Blob input: the blob's bytes (its text with `dataType: 'string'`); a missing blob or container is no value, as the host gives null. */
export async function readBlobInput(
  accounts: StorageAccounts,
  connectionString: string,
  path: string,
  dataType: unknown,
): Promise<RpcTypedData> {
  const { container, blob } = splitBlobPath(path);
  try {
    const bytes = await accounts.blob(connectionString).getContainerClient(container).getBlobClient(blob).downloadToBuffer();
    return dataType === 'string' ? { string: bytes.toString('utf8') } : { bytes };
  } catch (error) {
    if (statusOf(error) === 404) return {};
    throw error;
  }
}

/** Blob output: the value written whole (text as UTF-8, objects as JSON), replacing the blob; the container is created if needed. */
export async function writeBlobOutput(
  accounts: StorageAccounts,
  connectionString: string,
  path: string,
  data: RpcTypedData,
): Promise<void> {
  const value = typedDataValue(data);
  if (value === undefined || value === null) return;
  const { container, blob } = splitBlobPath(path);
  const containerClient = accounts.blob(connectionString).getContainerClient(container);
  await accounts.ensure(`container:${connectionString}:${container}`, () => containerClient.createIfNotExists());
  const bytes = Buffer.isBuffer(value) ? value : Buffer.from(textOf(value));
  await containerClient.getBlockBlobClient(blob).uploadData(bytes);
}

export interface TableQuery {
  readonly tableName: string;
  readonly partitionKey?: string;
  readonly rowKey?: string;
  readonly filter?: string;
  readonly take?: number;
}

/**
 * Table input as the Tables extension binds it: with partition and row key, that entity as an
 * object (no value when it does not exist); otherwise an array from the filter (and the partition
 * key, if given), up to `take` entities. Entities carry PartitionKey, RowKey, Timestamp and their
 * properties, as the extension's JObject does.
 */
export async function readTableInput(accounts: StorageAccounts, connectionString: string, query: TableQuery): Promise<RpcTypedData> {
  const table = accounts.table(connectionString, query.tableName);
  if (query.partitionKey !== undefined && query.rowKey !== undefined) {
    try {
      return { json: JSON.stringify(entityJson(await table.getEntity(query.partitionKey, query.rowKey))) };
    } catch (error) {
      if (statusOf(error) === 404) return {};
      throw error;
    }
  }
  const filters = [
    ...(query.partitionKey !== undefined ? [odata`PartitionKey eq ${query.partitionKey}`] : []),
    ...(query.filter ? [query.filter] : []),
  ];
  const entities: Record<string, unknown>[] = [];
  try {
    const pages = table.listEntities({ queryOptions: filters.length > 0 ? { filter: filters.join(' and ') } : {} });
    for await (const entity of pages) {
      entities.push(entityJson(entity));
      if (query.take !== undefined && query.take > 0 && entities.length >= query.take) break;
    }
  } catch (error) {
    if (statusOf(error) !== 404) throw error;
  }
  return { json: JSON.stringify(entities) };
}

/**
 * Table output as TableEntityWriter writes: each entity (or each element of an array) added, one
 * transaction of up to 100 per partition; keys from the entity (`PartitionKey`/`RowKey`, any case)
 * or else the binding's; an entity whose ETag is `*` is upserted, one with an ETag replaced only if
 * unchanged; a new entity that already exists fails the invocation (409), as in Azure. The table is
 * created if it does not exist.
 */
export async function writeTableOutput(
  accounts: StorageAccounts,
  connectionString: string,
  binding: { readonly tableName: string; readonly partitionKey?: string; readonly rowKey?: string },
  data: RpcTypedData,
): Promise<void> {
  const value = typedDataValue(data);
  const items = Array.isArray(value) ? value : [value];
  const partitions = new Map<string, TransactionAction[]>();
  for (const item of items) {
    if (item === undefined || item === null) continue;
    if (!isRecord(item)) throw new Error(`A table output must be an object (or an array of objects), not ${typeof item}.`);
    const properties: Record<string, unknown> = {};
    let partitionKey = binding.partitionKey;
    let rowKey = binding.rowKey;
    let etag: string | undefined;
    for (const [name, property] of Object.entries(item)) {
      const lower = name.toLowerCase();
      if (lower === 'partitionkey') partitionKey = String(property);
      else if (lower === 'rowkey') rowKey = String(property);
      else if (lower === 'etag' || lower === 'odata.etag') etag = String(property);
      else if (lower !== 'timestamp') properties[name] = property;
    }
    if (partitionKey === undefined || rowKey === undefined)
      throw new Error('A table output entity needs a PartitionKey and a RowKey (on the entity or the binding).');
    const entity: TableEntity = { ...properties, partitionKey, rowKey };
    const action: TransactionAction =
      etag === undefined ? ['create', entity] : etag === '*' ? ['upsert', entity, 'Replace'] : ['update', entity, 'Replace', { etag }];
    const actions = partitions.get(partitionKey) ?? [];
    actions.push(action);
    partitions.set(partitionKey, actions);
  }
  if (partitions.size === 0) return;
  const table = accounts.table(connectionString, binding.tableName);
  await accounts.ensure(`table:${connectionString}:${binding.tableName}`, () => table.createTable());
  for (const actions of partitions.values()) {
    for (let start = 0; start < actions.length; start += 100) {
      const transaction = new TableTransaction(actions.slice(start, start + 100));
      await table.submitTransaction(transaction.actions);
    }
  }
}

function entityJson(entity: Record<string, unknown>): Record<string, unknown> {
  const json: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(entity)) {
    if (name === 'partitionKey') json.PartitionKey = value;
    else if (name === 'rowKey') json.RowKey = value;
    else if (name === 'timestamp') json.Timestamp = value;
    else if (name === 'etag') json['odata.etag'] = value;
    else json[name] = value;
  }
  return json;
}

function splitBlobPath(path: string): { container: string; blob: string } {
  const slash = path.indexOf('/');
  if (slash <= 0 || slash === path.length - 1) throw new Error(`Blob path "${path}" must be "container/blob".`);
  return { container: path.slice(0, slash), blob: path.slice(slash + 1) };
}
