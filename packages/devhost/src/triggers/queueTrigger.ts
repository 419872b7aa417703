/**
 * Azure Storage queue triggers, served the way the Functions host's queue listener serves them
 * (Microsoft.Azure.WebJobs.Extensions.Storage.Queues v5, without dynamic concurrency):
 *
 * - One listener per function, its loop a QueueMessagePump (queueMessagePump.ts). It fetches up to `batchSize` messages at once, invisible for 10 minutes
 *   while they are processed (renewed at half-time for long invocations), and runs them concurrently.
 *   It fetches the next batch as soon as no more than `newBatchThreshold` are still running, so at
 *   most batchSize + newBatchThreshold run at once.
 * - An empty queue is polled with a randomised exponential back-off from 100 ms up to
 *   `maxPollingInterval`; after a batch was found the next fetch is not delayed.
 * - Success deletes the message. Failure makes it visible again after `visibilityTimeout`; when the
 *   message had been dequeued `maxDequeueCount` times it goes to `<queue>-poison` instead (created if
 *   needed). A message dequeued more often than that (the host died while running it) goes there
 *   without running. With `messageEncoding` base64 (the default) a message that is not base64 goes to
 *   the poison queue at once, as in the host.
 * - The function gets the decoded text (@azure/functions turns JSON into an object) and the host's
 *   trigger metadata: QueueTrigger, Id, DequeueCount, ExpirationTime, InsertionTime, NextVisibleTime,
 *   PopReceipt, sys.
 */
import { randomUUID } from 'node:crypto';
import { QueueServiceClient, type ReceivedMessageItem } from '@azure/storage-queue';
import type { Registration } from '../functionsCore';
import { triggerOf, type InvocationRequest, type RpcTypedData } from '../invoke';
import { MINIMUM_POLLING_INTERVAL_MS, QueueMessagePump, type MessageOutcome } from './queueMessagePump';
import { resolveBindingExpression, type HostJson, type RunningService, type TriggerHostContext } from './triggerHost';

/** host.json `extensions.queues`, with the host's defaults applied. */
export interface QueuesOptions {
  readonly batchSize: number;
  readonly newBatchThreshold: number;
  readonly maxDequeueCount: number;
  /** Delay before a failed message is visible again. */
  readonly visibilityTimeoutMs: number;
  readonly maxPollingIntervalMs: number;
  readonly messageEncoding: 'base64' | 'none';
}

/** Knobs the host does not expose; for tests. */
export interface QueueListenerOptions {
  /** How long a fetched message stays invisible while it runs (renewed at half-time); host: 10 minutes. */
  readonly messageLeaseMs?: number;
}

const DEFAULT_CONNECTION = 'AzureWebJobsStorage';
/** Storage returns at most 32 messages per request; the host rejects a larger batchSize. */
const MAX_BATCH_SIZE = 32;

export async function startQueueTriggers(
  registrations: readonly Registration[],
  context: TriggerHostContext,
  listenerOptions: QueueListenerOptions = {},
): Promise<RunningService> {
  const served = registrations.filter((registration) => triggerOf(registration).binding.type === 'queueTrigger');
  if (served.length === 0) return { stop: () => Promise.resolve() };
  const options = readQueuesOptions(context.hostJson);
  const listeners: QueueListener[] = [];
  try {
    for (const registration of served) {
      const listener = new QueueListener(registration, context, options, listenerOptions.messageLeaseMs);
      listeners.push(listener);
      await listener.prepare();
    }
  } catch (error) {
    await Promise.all(listeners.map((listener) => listener.stop()));
    throw error;
  }
  for (const listener of listeners) listener.start();
  let stopping: Promise<void> | undefined;
  return {
    stop: () => (stopping ??= Promise.all(listeners.map((listener) => listener.stop())).then(() => undefined)),
  };
}

/** Reads host.json `extensions.queues` with the host's defaults and limits. */
export function readQueuesOptions(hostJson: HostJson): QueuesOptions {
  const queues = hostJson.extensions?.queues ?? {};
  const batchSize = queues.batchSize ?? 16;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > MAX_BATCH_SIZE) {
    throw new Error(`host.json extensions.queues.batchSize must be an integer from 1 to ${MAX_BATCH_SIZE}, not ${String(batchSize)}.`);
  }
  // The host's default is batchSize/2 per vCPU; the devhost counts one vCPU (a Consumption instance).
  const newBatchThreshold = queues.newBatchThreshold ?? Math.floor(batchSize / 2);
  if (!Number.isInteger(newBatchThreshold) || newBatchThreshold < 0) {
    throw new Error(`host.json extensions.queues.newBatchThreshold must be a non-negative integer, not ${String(newBatchThreshold)}.`);
  }
  const maxDequeueCount = queues.maxDequeueCount ?? 5;
  if (!Number.isInteger(maxDequeueCount) || maxDequeueCount < 1) {
    throw new Error(`host.json extensions.queues.maxDequeueCount must be a positive integer, not ${String(maxDequeueCount)}.`);
  }
  const visibilityTimeoutMs =
    queues.visibilityTimeout === undefined ? 0 : parseTimeSpan(queues.visibilityTimeout, 'extensions.queues.visibilityTimeout');
  const maxPollingIntervalMs =
    queues.maxPollingInterval === undefined ? 60_000 : parseTimeSpan(queues.maxPollingInterval, 'extensions.queues.maxPollingInterval');
  if (maxPollingIntervalMs < MINIMUM_POLLING_INTERVAL_MS) {
    throw new Error(
      `host.json extensions.queues.maxPollingInterval must be at least 00:00:00.1, not ${String(queues.maxPollingInterval)}.`,
    );
  }
  // host.json is read at run time: the value may be anything, and the host reads enums case-insensitively.
  const rawEncoding: unknown = queues.messageEncoding ?? 'base64';
  const encoding = typeof rawEncoding === 'string' ? rawEncoding.toLowerCase() : rawEncoding;
  if (encoding !== 'base64' && encoding !== 'none') {
    throw new Error(`host.json extensions.queues.messageEncoding must be "base64" or "none", not ${String(queues.messageEncoding)}.`);
  }
  return { batchSize, newBatchThreshold, maxDequeueCount, visibilityTimeoutMs, maxPollingIntervalMs, messageEncoding: encoding };
}

/** A .NET TimeSpan as host.json writes it: `[d.]hh:mm[:ss[.fffffff]]`, or a whole number of days. Returns milliseconds. */
export function parseTimeSpan(value: unknown, setting = 'TimeSpan'): number {
  const text = typeof value === 'string' ? value.trim() : '';
  if (/^\d+$/.test(text)) return Number(text) * 86_400_000;
  const match = /^(?:(\d+)\.)?(\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:\.(\d{1,7}))?)?$/.exec(text);
  if (!match) throw new Error(`host.json ${setting} must be a TimeSpan like "00:00:30", not ${JSON.stringify(value)}.`);
  const [, days = '0', hours = '0', minutes = '0', seconds = '0', fraction = ''] = match;
  if (Number(hours) > 23 || Number(minutes) > 59 || Number(seconds) > 59) {
    throw new Error(`host.json ${setting} is not a valid TimeSpan: ${JSON.stringify(value)}.`);
  }
  return (
    ((Number(days) * 24 + Number(hours)) * 60 + Number(minutes)) * 60_000 +
    Number(seconds) * 1000 +
    Math.round(Number(`0.${fraction || '0'}`) * 1000)
  );
}

/** Strict base64 as .NET's Convert.FromBase64String reads it (whitespace ignored); undefined if not base64. */
export function decodeBase64(text: string): Buffer | undefined {
  const compact = text.replace(/[ \t\r\n]/g, '');
  if (compact.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(compact)) return undefined;
  return Buffer.from(compact, 'base64');
}

/** Storage queue names: 3–63 lowercase letters, digits and single hyphens, starting and ending alphanumeric. */
const QUEUE_NAME = /^(?=.{3,63}$)[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9]))*$/;

class QueueListener {
  readonly #registration: Registration;
  readonly #context: TriggerHostContext;
  readonly #options: QueuesOptions;
  readonly #functionName: string;
  readonly #bindingName: string;
  readonly #queueName: string;
  readonly #pump: QueueMessagePump;

  constructor(registration: Registration, context: TriggerHostContext, options: QueuesOptions, messageLeaseMs: number | undefined) {
    this.#registration = registration;
    this.#context = context;
    this.#options = options;
    this.#functionName = registration.metadata.name;
    const { name, binding } = triggerOf(registration);
    this.#bindingName = name;
    if (typeof binding.queueName !== 'string' || binding.queueName === '') {
      throw new Error(`Function "${this.#functionName}": its queueTrigger has no queueName.`);
    }
    this.#queueName = resolveBindingExpression(binding.queueName, context.settings).toLowerCase();
    if (!QUEUE_NAME.test(this.#queueName)) {
      throw new Error(
        `Function "${this.#functionName}": "${this.#queueName}" is not a valid queue name (3-63 lowercase letters, digits and single hyphens).`,
      );
    }
    const connection = typeof binding.connection === 'string' && binding.connection !== '' ? binding.connection : DEFAULT_CONNECTION;
    const connectionString = context.settings[connection];
    if (connectionString === undefined || connectionString === '') {
      throw new Error(`Function "${this.#functionName}": the app setting "${connection}" (its queue connection) is not set.`);
    }
    const service = QueueServiceClient.fromConnectionString(connectionString, {
      retryOptions: { maxTries: 3, retryDelayInMs: 200, maxRetryDelayInMs: 2000 },
    });
    const poisonQueue = service.getQueueClient(`${this.#queueName}-poison`);
    this.#pump = new QueueMessagePump({
      queue: service.getQueueClient(this.#queueName),
      batchSize: options.batchSize,
      newBatchThreshold: options.newBatchThreshold,
      maxPollingIntervalMs: options.maxPollingIntervalMs,
      maxDequeueCount: options.maxDequeueCount,
      retryDelaySeconds: Math.floor(options.visibilityTimeoutMs / 1000),
      messageLeaseMs,
      poisonQueueFor: () => poisonQueue,
      handle: (message) => this.#handle(message),
      logger: context.logger,
      logSubject: `Queue trigger "${this.#functionName}"`,
      logPrefix: `Queue trigger "${this.#functionName}"`,
    });
  }

  prepare(): Promise<void> {
    return this.#pump.prepare();
  }

  start(): void {
    this.#context.logger.info(`Queue trigger "${this.#functionName}" is listening on '${this.#queueName}'.`);
    this.#pump.start();
  }

  stop(): Promise<void> {
    return this.#pump.stop();
  }

  async #handle(message: ReceivedMessageItem): Promise<MessageOutcome> {
    let text = message.messageText;
    if (this.#options.messageEncoding === 'base64') {
      const bytes = decodeBase64(message.messageText);
      if (bytes === undefined) {
        this.#context.logger.warn(`Message decoding has failed! Check MessageEncoding settings. MessageId=${message.messageId}.`);
        return 'poison';
      }
      text = bytes.toString('utf8');
    }
    try {
      await this.#context.invoke(this.#registration, this.#request(message, text), `New queue message detected on '${this.#queueName}'.`);
      return 'done';
    } catch {
      // The devhost's invoke has logged the failure.
      return 'failed';
    }
  }

  #request(message: ReceivedMessageItem, text: string): InvocationRequest {
    const time = (date: Date): RpcTypedData => ({ json: JSON.stringify(dotNetDateTimeOffset(date)) });
    return {
      inputData: [{ name: this.#bindingName, data: { string: text } }],
      triggerMetadata: {
        QueueTrigger: { string: text },
        Id: { string: message.messageId },
        DequeueCount: { json: String(message.dequeueCount) },
        ExpirationTime: time(message.expiresOn),
        InsertionTime: time(message.insertedOn),
        NextVisibleTime: time(message.nextVisibleOn),
        PopReceipt: { string: message.popReceipt },
        sys: { json: JSON.stringify({ MethodName: this.#functionName, UtcNow: new Date().toISOString(), RandGuid: randomUUID() }) },
      },
    };
  }
}

/** How the host serialises a DateTimeOffset for the worker: "2024-05-01T10:00:00+00:00". */
function dotNetDateTimeOffset(date: Date): string {
  return date
    .toISOString()
    .replace(/\.000Z$/, '+00:00')
    .replace(/Z$/, '+00:00');
}
