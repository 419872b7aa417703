/**
 * The Functions host's queue listener loop (Microsoft.Azure.WebJobs.Extensions.Storage.Queues v5,
 * QueueListener.cs, without dynamic concurrency), for one queue. The queue triggers use it for their
 * queues and the blob triggers for the host's `azure-webjobs-blobtrigger-<hostId>` queue; each says
 * how to run a message and where its poison queue is.
 *
 * - It fetches up to `batchSize` messages at once, invisible for the lease (host: 10 minutes, renewed
 *   at half-time while a message runs), and runs them concurrently. It fetches the next batch as soon
 *   as no more than `newBatchThreshold` are still running.
 * - An empty queue is polled with a randomised exponential back-off from 100 ms up to
 *   `maxPollingIntervalMs`, cut short by `wake()`; after a batch was found the next fetch is not delayed.
 * - A message dequeued more than `maxDequeueCount` times (a listener stopped while it ran) goes to the
 *   poison queue without running. Otherwise the handler's outcome decides: `done` deletes it, `failed`
 *   makes it visible again after `retryDelaySeconds` or, on its last attempt, poisons it, `poison`
 *   poisons it at once. Poisoning copies the message as it is stored (the queue created if needed),
 *   then deletes it.
 * - Stopping fetches no more, hands a batch fetched meanwhile straight back, and waits for the running
 *   messages and their bookkeeping.
 */
import type { QueueClient, ReceivedMessageItem } from '@azure/storage-queue';
import { codeOf, describe, statusOf } from '../azureErrors';
import type { Logger } from '../logger';

/** What became of a message: `done` (succeeded, or nothing left to do), `failed` (another attempt), `poison` (no more attempts). */
export type MessageOutcome = 'done' | 'failed' | 'poison';

export interface QueueMessagePumpOptions {
  readonly queue: QueueClient;
  readonly batchSize: number;
  readonly newBatchThreshold: number;
  readonly maxPollingIntervalMs: number;
  readonly maxDequeueCount: number;
  /** How long a failed message stays invisible before its next attempt. */
  readonly retryDelaySeconds: number;
  /** How long a fetched message stays invisible while it runs (renewed at half-time); default as the host: 10 minutes. */
  readonly messageLeaseMs?: number | undefined;
  /** The queue a message goes to after its last attempt. */
  readonly poisonQueueFor: (message: ReceivedMessageItem) => QueueClient;
  /** Runs one message, kept invisible meanwhile. Logs its own failures. */
  readonly handle: (message: ReceivedMessageItem) => Promise<MessageOutcome>;
  readonly logger: Logger;
  /** Who is reading, in "… cannot read 'queue'" (e.g. `Queue trigger "f"`). */
  readonly logSubject: string;
  /** Starts a message's errors, followed by a colon (e.g. `Queue trigger "f"`). */
  readonly logPrefix: string;
}

/** The host's shortest polling interval (QueuePollingIntervals.Minimum). */
export const MINIMUM_POLLING_INTERVAL_MS = 100;
/** The host's fetch lease (QueueListener._visibilityTimeout). */
const DEFAULT_MESSAGE_LEASE_MS = 10 * 60_000;

export class QueueMessagePump {
  readonly #options: QueueMessagePumpOptions;
  readonly #queue: QueueClient;
  readonly #leaseMs: number;
  readonly #inFlight = new Set<Promise<void>>();
  readonly #stopController = new AbortController();
  #wake: (() => void) | undefined;
  /** Set by wake(): a message arrived since the last fetch began, so the pump must not sleep. */
  #woken = false;
  #queueReady = false;
  #pollFailures = 0;
  #running: Promise<void> | undefined;
  #stopping: Promise<void> | undefined;

  constructor(options: QueueMessagePumpOptions) {
    this.#options = options;
    this.#queue = options.queue;
    this.#leaseMs = options.messageLeaseMs ?? DEFAULT_MESSAGE_LEASE_MS;
  }

  /** Creates the queue if it does not exist, so that a missing storage account shows at start-up. */
  async prepare(): Promise<void> {
    await this.#queue.createIfNotExists();
    this.#queueReady = true;
  }

  start(): void {
    this.#running = this.#poll();
  }

  /** Stops fetching and waits for the running messages and their bookkeeping. Idempotent. */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      this.#stopController.abort();
      await this.#running;
      while (this.#inFlight.size > 0) await Promise.all([...this.#inFlight]);
    })();
    return this.#stopping;
  }

  /** A message was just put on the queue: fetch now rather than after the back-off (the host's SharedQueueWatcher). */
  wake(): void {
    this.#woken = true;
    this.#wake?.();
  }

  #stopped(): boolean {
    return this.#stopController.signal.aborted;
  }

  async #poll(): Promise<void> {
    const backoff = new PollingBackoff(MINIMUM_POLLING_INTERVAL_MS, this.#options.maxPollingIntervalMs);
    let foundSinceLastDelay = false;
    while (!this.#stopped()) {
      this.#woken = false;
      const batch = await this.#fetch();
      if (batch.length === 0) {
        await this.#sleepUnlessWoken(backoff.next(foundSinceLastDelay));
        foundSinceLastDelay = false;
        continue;
      }
      if (this.#stopped()) {
        // Fetched while stopping: hand the messages straight back rather than leave them invisible.
        await Promise.all(
          batch.map((message) =>
            this.#settle(message, () => this.#queue.updateMessage(message.messageId, message.popReceipt, undefined, 0)),
          ),
        );
        break;
      }
      foundSinceLastDelay = true;
      for (const message of batch) this.#track(this.#process(message));
      while (this.#inFlight.size > this.#options.newBatchThreshold) await Promise.race(this.#inFlight);
    }
  }

  async #fetch(): Promise<ReceivedMessageItem[]> {
    const { logger, logSubject } = this.#options;
    try {
      if (!this.#queueReady) {
        await this.#queue.createIfNotExists();
        this.#queueReady = true;
      }
      const response = await this.#queue.receiveMessages({
        numberOfMessages: this.#options.batchSize,
        visibilityTimeout: Math.ceil(this.#leaseMs / 1000),
      });
      if (this.#pollFailures > 0) logger.info(`${logSubject} can read '${this.#queue.name}' again.`);
      this.#pollFailures = 0;
      return response.receivedMessageItems;
    } catch (error) {
      // As the host: any error resets the existence check, and the listener backs off.
      this.#queueReady = false;
      if (this.#pollFailures++ === 0 && !this.#stopped()) {
        logger.warn(`${logSubject} cannot read '${this.#queue.name}' (will keep trying): ${describe(error)}`);
      }
      return [];
    }
  }

  async #sleepUnlessWoken(ms: number): Promise<void> {
    if (this.#woken) return;
    await new Promise<void>((resolve) => {
      this.#wake = resolve;
      void sleep(ms, this.#stopController.signal).then(resolve);
    });
    this.#wake = undefined;
  }

  #track(work: Promise<void>): void {
    const task: Promise<void> = work
      .catch((error: unknown) =>
        this.#options.logger.error(`${this.#options.logPrefix}: a message on '${this.#queue.name}' could not be processed`, error),
      )
      .finally(() => this.#inFlight.delete(task));
    this.#inFlight.add(task);
  }

  /** Runs one message to its end: delete, release for another attempt, or poison. */
  async #process(message: ReceivedMessageItem): Promise<void> {
    const { maxDequeueCount } = this.#options;
    if (message.dequeueCount > maxDequeueCount) {
      // Only a listener stopped while the message ran leaves it dequeued this often: the host poisons it without running it.
      await this.#poison(message, message.popReceipt);
      return;
    }
    const lease = this.#keepInvisible(message);
    let outcome: MessageOutcome;
    let popReceipt: string;
    try {
      outcome = await this.#options.handle(message);
    } finally {
      popReceipt = await lease.end();
    }

    if (outcome === 'done') {
      await this.#settle(message, () => this.#queue.deleteMessage(message.messageId, popReceipt));
    } else if (outcome === 'poison' || message.dequeueCount >= maxDequeueCount) {
      await this.#poison(message, popReceipt);
    } else {
      await this.#settle(message, () =>
        this.#queue.updateMessage(message.messageId, popReceipt, undefined, this.#options.retryDelaySeconds),
      );
    }
  }

  /**
   * While the message runs, renews its invisibility at half the lease (as the host does), so a long
   * run is not handed to a second one. `end()` gives the latest pop receipt.
   */
  #keepInvisible(message: ReceivedMessageItem): { end(): Promise<string> } {
    let popReceipt = message.popReceipt;
    let renewing: Promise<void> = Promise.resolve();
    let timer: NodeJS.Timeout | undefined;
    const schedule = () => {
      timer = setTimeout(() => {
        renewing = this.#queue.updateMessage(message.messageId, popReceipt, undefined, Math.ceil(this.#leaseMs / 1000)).then(
          (response) => {
            if (response.popReceipt !== undefined) popReceipt = response.popReceipt;
            schedule();
          },
          (error: unknown) => {
            this.#options.logger.warn(
              `${this.#options.logPrefix}: could not keep message ${message.messageId} invisible: ${describe(error)}`,
            );
            schedule();
          },
        );
      }, this.#leaseMs / 2);
    };
    schedule();
    return {
      end: async () => {
        clearTimeout(timer);
        await renewing;
        clearTimeout(timer);
        return popReceipt;
      },
    };
  }

  async #poison(message: ReceivedMessageItem, popReceipt: string): Promise<void> {
    const poisonQueue = this.#options.poisonQueueFor(message);
    this.#options.logger.warn(
      `Message has reached MaxDequeueCount of ${this.#options.maxDequeueCount}. Moving message to queue '${poisonQueue.name}'.`,
    );
    await this.#settle(message, async () => {
      try {
        await poisonQueue.sendMessage(message.messageText);
      } catch (error) {
        if (statusOf(error) !== 404) throw error;
        await poisonQueue.createIfNotExists();
        await poisonQueue.sendMessage(message.messageText);
      }
      await this.#queue.deleteMessage(message.messageId, popReceipt);
    });
  }

  /**
   * Runs message bookkeeping. As in the host, a message or queue that is gone, a pop receipt that no
   * longer matches (someone else has the message) or a queue being deleted is not an error.
   */
  async #settle(message: ReceivedMessageItem, operation: () => Promise<unknown>): Promise<void> {
    try {
      await operation();
    } catch (error) {
      if (['MessageNotFound', 'QueueNotFound', 'PopReceiptMismatch', 'QueueBeingDeleted', 'QueueDisabled'].includes(codeOf(error) ?? ''))
        return;
      this.#options.logger.error(
        `${this.#options.logPrefix}: could not complete message ${message.messageId} on '${this.#queue.name}'`,
        error,
      );
    }
  }
}

/** The host's RandomizedExponentialBackoffStrategy (minimum 100 ms, delta = minimum, ±20 %). */
export class PollingBackoff {
  #current = 0;
  #exponent = 0;
  constructor(
    private readonly minimumMs: number,
    private readonly maximumMs: number,
    private readonly random: () => number = Math.random,
  ) {}

  next(foundMessagesSinceLastDelay: boolean): number {
    if (foundMessagesSinceLastDelay) {
      this.#current = this.minimumMs;
      this.#exponent = 1;
    } else if (this.#current !== this.maximumMs) {
      let interval = this.minimumMs;
      if (this.#exponent > 0) interval += (0.8 + 0.4 * this.random()) * 2 ** (this.#exponent - 1) * this.minimumMs;
      if (interval < this.maximumMs) {
        this.#current = interval;
        this.#exponent++;
      } else {
        this.#current = this.maximumMs;
      }
    }
    return this.#current;
  }
}

/** Resolves after `ms`, or at once when the signal aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done);
  });
}
