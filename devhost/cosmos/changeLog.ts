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

/** The change feed of one container: latest version per document, iterable in LSN order. */
export class ContainerChanges {
  // Keyed by partition key + id. A Map iterates in insertion order, and a changed document is
  // deleted and re-inserted, so iteration order is always ascending LSN.
  private latest = new Map<string, ChangeRecord>();

  put(record: ChangeRecord): void {
    const key = documentKey(record.partitionKey, record.id);
    this.latest.delete(key);
    this.latest.set(key, record);
  }

  /** A deleted document leaves the latest-version feed (real Cosmos does not surface deletes in it). */
  forget(partitionKey: unknown, id: string): void {
    this.latest.delete(documentKey(partitionKey, id));
  }

  /** Records with lsn > afterLsn that match `where`, in LSN order, at most `limit` of them. */
  since(afterLsn: number, limit = Number.POSITIVE_INFINITY, where: (record: ChangeRecord) => boolean = () => true): ChangeRecord[] {
    const page: ChangeRecord[] = [];
    // A linear scan is fine for a development emulator; an index by LSN would be the next step.
    for (const record of this.latest.values()) {
      if (page.length >= limit) break;
      if (record.lsn > afterLsn && where(record)) page.push(record);
    }
    return page;
  }

  /** All records, in LSN order. */
  records(): ChangeRecord[] {
    return [...this.latest.values()];
  }

  /** Snapshot the feed; calling the returned function puts it back (order included). */
  savepoint(): () => void {
    const saved = new Map(this.latest);
    return () => {
      this.latest = saved;
    };
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

  /** Snapshot the sequence and one container's feed; calling the returned function restores both. */
  savepoint(container: EmulatorContainer): () => void {
    const changes = this.track(container);
    const lastLsn = this.lastLsn;
    const restoreChanges = changes.savepoint();
    return () => {
      this.lastLsn = lastLsn;
      restoreChanges();
    };
  }
}

function documentKey(partitionKey: unknown, id: string): string {
  return JSON.stringify([partitionKey ?? null, id]);
}
