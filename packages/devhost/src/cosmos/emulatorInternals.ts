/**
 * The one place that reaches into @vercel/cosmosdb-server's internals (lib/account/*).
 *
 * The emulator keeps its in-memory Account in a closure inside createHttpServer(), and its handlers
 * read, check and write that store synchronously after the request body has arrived. To add atomic
 * batches and an LSN-based change feed we need the same store, so this module
 *   - captures the Account object the server creates when it starts listening,
 *   - looks up containers,
 *   - switches a container's document store onto the maps of transactionalMaps.ts, which give
 *     batches an O(operations) rollback and queries a per-partition index, and
 *   - scopes the emulator's query evaluation to one partition's documents (or to none), and
 *   - reads and restores the catalog (databases, containers, UDFs) and stored documents for
 *     persistence.ts.
 * Everything here relies on the library's private field names, so keep it small and pinned to
 * the installed version (1.0.x).
 */
import type { Server } from 'node:http';
import * as accountModule from '@vercel/cosmosdb-server/lib/account';
import type Account from '@vercel/cosmosdb-server/lib/account';
import type Collection from '@vercel/cosmosdb-server/lib/account/collection';
import type Database from '@vercel/cosmosdb-server/lib/account/database';
import type Documents from '@vercel/cosmosdb-server/lib/account/documents';
import type Document from '@vercel/cosmosdb-server/lib/account/document';
import type ItemObject from '@vercel/cosmosdb-server/lib/account/item-object';
import { JournaledMap, PartitionedMap } from './transactionalMaps';

export type EmulatorAccount = Account;
export type EmulatorContainer = Collection;
export type EmulatorDocuments = Documents;
/** A document as the emulator stores it: user properties plus _rid, _self, _etag, _ts (and our _lsn). */
export type StoredDocument = ItemObject;
/** A database or container as the emulator stores it: id, _rid, _self, _etag, _ts, and its definition. */
export type StoredResource = ItemObject;

type AccountConstructor = typeof accountModule.default;

/**
 * Arrange to capture the Account that createHttpServer() builds in its 'listening' handler.
 *
 * That handler runs `new (require('./account').default)(host, port)` and keeps the result in a
 * closure. We remove the handler and call it ourselves with the module's `default` export briefly
 * replaced by a recording proxy. The swap is synchronous and undone in `finally`, so no other code
 * (for example a second endpoint in the same process) can ever construct through the proxy.
 * Call before server.listen(); the promise settles when the server is listening.
 */
export function captureEmulatorAccount(server: Server): Promise<EmulatorAccount> {
  const libraryListeningHandlers = server.listeners('listening');
  server.removeAllListeners('listening');
  return new Promise((resolve, reject) => {
    server.once('listening', () => {
      // The namespace object is the library module's own exports object (it sets __esModule).
      const mutableModule: { default: AccountConstructor } = accountModule;
      const OriginalAccount = mutableModule.default;
      let created: EmulatorAccount | undefined;
      mutableModule.default = new Proxy(OriginalAccount, {
        construct(target, args, newTarget) {
          created = Reflect.construct(target, args, newTarget) as EmulatorAccount;
          return created;
        },
      });
      try {
        for (const handler of libraryListeningHandlers) handler.call(server);
      } finally {
        mutableModule.default = OriginalAccount;
      }
      if (created) resolve(created);
      else reject(new Error('@vercel/cosmosdb-server did not create its account on listening; is the installed version supported?'));
    });
  });
}

/** The container, or undefined if the database or container does not exist. Ids or _rids both work. */
export function findContainer(account: EmulatorAccount, databaseId: string, containerId: string): EmulatorContainer | undefined {
  // The library answers unknown ids with empty placeholder objects whose _data is undefined.
  const container = account.database(databaseId).collection(containerId);
  return container._data == null ? undefined : container;
}

/** The container's partition key value of a document (undefined when the document lacks it). */
export function partitionKeyOf(container: EmulatorContainer, document: Record<string, unknown>): unknown {
  return container.documents._getPartition(document);
}

/**
 * Partition key value from its wire form (the JSON in x-ms-documentdb-partitionkey or a batch
 * operation's partitionKey), normalised the way the emulator compares it with stored documents:
 * `["a"]` → "a"; the "none" key `[{}]` → undefined (a document without the property).
 * Throws on malformed input.
 */
export function parsePartitionKeyJson(json: string): unknown {
  const parsed: unknown = JSON.parse(json);
  const value: unknown = Array.isArray(parsed) ? (parsed as unknown[])[0] : parsed;
  if (value === null || ['string', 'number', 'boolean'].includes(typeof value)) return value;
  if (value === undefined || typeof value === 'object') return undefined;
  throw new Error(`Unsupported partition key: ${json}`);
}

/**
 * What the emulator's query evaluation may see while serving one request:
 *   - 'partition': only the documents whose partition key value is `partitionKey` (as normalised by
 *     parsePartitionKeyJson: undefined = documents without the property);
 *   - 'none': no documents at all (for the SDK's query-plan requests, see localCosmosEndpoint.ts).
 * No scope (undefined) means every document of the container, as the emulator always did.
 */
export type QueryScope = { readonly kind: 'partition'; readonly partitionKey: unknown } | { readonly kind: 'none' };

/** Work done, as cost proxies for tests and diagnostics. Mutated in place by the instrumentation. */
export interface WorkCounters {
  /** Requests on a container's documents or metadata (what Azure bills per request: reads, writes, queries, feed reads). */
  containerRequests: number;
  /** Queries the emulator evaluated (SDK query-plan requests included). */
  queries: number;
  /** Documents handed to the emulator's query engine, summed over those queries. */
  queryDocumentsScanned: number;
  /** Times something iterated a container's whole document store (queries without a scope, read feeds). */
  documentStoreScans: number;
  /** Transactional batches run. */
  batches: number;
  /** Store, index and change-feed entries remembered for rollback, summed over those batches. */
  batchJournalEntries: number;
}

export function newWorkCounters(): WorkCounters {
  return { containerRequests: 0, queries: 0, queryDocumentsScanned: 0, documentStoreScans: 0, batches: 0, batchJournalEntries: 0 };
}

interface InstrumentedStore {
  readonly data: PartitionedMap<Document>;
  readonly index: JournaledMap<string, string>;
}

// Keyed by the Documents object: a container deleted and recreated under the same id is a new one.
const instrumented = new WeakMap<EmulatorDocuments, InstrumentedStore>();

/**
 * Prepare a container's document store; idempotent. Call before the emulator can read or write the
 * container (the request layer does so for every container request), with the endpoint's
 * `currentScope` (the scope of the request being served, if any) and counters.
 *
 *   - Documents._data (rid → Document, in insertion order) becomes a PartitionedMap indexed by each
 *     document's partition key value, and Documents._index (unique-key entries → rid) a
 *     JournaledMap. The library only calls get/has/set/delete and values() on them.
 *   - Documents.query is wrapped: under a scope, the emulator's own query() runs with `_data`
 *     swapped for a Map of just the scoped documents (in store order), restored in `finally`.
 *     query() reads `_data` once and evaluates synchronously (the body was awaited before it is
 *     called), so no other request can run, let alone see the swap, while it is in place; and
 *     everything else about the query (parameters, ORDER BY, TOP, VALUE, aggregates, paging and
 *     continuations, errors) is the emulator's unchanged code.
 */
export function instrumentContainer(
  container: EmulatorContainer,
  currentScope: () => QueryScope | undefined,
  counters: WorkCounters,
): void {
  const documents = container.documents;
  if (instrumented.has(documents)) return;

  const data = new PartitionedMap<Document>(
    (item) => (item._data ? documents._getPartition(item._data) : undefined),
    () => (counters.documentStoreScans += 1),
  );
  for (const [rid, item] of documents._data) data.set(rid, item);
  const index = new JournaledMap<string, string>();
  for (const [key, rid] of documents._index) index.set(key, rid);
  documents._data = data;
  documents._index = index;
  instrumented.set(documents, { data, index });

  // Without a partition key path (or with the SDK's default '/_partitionKey') the emulator files
  // documents under their id, which is not what the SDK's partition key header names: keep such
  // containers' queries unscoped.
  const [partitionKeyPath] = documents._partitionKeyPath;
  const partitioned = partitionKeyPath !== undefined && partitionKeyPath !== '/_partitionKey';

  const query = documents.query.bind(documents);
  documents.query = (...args: Parameters<EmulatorDocuments['query']>): unknown => {
    counters.queries += 1;
    const scope = currentScope();
    const store = documents._data;
    if (!scope || store !== data || (scope.kind === 'partition' && !partitioned)) {
      counters.queryDocumentsScanned += store.size;
      return query(...args);
    }
    const view = new Map<string, Document>(scope.kind === 'partition' ? data.partitionEntries(scope.partitionKey) : []);
    counters.queryDocumentsScanned += view.size;
    documents._data = view;
    try {
      return query(...args);
    } finally {
      documents._data = data;
    }
  };
}

/** An open transaction on one container's store: see beginStoreTransaction. */
export interface StoreTransaction {
  /** Entries remembered for rollback so far. */
  journalSize(): number;
  commit(): void;
  rollback(): void;
}

/**
 * Start a transaction on an instrumented container's store (_data, _index and the _rid counter).
 * Until commit() or rollback(), which must follow without an await in between, every write is
 * journaled, and rollback() restores exactly the touched entries, order included: O(entries
 * touched), independent of how many documents the container holds.
 */
export function beginStoreTransaction(container: EmulatorContainer): StoreTransaction {
  const documents = container.documents;
  const store = instrumented.get(documents);
  if (!store || documents._data !== store.data || documents._index !== store.index) {
    throw new Error('beginStoreTransaction: the container was not instrumented (call instrumentContainer first)');
  }
  const { data, index } = store;
  const ridCount = documents._ridCount;
  data.begin();
  index.begin();
  return {
    journalSize: () => data.journalSize + index.journalSize,
    commit: () => {
      data.commit();
      index.commit();
    },
    rollback: () => {
      data.rollback();
      index.rollback();
      documents._ridCount = ridCount;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The catalog and stored documents, for persistence.ts.
//
// The emulator keeps databases, containers and documents in `Items` stores: `_data` (rid → item,
// insertion order), `_index` (unique keys → rid) and `_ridCount` (the counter new _rids come from).
// Restoring a resource through the store's own `_set` rebuilds `_index` and, for a database or a
// container, constructs its children's stores from the definition (partition key paths, unique keys),
// exactly as creating it did; the saved `_rid`, `_self`, `_etag` and `_ts` are kept as they were.
// ---------------------------------------------------------------------------------------------

/** Every database, container and UDF, with the counters their _rids come from. JSON-serialisable. */
export interface CatalogImage {
  readonly databaseRidCount: number;
  readonly databases: readonly DatabaseImage[];
}

export interface DatabaseImage {
  readonly resource: StoredResource;
  readonly containerRidCount: number;
  readonly containers: readonly ContainerImage[];
}

export interface ContainerImage {
  /** id, _rid, partitionKey, defaultTtl, indexingPolicy, uniqueKeyPolicy… as the emulator stores them. */
  readonly resource: StoredResource;
  /** Restored by id and body; they get new _rids and _etags (the library compiles them on create). */
  readonly userDefinedFunctions: readonly { readonly id: string; readonly body: string }[];
}

/** A container that currently exists, with the _rids that name it in persisted state. */
export interface LiveContainer {
  readonly databaseRid: string;
  readonly containerRid: string;
  readonly container: EmulatorContainer;
}

function databasesOf(account: EmulatorAccount): Database[] {
  return [...account.databases._data.values()].filter((database) => database._data != null);
}

function containersOf(database: Database): EmulatorContainer[] {
  return [...database.collections._data.values()].filter((container) => container._data != null);
}

/** Every existing container, keyed by its document store (a deleted or replaced container has a new one). */
export function liveContainers(account: EmulatorAccount): Map<EmulatorDocuments, LiveContainer> {
  const live = new Map<EmulatorDocuments, LiveContainer>();
  for (const database of databasesOf(account)) {
    for (const container of containersOf(database)) {
      live.set(container.documents, { databaseRid: database.read()._rid, containerRid: container.read()._rid, container });
    }
  }
  return live;
}

/** The container with these _rids, or undefined. */
export function containerByRid(account: EmulatorAccount, databaseRid: string, containerRid: string): EmulatorContainer | undefined {
  const container = account.databases._data.get(databaseRid)?.collections._data.get(containerRid);
  return container?._data == null ? undefined : container;
}

export function catalogImage(account: EmulatorAccount): CatalogImage {
  return {
    databaseRidCount: account.databases._ridCount,
    databases: databasesOf(account).map((database) => ({
      resource: database.read(),
      containerRidCount: database.collections._ridCount,
      containers: containersOf(database).map((container) => ({
        resource: container.read(),
        userDefinedFunctions: [...container.userDefinedFunctions._data.values()].flatMap(({ _data: udf }) => {
          const body: unknown = udf?.body;
          return udf && typeof body === 'string' ? [{ id: udf.id, body }] : [];
        }),
      })),
    })),
  };
}

/**
 * A string that changes whenever the catalog does: every create, replace and delete of a database,
 * container or UDF changes a _rid or an _etag. O(resources), with no document in it.
 */
export function catalogSignature(account: EmulatorAccount): string {
  const parts: string[] = [];
  for (const database of databasesOf(account)) {
    parts.push(`d:${database.read()._rid}:${database.read()._etag ?? ''}`);
    for (const container of containersOf(database)) {
      parts.push(`c:${container.read()._rid}:${container.read()._etag ?? ''}`);
      for (const udf of container.userDefinedFunctions._data.values()) parts.push(`u:${udf._data?._rid ?? ''}:${udf._data?._etag ?? ''}`);
    }
  }
  return parts.join('|');
}

/**
 * Make the catalog what `image` describes, keeping what already matches. A resource matches by _rid
 * and _etag; one that is gone or changed is deleted (with everything in it) and restored from the
 * image, which is what the emulator's own replace does too (a replaced container starts empty).
 * UDFs match by id and body.
 */
export function applyCatalogImage(account: EmulatorAccount, image: CatalogImage): void {
  const databases = account.databases;
  const wanted = new Map(image.databases.map((database) => [database.resource._rid, database]));
  for (const database of databasesOf(account)) {
    const { id, _rid, _etag } = database.read();
    if (wanted.get(_rid)?.resource._etag !== _etag) databases.delete(id, id);
  }
  for (const databaseImage of image.databases) {
    if (!databases._data.has(databaseImage.resource._rid)) databases._set(databaseImage.resource);
    const database = databases._data.get(databaseImage.resource._rid);
    if (!database) throw new Error(`Could not restore database ${databaseImage.resource.id}`);
    applyContainers(database, databaseImage);
  }
  databases._ridCount = image.databaseRidCount;
}

function applyContainers(database: Database, image: DatabaseImage): void {
  const collections = database.collections;
  const wanted = new Map(image.containers.map((container) => [container.resource._rid, container]));
  for (const container of containersOf(database)) {
    const { id, _rid, _etag } = container.read();
    if (wanted.get(_rid)?.resource._etag !== _etag) collections.delete(id, id);
  }
  for (const containerImage of image.containers) {
    if (!collections._data.has(containerImage.resource._rid)) collections._set(containerImage.resource);
    const container = collections._data.get(containerImage.resource._rid);
    if (!container) throw new Error(`Could not restore container ${containerImage.resource.id}`);
    applyUserDefinedFunctions(container, containerImage);
  }
  collections._ridCount = image.containerRidCount;
}

function applyUserDefinedFunctions(container: EmulatorContainer, image: ContainerImage): void {
  const functions = container.userDefinedFunctions;
  const wanted = new Map(image.userDefinedFunctions.map(({ id, body }) => [id, body]));
  for (const { _data: udf } of [...functions._data.values()]) {
    const body: unknown = udf?.body;
    if (udf && wanted.get(udf.id) !== body) functions.delete(udf.id);
  }
  for (const [id, body] of wanted) {
    if (container.userDefinedFunction(id)._data == null) functions.create({ id, body });
  }
}

/** The stored document with this _rid, or undefined. */
export function storedDocument(container: EmulatorContainer, rid: string): StoredDocument | undefined {
  return container.documents._data.get(rid)?._data ?? undefined;
}

/** Every stored document, in store order (which is LSN order: every write appends, see changeLog.ts). */
export function storedDocuments(container: EmulatorContainer): StoredDocument[] {
  const documents: StoredDocument[] = [];
  for (const item of container.documents._data.values()) if (item._data) documents.push(item._data);
  return documents;
}

export function documentCount(container: EmulatorContainer): number {
  return container.documents._data.size;
}

/** The counter the container's next document _rid comes from. */
export function documentRidCount(container: EmulatorContainer): number {
  return container.documents._ridCount;
}

export function setDocumentRidCount(container: EmulatorContainer, count: number): void {
  container.documents._ridCount = count;
}

/**
 * The emulator advertises its locations as https:// though it speaks plain HTTP, so a CosmosClient
 * with endpoint discovery on (the SDK's default) would move to an address it cannot reach ("wrong
 * version number"). Advertise what it serves.
 */
export function advertisePlainHttp(account: EmulatorAccount): void {
  const data = account.read() as {
    writableLocations?: { databaseAccountEndpoint: string }[];
    readableLocations?: { databaseAccountEndpoint: string }[];
  };
  for (const location of [...(data.writableLocations ?? []), ...(data.readableLocations ?? [])]) {
    location.databaseAccountEndpoint = location.databaseAccountEndpoint.replace(/^https:/, 'http:');
  }
}
