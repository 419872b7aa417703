import { CosmosClient } from '@azure/cosmos';
import { TableClient } from '@azure/data-tables';
import { BlobServiceClient } from '@azure/storage-blob';
import { QueueServiceClient } from '@azure/storage-queue';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDevhostProcess, type DevhostProcess } from '../support/devhostProcess';

/**
 * Input and output bindings beside the trigger, in an app written for Core Tools and run with
 * `devhost --app DIR`: each does what it does under the host, checked by reading Azurite and the
 * local Cosmos DB endpoint directly, never through the app.
 */
const EMULATOR =
  'AccountEndpoint=https://localhost:8081/;AccountKey=C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU5DE2nQ9nDuVTqobD4b8mGGyPMbIZnqyMsEcaGQy67XIw/Jw==;';
const root = join(__dirname, '..', '..');

const APP = `
const { app, input, output } = require('@azure/functions');
const connection = 'AzureWebJobsStorage';

app.http('settings', { methods: ['GET'], authLevel: 'anonymous',
  handler: async () => ({ jsonBody: { storage: process.env.AzureWebJobsStorage, cosmos: process.env.Catalogue } }) });

const orders = output.storageQueue({ queueName: 'orders', connection });
app.http('enqueue', { methods: ['POST'], authLevel: 'anonymous', extraOutputs: [orders],
  handler: async (request, context) => {
    const body = await request.json();
    context.extraOutputs.set(orders, body.messages);
    if (body.fail) throw new Error('failed after setting the output');
    return { status: 202 };
  } });

const original = input.storageBlob({ path: 'inputs/{queueTrigger}.txt', connection, dataType: 'string' });
app.storageQueue('shout', { queueName: 'jobs', connection, extraInputs: [original],
  return: output.storageBlob({ path: 'results/{queueTrigger}.txt', connection }),
  handler: async (message, context) => String(context.extraInputs.get(original)).toUpperCase() });

const person = input.table({ tableName: 'people', partitionKey: '{family}', rowKey: '{name}', connection });
app.http('person', { methods: ['GET'], route: 'people/{family}/{name}', authLevel: 'anonymous', extraInputs: [person],
  handler: async (request, context) => {
    const entity = context.extraInputs.get(person);
    return entity ? { jsonBody: entity } : { status: 404 };
  } });
const family = input.table({ tableName: 'people', partitionKey: '{family}', filter: "Age gt 3", take: 2, connection });
app.http('family', { methods: ['GET'], route: 'people/{family}', authLevel: 'anonymous', extraInputs: [family],
  handler: async (request, context) => ({ jsonBody: context.extraInputs.get(family) }) });
app.http('addPerson', { methods: ['POST'], route: 'people', authLevel: 'anonymous',
  return: output.table({ tableName: 'people', connection }),
  handler: async (request) => request.json() });

const item = input.cosmosDB({ databaseName: 'shop', containerName: 'items', id: '{id}', partitionKey: '{id}', connection: 'Catalogue' });
app.http('item', { methods: ['GET'], route: 'items/{id}', authLevel: 'anonymous', extraInputs: [item],
  handler: async (request, context) => {
    const found = context.extraInputs.get(item);
    return found ? { jsonBody: found } : { status: 404 };
  } });
const byKind = input.cosmosDB({ databaseName: 'shop', containerName: 'items', sqlQuery: 'SELECT c.id FROM c WHERE c.kind = {Query.kind}', connection: 'Catalogue' });
app.http('itemsOfKind', { methods: ['GET'], route: 'kinds', authLevel: 'anonymous', extraInputs: [byKind],
  handler: async (request, context) => ({ jsonBody: context.extraInputs.get(byKind) }) });
const items = output.cosmosDB({ databaseName: 'shop', containerName: 'items', createIfNotExists: true, partitionKey: '/id', connection: 'Catalogue' });
app.http('addItems', { methods: ['POST'], route: 'items', authLevel: 'anonymous', extraOutputs: [items],
  handler: async (request, context) => {
    context.extraOutputs.set(items, await request.json());
    return { status: 201 };
  } });
`;

function writeApp(dir: string, code: string): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'bindings-app', main: 'index.js' }));
  writeFileSync(join(dir, 'host.json'), JSON.stringify({ version: '2.0', extensions: { queues: { maxPollingInterval: '00:00:01' } } }));
  writeFileSync(
    join(dir, 'local.settings.json'),
    JSON.stringify({ IsEncrypted: false, Values: { AzureWebJobsStorage: 'UseDevelopmentStorage=true', Catalogue: EMULATOR } }),
  );
  writeFileSync(join(dir, 'index.js'), code);
}

async function eventually<T>(read: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe('the devhost carries out input and output bindings as the host does', () => {
  const appDir = join(root, 'test-artifacts', 'apps', `bindings-${process.pid}`);
  let devhost: DevhostProcess;
  let storage: string;
  let cosmos: CosmosClient;

  beforeAll(async () => {
    writeApp(appDir, APP);
    devhost = await startDevhostProcess({ args: ['--app', appDir, '--quiet'] });
    const settings = (await (await fetch(`${devhost.url}/api/settings`)).json()) as { storage: string; cosmos: string };
    storage = settings.storage;
    cosmos = new CosmosClient(settings.cosmos);
  }, 60_000);

  afterAll(async () => {
    cosmos.dispose();
    await devhost.stop();
    rmSync(appDir, { recursive: true, force: true });
  });

  it('queue output: one message per array element, base64 as host.json defaults, and none when the function fails', async () => {
    const queue = QueueServiceClient.fromConnectionString(storage).getQueueClient('orders');
    const post = (body: unknown) => fetch(`${devhost.url}/api/enqueue`, { method: 'POST', body: JSON.stringify(body) });
    expect((await post({ messages: ['plain text', { sku: 'a1', quantity: 2 }] })).status).toBe(202);
    expect((await post({ messages: ['never sent'], fail: true })).status).toBe(500);

    const { receivedMessageItems } = await queue.receiveMessages({ numberOfMessages: 32 });
    const texts = receivedMessageItems.map((message) => Buffer.from(message.messageText, 'base64').toString('utf8'));
    expect(texts).toEqual(['plain text', JSON.stringify({ sku: 'a1', quantity: 2 })]);
  });

  it('blob input and return blob output, their paths bound to {queueTrigger}', async () => {
    const blobs = BlobServiceClient.fromConnectionString(storage);
    const inputs = blobs.getContainerClient('inputs');
    await inputs.createIfNotExists();
    await inputs.getBlockBlobClient('greeting.txt').upload('hello there', 11);
    const jobs = QueueServiceClient.fromConnectionString(storage).getQueueClient('jobs');
    await jobs.createIfNotExists();
    await jobs.sendMessage(Buffer.from('greeting').toString('base64'));

    const written = await eventually(async () => {
      const blob = blobs.getContainerClient('results').getBlobClient('greeting.txt');
      return (await blob.exists()) ? (await blob.downloadToBuffer()).toString('utf8') : undefined;
    });
    expect(written).toBe('HELLO THERE');
  });

  it('table input: one entity by partition and row key from the route, 404 when missing; a filtered partition up to take', async () => {
    const table = TableClient.fromConnectionString(storage, 'people', { allowInsecureConnection: true });
    await table.createTable();
    for (const [name, age] of [
      ['ada', 6],
      ['bo', 2],
      ['cy', 9],
      ['di', 11],
    ] as const)
      await table.createEntity({ partitionKey: 'lovelace', rowKey: name, Age: age });

    const one = await fetch(`${devhost.url}/api/people/lovelace/ada`);
    expect(one.status).toBe(200);
    expect(await one.json()).toMatchObject({ PartitionKey: 'lovelace', RowKey: 'ada', Age: 6 });
    expect((await fetch(`${devhost.url}/api/people/lovelace/nobody`)).status).toBe(404);

    const older = (await (await fetch(`${devhost.url}/api/people/lovelace`)).json()) as { RowKey: string }[];
    expect(older.map((entity) => entity.RowKey)).toEqual(['ada', 'cy']);
  });

  it('table output creates the entity, and a second one with the same keys fails as in Azure (409: nothing replaced)', async () => {
    const add = (body: unknown) => fetch(`${devhost.url}/api/people`, { method: 'POST', body: JSON.stringify(body) });
    expect((await add({ PartitionKey: 'hopper', RowKey: 'grace', Age: 7 })).status).toBe(200);
    expect((await add({ PartitionKey: 'hopper', RowKey: 'grace', Age: 99 })).status).toBe(500);
    const table = TableClient.fromConnectionString(storage, 'people', { allowInsecureConnection: true });
    expect(await table.getEntity('hopper', 'grace')).toMatchObject({ Age: 7 });
  });

  it('Cosmos DB output (creating the container) and input by id and by a parameterised query', async () => {
    const post = await fetch(`${devhost.url}/api/items`, {
      method: 'POST',
      body: JSON.stringify([
        { id: 'kite', kind: 'toy' },
        { id: 'pear', kind: 'fruit' },
        { id: 'yoyo', kind: 'toy' },
      ]),
    });
    expect(post.status).toBe(201);
    const { resources } = await cosmos.database('shop').container('items').items.readAll().fetchAll();
    expect(resources.map((resource) => resource.id).sort()).toEqual(['kite', 'pear', 'yoyo']);

    expect(await (await fetch(`${devhost.url}/api/items/kite`)).json()).toMatchObject({ id: 'kite', kind: 'toy' });
    expect((await fetch(`${devhost.url}/api/items/none`)).status).toBe(404);
    // The query's value is a parameter: a quote in it cannot change the query.
    const toys = (await (await fetch(`${devhost.url}/api/kinds?kind=toy`)).json()) as { id: string }[];
    expect(toys.map((toy) => toy.id).sort()).toEqual(['kite', 'yoyo']);
    expect(await (await fetch(`${devhost.url}/api/kinds?kind=${encodeURIComponent("toy' OR '1'='1")}`)).json()).toEqual([]);
  });
});

describe('a binding the devhost cannot serve', () => {
  it('stops start-up naming the function and the binding, instead of dropping it', () => {
    const appDir = join(root, 'test-artifacts', 'apps', `unserved-${process.pid}`);
    writeApp(
      appDir,
      [
        "const { app, output } = require('@azure/functions');",
        "const bus = output.serviceBusQueue({ queueName: 'q', connection: 'Bus' });",
        "app.http('send', { authLevel: 'anonymous', extraOutputs: [bus], handler: async () => ({ body: 'sent?' }) });",
      ].join('\n'),
    );
    const dataDir = mkdtempSync(join(tmpdir(), 'plannr-devhost-'));
    try {
      const run = spawnSync(process.execPath, [join(root, 'dist', 'main.js'), '--app', appDir, '--port', '0', '--data-dir', dataDir], {
        encoding: 'utf8',
        timeout: 30_000,
      });
      expect(run.status).not.toBe(0);
      expect(run.stdout + run.stderr).toMatch(/cannot serve the serviceBus output binding "\w+" of function "send"/);
    } finally {
      rmSync(appDir, { recursive: true, force: true });
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
