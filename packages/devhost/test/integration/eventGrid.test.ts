import {
  AzureKeyCredential,
  AzureSASCredential,
  EventGridPublisherClient,
  generateSharedAccessSignature,
  type SendCloudEventInput,
  type SendEventGridEventInput,
} from '@azure/eventgrid';
import { app } from '@azure/functions';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { appendFileSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { startEventGrid, type EventGridOptions, type RunningEventGrid } from '../../src/eventGrid/eventGrid';
import { JOURNAL_FILE } from '../../src/eventGrid/journal';
import { getProgrammingModel, registeredFunctions } from '../../src/functionsCore';
import { startHttpHost, type HttpHost } from '../../src/http/httpHost';
import type { HostKeys } from '../../src/http/keys';
import { invokeFunction } from '../../src/invoke';
import type { Logger } from '../../src/logger';
import type { TriggerHostContext } from '../../src/triggers/triggerHost';

const TOPIC_KEY = 'local-event-grid-topic-key';
const keys: HostKeys = { functionKey: 'function-key-for-tests', masterKey: 'master-key-for-tests' };
const fastRetry = { maxDeliveryAttempts: 5, baseDelayMs: 10, maxDelayMs: 40 };

// The app's side: eventGrid-triggered functions, registered as the app registers them. Each records
// what it receives and then does whatever the test asks of it.
interface ReceivedEvent {
  readonly id: string;
  readonly subject?: string;
  readonly [field: string]: unknown;
}
const received = new Map<string, ReceivedEvent[]>();
const behaviour = new Map<string, (event: ReceivedEvent) => void | Promise<void>>();
const FUNCTIONS = ['everything', 'orderPlaced', 'storeInventory', 'alwaysFails', 'flaky', 'gated'] as const;
type FunctionName = (typeof FUNCTIONS)[number];
for (const name of FUNCTIONS) {
  app.eventGrid(name, {
    handler: async (event) => {
      const events = received.get(name) ?? [];
      events.push(event as unknown as ReceivedEvent);
      received.set(name, events);
      await behaviour.get(name)?.(event as unknown as ReceivedEvent);
    },
  });
}
const eventsOf = (name: FunctionName): ReceivedEvent[] => received.get(name) ?? [];
const idsOf = (name: FunctionName): string[] => eventsOf(name).map((event) => event.id);

interface Started {
  readonly eventGrid: RunningEventGrid;
  readonly http: HttpHost;
  readonly base: string;
  readonly dataDir: string;
  readonly logs: string[];
  stop(): Promise<void>;
}

const started: Started[] = [];
const folders: string[] = [];

function temporaryFolder(): string {
  const folder = mkdtempSync(join(tmpdir(), 'devhost-eventgrid-'));
  folders.push(folder);
  return folder;
}

function silentLogger(logs: string[]): Logger {
  return {
    info: (message) => logs.push(message),
    warn: (message) => logs.push(message),
    error: (message, error) => logs.push(`${message} ${error instanceof Error ? error.message : ''}`),
    functionLog: (_name, _id, level, _category, message) => logs.push(`${level}: ${message}`),
  };
}

/** The Event Grid service for some of the functions, mounted on a devhost HTTP server with no functions of its own. */
async function start(names: readonly FunctionName[], options: Partial<EventGridOptions> & { dataDir?: string } = {}): Promise<Started> {
  const { dataDir = temporaryFolder(), ...serviceOptions } = options;
  const logs: string[] = [];
  const logger = silentLogger(logs);
  const model = getProgrammingModel();
  if (!model) throw new Error('@azure/functions registered no programming model');
  const context: TriggerHostContext = {
    invoke: (registration, request, reason) => invokeFunction(model, registration, request, logger, reason),
    logger,
    settings: {},
    hostJson: {},
    dataDir,
  };
  const registrations = registeredFunctions().filter((registration) => (names as readonly string[]).includes(registration.metadata.name));
  const eventGrid = await startEventGrid(registrations, context, { topicKey: TOPIC_KEY, keys, retry: fastRetry, ...serviceOptions });
  const http = await startHttpHost(model, [], { port: 0, routePrefix: 'api', keys, corsOrigins: [] }, logger, eventGrid.routes);
  const base = `http://127.0.0.1:${(http.server.address() as AddressInfo).port}`;
  const running: Started = {
    eventGrid,
    http,
    base,
    dataDir,
    logs,
    stop: async () => {
      await eventGrid.stop();
      await http.close();
    },
  };
  started.push(running);
  return running;
}

function eventGridPublisher(
  host: Started,
  credential: AzureKeyCredential | AzureSASCredential = new AzureKeyCredential(TOPIC_KEY),
): EventGridPublisherClient<'EventGrid'> {
  return new EventGridPublisherClient(`${host.base}${host.eventGrid.topicEndpointPath}`, 'EventGrid', credential, {
    allowInsecureConnection: true,
    retryOptions: { maxRetries: 0 },
  });
}

function cloudEventPublisher(host: Started): EventGridPublisherClient<'CloudEvent'> {
  return new EventGridPublisherClient(`${host.base}${host.eventGrid.topicEndpointPath}`, 'CloudEvent', new AzureKeyCredential(TOPIC_KEY), {
    allowInsecureConnection: true,
    retryOptions: { maxRetries: 0 },
  });
}

function sampleEvent(
  eventType: string,
  subject: string,
  data: Record<string, unknown> = {},
): SendEventGridEventInput<unknown> & { id: string } {
  return { id: randomUUID(), eventType, subject, dataVersion: '1.0', eventTime: new Date('2026-11-27T09:00:00Z'), data };
}

async function waitFor(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

beforeEach(() => {
  received.clear();
  behaviour.clear();
});

afterEach(async () => {
  for (const running of started.splice(0)) await running.stop();
  for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
});

describe('the topic endpoint, published to with the real EventGridPublisherClient', () => {
  it('delivers Event Grid schema events with the topic and metadataVersion the service adds', async () => {
    const host = await start(['everything']);
    const placed = sampleEvent('Contoso.Orders.OrderPlaced', 'order-1', { orderId: '1', item: 'Widget' });
    const shipped = sampleEvent('Contoso.Orders.OrderShipped', 'order-1', { shippedAt: '2026-11-27T10:00:00Z' });
    await eventGridPublisher(host).send([placed, shipped]);
    await host.eventGrid.idle();

    expect(eventsOf('everything')).toHaveLength(2);
    expect(eventsOf('everything').find((event) => event.id === placed.id)).toEqual({
      id: placed.id,
      topic: host.eventGrid.topicId,
      subject: 'order-1',
      eventType: 'Contoso.Orders.OrderPlaced',
      eventTime: '2026-11-27T09:00:00.000Z',
      data: { orderId: '1', item: 'Widget' },
      dataVersion: '1.0',
      metadataVersion: '1',
    });
    expect(host.eventGrid.topicId).toMatch(/^\/subscriptions\/.+\/providers\/Microsoft\.EventGrid\/topics\/devhost$/);
    expect(host.eventGrid.stats()).toMatchObject({
      published: 2,
      pending: 0,
      delivered: 2,
      deadLettered: 0,
      failedAttempts: 0,
      subscriptions: { everything: { pending: 0, delivered: 2, deadLettered: 0 } },
    });
  });

  it('delivers CloudEvents 1.0, batched or single, as published', async () => {
    const host = await start(['everything']);
    const batched: SendCloudEventInput<unknown> & { id: string } = {
      id: randomUUID(),
      type: 'Contoso.Stores.StoreOpened',
      source: '/contoso/stores',
      subject: 'store-42',
      time: new Date('2026-11-27T09:00:00Z'),
      data: { store: '42' },
    };
    await cloudEventPublisher(host).send([batched]);
    const single = {
      specversion: '1.0',
      id: randomUUID(),
      type: 'Contoso.Orders.OrderCancelled',
      source: '/contoso/orders',
      time: '2026-11-27T11:00:00Z',
      data: { reason: 'closed' },
      traceparent: '00-abc-def-01',
    };
    const answer = await fetch(`${host.base}${host.eventGrid.topicEndpointPath}?api-version=2018-01-01`, {
      method: 'POST',
      headers: { 'aeg-sas-key': TOPIC_KEY, 'content-type': 'application/cloudevents+json; charset=utf-8' },
      body: JSON.stringify(single),
    });
    expect(answer.status).toBe(200);
    await host.eventGrid.idle();

    expect(eventsOf('everything').find((event) => event.id === batched.id)).toEqual({
      specversion: '1.0',
      id: batched.id,
      type: 'Contoso.Stores.StoreOpened',
      source: '/contoso/stores',
      subject: 'store-42',
      time: '2026-11-27T09:00:00.000Z',
      datacontenttype: 'application/json',
      data: { store: '42' },
    });
    expect(eventsOf('everything').find((event) => event.id === single.id)).toEqual(single);
  });

  it('refuses a wrong or missing key with 401 and delivers nothing; accepts a valid SAS token, refuses a forged one', async () => {
    const host = await start(['everything']);
    await expect(
      eventGridPublisher(host, new AzureKeyCredential('not-the-key')).send([sampleEvent('Contoso.Orders.OrderPlaced', 'order-1')]),
    ).rejects.toMatchObject({ statusCode: 401 });
    const bare = await fetch(`${host.base}${host.eventGrid.topicEndpointPath}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([sampleEvent('X', 'y')]),
    });
    expect(bare.status).toBe(401);
    expect(await bare.json()).toMatchObject({ error: { code: 'Unauthorized' } });

    const endpoint = `${host.base}${host.eventGrid.topicEndpointPath}`;
    const expires = new Date(Date.now() + 60_000);
    const forged = await generateSharedAccessSignature(endpoint, new AzureKeyCredential('another-key'), expires);
    await expect(eventGridPublisher(host, new AzureSASCredential(forged)).send([sampleEvent('X', 'forged')])).rejects.toMatchObject({
      statusCode: 401,
    });
    const expired = await generateSharedAccessSignature(endpoint, new AzureKeyCredential(TOPIC_KEY), new Date(Date.now() - 60_000));
    await expect(eventGridPublisher(host, new AzureSASCredential(expired)).send([sampleEvent('X', 'expired')])).rejects.toMatchObject({
      statusCode: 401,
    });
    expect(host.eventGrid.stats()).toMatchObject({ published: 0, pending: 0 });

    const signed = await generateSharedAccessSignature(endpoint, new AzureKeyCredential(TOPIC_KEY), expires);
    await eventGridPublisher(host, new AzureSASCredential(signed)).send([sampleEvent('X', 'signed')]);
    await host.eventGrid.idle();
    expect(eventsOf('everything').map((event) => event.subject)).toEqual(['signed']);
  });

  it('refuses invalid events with 400 naming the problem, and an event over 1 MB with 413, accepting none of the request', async () => {
    const host = await start(['everything']);
    const post = (body: string, contentType = 'application/json') =>
      fetch(`${host.base}${host.eventGrid.topicEndpointPath}`, {
        method: 'POST',
        headers: { 'aeg-sas-key': TOPIC_KEY, 'content-type': contentType },
        body,
      });
    const good = { id: 'good', subject: 's', eventType: 't', eventTime: '2026-11-27T09:00:00Z', data: {} };

    const missingType = await post(JSON.stringify([good, { id: 'e2', subject: 's', eventTime: '2026-11-27T09:00:00Z', data: {} }]));
    expect(missingType.status).toBe(400);
    expect(((await missingType.json()) as { error: { message: string } }).error.message).toMatch(/Event 1 \(id 'e2'\).*eventType/);
    expect((await post(JSON.stringify([{ ...good, eventTime: 'yesterday' }]))).status).toBe(400);
    expect((await post(JSON.stringify([{ ...good, metadataVersion: '2' }]))).status).toBe(400);
    expect((await post(JSON.stringify([{ ...good, topic: '/somebody/else' }]))).status).toBe(400);
    expect((await post(JSON.stringify(good))).status).toBe(400);
    expect((await post('[{"id": ')).status).toBe(400);
    expect((await post(JSON.stringify([{ specversion: '1.0', id: 'c', type: 't' }]), 'application/cloudevents-batch+json')).status).toBe(
      400,
    );
    expect(
      (
        await post(
          JSON.stringify([{ specversion: '1.0', id: 'c', type: 't', source: 's', Bad_Name: 1 }]),
          'application/cloudevents-batch+json',
        )
      ).status,
    ).toBe(400);
    expect((await post(JSON.stringify([good]), 'text/plain')).status).toBe(400);
    const tooLarge = await post(JSON.stringify([{ ...good, data: { text: 'x'.repeat(1024 * 1024) } }]));
    expect(tooLarge.status).toBe(413);

    expect(host.eventGrid.stats()).toMatchObject({ published: 0, pending: 0 });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(eventsOf('everything')).toEqual([]);
  });
});

describe('delivery', () => {
  it('retries a failing function with backoff, then dead-letters the event with the reason', async () => {
    const host = await start(['alwaysFails', 'everything']);
    behaviour.set('alwaysFails', () => {
      throw new Error('the projection store is down');
    });
    const event = sampleEvent('Contoso.Orders.OrderPlaced', 'order-9');
    await eventGridPublisher(host).send([event]);
    await host.eventGrid.idle();

    expect(idsOf('alwaysFails')).toEqual(Array(5).fill(event.id));
    expect(idsOf('everything')).toEqual([event.id]);
    const file = join(host.dataDir, 'deadletter', 'alwaysFails', `${event.id}.json`);
    const deadLetter = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    expect(deadLetter).toMatchObject({
      deadLetterReason: 'MaxDeliveryAttemptsExceeded',
      deliveryAttempts: 5,
      lastDeliveryOutcome: 'GenericError',
      lastHttpStatusCode: 500,
      publishTime: expect.any(String),
      lastDeliveryAttemptTime: expect.any(String),
      subscription: 'alwaysFails',
      topic: host.eventGrid.topicId,
      lastError: expect.stringContaining('the projection store is down'),
      event: {
        id: event.id,
        subject: 'order-9',
        eventType: 'Contoso.Orders.OrderPlaced',
        topic: host.eventGrid.topicId,
        metadataVersion: '1',
      },
    });
    expect(host.eventGrid.stats()).toMatchObject({
      pending: 0,
      delivered: 1,
      deadLettered: 1,
      failedAttempts: 5,
      subscriptions: { alwaysFails: { deadLettered: 1, delivered: 0 }, everything: { delivered: 1 } },
    });
    expect(existsSync(join(host.dataDir, 'deadletter', 'everything'))).toBe(false);
  });

  it('delivers on the third attempt to a function that fails twice, and does not dead-letter it', async () => {
    const host = await start(['flaky']);
    behaviour.set('flaky', () => {
      if (eventsOf('flaky').length <= 2) throw new Error(`transient failure ${eventsOf('flaky').length}`);
    });
    const event = sampleEvent('Contoso.Orders.OrderPlaced', 'order-3');
    await eventGridPublisher(host).send([event]);
    await host.eventGrid.idle();

    expect(idsOf('flaky')).toEqual([event.id, event.id, event.id]);
    expect(host.eventGrid.stats()).toMatchObject({ pending: 0, delivered: 1, deadLettered: 0, failedAttempts: 2 });
    expect(existsSync(join(host.dataDir, 'deadletter'))).toBe(false);
  });

  it('gives up on an attempt after the delivery timeout and retries, as Event Grid does with a slow webhook', async () => {
    const host = await start(['flaky'], { deliveryTimeoutMs: 200 });
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    behaviour.set('flaky', async () => {
      if (eventsOf('flaky').length === 1) await gate;
    });
    await eventGridPublisher(host).send([sampleEvent('Contoso.Orders.OrderPlaced', 'slow')]);
    await host.eventGrid.idle();
    expect(eventsOf('flaky')).toHaveLength(2);
    expect(host.eventGrid.stats()).toMatchObject({ delivered: 1, failedAttempts: 1 });
    // The first invocation is still running, as it would be in Azure; stopping waits for it.
    release();
  });

  it('routes by the subscriptions in devhost.eventgrid.json: event types (any case) and subject prefix and suffix', async () => {
    const appRoot = temporaryFolder();
    writeFileSync(
      join(appRoot, 'devhost.eventgrid.json'),
      JSON.stringify({
        subscriptions: {
          orderPlaced: { includedEventTypes: ['Contoso.Orders.OrderPlaced'] },
          storeInventory: { subjectBeginsWith: 'store-', subjectEndsWith: '/inventory' },
        },
      }),
    );
    const host = await start(['everything', 'orderPlaced', 'storeInventory'], { appRoot });
    const placed = sampleEvent('Contoso.Orders.OrderPlaced', 'order-1');
    const placedLowerCase = sampleEvent('contoso.orders.orderplaced', 'order-2');
    const shipped = sampleEvent('Contoso.Orders.OrderShipped', 'order-1');
    const inventory = sampleEvent('Contoso.Stores.InventoryUpdated', 'store-42/inventory');
    const opened = sampleEvent('Contoso.Stores.StoreOpened', 'store-42');
    await eventGridPublisher(host).send([placed, placedLowerCase, shipped, inventory, opened]);
    await host.eventGrid.idle();

    expect(idsOf('orderPlaced').sort()).toEqual([placed.id, placedLowerCase.id].sort());
    expect(idsOf('storeInventory')).toEqual([inventory.id]);
    expect(idsOf('everything').sort()).toEqual([placed.id, placedLowerCase.id, shipped.id, inventory.id, opened.id].sort());
  });

  it('refuses to start when devhost.eventgrid.json names a function that is not an eventGrid-triggered function', async () => {
    const appRoot = temporaryFolder();
    writeFileSync(
      join(appRoot, 'devhost.eventgrid.json'),
      JSON.stringify({ subscriptions: { orderPlacd: { includedEventTypes: ['Contoso.Orders.OrderPlaced'] } } }),
    );
    await expect(start(['orderPlaced'], { appRoot })).rejects.toThrow(
      /devhost\.eventgrid\.json names "orderPlacd", which is not an eventGrid-triggered function of the app \(they are: orderPlaced\)/,
    );
    writeFileSync(
      join(appRoot, 'devhost.eventgrid.json'),
      JSON.stringify({ subscriptions: { orderPlaced: { includedEventType: ['typo'] } } }),
    );
    await expect(start(['orderPlaced'], { appRoot })).rejects.toThrow(/devhost\.eventgrid\.json is invalid:[\s\S]*includedEventType/);
  });
});

describe('durability across restarts', () => {
  it('after a stop, a new start on the same data folder delivers what was queued and not what was delivered', async () => {
    const dataDir = temporaryFolder();
    const first = await start(['gated'], { dataDir, maxConcurrentDeliveries: 1 });
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    behaviour.set('gated', async (event) => {
      if (event.subject === 'first') await gate;
    });
    const events = [sampleEvent('T', 'first'), sampleEvent('T', 'second'), sampleEvent('T', 'third')];
    await eventGridPublisher(first).send(events);
    await waitFor(() => eventsOf('gated').length === 1, 'the first delivery to start');

    const stopping = first.stop();
    release();
    await stopping;
    expect(idsOf('gated')).toEqual([events[0]!.id]);
    expect(first.eventGrid.stats()).toMatchObject({ delivered: 1, pending: 2 });

    const second = await start(['gated'], { dataDir });
    expect(second.logs.join('\n')).toMatch(/resuming 2 pending deliveries/);
    await second.eventGrid.idle();
    expect(idsOf('gated')).toEqual(events.map((event) => event.id));
    expect(second.eventGrid.stats()).toMatchObject({ delivered: 2, pending: 0 });

    await second.stop();
    const third = await start(['gated'], { dataDir });
    expect(third.eventGrid.stats().pending).toBe(0);
    expect(readFileSync(join(dataDir, 'eventgrid', JOURNAL_FILE), 'utf8')).toBe('');
  });

  it('keeps the attempt count of a failing delivery across a restart', async () => {
    const dataDir = temporaryFolder();
    behaviour.set('alwaysFails', () => {
      throw new Error('still failing');
    });
    const retry = { maxDeliveryAttempts: 3, baseDelayMs: 200, maxDelayMs: 200 };
    const first = await start(['alwaysFails'], { dataDir, retry });
    const event = sampleEvent('T', 'retried');
    await eventGridPublisher(first).send([event]);
    await waitFor(() => first.eventGrid.stats().failedAttempts === 1, 'the first failure');
    await first.stop();

    const second = await start(['alwaysFails'], { dataDir, retry });
    await second.eventGrid.idle();
    expect(eventsOf('alwaysFails')).toHaveLength(3);
    const deadLetter = JSON.parse(readFileSync(join(dataDir, 'deadletter', 'alwaysFails', `${event.id}.json`), 'utf8')) as Record<
      string,
      unknown
    >;
    expect(deadLetter).toMatchObject({ deadLetterReason: 'MaxDeliveryAttemptsExceeded', deliveryAttempts: 3 });
  });

  it('a 200 means the event is on disk: a copy of the data folder taken at that moment, with a torn last line, still delivers it', async () => {
    const first = await start(['gated']);
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    behaviour.set('gated', () => gate);
    const event = sampleEvent('T', 'in flight');
    await eventGridPublisher(first).send([event]);

    // What a crash right now would leave: the journal as written, plus half a line of a write cut short.
    const crashed = temporaryFolder();
    mkdirSync(join(crashed, 'eventgrid'));
    copyFileSync(join(first.dataDir, 'eventgrid', JOURNAL_FILE), join(crashed, 'eventgrid', JOURNAL_FILE));
    appendFileSync(join(crashed, 'eventgrid', JOURNAL_FILE), '{"type":"published","at":"2026-');
    release();

    const second = await start(['gated'], { dataDir: crashed });
    await second.eventGrid.idle();
    expect(idsOf('gated')).toEqual([event.id, event.id]);
    expect(second.logs.join('\n')).toMatch(/incomplete last line/);
  });

  it('survives SIGKILL: a devhost process killed after answering 200 has its events delivered by the next start, completed ones excepted', async () => {
    const dataDir = temporaryFolder();
    const child = await startChildEventGrid(dataDir);
    try {
      const done = sampleEvent('T', 'done');
      const hanging = sampleEvent('T', 'hang');
      await new EventGridPublisherClient(
        `http://127.0.0.1:${child.port}/devhost/eventgrid/api/events`,
        'EventGrid',
        new AzureKeyCredential(TOPIC_KEY),
        { allowInsecureConnection: true },
      ).send([done, hanging]);
      await child.waitFor((message) => message.delivered === 1);
      await child.waitFor((message) => message.started === hanging.id);
      child.process.kill('SIGKILL');
      await new Promise((resolve) => child.process.once('exit', resolve));

      const next = await start(['everything'], { dataDir });
      expect(next.logs.join('\n')).toMatch(/resuming 1 pending delivery from/);
      await next.eventGrid.idle();
      expect(idsOf('everything')).toEqual([hanging.id]);
    } finally {
      child.process.kill('SIGKILL');
    }
  });
});

describe('the host webhook /runtime/webhooks/eventgrid', () => {
  const webhook = (host: Started, query: string, headers: Record<string, string>, body: unknown) =>
    fetch(`${host.base}/runtime/webhooks/eventgrid?${query}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
  const validation = [
    {
      id: 'v1',
      topic: '/t',
      subject: '',
      eventType: 'Microsoft.EventGrid.SubscriptionValidationEvent',
      eventTime: '2026-11-27T09:00:00Z',
      data: { validationCode: 'ABC-123', validationUrl: 'https://example.invalid' },
      dataVersion: '2',
      metadataVersion: '1',
    },
  ];

  it('answers the subscription validation handshake, with the master key only', async () => {
    const host = await start(['everything']);
    const answer = await webhook(
      host,
      `functionName=everything&code=${keys.masterKey}`,
      { 'aeg-event-type': 'SubscriptionValidation' },
      validation,
    );
    expect(answer.status).toBe(200);
    expect(await answer.json()).toEqual({ validationResponse: 'ABC-123' });
    expect(
      (
        await webhook(
          host,
          'functionName=everything',
          { 'aeg-event-type': 'SubscriptionValidation', 'x-functions-key': keys.masterKey },
          validation,
        )
      ).status,
    ).toBe(200);
    expect(
      (await webhook(host, `functionName=everything&code=${keys.functionKey}`, { 'aeg-event-type': 'SubscriptionValidation' }, validation))
        .status,
    ).toBe(401);
    expect((await webhook(host, 'functionName=everything', { 'aeg-event-type': 'SubscriptionValidation' }, validation)).status).toBe(401);
    expect(
      (await webhook(host, `functionName=nobody&code=${keys.masterKey}`, { 'aeg-event-type': 'SubscriptionValidation' }, validation))
        .status,
    ).toBe(404);
    const options = await fetch(`${host.base}/runtime/webhooks/eventgrid?functionName=everything&code=${keys.masterKey}`, {
      method: 'OPTIONS',
      headers: { 'webhook-request-origin': 'eventgrid.azure.net' },
    });
    expect(options.status).toBe(200);
    expect(options.headers.get('webhook-allowed-origin')).toBe('eventgrid.azure.net');
    expect(eventsOf('everything')).toEqual([]);
  });

  it('invokes the function for notifications: 200 when it succeeds, 500 when it fails so Event Grid retries', async () => {
    const host = await start(['everything', 'alwaysFails']);
    behaviour.set('alwaysFails', () => {
      throw new Error('nope');
    });
    const event = {
      id: 'n1',
      topic: '/t',
      subject: 'order-1',
      eventType: 'Contoso.Orders.OrderPlaced',
      eventTime: '2026-11-27T09:00:00Z',
      data: { orderId: '1' },
      dataVersion: '1',
      metadataVersion: '1',
    };
    const ok = await webhook(host, `functionName=everything&code=${keys.masterKey}`, { 'aeg-event-type': 'Notification' }, [event]);
    expect(ok.status).toBe(200);
    expect(eventsOf('everything')).toEqual([event]);

    const cloudEvent = {
      specversion: '1.0',
      id: 'c1',
      type: 'Contoso.Orders.OrderPlaced',
      source: '/orders',
      time: '2026-11-27T09:00:00Z',
      data: { orderId: '2' },
    };
    const cloud = await fetch(`${host.base}/runtime/webhooks/eventgrid?functionName=everything&code=${keys.masterKey}`, {
      method: 'POST',
      headers: { 'content-type': 'application/cloudevents+json', 'aeg-event-type': 'Notification' },
      body: JSON.stringify(cloudEvent),
    });
    expect(cloud.status).toBe(200);
    expect(eventsOf('everything')[1]).toEqual(cloudEvent);

    expect(
      (await webhook(host, `functionName=alwaysFails&code=${keys.masterKey}`, { 'aeg-event-type': 'Notification' }, [event])).status,
    ).toBe(500);
    expect(eventsOf('alwaysFails')).toHaveLength(1);
  });
});

// --- A devhost process to kill -----------------------------------------------------------------

interface ChildEventGrid {
  readonly process: ChildProcessWithoutNullStreams;
  readonly port: number;
  waitFor(predicate: (message: Record<string, unknown>) => boolean): Promise<void>;
}

/**
 * Runs the Event Grid service in a separate node process (this repository's devhost sources, transpiled
 * as they load), with an `everything` function that finishes events whose subject is "done" and never
 * finishes the others. The process reports `{port}`, `{started: id}` and `{delivered: n}` lines.
 */
async function startChildEventGrid(dataDir: string): Promise<ChildEventGrid> {
  const root = join(__dirname, '..', '..');
  const script = `
    const Module = require('node:module');
    const fs = require('node:fs');
    const path = require('node:path');
    const ts = require('typescript');
    require.extensions['.ts'] = (module, filename) => {
      const output = ts.transpileModule(fs.readFileSync(filename, 'utf8'), { fileName: filename, compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true } });
      module._compile(output.outputText, filename);
    };
    const devhost = path.join(${JSON.stringify(root)}, 'src');
    const core = path.join(devhost, 'functionsCore.ts');
    const resolve = Module._resolveFilename;
    Module._resolveFilename = function (request, ...rest) { return request === '@azure/functions-core' ? core : resolve.call(this, request, ...rest); };
    const report = (message) => process.stdout.write(JSON.stringify(message) + '\\n');
    const { app } = require('@azure/functions');
    app.eventGrid('everything', { handler: (event) => { report({ started: event.id }); return event.subject === 'done' ? undefined : new Promise(() => {}); } });
    const functionsCore = require(core);
    const { invokeFunction } = require(path.join(devhost, 'invoke.ts'));
    const { startEventGrid } = require(path.join(devhost, 'eventGrid', 'eventGrid.ts'));
    const { startHttpHost } = require(path.join(devhost, 'http', 'httpHost.ts'));
    const logger = { info() {}, warn() {}, error() {}, functionLog() {} };
    const keys = ${JSON.stringify(keys)};
    (async () => {
      const model = functionsCore.getProgrammingModel();
      const context = { invoke: (r, q, reason) => invokeFunction(model, r, q, logger, reason), logger, settings: {}, hostJson: {}, dataDir: ${JSON.stringify(dataDir)} };
      const eventGrid = await startEventGrid(functionsCore.registeredFunctions(), context, { topicKey: ${JSON.stringify(TOPIC_KEY)}, keys });
      const http = await startHttpHost(model, [], { port: 0, routePrefix: 'api', keys, corsOrigins: [] }, logger, eventGrid.routes);
      report({ port: http.server.address().port });
      let delivered = 0;
      setInterval(() => { const now = eventGrid.stats().delivered; if (now !== delivered) report({ delivered: (delivered = now) }); }, 2);
    })();
  `;
  const child = spawn(process.execPath, ['-e', script], { cwd: root, stdio: 'pipe' });
  const messages: Record<string, unknown>[] = [];
  let notify: () => void = () => undefined;
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  createInterface({ input: child.stdout }).on('line', (line) => {
    messages.push(JSON.parse(line) as Record<string, unknown>);
    notify();
  });
  const waitFor = (predicate: (message: Record<string, unknown>) => boolean) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (messages.some(predicate)) resolve();
        else if (child.exitCode !== null) reject(new Error(`The child exited (${child.exitCode}): ${stderr}`));
      };
      const previous = notify;
      notify = () => {
        previous();
        check();
      };
      child.once('exit', check);
      check();
    });
  await waitFor((message) => typeof message.port === 'number');
  const port = messages.find((message) => typeof message.port === 'number')?.port as number;
  return { process: child, port, waitFor };
}
