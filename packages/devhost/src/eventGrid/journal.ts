import { closeSync, existsSync, fstatSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../logger';
import type { TopicEvent } from './events';

/** Where one (event, subscription) delivery stands while it is pending. */
export interface DeliveryState {
  /** Failed attempts so far. */
  readonly attempts: number;
  /** When the next attempt may start (epoch ms). */
  readonly nextAt: number;
  readonly lastOutcome?: string;
  readonly lastHttpStatusCode?: number;
  readonly lastError?: string;
  readonly lastAttemptAt?: string;
}

/** An accepted event with the deliveries still owed for it, keyed by subscription (function) name. */
export interface JournalEntry {
  /** The journal's own key for the event (publishers may repeat event ids). */
  readonly key: string;
  readonly topicEvent: TopicEvent;
  readonly publishedAt: string;
  readonly pending: Map<string, DeliveryState>;
}

type JournalRecord =
  | {
      readonly type: 'published';
      readonly at: string;
      readonly events: readonly {
        readonly key: string;
        readonly schema: TopicEvent['schema'];
        readonly event: TopicEvent['event'];
        readonly subscriptions: readonly string[];
      }[];
    }
  | ({ readonly type: 'failed'; readonly key: string; readonly subscription: string } & DeliveryState)
  | {
      readonly type: 'delivered' | 'deadLettered';
      readonly key: string;
      readonly subscription: string;
      readonly attempt: number;
      readonly at: string;
      readonly reason?: string;
    };

export const JOURNAL_FILE = 'journal.ndjson';

/** Longest error text kept per failed attempt (the dead-letter file gets the whole last one). */
const MAX_ERROR_CHARS = 2000;

/**
 * The Event Grid service's durable state: an append-only NDJSON file under `<dataDir>/eventgrid/`.
 * Accepted events are appended and fsynced before the publisher hears 200; each attempt's outcome is
 * appended as it happens, so after a restart (even a SIGKILL) pending deliveries resume with their
 * attempt counts and completed ones are not repeated. A delivery in flight at a crash has no outcome
 * line and runs again: at least once, as the service promises. The file is rewritten with only the
 * pending state at open and whenever it has grown well past that.
 */
export class DeliveryJournal {
  readonly #dir: string;
  readonly #file: string;
  readonly #compactAfterBytes: number;
  readonly #entries = new Map<string, JournalEntry>();
  #fd: number | undefined;
  #pendingCount = 0;
  #size = 0;
  #compactedSize = 0;

  private constructor(dir: string, compactAfterBytes: number) {
    this.#dir = dir;
    this.#file = join(dir, JOURNAL_FILE);
    this.#compactAfterBytes = compactAfterBytes;
  }

  /**
   * Opens (creating) the journal in `dir`, replays it and compacts it. Deliveries owed to a subscription
   * that no longer exists are dropped with a warning, as deleting a subscription drops its events.
   */
  static open(dir: string, subscriptions: ReadonlySet<string>, logger: Logger, compactAfterBytes = 8 * 1024 * 1024): DeliveryJournal {
    mkdirSync(dir, { recursive: true });
    const journal = new DeliveryJournal(dir, compactAfterBytes);
    journal.#replay(logger);
    const dropped = new Map<string, number>();
    for (const entry of journal.#entries.values()) {
      for (const name of entry.pending.keys()) {
        if (subscriptions.has(name)) continue;
        entry.pending.delete(name);
        dropped.set(name, (dropped.get(name) ?? 0) + 1);
      }
      if (entry.pending.size === 0) journal.#entries.delete(entry.key);
    }
    for (const entry of journal.#entries.values()) journal.#pendingCount += entry.pending.size;
    for (const [name, count] of dropped)
      logger.warn(`Event Grid: dropped ${count} pending deliveries to "${name}", which is no longer an eventGrid-triggered function.`);
    journal.#compact();
    return journal;
  }

  /** The events that still have deliveries pending. */
  get entries(): ReadonlyMap<string, JournalEntry> {
    return this.#entries;
  }

  /** Deliveries owed, over all events and subscriptions. */
  get pendingCount(): number {
    return this.#pendingCount;
  }

  /** Records accepted events durably (write + fsync) and returns their entries. Events no subscription wants are not kept. */
  publish(
    items: readonly { readonly key: string; readonly topicEvent: TopicEvent; readonly subscriptions: readonly string[] }[],
    at: Date,
  ): JournalEntry[] {
    const wanted = items.filter((item) => item.subscriptions.length > 0);
    if (wanted.length === 0) return [];
    const publishedAt = at.toISOString();
    this.#append(
      {
        type: 'published',
        at: publishedAt,
        events: wanted.map((item) => ({
          key: item.key,
          schema: item.topicEvent.schema,
          event: item.topicEvent.event,
          subscriptions: item.subscriptions,
        })),
      },
      true,
    );
    return wanted.map((item) => {
      const entry: JournalEntry = {
        key: item.key,
        topicEvent: item.topicEvent,
        publishedAt,
        pending: new Map(item.subscriptions.map((name) => [name, { attempts: 0, nextAt: at.getTime() }])),
      };
      this.#entries.set(entry.key, entry);
      this.#pendingCount += entry.pending.size;
      return entry;
    });
  }

  /** Records a failed attempt and when the next one is due. */
  failed(key: string, subscription: string, state: DeliveryState): void {
    const entry = this.#entries.get(key);
    if (!entry?.pending.has(subscription)) return;
    const kept: DeliveryState = {
      ...state,
      ...(state.lastError !== undefined && { lastError: state.lastError.slice(0, MAX_ERROR_CHARS) }),
    };
    entry.pending.set(subscription, kept);
    this.#append({ type: 'failed', key, subscription, ...kept }, false);
  }

  /** Records that a delivery is finished: delivered, or dead-lettered (its file already written). */
  finished(type: 'delivered' | 'deadLettered', key: string, subscription: string, attempt: number, at: Date, reason?: string): void {
    const entry = this.#entries.get(key);
    if (!entry?.pending.delete(subscription)) return;
    this.#pendingCount -= 1;
    if (entry.pending.size === 0) this.#entries.delete(key);
    this.#append(
      { type, key, subscription, attempt, at: at.toISOString(), ...(reason !== undefined && { reason }) },
      type === 'deadLettered',
    );
    if (this.#size > this.#compactAfterBytes && this.#size > 2 * this.#compactedSize) this.#compact();
  }

  close(): void {
    if (this.#fd === undefined) return;
    closeSync(this.#fd);
    this.#fd = undefined;
  }

  #append(record: JournalRecord, durable: boolean): void {
    if (this.#fd === undefined) throw new Error('The Event Grid journal is closed.');
    const bytes = Buffer.from(`${JSON.stringify(record)}\n`);
    writeAll(this.#fd, bytes);
    // Without fsync the line still survives the process being killed (it is in the OS's cache);
    // fsync makes the promise made to a publisher survive the machine stopping too.
    if (durable) fsyncSync(this.#fd);
    this.#size += bytes.length;
  }

  #replay(logger: Logger): void {
    if (!existsSync(this.#file)) return;
    const text = readFileSync(this.#file, 'utf8');
    const lines = text.split('\n');
    // A last line without its newline was cut short by a crash mid-write: its publisher never heard 200.
    const complete = lines.slice(0, -1);
    if (lines.at(-1)) logger.warn(`Event Grid: ignored an incomplete last line in ${this.#file} (a write cut short by a crash).`);
    for (const [index, line] of complete.entries()) {
      if (line.trim() === '') continue;
      let record: JournalRecord;
      try {
        record = JSON.parse(line) as JournalRecord;
      } catch {
        logger.warn(`Event Grid: skipped unreadable line ${index + 1} of ${this.#file}.`);
        continue;
      }
      this.#apply(record);
    }
  }

  #apply(record: JournalRecord): void {
    switch (record.type) {
      case 'published': {
        const at = Date.parse(record.at);
        for (const item of record.events) {
          const topicEvent = { schema: item.schema, event: item.event } as TopicEvent;
          this.#entries.set(item.key, {
            key: item.key,
            topicEvent,
            publishedAt: record.at,
            pending: new Map(item.subscriptions.map((name) => [name, { attempts: 0, nextAt: at }])),
          });
        }
        return;
      }
      case 'failed': {
        const { type: _type, key, subscription, ...state } = record;
        const entry = this.#entries.get(key);
        if (entry?.pending.has(subscription)) entry.pending.set(subscription, state);
        return;
      }
      case 'delivered':
      case 'deadLettered': {
        const entry = this.#entries.get(record.key);
        entry?.pending.delete(record.subscription);
        if (entry?.pending.size === 0) this.#entries.delete(record.key);
        return;
      }
    }
  }

  /** Rewrites the file with only the pending state (write a copy, fsync, rename over, fsync the folder). */
  #compact(): void {
    this.close();
    const lines: string[] = [];
    for (const entry of this.#entries.values()) {
      const record: JournalRecord = {
        type: 'published',
        at: entry.publishedAt,
        events: [
          { key: entry.key, schema: entry.topicEvent.schema, event: entry.topicEvent.event, subscriptions: [...entry.pending.keys()] },
        ],
      };
      lines.push(JSON.stringify(record));
      for (const [subscription, state] of entry.pending)
        if (state.attempts > 0)
          lines.push(JSON.stringify({ type: 'failed', key: entry.key, subscription, ...state } satisfies JournalRecord));
    }
    const text = lines.map((line) => `${line}\n`).join('');
    const temporary = `${this.#file}.tmp`;
    const fd = openSync(temporary, 'w');
    try {
      writeAll(fd, Buffer.from(text));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, this.#file);
    syncFolder(this.#dir);
    this.#fd = openSync(this.#file, 'a');
    this.#size = fstatSync(this.#fd).size;
    this.#compactedSize = this.#size;
  }
}

function writeAll(fd: number, bytes: Buffer): void {
  let written = 0;
  while (written < bytes.length) written += writeSync(fd, bytes, written, bytes.length - written);
}

function syncFolder(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Not every platform can fsync a folder (Windows); the rename is still atomic there.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
