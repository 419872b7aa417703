/**
 * The devhost's queue trigger against Azurite, with functions registered through @azure/functions
 * (whose `@azure/functions-core` is the devhost's stand-in under jest) and invoked through the
 * library's own invocation model, as the devhost does: decoding, retries, poison queue, batching,
 * back-off and invisibility renewal.
 */
import { randomUUID } from 'node:crypto';
import { app, type InvocationContext } from '@azure/functions';
import { QueueServiceClient, type QueueClient } from '@azure/storage-queue';
import { registeredFunctions, type Registration } from '../../src/functionsCore';
import { startAzurite, type RunningAzurite } from '../../src/storage/azurite';
import { PollingBackoff } from '../../src/triggers/queueMessagePump';
import {
  decodeBase64,
  parseTimeSpan,
  readQueuesOptions,
  startQueueTriggers,
  type QueueListenerOptions,
} from '../../src/triggers/queueTrigger';
import type { HostJson, RunningService } from '../../src/triggers/triggerHost';
import { testTriggerContext, type CapturedLog } from '../support/triggerHost';

let azurite: RunningAzurite;
let service: QueueServiceClient;
const running: RunningService[] = [];

beforeAll(async () => {
  azurite = await startAzurite({ inMemory: true });
  service = QueueServiceClient.fromConnectionString(azurite.connectionString);
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((trigger) => trigger.stop()));
});

afterAll(async () => {
  await azurite.stop();
});

type Captured = Pick<CapturedLog, 'warnings' | 'errors'>;

/** Fast settings: retries right away, an empty queue is polled at least every 200 ms. */
const fastQueues = { maxPollingInterval: '00:00:00.2', visibilityTimeout: '00:00:00' } as const;

async function serve(
  registrations: readonly Registration[],
  queues: NonNullable<HostJson['extensions']>['queues'] = {},
  options: QueueListenerOptions = {},
  settings: Record<string, string> = {},
): Promise<Captured> {
  const { context, log } = testTriggerContext({
    settings: { AzureWebJobsStorage: azurite.connectionString, ...settings },
    hostJson: { extensions: { queues: { ...fastQueues, ...queues } } },
  });
  running.push(await startQueueTriggers(registrations, context, options));
  return log;
}

/** Registers a queue-triggered function through @azure/functions and returns what the host would receive. */
function register(
  queueName: string,
  handler: (message: unknown, context: InvocationContext) => Promise<void> | void,
  connection?: string,
): Registration {
  const name = `fn${randomUUID().replace(/-/g, '')}`;
  app.storageQueue(name, { queueName, connection: connection ?? 'AzureWebJobsStorage', handler });
  const registration = registeredFunctions().find((candidate) => candidate.metadata.name === name);
  if (!registration) throw new Error(`${name} was not registered`);
  return registration;
}

function newQueueName(): string {
  return `q${randomUUID().replace(/-/g, '').slice(0, 20)}`;
}

const base64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function eventually<T>(probe: () => Promise<T> | T, accept: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (accept(value)) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms; last value: ${JSON.stringify(value)}`);
    await sleep(50);
  }
}

async function messagesIn(queue: QueueClient): Promise<string[]> {
  if (!(await queue.exists())) return [];
  const peeked = await queue.peekMessages({ numberOfMessages: 32 });
  return peeked.peekedMessageItems.map((message) => message.messageText);
}

async function approximateCount(queue: QueueClient): Promise<number> {
  return (await queue.getProperties()).approximateMessagesCount ?? 0;
}

/** A latch that handlers can wait on. */
function gate(): { wait: Promise<void>; open(): void } {
  let open!: () => void;
  const wait = new Promise<void>((resolve) => (open = resolve));
  return { wait, open };
}

describe('queue trigger', () => {
  it('hands a base64 message to the handler decoded, JSON parsed, with the host trigger metadata, then deletes it', async () => {
    const queueName = newQueueName();
    const received: { message: unknown; metadata: Record<string, unknown> | undefined }[] = [];
    const registration = register(queueName, (message, context) => {
      received.push({ message, metadata: context.triggerMetadata });
    });
    await serve([registration]);
    const queue = service.getQueueClient(queueName);
    expect(await queue.exists()).toBe(true); // created by the trigger

    const payload = { orderId: 'o-1', status: 'order shipped', emoji: '📦' };
    const sent = await queue.sendMessage(base64(JSON.stringify(payload)));

    await eventually(
      () => received.length,
      (count) => count === 1,
    );
    expect(received[0]?.message).toEqual(payload);
    const metadata = received[0]?.metadata ?? {};
    expect(metadata).toMatchObject({ id: sent.messageId, dequeueCount: 1, queueTrigger: payload, popReceipt: expect.any(String) });
    for (const key of ['insertionTime', 'expirationTime', 'nextVisibleTime']) {
      expect(metadata[key]).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?\+00:00$/);
    }
    expect(metadata.sys).toMatchObject({ methodName: registration.metadata.name });

    await eventually(
      () => approximateCount(queue),
      (count) => count === 0,
    );
    expect(await messagesIn(service.getQueueClient(`${queueName}-poison`))).toEqual([]);
  });

  it('hands plain text over as a string', async () => {
    const queueName = newQueueName();
    const received: unknown[] = [];
    await serve([register(queueName, (message) => void received.push(message))]);
    await service.getQueueClient(queueName).sendMessage(base64('just text'));
    await eventually(
      () => received,
      (list) => list.length === 1,
    );
    expect(received).toEqual(['just text']);
  });

  it('moves a message that always fails to <queue>-poison after exactly maxDequeueCount tries', async () => {
    const queueName = newQueueName();
    const attempts: number[] = [];
    const captured = await serve(
      [
        register(queueName, (_message, context) => {
          attempts.push(context.triggerMetadata?.dequeueCount as number);
          throw new Error('always fails');
        }),
      ],
      { maxDequeueCount: 3 },
    );
    const body = base64(JSON.stringify({ n: 1 }));
    await service.getQueueClient(queueName).sendMessage(body);

    const poison = service.getQueueClient(`${queueName}-poison`);
    expect(
      await eventually(
        () => messagesIn(poison),
        (messages) => messages.length === 1,
      ),
    ).toEqual([body]);
    await sleep(500); // no further attempt after poisoning
    expect(attempts).toEqual([1, 2, 3]);
    expect(await approximateCount(service.getQueueClient(queueName))).toBe(0);
    expect(captured.warnings).toContain(`Message has reached MaxDequeueCount of 3. Moving message to queue '${queueName}-poison'.`);
  });

  it('uses the default maxDequeueCount of 5', async () => {
    const queueName = newQueueName();
    let attempts = 0;
    await serve([
      register(queueName, () => {
        attempts++;
        return Promise.reject(new Error('async failure'));
      }),
    ]);
    await service.getQueueClient(queueName).sendMessage(base64('"x"'));
    await eventually(
      () => messagesIn(service.getQueueClient(`${queueName}-poison`)),
      (messages) => messages.length === 1,
    );
    await sleep(300);
    expect(attempts).toBe(5);
  });

  it('retries a message that fails once and deletes it when it succeeds', async () => {
    const queueName = newQueueName();
    const attempts: number[] = [];
    await serve([
      register(queueName, (_message, context) => {
        const dequeueCount = context.triggerMetadata?.dequeueCount as number;
        attempts.push(dequeueCount);
        if (dequeueCount === 1) throw new Error('first try fails');
      }),
    ]);
    const queue = service.getQueueClient(queueName);
    await queue.sendMessage(base64('{"retry":true}'));
    await eventually(
      () => attempts,
      (list) => list.length === 2,
    );
    await eventually(
      () => approximateCount(queue),
      (count) => count === 0,
    );
    await sleep(300);
    expect(attempts).toEqual([1, 2]);
    expect(await messagesIn(service.getQueueClient(`${queueName}-poison`))).toEqual([]);
  });

  it('waits visibilityTimeout before retrying a failed message', async () => {
    const queueName = newQueueName();
    const attemptedAt: number[] = [];
    await serve(
      [
        register(queueName, () => {
          attemptedAt.push(Date.now());
          if (attemptedAt.length === 1) throw new Error('first try fails');
        }),
      ],
      { visibilityTimeout: '00:00:01' },
    );
    await service.getQueueClient(queueName).sendMessage(base64('"later"'));
    await eventually(
      () => attemptedAt,
      (list) => list.length === 2,
    );
    expect((attemptedAt[1] ?? 0) - (attemptedAt[0] ?? 0)).toBeGreaterThanOrEqual(900);
  });

  it('moves a message that is not base64 to the poison queue without running the function', async () => {
    const queueName = newQueueName();
    let calls = 0;
    const captured = await serve([
      register(queueName, () => {
        calls++;
      }),
    ]);
    await service.getQueueClient(queueName).sendMessage('{"not":"base64"}');
    expect(
      await eventually(
        () => messagesIn(service.getQueueClient(`${queueName}-poison`)),
        (messages) => messages.length === 1,
      ),
    ).toEqual(['{"not":"base64"}']);
    expect(calls).toBe(0);
    expect(captured.warnings.some((warning) => warning.startsWith('Message decoding has failed!'))).toBe(true);
  });

  it('passes the text through untouched with messageEncoding "none"', async () => {
    const queueName = newQueueName();
    const received: unknown[] = [];
    await serve([register(queueName, (message) => void received.push(message))], { messageEncoding: 'none' });
    await service.getQueueClient(queueName).sendMessage('{"plain":true}');
    await eventually(
      () => received,
      (list) => list.length === 1,
    );
    expect(received).toEqual([{ plain: true }]);
  });

  it('poisons, without running it, a message already dequeued more than maxDequeueCount times', async () => {
    const queueName = newQueueName();
    const queue = service.getQueueClient(queueName);
    await queue.create();
    await queue.sendMessage(base64('"crashed the host twice"'));
    // Two dequeues nobody completed (a host that died mid-invocation), with maxDequeueCount 1.
    for (let i = 0; i < 2; i++) {
      const [message] = (await queue.receiveMessages({ visibilityTimeout: 30 })).receivedMessageItems;
      if (!message) throw new Error('message expected');
      await queue.updateMessage(message.messageId, message.popReceipt, undefined, 0);
    }
    let calls = 0;
    await serve(
      [
        register(queueName, () => {
          calls++;
        }),
      ],
      { maxDequeueCount: 1 },
    );
    await eventually(
      () => messagesIn(service.getQueueClient(`${queueName}-poison`)),
      (messages) => messages.length === 1,
    );
    expect(calls).toBe(0);
  });

  it('resolves %SETTING% in the queue name and reads the connection string from the named setting', async () => {
    const queueName = newQueueName();
    const received: unknown[] = [];
    await serve(
      [register('%WORK_QUEUE%', (message) => void received.push(message), 'MyStorage')],
      {},
      {},
      { WORK_QUEUE: queueName, MyStorage: azurite.connectionString },
    );
    await service.getQueueClient(queueName).sendMessage(base64('"hello"'));
    await eventually(
      () => received,
      (list) => list.length === 1,
    );
    expect(received).toEqual(['hello']);
  });

  it('refuses to start when the connection setting is missing', async () => {
    const registration = register(newQueueName(), () => undefined, 'NoSuchSetting');
    await expect(serve([registration])).rejects.toThrow(/app setting "NoSuchSetting"/);
  });

  it('runs no more than batchSize at once when newBatchThreshold is 0', async () => {
    const queueName = newQueueName();
    const slow = gate();
    let active = 0;
    let maxActive = 0;
    const started: string[] = [];
    await serve(
      [
        register(queueName, async (message) => {
          started.push(String(message));
          active++;
          maxActive = Math.max(maxActive, active);
          if (String(message).startsWith('slow')) await slow.wait;
          else await sleep(20);
          active--;
        }),
      ],
      { batchSize: 4, newBatchThreshold: 0 },
    );
    const queue = service.getQueueClient(queueName);
    for (const text of ['slow-1', 'slow-2', 'fast-1', 'fast-2', 'fast-3', 'fast-4', 'fast-5', 'fast-6'])
      await queue.sendMessage(base64(text));

    await eventually(
      () => started.length,
      (count) => count === 4,
    );
    await sleep(600); // the two slow ones still run: nothing more is fetched
    expect(started).toHaveLength(4);
    slow.open();
    await eventually(
      () => started.length,
      (count) => count === 8,
    );
    expect(maxActive).toBeLessThanOrEqual(4);
    await eventually(
      () => approximateCount(queue),
      (count) => count === 0,
    );
  });

  it('fetches the next batch once no more than newBatchThreshold are running (at most batchSize + newBatchThreshold at once)', async () => {
    const queueName = newQueueName();
    const slow = gate();
    let active = 0;
    let maxActive = 0;
    const finished: string[] = [];
    await serve(
      [
        register(queueName, async (message) => {
          active++;
          maxActive = Math.max(maxActive, active);
          if (String(message).startsWith('slow')) await slow.wait;
          else await sleep(100);
          active--;
          finished.push(String(message));
        }),
      ],
      { batchSize: 4, newBatchThreshold: 2 },
    );
    const queue = service.getQueueClient(queueName);
    const fast = Array.from({ length: 10 }, (_, i) => `fast-${i}`);
    for (const text of ['slow-1', 'slow-2', ...fast]) await queue.sendMessage(base64(text));

    // With the two slow ones running, the fast ones are all fetched and finished meanwhile.
    await eventually(
      () => finished.length,
      (count) => count === 10,
    );
    expect(finished.every((text) => text.startsWith('fast'))).toBe(true);
    expect(maxActive).toBeGreaterThan(4);
    expect(maxActive).toBeLessThanOrEqual(6);
    slow.open();
    await eventually(
      () => finished.length,
      (count) => count === 12,
    );
  });

  it('keeps a long-running message invisible (no second invocation) by renewing its lease', async () => {
    const queueName = newQueueName();
    let calls = 0;
    await serve(
      [
        register(queueName, async () => {
          calls++;
          await sleep(3000);
        }),
      ],
      {},
      { messageLeaseMs: 2000 },
    );
    const queue = service.getQueueClient(queueName);
    await queue.sendMessage(base64('"long"'));
    await eventually(
      () => calls,
      (count) => count === 1,
    );
    await eventually(
      () => approximateCount(queue),
      (count) => count === 0,
      8000,
    );
    await sleep(300);
    expect(calls).toBe(1);
  }, 15_000);

  it('stop() stops polling and waits for running invocations to finish and be deleted', async () => {
    const queueName = newQueueName();
    let finished = 0;
    let calls = 0;
    const registration = register(queueName, async () => {
      calls++;
      await sleep(500);
      finished++;
    });
    await serve([registration]);
    const queue = service.getQueueClient(queueName);
    await queue.sendMessage(base64('"one"'));
    await eventually(
      () => calls,
      (count) => count === 1,
    );
    const trigger = running.pop();
    await trigger?.stop();
    expect(finished).toBe(1);
    expect(await approximateCount(queue)).toBe(0);

    await queue.sendMessage(base64('"after stop"'));
    await sleep(600);
    expect(calls).toBe(1);
    expect(await approximateCount(queue)).toBe(1);
  });

  it('serves only queueTrigger registrations', async () => {
    app.http(`http${randomUUID().replace(/-/g, '')}`, { handler: () => ({ status: 204 }) });
    const captured = await serve(registeredFunctions().filter((registration) => registration.metadata.name.startsWith('http')));
    expect(captured.errors).toEqual([]);
  });
});

describe('host.json extensions.queues', () => {
  it('applies the host defaults', () => {
    expect(readQueuesOptions({})).toEqual({
      batchSize: 16,
      newBatchThreshold: 8,
      maxDequeueCount: 5,
      visibilityTimeoutMs: 0,
      maxPollingIntervalMs: 60_000,
      messageEncoding: 'base64',
    });
    expect(readQueuesOptions({ extensions: { queues: { batchSize: 5 } } }).newBatchThreshold).toBe(2);
  });

  it('reads the app host.json values', () => {
    expect(
      readQueuesOptions({
        extensions: {
          queues: {
            batchSize: 16,
            newBatchThreshold: 8,
            maxDequeueCount: 5,
            visibilityTimeout: '00:00:30',
            maxPollingInterval: '00:00:02',
            messageEncoding: 'base64',
          },
        },
      }),
    ).toEqual({
      batchSize: 16,
      newBatchThreshold: 8,
      maxDequeueCount: 5,
      visibilityTimeoutMs: 30_000,
      maxPollingIntervalMs: 2000,
      messageEncoding: 'base64',
    });
  });

  it('rejects values the host rejects', () => {
    expect(() => readQueuesOptions({ extensions: { queues: { batchSize: 33 } } })).toThrow(/batchSize/);
    expect(() => readQueuesOptions({ extensions: { queues: { batchSize: 0 } } })).toThrow(/batchSize/);
    expect(() => readQueuesOptions({ extensions: { queues: { maxDequeueCount: 0 } } })).toThrow(/maxDequeueCount/);
    expect(() => readQueuesOptions({ extensions: { queues: { maxPollingInterval: '00:00:00.05' } } })).toThrow(/maxPollingInterval/);
    expect(() => readQueuesOptions({ extensions: { queues: { visibilityTimeout: '30s' } } })).toThrow(/TimeSpan/);
  });

  it('parses .NET TimeSpans', () => {
    expect(parseTimeSpan('00:00:30')).toBe(30_000);
    expect(parseTimeSpan('00:01')).toBe(60_000);
    expect(parseTimeSpan('1.02:03:04.5')).toBe(((26 * 60 + 3) * 60 + 4) * 1000 + 500);
    expect(parseTimeSpan('2')).toBe(2 * 86_400_000);
    expect(() => parseTimeSpan('00:60:00')).toThrow();
  });

  it('backs off from 100 ms up to maxPollingInterval, and starts again after messages were found', () => {
    const backoff = new PollingBackoff(100, 1000, () => 0.5);
    expect([
      backoff.next(false),
      backoff.next(false),
      backoff.next(false),
      backoff.next(false),
      backoff.next(false),
      backoff.next(false),
    ]).toEqual([100, 200, 300, 500, 900, 1000]);
    expect(backoff.next(false)).toBe(1000);
    expect(backoff.next(true)).toBe(100);
    expect(backoff.next(false)).toBe(200);
  });

  it('decodes base64 as strictly as the host', () => {
    expect(decodeBase64(base64('héllo'))?.toString('utf8')).toBe('héllo');
    expect(decodeBase64('aGk=\n')?.toString('utf8')).toBe('hi');
    expect(decodeBase64('hello world')).toBeUndefined();
    expect(decodeBase64('aGk')).toBeUndefined();
    expect(decodeBase64('{"a":1}')).toBeUndefined();
  });
});
