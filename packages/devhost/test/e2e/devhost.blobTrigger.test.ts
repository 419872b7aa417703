import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BlobServiceClient } from '@azure/storage-blob';
import { startAzurite } from '../../src/storage/azurite';
import { startDevhostProcess, type DevhostProcess } from '../support/devhostProcess';

/**
 * A plain Functions app (no set-up hook) with a blob-triggered function, run by `devhost --app DIR`:
 * a blob uploaded to the devhost's Azurite runs the function once, and a restart of the devhost on
 * the same data runs only what changed while it was down. Written inside the repository
 * (test-artifacts/) so that its `require('@azure/functions')` finds the repository's node_modules.
 */
describe('the devhost serves blob triggers (--app DIR)', () => {
  const appDir = join(__dirname, '..', '..', 'test-artifacts', 'apps', `blob-${process.pid}`);
  const env = { DEVHOST_BLOB_SCAN_INTERVAL_MS: '200' };
  let devhost: DevhostProcess | undefined;

  beforeAll(() => {
    mkdirSync(appDir, { recursive: true });
    writeFileSync(join(appDir, 'package.json'), JSON.stringify({ name: 'plain-blob-app', main: 'index.js' }));
    writeFileSync(join(appDir, 'host.json'), JSON.stringify({ version: '2.0' }));
    writeFileSync(
      join(appDir, 'local.settings.json'),
      JSON.stringify({
        IsEncrypted: false,
        Values: { FUNCTIONS_WORKER_RUNTIME: 'node', AzureWebJobsStorage: 'UseDevelopmentStorage=true' },
      }),
    );
    writeFileSync(
      join(appDir, 'index.js'),
      [
        "const { app } = require('@azure/functions');",
        "const { appendFileSync } = require('node:fs');",
        "const { join } = require('node:path');",
        "app.http('storage', { methods: ['GET'], authLevel: 'anonymous', handler: async () => ({ body: process.env.AzureWebJobsStorage }) });",
        "app.storageBlob('onUpload', {",
        "  path: 'uploads/{name}.txt',",
        "  connection: 'AzureWebJobsStorage',",
        '  handler: async (blob, context) => {',
        '    context.log(`got ${context.triggerMetadata.name}`);',
        '    const line = { name: context.triggerMetadata.name, path: context.triggerMetadata.blobTrigger, text: blob.toString("utf8") };',
        "    appendFileSync(join(__dirname, 'seen.jsonl'), JSON.stringify(line) + '\\n');",
        '  },',
        '});',
        '',
      ].join('\n'),
    );
  });
  afterAll(async () => {
    try {
      await devhost?.stop();
    } finally {
      rmSync(appDir, { recursive: true, force: true });
    }
  });

  const seen = (): { name: string; path: string; text: string }[] =>
    existsSync(join(appDir, 'seen.jsonl'))
      ? readFileSync(join(appDir, 'seen.jsonl'), 'utf8')
          .trim()
          .split('\n')
          .map((line) => JSON.parse(line) as { name: string; path: string; text: string })
      : [];

  async function until(accept: () => boolean, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!accept()) {
      if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms; seen: ${JSON.stringify(seen())}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  it('runs the function once for an uploaded blob that matches its path, with the blob and its name', async () => {
    devhost = await startDevhostProcess({ args: ['--app', appDir], env });
    const connection = await (await fetch(`${devhost.url}/api/storage`)).text();
    const uploads = BlobServiceClient.fromConnectionString(connection).getContainerClient('uploads');
    await uploads.createIfNotExists();
    await uploads.getBlockBlobClient('hello.txt').upload('hi there', 8);
    await uploads.getBlockBlobClient('changed.txt').upload('v1', 2);
    await uploads.getBlockBlobClient('ignored.md').upload('not a .txt', 10);

    await until(() => seen().length === 2);
    await new Promise((resolve) => setTimeout(resolve, 1000)); // several scans: nothing more runs
    expect(seen().sort((a, b) => a.name.localeCompare(b.name))).toEqual([
      { name: 'changed', path: 'uploads/changed.txt', text: 'v1' },
      { name: 'hello', path: 'uploads/hello.txt', text: 'hi there' },
    ]);
    expect(devhost.output()).toContain(
      "Executing 'Functions.onUpload' (Reason='New blob detected(LogsAndContainerScan): uploads/hello.txt'",
    );
    expect(devhost.output()).toMatch(/got hello/);
  });

  it('after a restart on the same data, runs only the blobs that changed or arrived while it was down', async () => {
    if (!devhost) throw new Error('the first test starts the devhost');
    const dataDir = devhost.dataDir;
    expect(await devhost.stop()).toBe(0);
    devhost = undefined;

    // While the devhost is down, its storage is changed through an Azurite of our own on the same data.
    const storage = await startAzurite({ location: join(dataDir, 'azurite') });
    try {
      const uploads = BlobServiceClient.fromConnectionString(storage.connectionString).getContainerClient('uploads');
      await uploads.getBlockBlobClient('changed.txt').upload('v2', 2);
      await uploads.getBlockBlobClient('later.txt').upload('while away', 10);
    } finally {
      await storage.stop();
    }

    devhost = await startDevhostProcess({ args: ['--app', appDir], env, dataDir });
    await until(() => seen().length === 4);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(
      seen()
        .slice(2)
        .sort((a, b) => a.name.localeCompare(b.name)),
    ).toEqual([
      { name: 'changed', path: 'uploads/changed.txt', text: 'v2' },
      { name: 'later', path: 'uploads/later.txt', text: 'while away' },
    ]);
    expect(devhost.output()).not.toContain('uploads/hello.txt');
  });
});
