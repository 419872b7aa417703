/**
 * The devhost's Azurite under supervision: a child that dies is started again on the same ports and
 * location (the connection string stays valid), and what it acknowledged before it died, even by
 * SIGKILL, is still there (write-through persistence, azuriteWriteThrough.ts).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TableClient } from '@azure/data-tables';
import { QueueClient } from '@azure/storage-queue';
import type { Logger } from '../../src/logger';
import { superviseAzurite, type SupervisedAzurite } from '../../src/storage/azuriteSupervisor';

const folders: string[] = [];
const running: SupervisedAzurite[] = [];
afterAll(async () => {
  await Promise.all(running.map((azurite) => azurite.stop()));
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
});

function recordingLogger(): Logger & { readonly lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    info: (message) => lines.push(message),
    warn: (message) => lines.push(message),
    error: (message) => lines.push(message),
    functionLog: () => undefined,
  };
}

async function waitUntil(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('superviseAzurite', () => {
  it.each(['SIGKILL', 'SIGTERM'] as const)(
    'restarts a child ended by %s on the same ports, keeping every acknowledged write',
    async (signal) => {
      const folder = mkdtempSync(join(tmpdir(), 'azurite-supervised-'));
      folders.push(folder);
      const logger = recordingLogger();
      const pidFile = join(folder, 'azurite.pid');
      const azurite = await superviseAzurite({ location: join(folder, 'data'), logger, pidFile, restartDelayMs: 100 });
      running.push(azurite);
      const firstPid = azurite.pid;
      expect(Number(readFileSync(pidFile, 'utf8'))).toBe(firstPid);

      // Acknowledged writes, then the child dies at once (well inside Azurite's own 5 s save interval).
      const queue = new QueueClient(azurite.connectionString, 'supervised');
      await queue.create();
      await queue.sendMessage('kept');
      const table = TableClient.fromConnectionString(azurite.connectionString, 'supervised', { allowInsecureConnection: true });
      await table.createTable();
      await table.createEntity({ partitionKey: 'p', rowKey: 'r', value: 'kept' });
      process.kill(firstPid, signal);

      await waitUntil(() => azurite.pid !== firstPid && azurite.up, 30_000);
      expect(azurite.restarts).toBe(1);
      expect(Number(readFileSync(pidFile, 'utf8'))).toBe(azurite.pid);
      // SIGTERM: Azurite closes (saving its data) and the child ends normally.
      const how = signal === 'SIGKILL' ? 'signal SIGKILL' : 'code 0';
      expect(logger.lines.join('\n')).toMatch(
        new RegExp(`Azurite \\(pid ${firstPid}\\) exited unexpectedly \\(${how}\\); restarting it .* on the same ports`),
      );
      expect(logger.lines.join('\n')).toMatch(/Azurite is back \(pid \d+, restart 1\) after \d+ ms down/);

      // Same connection string, same data.
      const { receivedMessageItems } = await queue.receiveMessages();
      expect(receivedMessageItems.map((message) => message.messageText)).toEqual(['kept']);
      expect(await table.getEntity('p', 'r')).toMatchObject({ value: 'kept' });

      await azurite.stop();
      expect(existsSync(pidFile)).toBe(false);
    },
    60_000,
  );

  it('does not restart a child that stop() ended', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'azurite-supervised-'));
    folders.push(folder);
    const logger = recordingLogger();
    const azurite = await superviseAzurite({ location: join(folder, 'data'), logger, restartDelayMs: 50 });
    await azurite.stop();
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(azurite.restarts).toBe(0);
    expect(logger.lines.join('\n')).not.toMatch(/exited unexpectedly/);
  }, 30_000);
});
