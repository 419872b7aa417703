import { CosmosClient } from '@azure/cosmos';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isRunning } from '../support/cliProcess';
import { freePort, startEmulatorsProcess, type EmulatorsProcess } from '../support/emulatorsProcess';
import { eventually } from '../support/eventually';
import { startFixtureApp, type RunningFixtureApp } from '../support/fixtureApps';

/**
 * `devhost emulators` as a command, for an app written for Core Tools (test/fixtures/apps/emulators),
 * with the devhost standing in for `func start` (Core Tools cannot run here): the emulators print the
 * settings, the app's set-up hook has created its containers, and the topic delivers to the devhost's
 * own Event Grid webhook (with its master key) once the devhost is there, retrying until then.
 */
const app = join(__dirname, '..', 'fixtures', 'apps', 'emulators');

describe('devhost emulators (the command), delivering to a devhost in place of func start', () => {
  let emulators: EmulatorsProcess;
  let host: RunningFixtureApp | undefined;
  let port: number;
  const masterKey = randomBytes(24).toString('base64url');

  beforeAll(async () => {
    port = await freePort();
    emulators = await startEmulatorsProcess({ app, deliverTo: `http://127.0.0.1:${port}`, webhookKey: masterKey });
  });
  afterAll(async () => {
    await host?.stop();
    await emulators.stop();
  });

  const publish = async (type: string): Promise<string> => {
    const id = randomUUID();
    const answer = await fetch(emulators.settings.ORDERS_TOPIC_ENDPOINT ?? '', {
      method: 'POST',
      headers: { 'aeg-sas-key': emulators.settings.ORDERS_TOPIC_KEY ?? '', 'content-type': 'application/cloudevents+json' },
      body: JSON.stringify({ specversion: '1.0', id, type, source: '/contoso/orders', data: {} }),
    });
    expect(answer.status).toBe(200);
    return id;
  };
  const received = async () =>
    (await (await fetch(`${host?.devhost.url ?? ''}/api/received`)).json()) as { functionName: string; id: string; type: string }[];

  it('prints the settings a local.settings.json needs, by the app’s names, and which of its own differ', () => {
    expect(Object.keys(emulators.settings)).toEqual([
      'AzureWebJobsStorage',
      'Orders',
      'ORDERS_DATABASE',
      'ORDERS_TOPIC_ENDPOINT',
      'ORDERS_TOPIC_KEY',
    ]);
    expect(emulators.settings.AzureWebJobsStorage).toMatch(
      /^DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;.*BlobEndpoint=http:\/\/127\.0\.0\.1:\d+/,
    );
    expect(emulators.settings.Orders).toMatch(/^AccountEndpoint=http:\/\/127\.0\.0\.1:\d+\/;AccountKey=/);
    expect(emulators.settings.ORDERS_TOPIC_ENDPOINT).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api\/events$/);
    expect(emulators.settings.ORDERS_TOPIC_KEY).toBe('local-event-grid-topic-key');
    expect(emulators.settingsNote).toBe(
      'local.settings.json differs in AzureWebJobsStorage, Orders, ORDERS_DATABASE, ORDERS_TOPIC_ENDPOINT',
    );
    expect(emulators.output()).toMatch(/app\s+database contoso: orders, leases/);
    expect(emulators.output()).toMatch(/functions\s+3 functions, 2 triggered by Event Grid/);
    expect(emulators.output()).toContain(
      `Event Grid delivers to http://127.0.0.1:${port}/runtime/webhooks/eventgrid?functionName=everything, `,
    );
    // The master key is sent, never printed.
    expect(emulators.output()).not.toContain(masterKey);
  });

  it('has the app’s database and containers, the lease container included, at the Cosmos DB connection it printed', async () => {
    const endpoint = /AccountEndpoint=([^;]+)/.exec(emulators.settings.Orders ?? '')?.[1] ?? '';
    const client = new CosmosClient({ endpoint, key: 'any', connectionPolicy: { enableEndpointDiscovery: false } });
    try {
      const { resources } = await client.database('contoso').containers.readAll().fetchAll();
      expect(resources.map((container) => container.id).sort()).toEqual(['leases', 'orders']);
    } finally {
      client.dispose();
    }
  });

  it('retries an event published before the host is up, and delivers it to the devhost’s webhook once it is', async () => {
    const early = await publish('Contoso.OrderPlaced');
    const refused = `delivery of event ${early} to "orderPlaced" failed (attempt 1`;
    expect(
      await eventually(
        () => Promise.resolve(emulators.output()),
        (output) => output.includes(refused),
        5_000,
      ),
    ).toContain(refused);
    expect(emulators.output()).toMatch(/ECONNREFUSED/);

    // The devhost with the printed settings: it starts no storage or Cosmos DB of its own, and the app
    // keeps publishing to the emulators' topic (the set-up hook does not point it at the devhost's).
    host = await startFixtureApp('emulators', { port, env: { ...emulators.settings, DEVHOST_MASTER_KEY: masterKey } });
    expect(host.devhost.output()).toMatch(/storage\s+none started/);
    expect(host.devhost.output()).toMatch(/Cosmos DB\s+none started/);

    // Event Grid's first retry comes 5–10 s after the first failure.
    const first = await eventually(received, (events) => events.length >= 2, 20_000);
    expect(
      first
        .filter((event) => event.id === early)
        .map((event) => event.functionName)
        .sort(),
    ).toEqual(['everything', 'orderPlaced']);

    const shipped = await publish('Contoso.OrderShipped');
    const all = await eventually(received, (events) => events.some((event) => event.id === shipped), 10_000);
    expect(all.filter((event) => event.id === shipped).map((event) => event.functionName)).toEqual(['everything']);
    // The function ran before the emulators logged the 200 it answered: wait for the line.
    const delivered = new RegExp(`event ${shipped} delivered to everything \\(200`);
    expect(
      await eventually(
        () => emulators.output(),
        (output) => delivered.test(output),
        5_000,
      ),
    ).toMatch(delivered);
  }, 40_000);

  it('stops on SIGINT with everything it started, Azurite included', async () => {
    const azurite = Number(readFileSync(join(emulators.dataDir, 'azurite.pid'), 'utf8'));
    expect(isRunning(azurite)).toBe(true);
    await expect(emulators.stop('SIGINT')).resolves.toBe(0);
    expect(emulators.output()).toContain('SIGINT: stopping the emulators');
    await eventually(
      () => Promise.resolve(isRunning(azurite)),
      (running) => !running,
      5_000,
    );
    expect(isRunning(azurite)).toBe(false);
  });
});
