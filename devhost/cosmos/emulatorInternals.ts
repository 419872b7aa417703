/**
 * The one place that reaches into @vercel/cosmosdb-server's internals (lib/account/*).
 *
 * The emulator keeps its in-memory Account in a closure inside createHttpServer(), and its handlers
 * read, check and write that store synchronously after the request body has arrived. To add atomic
 * batches and an LSN-based change feed we need the same store, so this module
 *   - captures the Account object the server creates when it starts listening,
 *   - looks up containers, and
 *   - takes/restores a savepoint of one container's document maps (for batch rollback).
 * Everything here relies on the library's private field names, so keep it small and pinned to
 * the installed version (1.0.x).
 */
import type { Server } from 'node:http';
import * as accountModule from '@vercel/cosmosdb-server/lib/account';
import type Account from '@vercel/cosmosdb-server/lib/account';
import type Collection from '@vercel/cosmosdb-server/lib/account/collection';
import type Documents from '@vercel/cosmosdb-server/lib/account/documents';
import type ItemObject from '@vercel/cosmosdb-server/lib/account/item-object';

export type EmulatorAccount = Account;
export type EmulatorContainer = Collection;
export type EmulatorDocuments = Documents;
/** A document as the emulator stores it: user properties plus _rid, _self, _etag, _ts (and our _lsn). */
export type StoredDocument = ItemObject;

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
 * Snapshot one container's document store; calling the returned function puts it back exactly.
 *
 * Stored documents are never mutated in place by the library (create/replace/patch always store a
 * new object), so copying the two maps (O(documents) per call) is a complete savepoint.
 */
export function storeSavepoint(container: EmulatorContainer): () => void {
  const documents = container.documents;
  const data = new Map(documents._data);
  const index = new Map(documents._index);
  const ridCount = documents._ridCount;
  return () => {
    documents._data = data;
    documents._index = index;
    documents._ridCount = ridCount;
  };
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
