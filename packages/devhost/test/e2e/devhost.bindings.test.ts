import { CosmosClient } from '@azure/cosmos';
import { TableClient } from '@azure/data-tables';
import { BlobServiceClient } from '@azure/storage-blob';
import { QueueServiceClient } from '@azure/storage-queue';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDevhostProcess, type DevhostProcess } from '../support/devhostProcess';

/**
 * Input and output bindings beside the trigger, in an app written for Core Tools
 * (test/fixtures/apps/bindings) and run with `devhost --app DIR`: each does what it does under the
 * host, checked by reading Azurite and the local Cosmos DB endpoint directly, never through the app.
 */
const root = join(__dirname, '..', '..');

/**
 * Copies the app test/fixtures/apps/<name> to `dir` (in test-artifacts/): what runs there writes nothing into the
 * sources, and its `require('@azure/functions')` still finds the repository's node_modules.
 */
function copyApp(name: string, dir: string): void {
  cpSync(join(__dirname, '..', 'fixtures', 'apps', name), dir, { recursive: true });
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
    copyApp('bindings', appDir);
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
    copyApp('unserved', appDir);
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
