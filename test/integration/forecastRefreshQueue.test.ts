/**
 * Forecast refresh requests on a real storage queue (Azurite): sent base64-encoded by the app's
 * queue adapter, read by a queue-triggered function (registered through @azure/functions and served
 * by the devhost's queue trigger with host.json's base64 decoding), never poisoned.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { app, type InvocationContext } from '@azure/functions';
import { QueueServiceClient } from '@azure/storage-queue';
import { getProgrammingModel, registeredFunctions } from 'functions-devhost/functionsCore';
import { invokeFunction } from 'functions-devhost/invoke';
import type { Logger } from 'functions-devhost/logger';
import { startAzurite, type RunningAzurite } from 'functions-devhost/storage/azurite';
import { startQueueTriggers } from 'functions-devhost/triggers/queueTrigger';
import type { HostJson, RunningService, TriggerHostContext } from 'functions-devhost/triggers/triggerHost';
import { activateRegion } from '../../shared/regions/application/activateRegion';
import { InMemoryEventStore } from '../../shared/platform/eventSourcing/adapters/inMemoryEventStore';
import {
  decodeForecastRefreshRequest,
  FORECAST_REFRESH_QUEUE,
  parseForecastRefreshRequest,
  type ForecastRefreshRequest,
} from '../../shared/regions/application/forecastRefreshRequests';
import { StorageForecastRefreshQueue, storageQueueClient } from '../../shared/regions/adapters/storageQueue';

let azurite: RunningAzurite;
const running: RunningService[] = [];
const hostJson = JSON.parse(readFileSync(join(__dirname, '..', '..', 'host.json'), 'utf8')) as HostJson;

beforeAll(async () => {
  azurite = await startAzurite({ inMemory: true });
});

afterAll(async () => {
  await Promise.all(running.splice(0).map((service) => service.stop()));
  await azurite.stop();
});

const received: { request: ForecastRefreshRequest; dequeueCount: unknown }[] = [];
const queueName = `${FORECAST_REFRESH_QUEUE}-${randomUUID().slice(0, 8)}`;
app.storageQueue('readForecastRefreshRequests', {
  queueName,
  connection: 'AzureWebJobsStorage',
  handler: (message: unknown, context: InvocationContext) => {
    received.push({ request: parseForecastRefreshRequest(message), dequeueCount: context.triggerMetadata?.dequeueCount });
  },
});

describe('forecast refresh requests on the storage queue', () => {
  it('are base64 on the queue, decode in a queue trigger with the app’s host.json, and are never poisoned', async () => {
    const queue = await storageQueueClient({ connectionString: azurite.connectionString }, queueName);
    const refreshQueue = new StorageForecastRefreshQueue(queue);
    const store = new InMemoryEventStore();
    const deps = { eventStore: store, clock: () => new Date('2026-11-27T09:00:00Z'), forecastRefreshQueue: refreshQueue };
    // The region's first place sends; a second place of the same region does not.
    await expect(activateRegion(deps, 'gcmyy', { eventId: 'validated-1', correlationId: 'corr-1' })).resolves.toEqual({
      activatedByThisEvent: true,
      refreshRequested: true,
    });
    await expect(activateRegion(deps, 'gcmyy', { eventId: 'validated-2', correlationId: 'corr-2' })).resolves.toEqual({
      activatedByThisEvent: false,
      refreshRequested: false,
    });

    // As stored: base64 text of the JSON, far under 64 KB.
    const { peekedMessageItems } = await queue.peekMessages({ numberOfMessages: 32 });
    expect(peekedMessageItems).toHaveLength(1);
    const text = peekedMessageItems[0]?.messageText ?? '';
    expect(text).toMatch(/^[A-Za-z0-9+/]+={0,2}$/);
    expect(Buffer.byteLength(text)).toBeLessThan(1024);
    const expected: ForecastRefreshRequest = {
      region: 'gcmyy',
      centre: { latitude: 53.23975, longitude: -2.87842 },
      reason: 'regionActivated',
      correlationId: 'corr-1',
      requestedAt: '2026-11-27T09:00:00.000Z',
    };
    expect(decodeForecastRefreshRequest(text)).toEqual(expected);

    // As a queue trigger reads it, with host.json's messageEncoding (base64).
    expect(hostJson.extensions?.queues?.messageEncoding).toBe('base64');
    const logger: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined, functionLog: () => undefined };
    const model = getProgrammingModel();
    if (!model) throw new Error('no programming model');
    const context: TriggerHostContext = {
      invoke: (registration, request, reason) => invokeFunction(model, registration, request, logger, reason),
      logger,
      settings: { AzureWebJobsStorage: azurite.connectionString },
      hostJson: { extensions: { queues: { ...hostJson.extensions?.queues, maxPollingInterval: '00:00:00.2' } } },
      dataDir: '/nonexistent',
    };
    const registration = registeredFunctions().filter((candidate) => candidate.metadata.name === 'readForecastRefreshRequests');
    running.push(await startQueueTriggers(registration, context));
    const deadline = Date.now() + 10_000;
    while (received.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(received).toEqual([{ request: expected, dequeueCount: 1 }]);

    const poison = QueueServiceClient.fromConnectionString(azurite.connectionString).getQueueClient(`${queueName}-poison`);
    expect(await poison.exists()).toBe(false);
  }, 30_000);
});
