import { cpSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { BlobServiceClient } from '@azure/storage-blob';
import { startAzurite } from '../../src/storage/azurite';
import { startDevhostProcess, type DevhostProcess } from '../support/devhostProcess';

/**
 * A plain Functions app (no set-up hook) with a blob-triggered function (test/fixtures/apps/blob), run
 * by `devhost --app DIR`: a blob uploaded to the devhost's Azurite runs the function once, and a
 * restart of the devhost on the same data runs only what changed while it was down. Copied inside the
 * repository (test-artifacts/), where it writes what it saw, so that its `require('@azure/functions')`
 * finds the repository's node_modules.
 */
describe('the devhost serves blob triggers (--app DIR)', () => {
  const fixture = join(__dirname, '..', 'fixtures', 'apps', 'blob');
  const appDir = join(__dirname, '..', '..', 'test-artifacts', 'apps', `blob-${process.pid}`);
  const env = { DEVHOST_BLOB_SCAN_INTERVAL_MS: '200' };
  let devhost: DevhostProcess | undefined;

  beforeAll(() => {
    cpSync(fixture, appDir, { recursive: true });
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
