/**
 * Change log: gives every document write a global, strictly increasing sequence number (LSN),
 * stamps it on the stored document as `_lsn`, and keeps, per container, the latest version of each
 * changed document in LSN order. The change feed ("latest version" mode) is served from here.
 *
 * Writes are observed at the emulator's storage layer (Documents._set / Documents.delete) rather
 * than per HTTP route, so single writes, upserts, replaces, patches and batch operations are all
 * recorded the same way, synchronously with the write itself.
 *
 * Every write appends: the emulator's replace deletes the old version before storing the new one,
 * so a container's store (Documents._data) is always in LSN order, and its records are exactly its
 * stored documents. Persistence (persistence.ts) relies on both: it saves the stored documents with
 * their `recordedAtMs`, and restores them with restoreDocument(), which puts each one back through
 * the original (un-hooked) _set with its own _lsn and re-adds its record; `currentLsn` is restored
 * with resumeFrom(). It learns what to save from the `onWrite` callback.
 */
import { partitionKeyOf, storedDocument, type EmulatorContainer, type EmulatorDocuments, type StoredDocument } from './emulatorInternals';

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

  /** The document's current record, if it has one. */
  latestRecord(partitionKey: unknown, id: string): ChangeRecord | undefined {
    return this.latest.get(documentKey(partitionKey, id));
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

/** A tracked container: its feed, and the store's original (un-hooked) write functions. */
interface TrackedContainer {
  readonly changes: ContainerChanges;
  readonly storeDocument: (data: StoredDocument) => StoredDocument;
  readonly deleteDocument: (idOrRid: string, partition: unknown) => void;
}

/**
 * Told about every document write, before it happens: the container and the _rid of the document
 * the write stores or deletes. The write may still fail or be rolled back afterwards.
 */
export type WriteObserver = (container: EmulatorContainer, rid: string) => void;

export class ChangeLog {
  private lastLsn = 0;
  // Keyed by the emulator's Documents object, which is what a container's identity really is in
  // the emulator: deleting and recreating a container with the same id yields a fresh feed.
  private readonly containers = new WeakMap<EmulatorDocuments, TrackedContainer>();

  constructor(private readonly onWrite?: WriteObserver) {}

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
    return this.tracked(container).changes;
  }

  /**
   * Put a saved document back as it was (same _rid, _etag, _ts, _lsn), replacing the stored
   * version with the same _rid if any, and re-add its feed record. Writes nobody observes: for
   * restoring persisted state, in LSN order per container. A no-op when that very version is stored.
   */
  restoreDocument(container: EmulatorContainer, document: StoredDocument, recordedAtMs: number): void {
    const { changes, storeDocument } = this.tracked(container);
    const lsn = lsnOf(document);
    const existing = storedDocument(container, document._rid);
    if (existing && lsnOf(existing) === lsn) return;
    if (existing) this.restoreRemoval(container, existing._rid);
    const stored = storeDocument(document);
    changes.put({ lsn, id: stored.id, partitionKey: partitionKeyOf(container, stored), recordedAtMs, document: stored });
    this.resumeFrom(lsn);
  }

  /** Remove a stored document (if present) and its feed record, unobserved: see restoreDocument. */
  restoreRemoval(container: EmulatorContainer, rid: string): void {
    const { changes, deleteDocument } = this.tracked(container);
    const existing = storedDocument(container, rid);
    if (!existing) return;
    const partitionKey = partitionKeyOf(container, existing);
    deleteDocument(existing.id, partitionKey);
    changes.forget(partitionKey, existing.id);
  }

  /** When the stored document's current version was written (ms), from its feed record. */
  recordedAtMs(container: EmulatorContainer, document: StoredDocument): number | undefined {
    const record = this.track(container).latestRecord(partitionKeyOf(container, document), document.id);
    return record?.document === document ? record.recordedAtMs : undefined;
  }

  private tracked(container: EmulatorContainer): TrackedContainer {
    const documents = container.documents;
    const known = this.containers.get(documents);
    if (known) return known;

    const changes = new ContainerChanges();
    const storeDocument = documents._set.bind(documents);
    const deleteDocument = documents.delete.bind(documents);
    const tracked: TrackedContainer = { changes, storeDocument, deleteDocument };
    this.containers.set(documents, tracked);

    // create() and replace() (and so upsert, patch and the batch operations) all end in _set().
    documents._set = (data: StoredDocument): StoredDocument => {
      this.onWrite?.(container, data._rid);
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
      if (existing) this.onWrite?.(container, existing._rid);
      deleteDocument(idOrRid, partition);
      if (existing) changes.forget(partitionKeyOf(container, existing), existing.id);
    };
    return tracked;
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

/** The _lsn the change log stamped on a stored document (0 if it has none). */
export function lsnOf(document: StoredDocument): number {
  const lsn: unknown = document._lsn;
  return typeof lsn === 'number' ? lsn : 0;
}

function documentKey(partitionKey: unknown, id: string): string {
  return JSON.stringify([partitionKey ?? null, id]);
}
