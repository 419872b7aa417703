/**
 * The devhost's local Cosmos endpoint restarted in place (the test control route's fault): refused
 * while down, back on the same port with everything it had acknowledged, one restart at a time. The
 * same suite for the endpoint on the caller's loop and on its own thread (the devhost's).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CosmosClient } from '@azure/cosmos';
import { localCosmosClientOptions } from '../../src/cosmos/localCosmosEndpoint';
import { startCosmosThread } from '../../src/cosmos/cosmosThread';
import { CosmosRestartInProgressError, startRestartableCosmos, type RestartableCosmos } from '../../src/cosmos/restartableCosmos';

describe.each([
  ["on the caller's event loop", startRestartableCosmos],
  ['on a thread of its own', startCosmosThread],
])('the restartable local Cosmos endpoint %s', (_where, start) => {
  let cosmos: RestartableCosmos;
  let client: CosmosClient;
  let folder: string;

  beforeAll(async () => {
    folder = mkdtempSync(join(tmpdir(), 'cosmos-restartable-'));
    cosmos = await start({ persistDir: folder });
    client = new CosmosClient(localCosmosClientOptions(cosmos));
  });
  afterAll(async () => {
    client.dispose();
    await cosmos.close();
    rmSync(folder, { recursive: true, force: true });
  });

  it('refuses connections while down, then serves the same data on the same port', async () => {
    const { database } = await client.databases.createIfNotExists({ id: 'db' });
    const { container } = await database.containers.createIfNotExists({ id: 'things', partitionKey: { paths: ['/pk'] } });
    await container.items.create({ id: 'a', pk: 'p', value: 1 });

    const restarting = cosmos.restart(500);
    await expect(cosmos.restart()).rejects.toBeInstanceOf(CosmosRestartInProgressError);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(cosmos.up).toBe(false);
    await expect(container.item('a', 'p').read()).rejects.toMatchObject({ code: 'ECONNREFUSED' });

    const restart = await restarting;
    expect(restart.downMs).toBeGreaterThanOrEqual(500);
    expect(restart.restored?.documents).toBeGreaterThanOrEqual(1);
    expect(cosmos.up).toBe(true);
    const { resource } = await container.item('a', 'p').read<{ value: number }>();
    expect(resource?.value).toBe(1);
    await container.items.create({ id: 'b', pk: 'p', value: 2 });
    expect((await container.items.query('SELECT * FROM c').fetchAll()).resources.map((item: { id: string }) => item.id).sort()).toEqual([
      'a',
      'b',
    ]);
  }, 30_000);

  it('closes for good: a restart after close is refused, and close again is harmless', async () => {
    const otherFolder = mkdtempSync(join(tmpdir(), 'cosmos-restartable-'));
    const other = await start({ persistDir: otherFolder });
    await other.close();
    expect(other.up).toBe(false);
    await expect(other.restart()).rejects.toThrow(/closed/);
    await expect(other.close()).resolves.toBeUndefined();
    rmSync(otherFolder, { recursive: true, force: true });
  });

  it('closed during a restart: the restart fails as closed, and nothing is left listening', async () => {
    const otherFolder = mkdtempSync(join(tmpdir(), 'cosmos-restartable-'));
    const other = await start({ persistDir: otherFolder });
    const restarting = other.restart(1000);
    await other.close();
    await expect(restarting).rejects.toThrow(/closed/);
    expect(other.up).toBe(false);
    await expect(fetch(other.endpoint)).rejects.toThrow();
    rmSync(otherFolder, { recursive: true, force: true });
  });
});
