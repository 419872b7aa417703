/**
 * A local Cosmos DB (NoSQL) endpoint for development and tests that the real @azure/cosmos SDK can
 * use: @vercel/cosmosdb-server's in-process, in-memory emulator over plain HTTP, with a request
 * layer in front of it that adds what the emulator lacks and the app relies on:
 *   - atomic transactional batches (all or nothing, 207 + 424s on failure): transactionalBatch.ts
 *   - an LSN-based latest-version change feed and `_lsn` on documents: changeLog.ts, changeFeed.ts
 *   - queries that cost O(documents in the partition) rather than O(documents in the container)
 *     when they name a partition key (see queryScopeOf below and instrumentContainer)
 * Every other request goes to the emulator's own request listener unchanged.
 *
 * Data lives in memory, and with `persistDir` also in a snapshot plus a write-ahead journal there
 * (persistence.ts): every request that may write is journaled before its response is sent, and a
 * restart on the same directory, after close() or a crash, restores everything, change-feed
 * continuations included (they name the container's _rid and an LSN, never the port).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import type { CosmosClientOptions } from '@azure/cosmos';
import { createHttpServer } from '@vercel/cosmosdb-server';
import { listen } from '../listen';
import { ChangeLog, type ChangeRecord } from './changeLog';
import { isChangeFeedRequest, parseChangeFeedRequest, readChangeFeedPage } from './changeFeed';
import {
  captureEmulatorAccount,
  findContainer,
  instrumentContainer,
  advertisePlainHttp,
  newWorkCounters,
  parsePartitionKeyJson,
  type EmulatorAccount,
  type EmulatorContainer,
  type QueryScope,
  type WorkCounters,
} from './emulatorInternals';
import { loadPersistedState, Persistence, type RestoreSummary } from './persistence';
import { executeAtomicBatch, isPartitionKeyJson, parseBatchOperations } from './transactionalBatch';

/** The documented key of the Azure Cosmos DB emulator; the local endpoint does not check it. */
export const EMULATOR_KEY = 'C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU5DE2nQ9nDuVTqobD4b8mGGyPMbIZnqyMsEcaGQy67XyHQ==';

export interface LocalCosmosEndpoint {
  /** e.g. http://127.0.0.1:PORT/ */
  readonly endpoint: string;
  readonly key: string;
  /** `AccountEndpoint=${endpoint};AccountKey=${key};` */
  readonly connectionString: string;
  /** Stops listening and closes every connection, keep-alive ones included. Idempotent. */
  close(): Promise<void>;
  /** The endpoint-wide sequence number of the latest document write (0 before the first). */
  currentLsn(): number;
  /**
   * The container's change feed as data: the latest version of each document written after
   * `afterLsn` (default 0 = all), in LSN order, at most `limit`. Returns copies. Unknown container → [].
   */
  changesSince(databaseId: string, containerId: string, afterLsn?: number, limit?: number): DocumentChange[];
  /** Cumulative work counters since start: cost proxies (documents scanned, entries journaled) for tests. */
  counters(): LocalCosmosCounters;
  /** With `persistDir`: what the start restored from it. */
  readonly restored?: RestoreSummary;
}

export type LocalCosmosCounters = Readonly<WorkCounters>;

export interface LocalCosmosOptions {
  /** Default 0: a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /**
   * Keep everything in this directory (created if missing) and restore it on start: see
   * persistence.ts. Without it, data lives in memory only. One endpoint at a time per directory.
   */
  persistDir?: string;
  /** With persistDir: compact once the journal exceeds this many bytes and the last snapshot. Default 16 MiB. */
  compactAfterBytes?: number;
}

/** A document as stored, with the system properties the endpoint guarantees. */
export interface ChangedDocument {
  readonly id: string;
  readonly _lsn: number;
  readonly _ts: number;
  readonly _etag: string;
  readonly _rid: string;
  readonly [property: string]: unknown;
}

export interface DocumentChange {
  readonly lsn: number;
  readonly id: string;
  readonly partitionKey: unknown;
  readonly document: ChangedDocument;
}

/** CosmosClient options that work against the local endpoint. */
export function localCosmosClientOptions(endpoint: Pick<LocalCosmosEndpoint, 'endpoint' | 'key'>): CosmosClientOptions {
  return {
    endpoint: endpoint.endpoint,
    key: endpoint.key,
    // Discovery works (the locations are advertised as http://, advertisePlainHttp), but there is
    // only one location: stay on the given endpoint and save the SDK the account read.
    connectionPolicy: { enableEndpointDiscovery: false },
  };
}

export async function startLocalCosmosEndpoint(options: LocalCosmosOptions = {}): Promise<LocalCosmosEndpoint> {
  const host = options.host ?? '127.0.0.1';
  // Read the files before taking a port, so unusable ones fail the start cleanly.
  const persisted = options.persistDir === undefined ? undefined : loadPersistedState(options.persistDir);
  // keepAlive: the emulator answers `connection: keep-alive` so the SDK reuses its sockets; close()
  // must then end those sockets itself. No idle time-out (Node's closes a socket idle for 5 s, and
  // the emulator's own Connection header leaves out the Keep-Alive hint that would tell the client):
  // the SDK would write its next request on such a socket just as the server closes it, and that
  // request fails with "socket hang up"; the SDK does not retry writes (the load test saw proposals
  // fail so). The SDK's client ends its sockets when disposed, or when its process exits.
  const server = createHttpServer({ keepAlive: true, keepAliveTimeout: 0 });
  const accountCreated = captureEmulatorAccount(server);
  let persistence: Persistence | undefined;
  const changeLog = new ChangeLog((container, rid) => persistence?.noteWrite(container, rid));
  const counters = newWorkCounters();

  // Take over the emulator's request listener: we answer some requests and delegate the rest.
  const emulatorListener = server.listeners('request')[0] as RequestListener | undefined;
  if (!emulatorListener) throw new Error('@vercel/cosmosdb-server created no request listener');
  server.removeAllListeners('request');
  const layer = new RequestLayer(changeLog, emulatorListener, counters);
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    layer.handle(request, response);
  });

  const port = await listen(server, options.port ?? 0, host);
  // Captured synchronously in the 'listening' event, so before any request can arrive. The restore
  // below is synchronous too, and the layer answers 503 until it has the account.
  const account = await accountCreated;
  advertisePlainHttp(account);
  let restored: RestoreSummary | undefined;
  if (persisted) {
    try {
      ({ persistence, summary: restored } = Persistence.restore(persisted, account, changeLog, {
        compactAfterBytes: options.compactAfterBytes,
      }));
    } catch (error) {
      await closeServer(server);
      throw error;
    }
  }
  layer.account = account;
  layer.persistence = persistence;

  const endpoint = `http://${host.includes(':') ? `[${host}]` : host}:${port}/`;
  let closing: Promise<void> | undefined;
  return {
    endpoint,
    key: EMULATOR_KEY,
    connectionString: `AccountEndpoint=${endpoint};AccountKey=${EMULATOR_KEY};`,
    // Stop serving first, so nothing writes after the journal's last flush.
    close: () => (closing ??= closeServer(server).finally(() => persistence?.close())),
    currentLsn: () => changeLog.currentLsn,
    changesSince: (databaseId, containerId, afterLsn = 0, limit = Number.POSITIVE_INFINITY) => {
      const container = findContainer(account, databaseId, containerId);
      if (!container) return [];
      return changeLog.track(container).since(afterLsn, limit).map(toDocumentChange);
    },
    counters: () => ({ ...counters }),
    ...(restored ? { restored } : {}),
  };
}

/**
 * The query scope of the query request being served, carried across the emulator handler's awaits.
 * One for the process, shared by all endpoints: each request runs in its own context anyway, and on
 * Node 20/22 every live AsyncLocalStorage instance adds work to every promise the process creates.
 */
const queryScope = new AsyncLocalStorage<QueryScope | undefined>();

/** Routes the requests the emulator gets wrong to our handlers; passes everything else through. */
class RequestLayer {
  /** The emulator's store; set once the server listens. */
  account: EmulatorAccount | undefined;
  /** Set when the endpoint persists: see journalBeforeResponding. */
  persistence: Persistence | undefined;

  constructor(
    private readonly changeLog: ChangeLog,
    private readonly emulator: RequestListener,
    private readonly counters: WorkCounters,
  ) {}

  handle(request: IncomingMessage, response: ServerResponse): void {
    if (!this.account) {
      send(response, 503, { code: 'ServiceUnavailable', message: 'The local Cosmos endpoint is starting.' });
      return;
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') this.journalBeforeResponding(response);
    const target = containerTarget(request.url);
    const container = target && findContainer(this.account, target.databaseId, target.containerId);
    if (container) this.counters.containerRequests++;
    // Hook the container's store and writes before anything (including the emulator) can use it.
    if (container) {
      instrumentContainer(container, () => queryScope.getStore(), this.counters);
      this.changeLog.track(container);
    }

    const onDocuments = target?.rest === 'docs';
    if (
      onDocuments &&
      request.method === 'POST' &&
      isTrue(request.headers['x-ms-cosmos-is-batch-request']) &&
      isTrue(request.headers['x-ms-cosmos-batch-atomic'])
    ) {
      this.serveAtomicBatch(request, response, target).catch((error: unknown) => {
        failed(response, error);
      });
    } else if (onDocuments && request.method === 'GET' && isChangeFeedRequest(request.headers)) {
      this.serveChangeFeed(request, response, container);
    } else if (onDocuments && isQueryRequest(request)) {
      // The emulator's handler awaits the body before it evaluates the query; AsyncLocalStorage
      // carries this request's scope across that await to instrumentContainer's query wrapper,
      // with no state that another request could see. No scope is set explicitly too, so a
      // cross-partition query can never inherit one.
      queryScope.run(queryScopeOf(request.headers), () => this.emulator(request, response));
    } else {
      this.emulator(request, response);
    }
  }

  /**
   * Have the writes of a request that may write (any method but GET and HEAD: document and batch
   * writes, and creates, replaces and deletes of databases, containers and UDFs) journaled before
   * its response goes out, whoever sends it (the emulator or us): Persistence.flush() runs inside
   * response.end(). If the journal cannot be written, the response is not sent: the connection is
   * dropped, so the client does not take the write for durable.
   */
  private journalBeforeResponding(response: ServerResponse): void {
    const persistence = this.persistence;
    if (!persistence) return;
    const end = response.end.bind(response) as (...args: unknown[]) => ServerResponse;
    response.end = ((...args: unknown[]): ServerResponse => {
      try {
        persistence.flush();
      } catch (error) {
        console.error('local Cosmos endpoint: could not journal a write; dropping its response:', error);
        return response.destroy();
      }
      return end(...args);
    }) as ServerResponse['end'];
  }

  private async serveAtomicBatch(request: IncomingMessage, response: ServerResponse, target: ContainerTarget): Promise<void> {
    const body = await readJsonBody(request);
    // Everything below is synchronous until the response is written: see transactionalBatch.ts.
    // Look the container up only now: it may have been deleted or recreated while the body arrived.
    const container = this.account && findContainer(this.account, target.databaseId, target.containerId);
    if (!container) {
      notFound(response);
      return;
    }
    if (body === undefined) {
      send(response, 400, { code: 'BadRequest', message: 'The batch body is not valid JSON.' });
      return;
    }
    const partitionKey = firstHeader(request.headers['x-ms-documentdb-partitionkey']);
    if (partitionKey === undefined || !isPartitionKeyJson(partitionKey)) {
      send(response, 400, { code: 'BadRequest', message: 'A batch needs a valid x-ms-documentdb-partitionkey header.' });
      return;
    }
    const operations = parseBatchOperations(body);
    if ('error' in operations) {
      send(response, 400, { code: 'BadRequest', message: operations.error });
      return;
    }

    const returnContent = firstHeader(request.headers.prefer)?.toLowerCase() !== 'return=minimal';
    const outcome = executeAtomicBatch(container, this.changeLog, partitionKey, operations, returnContent, this.counters);
    const charge = outcome.results.reduce((sum, result) => sum + result.requestCharge, 0);
    send(response, outcome.httpStatus, outcome.results, { 'x-ms-request-charge': String(charge) });
  }

  private serveChangeFeed(request: IncomingMessage, response: ServerResponse, container: EmulatorContainer | undefined): void {
    // A GET has no body; drain it anyway so the keep-alive connection stays usable.
    request.resume();
    if (!container) {
      notFound(response);
      return;
    }
    const feedRequest = parseChangeFeedRequest(request.headers);
    if ('error' in feedRequest) {
      send(response, 400, { code: 'BadRequest', message: feedRequest.error });
      return;
    }

    const page = readChangeFeedPage(this.changeLog.track(container), this.changeLog.currentLsn, feedRequest);
    if (page.status === 304) {
      send(response, 304, undefined, { etag: page.etag, 'x-ms-item-count': '0' });
      return;
    }
    send(
      response,
      200,
      { _rid: container.read()._rid, Documents: page.documents, _count: page.documents.length },
      {
        etag: page.etag,
        'x-ms-item-count': String(page.documents.length),
      },
    );
  }
}

/** `/dbs/{db}/colls/{coll}[/rest]` → its parts; the emulator's router also tolerates `//` and trailing `/`. */
interface ContainerTarget {
  readonly databaseId: string;
  readonly containerId: string;
  /** The path below the container, e.g. 'docs' or 'docs/{id}'. */
  readonly rest: string;
}

function containerTarget(url: string | undefined): ContainerTarget | undefined {
  if (url === undefined) return undefined;
  const segments = new URL(url, 'http://local').pathname.split('/').filter((segment) => segment !== '');
  const [dbs, databaseId, colls, containerId, ...rest] = segments;
  if (dbs !== 'dbs' || colls !== 'colls' || databaseId === undefined || containerId === undefined) return undefined;
  try {
    return { databaseId: decodeURIComponent(databaseId), containerId: decodeURIComponent(containerId), rest: rest.join('/') };
  } catch {
    return undefined; // malformed escapes: let the emulator answer
  }
}

/** Whether the emulator's router takes the request for a query (POST on …/docs is then a query). */
function isQueryRequest(request: IncomingMessage): boolean {
  return (
    request.method === 'POST' &&
    (isTrue(request.headers['x-ms-documentdb-isquery']) || request.headers['content-type'] === 'application/query+json')
  );
}

/**
 * Which documents a query request may see (undefined: all, as the emulator has always done).
 *
 *   - A query with one partition key value (`x-ms-documentdb-partitionkey: ["v"]`) sees only that
 *     partition, as in real Cosmos: the SDK sends the header for `{ partitionKey }` queries. The
 *     emulator ignored it and evaluated over the whole container, so the results only differ for a
 *     query whose WHERE does not already pin the partition key, and then they are what real Cosmos
 *     returns. Hierarchical (multi-value) keys keep the old whole-container evaluation.
 *   - The SDK's query-plan request (`x-ms-cosmos-is-query-plan-request: True`, sent alongside every
 *     query, without a partition key) sees no documents. The emulator cannot make query plans and
 *     answered it by running the query over the whole container, which is not a plan either; the
 *     SDK only reads the answer when the query itself fails with a 400 that asks for a plan (which
 *     the emulator never sends) or under `forceQueryPlan` (which never worked against it). Run over
 *     nothing, the request still fails on a syntax error as before, but costs O(1), not O(container).
 */
function queryScopeOf(headers: IncomingHttpHeaders): QueryScope | undefined {
  if (isTrue(headers['x-ms-cosmos-is-query-plan-request'])) return { kind: 'none' };
  const header = firstHeader(headers['x-ms-documentdb-partitionkey']);
  if (header === undefined) return undefined;
  try {
    const components: unknown = JSON.parse(header);
    if (Array.isArray(components) && components.length !== 1) return undefined;
    return { kind: 'partition', partitionKey: parsePartitionKeyJson(header) };
  } catch {
    return undefined; // a malformed header: the emulator answers as it always did
  }
}

function toDocumentChange(record: ChangeRecord): DocumentChange {
  return {
    lsn: record.lsn,
    id: record.id,
    partitionKey: structuredClone(record.partitionKey),
    // The change log stamped _lsn (and _ts) on every stored document; the emulator's type predates them.
    document: structuredClone(record.document) as unknown as ChangedDocument,
  };
}

async function readJsonBody(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

/** Writes a response with the headers the emulator puts on its own. */
function send(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  response.statusCode = status;
  response.setHeader('content-type', 'application/json');
  response.setHeader('x-ms-activity-id', randomUUID());
  response.setHeader('x-ms-request-charge', '1');
  for (const [name, value] of Object.entries(headers)) response.setHeader(name, value);
  // 304 carries no body.
  response.end(body === undefined || status === 304 ? undefined : JSON.stringify(body));
}

function notFound(response: ServerResponse): void {
  send(response, 404, { code: 'NotFound', message: 'Resource Not Found' });
}

function failed(response: ServerResponse, error: unknown): void {
  console.error('local Cosmos endpoint:', error);
  if (response.headersSent) response.destroy();
  else send(response, 500, { code: 'InternalServerError', message: error instanceof Error ? error.message : String(error) });
}

function isTrue(header: string | string[] | undefined): boolean {
  return firstHeader(header)?.toLowerCase() === 'true';
}

function firstHeader(header: string | string[] | undefined): string | undefined {
  return Array.isArray(header) ? header[0] : header;
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((error) => {
      if (error) reject(error);
      else resolve();
    });
    // close() only stops accepting; idle keep-alive and in-flight connections must be ended too.
    server.closeAllConnections();
  });
}
