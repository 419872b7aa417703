/**
 * Azurite as the devhost runs it: a child process on free ports, reachable with the dev-account
 * connection string, persistent when given a location, and never left behind — not even when the
 * process that started it is killed with SIGKILL.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { QueueServiceClient } from '@azure/storage-queue';
import { startAzurite, type RunningAzurite } from '../../src/storage/azurite';
import { isRunning } from '../support/cliProcess';

const root = join(__dirname, '..', '..');
const started: RunningAzurite[] = [];
const throwaways: ChildProcessWithoutNullStreams[] = [];
const folders: string[] = [];

afterAll(async () => {
  for (const process of throwaways) process.kill('SIGKILL');
  await Promise.all(started.map((azurite) => azurite.stop()));
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
});

async function start(options: Parameters<typeof startAzurite>[0]): Promise<RunningAzurite> {
  const azurite = await startAzurite(options);
  started.push(azurite);
  return azurite;
}

function tempFolder(): string {
  const folder = mkdtempSync(join(tmpdir(), 'azurite-test-'));
  folders.push(folder);
  return folder;
}

async function waitUntil(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (condition()) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return condition();
}

async function listens(port: number): Promise<boolean> {
  try {
    await fetch(`http://127.0.0.1:${port}/devstoreaccount1?comp=list`, { signal: AbortSignal.timeout(2000) });
    return true;
  } catch {
    return false;
  }
}

/** A separate node process that starts Azurite through the devhost module and reports the child's pid. */
async function startThrowawayHost(options: {
  location?: string;
}): Promise<{ host: ChildProcessWithoutNullStreams; azuritePid: number; connectionString: string }> {
  const module = JSON.stringify(join(root, 'src', 'storage', 'azurite.ts'));
  const code = `
    require(${module}).startAzurite(${JSON.stringify(options.location ? { location: options.location } : { inMemory: true })}).then(
      (azurite) => { console.log(JSON.stringify({ pid: azurite.pid, connectionString: azurite.connectionString })); setInterval(() => {}, 60000); },
      (error) => { console.error(error); process.exit(1); });`;
  const host = spawn(process.execPath, ['-r', require.resolve('ts-node/register/transpile-only'), '-e', code], {
    cwd: root,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  throwaways.push(host);
  let stderr = '';
  host.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: host.stdout }).once('line', resolve);
    host.once('exit', (code) => reject(new Error(`throwaway host exited (${code ?? 'signal'}): ${stderr}`)));
  });
  const { pid, connectionString } = JSON.parse(line) as { pid: number; connectionString: string };
  return { host, azuritePid: pid, connectionString };
}

describe('startAzurite', () => {
  it('runs Azurite in a child process on free ports, reachable with the dev-account connection string', async () => {
    const azurite = await start({ inMemory: true });
    expect(azurite.pid).not.toBe(process.pid);
    expect(isRunning(azurite.pid)).toBe(true);
    expect(new Set([azurite.blobPort, azurite.queuePort, azurite.tablePort]).size).toBe(3);
    expect(azurite.connectionString).toBe(
      'DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;' +
        'AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;' +
        `BlobEndpoint=http://127.0.0.1:${azurite.blobPort}/devstoreaccount1;` +
        `QueueEndpoint=http://127.0.0.1:${azurite.queuePort}/devstoreaccount1;` +
        `TableEndpoint=http://127.0.0.1:${azurite.tablePort}/devstoreaccount1;`,
    );
    const queue = QueueServiceClient.fromConnectionString(azurite.connectionString).getQueueClient('smoke');
    await queue.create();
    await queue.sendMessage('hello');
    expect((await queue.peekMessages()).peekedMessageItems.map((message) => message.messageText)).toEqual(['hello']);
    expect(await listens(azurite.blobPort)).toBe(true);
    expect(await listens(azurite.tablePort)).toBe(true);

    await azurite.stop();
    expect(isRunning(azurite.pid)).toBe(false);
    expect(await listens(azurite.queuePort)).toBe(false);
    await azurite.stop(); // idempotent
  });

  it('keeps data across a restart when given a location', async () => {
    const location = join(tempFolder(), 'nested', 'azurite');
    const first = await start({ location });
    const firstQueue = QueueServiceClient.fromConnectionString(first.connectionString).getQueueClient('kept');
    await firstQueue.create();
    await firstQueue.sendMessage('survives a restart');
    await first.stop();

    const second = await start({ location });
    const secondQueue = QueueServiceClient.fromConnectionString(second.connectionString).getQueueClient('kept');
    expect((await secondQueue.peekMessages()).peekedMessageItems.map((message) => message.messageText)).toEqual(['survives a restart']);
    await second.stop();
  });

  it('keeps nothing in memory mode', async () => {
    const first = await start({ inMemory: true });
    await QueueServiceClient.fromConnectionString(first.connectionString).getQueueClient('gone').create();
    await first.stop();
    const second = await start({});
    expect(await QueueServiceClient.fromConnectionString(second.connectionString).getQueueClient('gone').exists()).toBe(false);
    await second.stop();
  });

  it('refuses a location together with inMemory', async () => {
    await expect(startAzurite({ location: tempFolder(), inMemory: true })).rejects.toThrow(/not both/);
  });

  it('leaves no orphan when the process that started it is killed with SIGKILL', async () => {
    const { host, azuritePid, connectionString } = await startThrowawayHost({});
    expect(isRunning(azuritePid)).toBe(true);
    const queuePort = Number(/QueueEndpoint=http:\/\/127\.0\.0\.1:(\d+)/.exec(connectionString)?.[1]);
    expect(await listens(queuePort)).toBe(true);

    host.kill('SIGKILL');
    expect(await waitUntil(() => !isRunning(azuritePid), 5000)).toBe(true);
    expect(await listens(queuePort)).toBe(false);
  });

  it('flushes a persistent location when the process that started it dies', async () => {
    const location = tempFolder();
    const { host, azuritePid, connectionString } = await startThrowawayHost({ location });
    const queue = QueueServiceClient.fromConnectionString(connectionString).getQueueClient('orphaned');
    await queue.create();
    await queue.sendMessage('written just before the host died');

    host.kill('SIGKILL');
    expect(await waitUntil(() => !isRunning(azuritePid), 5000)).toBe(true);

    const restarted = await start({ location });
    const again = QueueServiceClient.fromConnectionString(restarted.connectionString).getQueueClient('orphaned');
    expect((await again.peekMessages()).peekedMessageItems.map((message) => message.messageText)).toEqual([
      'written just before the host died',
    ]);
  });
});
