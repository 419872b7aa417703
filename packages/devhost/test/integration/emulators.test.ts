import { AzureKeyCredential, EventGridPublisherClient, type SendEventGridEventInput } from '@azure/eventgrid';
import { CosmosClient } from '@azure/cosmos';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulators, type RunningEmulators } from '../../src/emulators';
import type { Logger } from '../../src/logger';

/**
 * `devhost emulators` in process, for the fixture app test/fixtures/apps/emulators (two
 * eventGrid-triggered functions, one filtered, one disabled; a set-up hook that creates its
 * containers): every port free, the topic delivering to a recording server that answers as each test
 * asks, with a short retry schedule.
 */
const app = join(__dirname, '..', 'fixtures', 'apps', 'emulators');
const TOPIC_KEY = 'local-event-grid-topic-key';

interface Delivery {
  readonly url: URL;
  readonly headers: IncomingHttpHeaders;
  readonly body: unknown;
}

const deliveries: Delivery[] = [];
const logs: string[] = [];
const logger: Logger = {
  info: (message) => logs.push(message),
  warn: (message) => logs.push(message),
  error: (message) => logs.push(message),
  functionLog: () => {},
};
/** Statuses the recorder answers, in turn, per function; 200 once they run out. */
const answers = new Map<string, number[]>();
let recorder: Server;
let recorderUrl: string;
let emulators: RunningEmulators;
let dataDir: string;
/** This worker's environment before the emulators started. */
let environmentBefore: Record<string, string | undefined>;

beforeAll(async () => {
  environmentBefore = { ...process.env };
  recorder = createServer((request, response) => {
    let text = '';
    request.on('data', (chunk: Buffer) => (text += chunk.toString()));
    request.on('end', () => {
      const url = new URL(request.url ?? '/', 'http://127.0.0.1');
      deliveries.push({ url, headers: request.headers, body: JSON.parse(text) as unknown });
      const status = answers.get(url.searchParams.get('functionName') ?? '')?.shift() ?? 200;
      response.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => recorder.listen(0, '127.0.0.1', resolve));
  recorderUrl = `http://127.0.0.1:${(recorder.address() as AddressInfo).port}/`;
  dataDir = mkdtempSync(join(tmpdir(), 'devhost-emulators-'));
  emulators = await startEmulators({
    appRoot: app,
    dataDir,
    ports: { blob: 0, queue: 0, table: 0, cosmos: 0, eventGrid: 0 },
    deliverTo: recorderUrl,
    webhookKey: 'the-webhook-key',
    logger,
    env: {},
    retry: { baseDelayMs: 20, maxDelayMs: 50, maxDeliveryAttempts: 4 },
  });
}, 60_000);

afterAll(async () => {
  await emulators.stop();
  await new Promise<void>((resolve) => recorder.close(() => resolve()));
  rmSync(dataDir, { recursive: true, force: true });
});

beforeEach(() => {
  deliveries.length = 0;
  answers.clear();
});

function publisher(): EventGridPublisherClient<'EventGrid'> {
  return new EventGridPublisherClient(emulators.eventGrid.topicEndpoint, 'EventGrid', new AzureKeyCredential(TOPIC_KEY), {
    allowInsecureConnection: true,
    retryOptions: { maxRetries: 0 },
  });
}

function sampleEvent(eventType: string): SendEventGridEventInput<unknown> & { id: string } {
  return {
    id: randomUUID(),
    eventType,
    subject: 'orders/1',
    dataVersion: '1.0',
    eventTime: new Date('2026-12-01T09:00:00Z'),
    data: { n: 1 },
  };
}

const to = (functionName: string) => deliveries.filter((delivery) => delivery.url.searchParams.get('functionName') === functionName);

describe('devhost emulators: the settings func start needs, by the app’s own names', () => {
  it('points the development storage, the Cosmos DB emulator and the topic at the emulators, with what the set-up hook adds', () => {
    const { storage, cosmos, eventGrid } = emulators;
    expect(emulators.settings).toEqual({
      // Not on Azurite's own ports, so not the shorthand: the connection string.
      AzureWebJobsStorage: storage.connectionString,
      Orders: cosmos.connectionString,
      ORDERS_DATABASE: 'contoso',
      ORDERS_TOPIC_ENDPOINT: eventGrid.topicEndpoint,
      ORDERS_TOPIC_KEY: TOPIC_KEY,
    });
    expect(storage.connectionString).toContain(`BlobEndpoint=http://127.0.0.1:${storage.blobPort}/devstoreaccount1`);
    expect(cosmos.connectionString).toMatch(new RegExp(`^AccountEndpoint=http://127\\.0\\.0\\.1:${cosmos.port}/;AccountKey=`));
    expect(eventGrid.topicEndpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api\/events$/);
    expect(emulators.settingsFile).toBe(join(app, 'local.settings.json'));
    expect(emulators.differingSettings).toEqual(['AzureWebJobsStorage', 'Orders', 'ORDERS_DATABASE', 'ORDERS_TOPIC_ENDPOINT']);
  });

  it('has the app’s containers created by its set-up hook, the lease container included', async () => {
    const client = new CosmosClient({
      endpoint: `http://127.0.0.1:${emulators.cosmos.port}/`,
      key: 'any',
      connectionPolicy: { enableEndpointDiscovery: false },
    });
    try {
      const { resources } = await client.database('contoso').containers.readAll().fetchAll();
      expect(resources.map((container) => container.id).sort()).toEqual(['leases', 'orders']);
    } finally {
      client.dispose();
    }
  });

  it('leaves the environment of the process that started them as it was: the app had its settings only while it loaded', () => {
    expect({ ...process.env }).toEqual(environmentBefore);
    expect(process.env.ORDERS_DATABASE).toBeUndefined();
  });

  it('subscribes each enabled eventGrid-triggered function at the host’s webhook', () => {
    expect(emulators.eventGrid.subscriptions).toEqual([
      { functionName: 'everything', webhookUrl: `${recorderUrl}runtime/webhooks/eventgrid?functionName=everything` },
      { functionName: 'orderPlaced', webhookUrl: `${recorderUrl}runtime/webhooks/eventgrid?functionName=orderPlaced` },
    ]);
  });
});

describe('devhost emulators: delivery to the host’s Event Grid webhook', () => {
  it('posts each event on its own, as Event Grid does, to every subscription whose filter it passes', async () => {
    const placed = sampleEvent('Contoso.OrderPlaced');
    const shipped = sampleEvent('Contoso.OrderShipped');
    await publisher().send([placed, shipped]);
    await emulators.eventGrid.idle();

    expect(
      to('everything')
        .map((delivery) => (delivery.body as { id: string }[])[0]?.id)
        .sort(),
    ).toEqual([placed.id, shipped.id].sort());
    expect(to('orderPlaced')).toHaveLength(1);
    const [delivery] = to('orderPlaced');
    expect(delivery?.url.pathname).toBe('/runtime/webhooks/eventgrid');
    expect(delivery?.url.searchParams.get('code')).toBe('the-webhook-key');
    expect(delivery?.headers).toMatchObject({
      'aeg-event-type': 'Notification',
      'aeg-subscription-name': 'ORDERPLACED',
      'aeg-delivery-count': '0',
      'aeg-data-version': '1.0',
      'aeg-metadata-version': '1',
      'content-type': 'application/json; charset=utf-8',
    });
    // An array of one event, with what the service stamps on it.
    expect(delivery?.body).toEqual([
      {
        id: placed.id,
        topic: expect.stringMatching(/\/providers\/Microsoft\.EventGrid\/topics\/emulators$/),
        subject: 'orders/1',
        eventType: 'Contoso.OrderPlaced',
        eventTime: '2026-12-01T09:00:00.000Z',
        data: { n: 1 },
        dataVersion: '1.0',
        metadataVersion: '1',
      },
    ]);
  });

  it('posts a CloudEvent as one structured application/cloudevents+json body', async () => {
    const event = { specversion: '1.0', id: randomUUID(), type: 'Contoso.OrderPlaced', source: '/contoso', data: { n: 2 } };
    const answer = await fetch(emulators.eventGrid.topicEndpoint, {
      method: 'POST',
      headers: { 'aeg-sas-key': TOPIC_KEY, 'content-type': 'application/cloudevents+json; charset=utf-8' },
      body: JSON.stringify(event),
    });
    expect(answer.status).toBe(200);
    await emulators.eventGrid.idle();
    expect(to('orderPlaced').map((delivery) => [delivery.headers['content-type'], delivery.body])).toEqual([
      ['application/cloudevents+json; charset=utf-8', event],
    ]);
  });

  it('retries a failed delivery with backoff until the webhook takes it, counting the attempts', async () => {
    answers.set('orderPlaced', [500, 503]);
    const before = emulators.eventGrid.stats();
    await publisher().send([sampleEvent('Contoso.OrderPlaced')]);
    await emulators.eventGrid.idle();
    expect(to('orderPlaced').map((delivery) => delivery.headers['aeg-delivery-count'])).toEqual(['0', '1', '2']);
    expect(emulators.eventGrid.stats().failedAttempts - before.failedAttempts).toBe(2);
    expect(emulators.eventGrid.stats().subscriptions.orderPlaced?.delivered).toBe((before.subscriptions.orderPlaced?.delivered ?? 0) + 1);
  });

  it('dead-letters at once what the webhook refuses as Event Grid does not retry (401), and what keeps failing after the last attempt', async () => {
    answers.set('orderPlaced', [401]);
    answers.set('everything', [500, 500, 500, 500]);
    const event = sampleEvent('Contoso.OrderPlaced');
    await publisher().send([event]);
    await emulators.eventGrid.idle();
    expect(to('orderPlaced')).toHaveLength(1);
    expect(to('everything')).toHaveLength(4);
    const record = (name: string) =>
      JSON.parse(readFileSync(join(dataDir, 'deadletter', name, `${event.id}.json`), 'utf8')) as Record<string, unknown>;
    expect(record('orderPlaced')).toMatchObject({ deadLetterReason: 'NonRetryableError', deliveryAttempts: 1, lastHttpStatusCode: 401 });
    expect(record('everything')).toMatchObject({
      deadLetterReason: 'MaxDeliveryAttemptsExceeded',
      deliveryAttempts: 4,
      lastHttpStatusCode: 500,
    });
    expect(logs).toContainEqual(expect.stringMatching(/orderPlaced's webhook refused the delivery \(401\): .*--webhook-key/));
    // The webhook's key stays out of what is kept and logged.
    expect(JSON.stringify(record('orderPlaced'))).not.toContain('the-webhook-key');
    expect(logs.join('\n')).not.toContain('the-webhook-key');
  });

  it('keeps its data (the topic journal, Azurite, Cosmos DB, dead letters) under its own data folder, apart from the devhost’s', () => {
    expect(existsSync(join(dataDir, 'eventgrid'))).toBe(true);
    expect(readdirSync(dataDir).sort()).toEqual(expect.arrayContaining(['azurite', 'cosmos', 'deadletter', 'eventgrid']));
  });
});

describe('devhost emulators: ports', () => {
  it('refuses to start on a port something else holds, naming it, since the settings name the ports', async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const port = (holder.address() as AddressInfo).port;
    try {
      await expect(
        startEmulators({
          appRoot: app,
          dataDir: join(dataDir, 'second'),
          ports: { blob: 0, queue: 0, table: 0, cosmos: port, eventGrid: 0 },
          logger,
        }),
      ).rejects.toThrow(new RegExp(`Port ${port} \\(Cosmos DB \\(--cosmos-port\\)\\) is taken`));
    } finally {
      await new Promise<void>((resolve) => holder.close(() => resolve()));
    }
  });
});
