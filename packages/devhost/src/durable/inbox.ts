/**
 * Message delivery: how a result or a request reaches an instance. It becomes durable as an inbox row
 * (messages arriving meanwhile share one transaction) before the instance sees it — except a result
 * for an idle instance, which the checkpoint that consumes it records (point 2 of the write order in
 * checkpoint.ts).
 */
import { completionId } from './history';
import type { Live } from './live';
import { RETRY_AFTER_ERROR_MS, sleep, type EngineRuntime } from './runtime';
import type { InboxMessage } from './tableRows';

/** Hands a message to an instance; resolves once it is durable (or dropped as stale or a duplicate). */
export type Deliver = (live: Live, message: InboxMessage) => Promise<void>;

export interface InboxOptions {
  /** Always write a result to the inbox before an episode consumes it (no inline recording by the checkpoint). */
  readonly inboxFirst: boolean;
  /** Whether an episode could start at once (a slot is free). */
  readonly canRunEpisode: () => boolean;
  /** The instance has a message to take: let it run an episode. */
  readonly wake: (live: Live) => void;
}

export class Inbox {
  constructor(
    private readonly runtime: EngineRuntime,
    private readonly options: InboxOptions,
  ) {}

  /**
   * Makes a message durable (messages arriving meanwhile share one transaction), then lets the instance
   * see it. Stale or duplicate messages are dropped. Resolves once durable (or dropped).
   */
  deliver(live: Live, message: InboxMessage): Promise<void> {
    if (this.runtime.stopping || !this.runtime.isCurrent(live) || live.isStale(message)) return Promise.resolve();
    const id = completionId(message.event);
    if (id !== undefined) {
      if (live.completions.has(id)) return Promise.resolve();
      live.completions.add(id);
      // An idle instance takes a result straight into its next episode, whose checkpoint records it.
      if (
        !this.options.inboxFirst &&
        !live.pumping &&
        !live.blocked &&
        !live.writing &&
        live.writeQueue.length === 0 &&
        live.history.length > 0 &&
        this.options.canRunEpisode()
      ) {
        live.inline.push(message);
        this.options.wake(live);
        return Promise.resolve();
      }
    }
    return this.writeDurably(live, message);
  }

  writeDurably(live: Live, message: InboxMessage): Promise<void> {
    if (this.runtime.stopping || !this.runtime.isCurrent(live)) return Promise.resolve();
    return new Promise((done) => {
      live.writeQueue.push({ message, done });
      this.runtime.changeBusy(live.root, 1);
      if (!live.writing) void this.flushWrites(live);
    });
  }

  private async flushWrites(live: Live): Promise<void> {
    live.writing = true;
    try {
      while (live.writeQueue.length > 0) {
        const batch = live.writeQueue.splice(0, 100);
        let durable = false;
        while (!durable && !this.runtime.stopping) {
          try {
            await this.runtime.store.appendInbox(
              live.id,
              batch.map((item) => item.message),
            );
            durable = true;
          } catch (error) {
            this.runtime.logger.error(`Durable: could not record ${batch.length} message(s) for ${live.id}; retrying`, error);
            await sleep(RETRY_AFTER_ERROR_MS);
          }
        }
        if (durable && this.runtime.isCurrent(live)) {
          for (const item of batch) live.pending.set(item.message.rowKey, item.message);
          this.options.wake(live);
        }
        for (const item of batch) item.done();
        this.runtime.changeBusy(live.root, -batch.length);
      }
    } finally {
      live.writing = false;
    }
  }
}
