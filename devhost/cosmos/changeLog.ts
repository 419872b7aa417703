/**
 * Change log: gives every document write a global, strictly increasing sequence number (LSN),
 * stamps it on the stored document as `_lsn`, and keeps, per container, the latest version of each
 * changed document in LSN order. The change feed ("latest version" mode) is served from here.
 *
 * Writes are observed at the emulator's storage layer (Documents._set / Documents.delete) rather
 * than per HTTP route, so single writes, upserts, replaces, patches and batch operations are all
 * recorded the same way, synchronously with the write itself.
 *
 * Persistence (later): a snapshot is, per container, the emulator's stored documents (Documents._data)
 * plus `records()` of its ContainerChanges, plus `currentLsn`. Restoring means recreating the
 * containers, putting documents back through the original (un-hooked) _set so they keep their _lsn,
 * reinserting the records in LSN order and calling `resumeFrom(lsn)`.
 */
import {
  partitionKeyOf,
  type EmulatorContainer,
  type EmulatorDocuments,
  type StoredDocument,
} from './emulatorInternals';

/** One change-feed entry: the latest version of a document and the sequence number of that write. */
export interface ChangeRecord {
  readonly lsn: number;
  readonly id: string;
  readonly partitionKey: unknown;
  /** Wall-clock time of the write, for ChangeFeedStartFrom.Time (the stored _ts is whole seconds). */
  readonly recordedAtMs: number;
  readonly document: StoredDocument;
}

/** A record as the log keeps it, with its document key computed once. */
interface LogEntry {
  readonly key: string;
  readonly record: ChangeRecord;
}

/**
 * The change feed of one container: latest version per document, iterable in LSN order.
 *
 * `log` is append-only in LSN order and may still hold versions that were superseded or deleted
 * since; an entry is live while `latest` maps its key to its very record. Sparse logs are compacted
 * (amortised O(1) per write). This keeps LSN order without ever moving an entry, so a transaction
 * can be undone in O(writes it made): drop the log's tail above the LSN the transaction started at,
 * and put back the `latest` entries it changed.
 */
export class ContainerChanges {
  private log: LogEntry[] = [];
  private readonly latest = new Map<string, ChangeRecord>();
  /** While a transaction is open: each touched key's record before it (undefined: none). */
  private journal: Map<string, ChangeRecord | undefined> | undefined;

  put(record: ChangeRecord): void {
    const key = documentKey(record.partitionKey, record.id);
    this.remember(key);
    this.latest.set(key, record);
    this.log.push({ key, record });
    this.compactIfSparse();
  }

  /** A deleted document leaves the latest-version feed (real Cosmos does not surface deletes in it). */
  forget(partitionKey: unknown, id: string): void {
    const key = documentKey(partitionKey, id);
    if (!this.latest.has(key)) return;
    this.remember(key);
    this.latest.delete(key);
  }

  /** Records with lsn > afterLsn that match `where`, in LSN order, at most `limit` of them. */
  since(afterLsn: number, limit = Number.POSITIVE_INFINITY, where: (record: ChangeRecord) => boolean = () => true): ChangeRecord[] {
    const page: ChangeRecord[] = [];
    const { log } = this;
    for (let i = this.firstIndexAfter(afterLsn); i < log.length && page.length < limit; i += 1) {
      const entry = log[i];
      if (entry && this.isLive(entry) && where(entry.record)) page.push(entry.record);
    }
    return page;
  }

  /** All records, in LSN order. */
  records(): ChangeRecord[] {
    return this.log.filter((entry) => this.isLive(entry)).map((entry) => entry.record);
  }

  /** Start remembering what changes, for rollback(). Transactions do not nest. */
  begin(): void {
    if (this.journal) throw new Error('ContainerChanges: a transaction is already open');
    this.journal = new Map();
  }

  /** Keys touched by the open transaction (0 when none is open). */
  get journalSize(): number {
    return this.journal?.size ?? 0;
  }

  commit(): void {
    this.journal = undefined;
    this.compactIfSparse();
  }

  /** Undo the open transaction. `startLsn`: the change log's LSN when it began. */
  rollback(startLsn: number): void {
    const journal = this.journal;
    this.journal = undefined;
    if (!journal) return;
    // LSNs are handed out in order and nothing else writes during a transaction, so everything it
    // logged is the tail above startLsn (and no compaction ran while it was open).
    while ((this.log.at(-1)?.record.lsn ?? 0) > startLsn) this.log.pop();
    for (const [key, previous] of journal) {
      if (previous) this.latest.set(key, previous);
      else this.latest.delete(key);
    }
  }

  private isLive(entry: LogEntry): boolean {
    return this.latest.get(entry.key) === entry.record;
  }

  private remember(key: string): void {
    const journal = this.journal;
    if (journal && !journal.has(key)) journal.set(key, this.latest.get(key));
  }

  /** Index of the first log entry with lsn > afterLsn (binary search: the log is in LSN order). */
  private firstIndexAfter(afterLsn: number): number {
    let low = 0;
    let high = this.log.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if ((this.log[middle]?.record.lsn ?? Number.POSITIVE_INFINITY) > afterLsn) high = middle;
      else low = middle + 1;
    }
    return low;
  }

  private compactIfSparse(): void {
    if (this.journal || this.log.length < 1024 || this.log.length < 2 * this.latest.size) return;
    this.log = this.log.filter((entry) => this.isLive(entry));
  }
}

export class ChangeLog {
  private lastLsn = 0;
  // Keyed by the emulator's Documents object, which is what a container's identity really is in
  // the emulator: deleting and recreating a container with the same id yields a fresh feed.
  private readonly containers = new WeakMap<EmulatorDocuments, ContainerChanges>();

  /** The highest sequence number handed out so far (0 before the first write). */
  get currentLsn(): number {
    return this.lastLsn;
  }

  /** For a restore from a snapshot: continue numbering after `lsn`. */
  resumeFrom(lsn: number): void {
    this.lastLsn = Math.max(this.lastLsn, lsn);
  }

  /**
   * The container's change feed, installing the write hooks on first use. Must be called before
   * any write can reach the container; the request layer does so for every container request.
   */
  track(container: EmulatorContainer): ContainerChanges {
    const documents = container.documents;
    const known = this.containers.get(documents);
    if (known) return known;

    const changes = new ContainerChanges();
    this.containers.set(documents, changes);
    const storeDocument = documents._set.bind(documents);
    const deleteDocument = documents.delete.bind(documents);

    // create() and replace() (and so upsert, patch and the batch operations) all end in _set().
    documents._set = (data: StoredDocument): StoredDocument => {
      const lsn = this.lastLsn + 1;
      const stamped: StoredDocument = { ...data, _lsn: lsn, _ts: data._ts ?? Math.floor(Date.now() / 1000) };
      const stored = storeDocument(stamped);
      this.lastLsn = lsn;
      changes.put({ lsn, id: stored.id, partitionKey: partitionKeyOf(container, stored), recordedAtMs: Date.now(), document: stored });
      return stored;
    };
    // replace() deletes the old version before _set() stores the new one, so the record is
    // forgotten and immediately re-added with the new LSN; a real delete just forgets it.
    documents.delete = (idOrRid: string, partition: unknown): void => {
      const existing = documents._item('/id', idOrRid, partition)._data;
      deleteDocument(idOrRid, partition);
      if (existing) changes.forget(partitionKeyOf(container, existing), existing.id);
    };
    return changes;
  }

  /**
   * Start a transaction on one container's feed and the sequence (see transactionalBatch.ts): until
   * commit() or rollback(), which must follow without an await in between, the writes it sees can
   * be undone in O(writes).
   */
  begin(container: EmulatorContainer): ChangeLogTransaction {
    const changes = this.track(container);
    const startLsn = this.lastLsn;
    changes.begin();
    return {
      journalSize: () => changes.journalSize,
      commit: () => {
        changes.commit();
      },
      rollback: () => {
        changes.rollback(startLsn);
        this.lastLsn = startLsn;
      },
    };
  }
}

export interface ChangeLogTransaction {
  /** Feed entries remembered for rollback so far. */
  journalSize(): number;
  commit(): void;
  rollback(): void;
}

function documentKey(partitionKey: unknown, id: string): string {
  return JSON.stringify([partitionKey ?? null, id]);
}
