/**
 * Maps that the emulator's document store is switched onto (see emulatorInternals.ts), so that
 *   - a transactional batch can be rolled back in O(entries it touched), not O(entries stored), and
 *   - a partition's documents can be listed in O(documents in the partition).
 * Both are ordinary Maps to the library's code: it only calls get/has/set/delete on them outside
 * queries, and iterates them (values()) in queries, which never run while a transaction is open.
 *
 * A transaction is synchronous by contract: begin(), the writes, then commit() or rollback(), with no
 * await in between (see transactionalBatch.ts), so nothing else can observe an open transaction.
 */

const ABSENT: unique symbol = Symbol('absent');
type Remembered<V> = V | typeof ABSENT;

/**
 * A Map with an undo journal: while a transaction is open, the first write to each key remembers
 * that key's previous entry, and rollback() puts exactly those back. Entry order is not preserved
 * across a rollback (a restored key may move to the end), so use it where order does not matter.
 */
export class JournaledMap<K, V> extends Map<K, V> {
  // Never construct with an iterable: Map's constructor would call set() before this field exists.
  #journal: Map<K, Remembered<V>> | undefined;

  begin(): void {
    if (this.#journal) throw new Error('JournaledMap: a transaction is already open');
    this.#journal = new Map();
  }

  /** Keys touched by the open transaction (0 when none is open). */
  get journalSize(): number {
    return this.#journal?.size ?? 0;
  }

  commit(): void {
    this.#journal = undefined;
  }

  rollback(): void {
    const journal = this.#journal;
    this.#journal = undefined;
    if (!journal) return;
    for (const [key, previous] of journal) {
      if (previous === ABSENT) super.delete(key);
      else super.set(key, previous);
    }
  }

  override set(key: K, value: V): this {
    this.#remember(key);
    return super.set(key, value);
  }

  override delete(key: K): boolean {
    this.#remember(key);
    return super.delete(key);
  }

  override clear(): void {
    if (this.#journal) throw new Error('JournaledMap: clear() inside a transaction is not supported');
    super.clear();
  }

  #remember(key: K): void {
    const journal = this.#journal;
    if (!journal || journal.has(key)) return;
    journal.set(key, super.has(key) ? (super.get(key) as V) : ABSENT);
  }
}

interface OpenTransaction<V> {
  /** Each touched key's entry before the transaction (ABSENT: it had none). */
  readonly journal: Map<string, Remembered<V>>;
  /** Keys deleted by the transaction. They stay in the underlying Map, hidden, until commit. */
  readonly deleted: Set<string>;
  /** Keys (re)added by the transaction while absent, with the sequence number of the latest such add. */
  readonly appended: Map<string, number>;
  sequence: number;
}

/**
 * An insertion-ordered Map from document key to document, with
 *   - a secondary index: the keys of each partition (partitionOf(value), compared like Map keys),
 *     kept in the same relative order as the Map itself, and
 *   - transactions that roll back in O(keys touched) and leave the entry order exactly as it was.
 *
 * Order matters because the emulator evaluates queries over `values()` in Map order, and a query
 * over one partition must see that partition's documents in the same order as the whole-Map query
 * would. A plain Map cannot put a deleted or moved key back in the middle, so inside a transaction
 * a delete only hides the key (it keeps its place in the Map), and commit() then replays what a
 * plain Map would have done: drop the deleted keys and move each key that was (re)added while absent
 * to the end, in the order of those adds. rollback() restores the remembered values in place and
 * drops the keys the transaction created (which a plain Map appended at the end).
 * The partition index is left alone during a transaction and brought up to date at commit.
 */
export class PartitionedMap<V> extends Map<string, V> {
  readonly #partitionOf: (value: V) => unknown;
  readonly #onScan: (() => void) | undefined;
  readonly #partitions = new Map<unknown, Set<string>>();
  readonly #partitionOfKey = new Map<string, unknown>();
  #transaction: OpenTransaction<V> | undefined;

  /** `onScan` is called whenever something iterates the whole Map (a cost probe for tests). */
  constructor(partitionOf: (value: V) => unknown, onScan?: () => void) {
    // No iterable: Map's constructor would call set() before the private fields exist.
    super();
    this.#partitionOf = partitionOf;
    this.#onScan = onScan;
  }

  /** The entries stored under one partition, in Map order. O(entries in the partition). */
  partitionEntries(partition: unknown): [string, V][] {
    if (this.#transaction) throw new Error('PartitionedMap: the partition index is not readable inside a transaction');
    const keys = this.#partitions.get(partition);
    if (!keys) return [];
    const entries: [string, V][] = [];
    for (const key of keys) entries.push([key, super.get(key) as V]);
    return entries;
  }

  /** How many partitions hold at least one value. */
  get partitionCount(): number {
    return this.#partitions.size;
  }

  begin(): void {
    if (this.#transaction) throw new Error('PartitionedMap: a transaction is already open');
    this.#transaction = { journal: new Map(), deleted: new Set(), appended: new Map(), sequence: 0 };
  }

  /** Keys touched by the open transaction (0 when none is open). */
  get journalSize(): number {
    return this.#transaction?.journal.size ?? 0;
  }

  commit(): void {
    const transaction = this.#transaction;
    this.#transaction = undefined;
    if (!transaction) return;
    const { journal, deleted, appended } = transaction;
    for (const key of deleted) {
      super.delete(key);
      this.#unindex(key);
    }
    // A plain Map appends a key set while absent; replay those appends in order.
    const moved = [...appended].sort(([, a], [, b]) => a - b);
    for (const [key] of moved) {
      const value = super.get(key) as V;
      super.delete(key);
      super.set(key, value);
      this.#unindex(key);
      this.#index(key, value);
    }
    // Keys overwritten in place keep their place; re-index them in case their partition changed.
    for (const key of journal.keys()) {
      if (!deleted.has(key) && !appended.has(key)) this.#index(key, super.get(key) as V);
    }
  }

  rollback(): void {
    const transaction = this.#transaction;
    this.#transaction = undefined;
    if (!transaction) return;
    // Every remembered key is still physically present (deletes only hid keys), so restoring a
    // value keeps its place; a key the transaction created was appended, so removing it restores
    // the order. The partition index was not touched.
    for (const [key, previous] of transaction.journal) {
      if (previous === ABSENT) super.delete(key);
      else super.set(key, previous);
    }
  }

  override get(key: string): V | undefined {
    return this.#transaction?.deleted.has(key) ? undefined : super.get(key);
  }

  override has(key: string): boolean {
    return this.#transaction?.deleted.has(key) ? false : super.has(key);
  }

  override set(key: string, value: V): this {
    const transaction = this.#transaction;
    if (transaction) {
      const present = super.has(key) && !transaction.deleted.has(key);
      this.#remember(transaction, key);
      transaction.deleted.delete(key);
      if (!present) transaction.appended.set(key, (transaction.sequence += 1));
      return super.set(key, value);
    }
    super.set(key, value);
    this.#index(key, value);
    return this;
  }

  override delete(key: string): boolean {
    const transaction = this.#transaction;
    if (transaction) {
      if (!super.has(key) || transaction.deleted.has(key)) return false;
      this.#remember(transaction, key);
      transaction.deleted.add(key);
      transaction.appended.delete(key);
      return true;
    }
    const existed = super.delete(key);
    if (existed) this.#unindex(key);
    return existed;
  }

  override values(): MapIterator<V> {
    this.#onScan?.();
    return super.values();
  }

  override keys(): MapIterator<string> {
    this.#onScan?.();
    return super.keys();
  }

  override entries(): MapIterator<[string, V]> {
    this.#onScan?.();
    return super.entries();
  }

  override [Symbol.iterator](): MapIterator<[string, V]> {
    this.#onScan?.();
    return super[Symbol.iterator]();
  }

  override forEach(callback: (value: V, key: string, map: Map<string, V>) => void, thisArg?: unknown): void {
    this.#onScan?.();
    super.forEach(callback, thisArg);
  }

  override clear(): void {
    if (this.#transaction) throw new Error('PartitionedMap: clear() inside a transaction is not supported');
    super.clear();
    this.#partitions.clear();
    this.#partitionOfKey.clear();
  }

  #remember(transaction: OpenTransaction<V>, key: string): void {
    // The first touch sees the value from before the transaction: nothing has changed it yet.
    if (transaction.journal.has(key)) return;
    transaction.journal.set(key, super.has(key) ? (super.get(key) as V) : ABSENT);
  }

  #index(key: string, value: V): void {
    const partition = this.#partitionOf(value);
    if (this.#partitionOfKey.has(key)) {
      // Overwritten in place within its partition: it keeps its place there, as in the Map.
      if (this.#partitions.get(partition)?.has(key)) return;
      this.#unindex(key);
    }
    this.#partitionOfKey.set(key, partition);
    let keys = this.#partitions.get(partition);
    if (!keys) {
      keys = new Set();
      this.#partitions.set(partition, keys);
    }
    keys.add(key);
  }

  #unindex(key: string): void {
    if (!this.#partitionOfKey.has(key)) return;
    const partition = this.#partitionOfKey.get(key);
    this.#partitionOfKey.delete(key);
    const keys = this.#partitions.get(partition);
    keys?.delete(key);
    if (keys?.size === 0) this.#partitions.delete(partition);
  }
}
