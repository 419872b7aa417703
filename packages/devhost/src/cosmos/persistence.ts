/**
 * Persistence for the local Cosmos endpoint: a snapshot plus a write-ahead journal in one directory,
 * so databases, containers, documents (with their _rid, _etag, _ts, _lsn) and the change log (the
 * LSN counter and every container's feed records) survive a restart, SIGKILL included.
 *
 * Files (UTF-8, one JSON value per line):
 *   snapshot.ndjson  line 1: { format, version, seq }: the journal records it already contains;
 *                    then StateChange lines: the catalog first, then each container's documents in
 *                    LSN order (at most SNAPSHOT_CHUNK per line). Written as snapshot.ndjson.tmp,
 *                    fsync'ed, then renamed over the old one, so it is always complete.
 *   journal.ndjson   one JournalRecord ({ seq, ...StateChange }) per flush, appended with one
 *                    fs.writeSync before the response of the request(s) it covers is sent.
 *
 * What is recorded are after-images, not requests: for each container, the documents a request
 * wrote as they are after it (by _rid, with the time their feed record was written) and the _rids it
 * deleted; and, when any database, container or UDF changed, the whole catalog as it is after.
 * Replaying a record therefore re-applies the emulator's own state changes through its stores (see
 * ChangeLog.restoreDocument and applyCatalogImage) without re-running any request logic, and a
 * document comes back with the _etag and _lsn it had, so If-Match and change feed continuations
 * keep working.
 *
 * When records are written: the ChangeLog tells us (onWrite) which documents a request writes; the
 * request layer calls flush() just before each response of a request that may write (any method
 * but GET and HEAD) is sent. A request's writes all happen in one synchronous stretch after its body
 * has arrived (a transactional batch from begin to commit or rollback, see transactionalBatch.ts), so
 * a flush never sees part of a request: a batch is in one record or in none. A record may cover
 * several requests whose writes ran before the flush; it is still all of each.
 *
 * Durability: records are written with fs.writeSync but not fsync'ed. A write that returned is in
 * the OS page cache, which a crash of the process (SIGKILL, an exception, OOM) does not lose; an
 * OS crash or power cut can lose the last records (and, at worst, leave garbage at the end of the
 * journal, which start-up then reports). Snapshots are fsync'ed before they replace the old one and
 * before the journal is truncated, so compaction itself never loses committed records.
 *
 * A crash at each point, and what the next start sees:
 *   - before or during a journal append: the record is absent or an unterminated last line, which
 *     is ignored; the request's response had not been sent, so no client saw it succeed;
 *   - after the append, before or while responding: the write is kept (the client may see an
 *     error for a write that happened, as with a lost response from real Cosmos);
 *   - during compaction, before the rename: the old snapshot and the full journal are intact;
 *   - after the rename, before the journal is truncated: the new snapshot says which journal
 *     records (seq) it contains, and those are skipped.
 * On start the snapshot is loaded, the journal replayed, and then compacted (fresh snapshot, empty
 * journal); while running, compaction runs once the journal outgrows both `compactAfterBytes` and
 * the last snapshot, which keeps its cost amortised O(1) per byte written and restarts fast.
 *
 * While running, compaction must not stall the endpoint (serialising a large store takes seconds,
 * and every request would wait for it), so it runs in the background: it flushes, captures the
 * state (the stored documents are replaced, never changed, on every write, so keeping references
 * is a consistent picture) and the journal's length, then writes the snapshot a line at a time,
 * letting requests in between lines while their records go on being appended to the journal. Once
 * the snapshot is in place, the journal is replaced by its tail: the records written since the
 * capture, copied to journal.ndjson.tmp and renamed over it. A crash before that rename leaves the
 * new snapshot and the whole journal (the records it holds are skipped), after it the new snapshot
 * and the tail; either restores the same state. Compaction at start-up, before any request, runs
 * in one go.
 *
 * One process at a time may use a directory; nothing here checks that.
 */
import {
  closeSync,
  existsSync,
  fsync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { lsnOf, type ChangeLog } from './changeLog';
import {
  applyCatalogImage,
  catalogImage,
  catalogSignature,
  containerByRid,
  documentCount,
  documentRidCount,
  liveContainers,
  setDocumentRidCount,
  storedDocument,
  storedDocuments,
  type CatalogImage,
  type EmulatorAccount,
  type EmulatorContainer,
  type EmulatorDocuments,
  type StoredDocument,
} from './emulatorInternals';

const SNAPSHOT_FILE = 'snapshot.ndjson';
const JOURNAL_FILE = 'journal.ndjson';
const FORMAT = 'local-cosmos-endpoint';
const VERSION = 1;
/** Documents per snapshot line; a background compaction lets requests in after each line. */
const SNAPSHOT_CHUNK = 200;
/** Default journal size above which the endpoint compacts (if it also exceeds the last snapshot). */
export const DEFAULT_COMPACT_AFTER_BYTES = 16 * 1024 * 1024;

/** A committed change to the endpoint's state, as after-images. */
export interface StateChange {
  /** The change log's LSN after the change. */
  readonly lsn: number;
  /** Every database, container and UDF as they are after the change; present only when they changed. */
  readonly catalog?: CatalogImage;
  readonly containers?: readonly ContainerChange[];
}

/** The documents one container's change wrote or deleted. */
export interface ContainerChange {
  readonly database: string;
  readonly container: string;
  /** The container's document _rid counter after the change. */
  readonly ridCount: number;
  /** _rids of deleted documents. Applied before `documents`. */
  readonly removed?: readonly string[];
  /** Documents written, as stored after the change, in LSN order. */
  readonly documents?: readonly PersistedDocument[];
}

export interface PersistedDocument {
  /** When the document's feed record was written (ms), for ChangeFeedStartFrom.Time. */
  readonly at: number;
  readonly doc: StoredDocument;
}

interface JournalRecord extends StateChange {
  /** 1, 2, 3… across compactions: a snapshot records the last one it contains. */
  readonly seq: number;
}

interface SnapshotHeader {
  readonly format: typeof FORMAT;
  readonly version: typeof VERSION;
  readonly seq: number;
}

/** The directory's content, read and parsed, ready to be applied. */
export interface PersistedState {
  readonly dir: string;
  /** The snapshot's changes, then the journal's records after it, in order. */
  readonly changes: readonly StateChange[];
  /** The last journal record's seq (or the snapshot's, if the journal adds none). */
  readonly seq: number;
  readonly journalRecords: number;
  /** Whether the journal ended in an unterminated (torn) line, which was ignored. */
  readonly tornTail: boolean;
}

/** Read and parse the directory (created if missing). Throws if the files are not usable. */
export function loadPersistedState(dir: string): PersistedState {
  mkdirSync(dir, { recursive: true });
  const changes: StateChange[] = [];

  const snapshotPath = join(dir, SNAPSHOT_FILE);
  const snapshot = readLines(snapshotPath);
  let seq = 0;
  if (snapshot.lines.length > 0 || snapshot.tornTail) {
    const [headerLine = '', ...lines] = snapshot.lines;
    const parsed = parseLine(headerLine, snapshotPath, 1);
    const header: Partial<SnapshotHeader> = typeof parsed === 'object' && parsed !== null ? parsed : {};
    if (snapshot.tornTail || header.format !== FORMAT || header.version !== VERSION || typeof header.seq !== 'number') {
      throw corrupt(snapshotPath, 'not a complete snapshot of a supported version');
    }
    seq = header.seq;
    lines.forEach((line, index) => changes.push(asStateChange(parseLine(line, snapshotPath, index + 2), snapshotPath, index + 2)));
  }

  const journalPath = join(dir, JOURNAL_FILE);
  const journal = readLines(journalPath);
  let journalRecords = 0;
  journal.lines.forEach((line, index) => {
    const parsed = parseLine(line, journalPath, index + 1);
    const record = asStateChange(parsed, journalPath, index + 1) as Partial<JournalRecord> & StateChange;
    if (typeof record.seq !== 'number') throw corrupt(journalPath, `line ${index + 1} has no seq`);
    // Records up to the snapshot's seq are in it already (a crash hit between rename and truncate).
    if (record.seq <= seq) return;
    if (record.seq !== seq + 1) throw corrupt(journalPath, `line ${index + 1} is record ${record.seq}, expected ${seq + 1}`);
    seq = record.seq;
    journalRecords += 1;
    changes.push(record);
  });
  return { dir, changes, seq, journalRecords, tornTail: journal.tornTail };
}

export interface PersistenceOptions {
  /** See DEFAULT_COMPACT_AFTER_BYTES. */
  readonly compactAfterBytes?: number;
}

/** What a start restored, for logs and tests. */
export interface RestoreSummary {
  readonly documents: number;
  readonly journalRecords: number;
  readonly tornTail: boolean;
  readonly lsn: number;
}

/** Keeps an endpoint's state durable in a directory: see the file comment. */
export class Persistence {
  private readonly compactAfterBytes: number;
  private journal: number;
  private journalBytes = 0;
  private snapshotBytes = 0;
  private seq: number;
  /** The change log's LSN at the last flush: a document with a higher _lsn was written since. */
  private flushedLsn: number;
  private flushedCatalog: string;
  /** Documents written since the last flush, per container, with whether each was stored at the last flush. */
  private readonly dirty = new Map<EmulatorDocuments, { readonly container: EmulatorContainer; readonly rids: Map<string, boolean> }>();
  /** The background compaction under way, if any. */
  private compaction: Promise<void> | undefined;
  /** A compaction is due to start after the current response. */
  private compactionScheduled = false;
  private closed = false;
  /** Set when a failed append could not be cut back: records after it would follow a partial line. */
  private unusable: Error | undefined;

  /**
   * Apply `state` to a fresh account and change log, write it as the new snapshot, and start an
   * empty journal. Call before the endpoint serves any request.
   */
  static restore(
    state: PersistedState,
    account: EmulatorAccount,
    changeLog: ChangeLog,
    options: PersistenceOptions = {},
  ): { persistence: Persistence; summary: RestoreSummary } {
    for (const change of state.changes) applyStateChange(account, changeLog, change);
    const persistence = new Persistence(state.dir, state.seq, account, changeLog, options);
    persistence.compactNow();
    let documents = 0;
    for (const { container } of liveContainers(account).values()) documents += documentCount(container);
    return {
      persistence,
      summary: { documents, journalRecords: state.journalRecords, tornTail: state.tornTail, lsn: changeLog.currentLsn },
    };
  }

  private constructor(
    private readonly dir: string,
    seq: number,
    private readonly account: EmulatorAccount,
    private readonly changeLog: ChangeLog,
    options: PersistenceOptions,
  ) {
    this.compactAfterBytes = options.compactAfterBytes ?? DEFAULT_COMPACT_AFTER_BYTES;
    this.seq = seq;
    this.flushedLsn = changeLog.currentLsn;
    this.flushedCatalog = catalogSignature(account);
    // 'a': every write goes to the end, also after compaction truncates the file.
    this.journal = openSync(join(dir, JOURNAL_FILE), 'a');
  }

  /** The ChangeLog's WriteObserver: a document is about to be written or deleted. */
  noteWrite(container: EmulatorContainer, rid: string): void {
    let entry = this.dirty.get(container.documents);
    if (!entry) {
      entry = { container, rids: new Map() };
      this.dirty.set(container.documents, entry);
    }
    if (!entry.rids.has(rid)) entry.rids.set(rid, storedDocument(container, rid) !== undefined);
  }

  /**
   * Append what changed since the last flush as one journal record (nothing if nothing did).
   * Synchronous. On a write error the journal is cut back to its last whole record and the changes
   * stay pending for the next flush; the error is rethrown.
   */
  flush(): void {
    if (this.closed) return;
    if (this.unusable) throw this.unusable;
    const signature = catalogSignature(this.account);
    const catalogChanged = signature !== this.flushedCatalog;
    if (!catalogChanged && this.dirty.size === 0) return;
    const containers = this.changedContainers();
    const lsn = this.changeLog.currentLsn;
    if (catalogChanged || containers.length > 0) {
      this.append({
        seq: this.seq + 1,
        lsn,
        ...(catalogChanged ? { catalog: catalogImage(this.account) } : {}),
        ...(containers.length > 0 ? { containers } : {}),
      });
    }
    this.dirty.clear();
    this.flushedLsn = lsn;
    this.flushedCatalog = signature;
    if (this.journalBytes > Math.max(this.compactAfterBytes, this.snapshotBytes)) this.compactSoon();
  }

  /**
   * Flush, capture the state, write it as the new snapshot a line at a time (requests are served
   * between lines), then keep only the journal records written since the capture. Resolves once
   * done, or abandoned because the journal was closed meanwhile; rejects if a file could not be
   * written (the old snapshot and the whole journal then stay as they were).
   */
  compact(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.compaction ??= this.compactInSlices().finally(() => {
      this.compaction = undefined;
    });
    return this.compaction;
  }

  private async compactInSlices(): Promise<void> {
    this.flush();
    const capture = captureState(this.seq, this.account, this.changeLog);
    const journalAtCapture = this.journalBytes;
    const snapshotBytes = await writeSnapshotInSlices(this.dir, capture, this.changeLog, () => this.closed);
    if (snapshotBytes === undefined) return;
    await syncDirectory(this.dir);
    if (this.closed) return;
    this.snapshotBytes = snapshotBytes;
    await this.keepJournalFrom(journalAtCapture);
  }

  /**
   * Flush and close the journal; resolves once a compaction under way has been abandoned (its
   * temporary files removed). Idempotent.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    try {
      this.flush();
    } finally {
      this.closed = true;
      closeSync(this.journal);
      // Its failure was already reported, and the files it leaves are consistent.
      await this.compaction?.catch(() => undefined);
    }
  }

  private changedContainers(): ContainerChange[] {
    const live = liveContainers(this.account);
    const changes: ContainerChange[] = [];
    for (const [documents, { container, rids }] of this.dirty) {
      // A container deleted (or replaced, which empties it) since: the catalog records that.
      const where = live.get(documents);
      if (!where) continue;
      const removed: string[] = [];
      const written: PersistedDocument[] = [];
      for (const [rid, storedAtLastFlush] of rids) {
        const document = storedDocument(container, rid);
        if (!document) {
          if (storedAtLastFlush) removed.push(rid);
        } else if (lsnOf(document) > this.flushedLsn) {
          written.push({ at: this.changeLog.recordedAtMs(container, document) ?? Date.now(), doc: document });
        }
        // Otherwise the write was rolled back (a failed batch): nothing changed.
      }
      if (removed.length === 0 && written.length === 0) continue;
      written.sort((a, b) => lsnOf(a.doc) - lsnOf(b.doc));
      changes.push({
        database: where.databaseRid,
        container: where.containerRid,
        ridCount: documentRidCount(container),
        ...(removed.length > 0 ? { removed } : {}),
        ...(written.length > 0 ? { documents: written } : {}),
      });
    }
    return changes;
  }

  private append(record: JournalRecord): void {
    const bytes = Buffer.from(`${JSON.stringify(record)}\n`, 'utf8');
    try {
      writeFully(this.journal, bytes);
    } catch (error) {
      // Do not leave a partial line for later records to follow.
      try {
        ftruncateSync(this.journal, this.journalBytes);
      } catch {
        // The next start ignores a torn last line, as long as nothing is appended after it.
        this.unusable = new Error(`The journal in ${this.dir} could not be written or repaired; restart the endpoint`, { cause: error });
      }
      throw error;
    }
    this.seq = record.seq;
    this.journalBytes += bytes.length;
  }

  /** In one go: for start-up, before any request is served. */
  private compactNow(): void {
    this.flush();
    this.snapshotBytes = writeSnapshotNow(this.dir, captureState(this.seq, this.account, this.changeLog), this.changeLog);
    syncDirectoryNow(this.dir);
    ftruncateSync(this.journal, 0);
    this.journalBytes = 0;
  }

  private compactSoon(): void {
    if (this.compaction || this.compactionScheduled) return;
    this.compactionScheduled = true;
    // After the current response has gone out: flush() runs just before it is sent.
    setImmediate(() => {
      this.compactionScheduled = false;
      this.compact().catch((error: unknown) => {
        console.error(`local Cosmos endpoint: compacting ${this.dir} failed; the journal keeps growing:`, error);
      });
    });
  }

  /**
   * Replace the journal by its records from byte `offset` on (those the new snapshot does not hold).
   * The copy is fsync'ed before it is renamed over the journal; what was appended during that
   * fsync is copied after it, in the same synchronous stretch as the rename, so no record is lost.
   */
  private async keepJournalFrom(offset: number): Promise<void> {
    const path = join(this.dir, JOURNAL_FILE);
    const temporary = `${path}.tmp`;
    const reader = openSync(path, 'r');
    let writer: number | undefined;
    let renamed = false;
    try {
      writer = openSync(temporary, 'w');
      let copied = copyRange(reader, writer, offset, this.journalBytes);
      await fsyncAsync(writer);
      if (this.closed) return;
      copied = copyRange(reader, writer, copied, this.journalBytes);
      renameSync(temporary, path);
      renamed = true;
      let reopened: number;
      try {
        reopened = openSync(path, 'a');
      } catch (error) {
        // The journal on disk is whole, but this process can no longer append to it (the old
        // descriptor, kept for close(), is the replaced file's).
        this.unusable = new Error(`The journal in ${this.dir} could not be reopened after compaction; restart the endpoint`, {
          cause: error,
        });
        throw error;
      }
      closeSync(this.journal);
      this.journal = reopened;
      this.journalBytes = copied - offset;
    } finally {
      closeSync(reader);
      if (writer !== undefined) closeSync(writer);
      if (!renamed) rmSync(temporary, { force: true });
    }
  }
}

/** Copies bytes [from, to) of `source` to the end of `target`; returns `to`. */
function copyRange(source: number, target: number, from: number, to: number): number {
  const buffer = Buffer.allocUnsafe(Math.min(Math.max(to - from, 0), 1024 * 1024));
  for (let position = from; position < to;) {
    const read = readSync(source, buffer, 0, Math.min(buffer.length, to - position), position);
    if (read === 0) throw new Error(`The journal ended at byte ${position}, before ${to}`);
    writeFully(target, buffer.subarray(0, read));
    position += read;
  }
  return to;
}

function fsyncAsync(file: number): Promise<void> {
  return new Promise((resolve, reject) => fsync(file, (error) => (error ? reject(error) : resolve())));
}

function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Apply one change (a snapshot line or a journal record) to the emulator and the change log. */
function applyStateChange(account: EmulatorAccount, changeLog: ChangeLog, change: StateChange): void {
  if (change.catalog) applyCatalogImage(account, change.catalog);
  for (const containerChange of change.containers ?? []) {
    const container = containerByRid(account, containerChange.database, containerChange.container);
    if (!container) throw new Error(`Persisted documents refer to container ${containerChange.container}, which does not exist`);
    for (const rid of containerChange.removed ?? []) changeLog.restoreRemoval(container, rid);
    for (const { doc, at } of containerChange.documents ?? []) changeLog.restoreDocument(container, doc, at);
    setDocumentRidCount(container, containerChange.ridCount);
  }
  changeLog.resumeFrom(change.lsn);
}

/** The state to snapshot, as it is at one moment: documents are replaced on write, never changed. */
interface StateCapture {
  readonly seq: number;
  readonly lsn: number;
  readonly catalog: CatalogImage;
  readonly containers: readonly {
    readonly databaseRid: string;
    readonly containerRid: string;
    readonly container: EmulatorContainer;
    readonly ridCount: number;
    readonly documents: readonly StoredDocument[];
  }[];
}

function captureState(seq: number, account: EmulatorAccount, changeLog: ChangeLog): StateCapture {
  return {
    seq,
    lsn: changeLog.currentLsn,
    catalog: catalogImage(account),
    containers: [...liveContainers(account).values()].map(({ databaseRid, containerRid, container }) => ({
      databaseRid,
      containerRid,
      container,
      ridCount: documentRidCount(container),
      documents: storedDocuments(container).sort((a, b) => lsnOf(a) - lsnOf(b)),
    })),
  };
}

/** The snapshot file's lines: header, catalog, then each container's documents in chunks. */
function* snapshotLines(capture: StateCapture, changeLog: ChangeLog): Generator {
  const { lsn } = capture;
  yield { format: FORMAT, version: VERSION, seq: capture.seq } satisfies SnapshotHeader;
  yield { lsn, catalog: capture.catalog } satisfies StateChange;
  for (const { databaseRid, containerRid, container, ridCount, documents } of capture.containers) {
    // One line per chunk, and one (empty) line for an empty container, to carry its _rid counter.
    for (let start = 0; start === 0 || start < documents.length; start += SNAPSHOT_CHUNK) {
      // A document replaced since the capture has lost its feed record; the journal's tail has its new version.
      const chunk = documents
        .slice(start, start + SNAPSHOT_CHUNK)
        .map((doc) => ({ at: changeLog.recordedAtMs(container, doc) ?? timestampMs(doc), doc }));
      const containerChange: ContainerChange = { database: databaseRid, container: containerRid, ridCount, documents: chunk };
      yield { lsn, containers: [containerChange] } satisfies StateChange;
    }
  }
}

/** Write the snapshot in one go, atomically. Returns its size in bytes. */
function writeSnapshotNow(dir: string, capture: StateCapture, changeLog: ChangeLog): number {
  const path = join(dir, SNAPSHOT_FILE);
  const temporary = `${path}.tmp`;
  const file = openSync(temporary, 'w');
  let bytes = 0;
  try {
    const writer = new LineWriter(file);
    for (const line of snapshotLines(capture, changeLog)) writer.line(line);
    bytes = writer.end();
    fsyncSync(file);
  } finally {
    closeSync(file);
  }
  renameSync(temporary, path);
  return bytes;
}

/**
 * Write the snapshot a line at a time, letting other work in between, then fsync and rename it into
 * place. Returns its size in bytes, or undefined if `abandoned()` turned true on the way (the
 * temporary file is then removed and the old snapshot stays).
 */
async function writeSnapshotInSlices(
  dir: string,
  capture: StateCapture,
  changeLog: ChangeLog,
  abandoned: () => boolean,
): Promise<number | undefined> {
  const path = join(dir, SNAPSHOT_FILE);
  const temporary = `${path}.tmp`;
  const file = openSync(temporary, 'w');
  let renamed = false;
  try {
    const writer = new LineWriter(file);
    for (const line of snapshotLines(capture, changeLog)) {
      writer.line(line);
      await nextTurn();
      if (abandoned()) return undefined;
    }
    const bytes = writer.end();
    await fsyncAsync(file);
    if (abandoned()) return undefined;
    renameSync(temporary, path);
    renamed = true;
    return bytes;
  } finally {
    closeSync(file);
    if (!renamed) rmSync(temporary, { force: true });
  }
}

/** The feed time of a document without a record (none should exist): its _ts. */
function timestampMs(document: StoredDocument): number {
  const ts: unknown = document._ts;
  return typeof ts === 'number' ? ts * 1000 : 0;
}

/** Buffers lines into large writes. */
class LineWriter {
  private pending: string[] = [];
  private pendingLength = 0;
  private written = 0;

  constructor(private readonly file: number) {}

  line(value: unknown): void {
    const text = `${JSON.stringify(value)}\n`;
    this.pending.push(text);
    this.pendingLength += text.length;
    if (this.pendingLength > 1024 * 1024) this.drain();
  }

  /** Writes what is buffered; returns the bytes written in all. */
  end(): number {
    this.drain();
    return this.written;
  }

  private drain(): void {
    const bytes = Buffer.from(this.pending.join(''), 'utf8');
    this.pending = [];
    this.pendingLength = 0;
    writeFully(this.file, bytes);
    this.written += bytes.length;
  }
}

function writeFully(file: number, bytes: Buffer): void {
  for (let offset = 0; offset < bytes.length;) offset += writeSync(file, bytes, offset, bytes.length - offset);
}

/** Make a rename in `dir` durable. Not possible everywhere (Windows): best effort. */
function syncDirectoryNow(dir: string): void {
  let handle: number | undefined;
  try {
    handle = openSync(dir, 'r');
    fsyncSync(handle);
  } catch {
    // The rename is still atomic; only its durability across a power cut is not ensured.
  } finally {
    if (handle !== undefined) closeSync(handle);
  }
}

/** The file's complete lines, and whether it ended in an unterminated (torn) one, which is left out. */
/** {@link syncDirectoryNow} off the event loop. */
async function syncDirectory(dir: string): Promise<void> {
  let handle: number | undefined;
  try {
    handle = openSync(dir, 'r');
    await fsyncAsync(handle);
  } catch {
    // As syncDirectoryNow.
  } finally {
    if (handle !== undefined) closeSync(handle);
  }
}

function readLines(path: string): { lines: string[]; tornTail: boolean } {
  if (!existsSync(path)) return { lines: [], tornTail: false };
  const lines = readFileSync(path, 'utf8').split('\n');
  // After the last '\n' comes '' for a file written whole, or the torn start of an unfinished record.
  const tail = lines.pop();
  return { lines, tornTail: tail !== undefined && tail !== '' };
}

function parseLine(line: string, path: string, lineNumber: number): unknown {
  try {
    return JSON.parse(line) as unknown;
  } catch {
    throw corrupt(path, `line ${lineNumber} is not JSON`);
  }
}

function asStateChange(value: unknown, path: string, lineNumber: number): StateChange {
  if (typeof value !== 'object' || value === null || typeof (value as Partial<StateChange>).lsn !== 'number') {
    throw corrupt(path, `line ${lineNumber} is not a state change`);
  }
  return value as StateChange;
}

function corrupt(path: string, problem: string): Error {
  return new Error(
    `Cannot restore the local Cosmos endpoint from ${path}: ${problem}. Delete the directory (the devhost's --fresh) to start empty.`,
  );
}
