/**
 * The devhost's local Cosmos endpoint on a thread of its own (worker_threads): the same restartable
 * endpoint (restartableCosmos.ts), but its request parsing, queries, persistence and garbage no longer
 * share the app's event loop. In Azure, Cosmos DB is a service elsewhere and the Functions worker runs
 * only the app; on one loop, the endpoint's bursts (a change-feed batch, a cross-partition query, a
 * journal write) stalled the app's HTTP requests for hundreds of milliseconds under load, which the
 * host's maxOutstandingRequests then shed as 429s the real host would not have sent.
 *
 * Clients reach it over HTTP as before; only start, restart and close cross the thread, as messages.
 * If the thread dies, the devhost dies with it, as it would with the endpoint in its own loop.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { LocalCosmosOptions } from './localCosmosEndpoint';
import { CosmosRestartInProgressError, type CosmosRestart, type RestartableCosmos } from './cosmosRestart';

/** What the thread sends: its endpoint once started, then one reply per request. */
export type CosmosThreadMessage =
  | { readonly type: 'started'; readonly endpoint: string; readonly key: string; readonly connectionString: string }
  | { readonly type: 'reply'; readonly id: number; readonly restart?: CosmosRestart; readonly error?: ThreadError };

/** What the devhost asks of it. */
export type CosmosThreadRequest =
  { readonly type: 'restart'; readonly id: number; readonly downMs: number } | { readonly type: 'close'; readonly id: number };

export interface ThreadError {
  readonly name: string;
  readonly message: string;
  readonly stack?: string;
  readonly code?: string;
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

export type CosmosThreadOptions = LocalCosmosOptions & { readonly persistDir: string };

/**
 * The compiled entry, from the built package whether this module runs compiled (dist/cosmos) or
 * from its sources under ts-jest (src/cosmos): a thread cannot load TypeScript, so tests of the
 * sources run the thread's code as last built (the test set-up builds it first).
 */
const THREAD_ENTRY = join(resolve(__dirname, '..', '..'), 'dist', 'cosmos', 'cosmosThreadMain.js');

export async function startCosmosThread(options: CosmosThreadOptions): Promise<RestartableCosmos> {
  if (!existsSync(THREAD_ENTRY))
    throw new Error(`${THREAD_ENTRY} is missing: build the devhost first (npm run build -w functions-devhost).`);
  const worker = new Worker(THREAD_ENTRY, { workerData: options });
  const replies = new Map<
    number,
    { resolve: (message: CosmosThreadMessage & { type: 'reply' }) => void; reject: (error: Error) => void }
  >();
  let nextId = 1;
  let exited: Error | undefined;
  let closing = false;
  // As restartableCosmos.ts's `up`: false from a restart's start until it has reopened, and for good after a failed one.
  let listening = true;

  const started = new Promise<CosmosThreadMessage & { type: 'started' }>((resolveStart, rejectStart) => {
    worker.on('message', (message: CosmosThreadMessage) => {
      if (message.type === 'started') return resolveStart(message);
      const waiting = replies.get(message.id);
      replies.delete(message.id);
      waiting?.resolve(message);
    });
    worker.once('error', rejectStart);
    worker.once('exit', (code) => rejectStart(new Error(`The local Cosmos endpoint's thread exited (${code}) before it started.`)));
  });
  const first = await started;
  worker.removeAllListeners('error');
  worker.removeAllListeners('exit');
  // The thread failing or ending unasked is as fatal to the devhost as the endpoint failing on its loop was.
  const fatal = (error: Error) => {
    exited = error;
    process.nextTick(() => {
      throw error;
    });
  };
  const rejectAll = (error: Error) => {
    for (const waiting of replies.values()) waiting.reject(error);
    replies.clear();
  };
  worker.on('error', fatal);
  worker.on('messageerror', (error) => rejectAll(error));
  worker.on('exit', (code) => {
    if (exited === undefined) {
      const error = new Error(`The local Cosmos endpoint's thread exited (${code}).`);
      if (closing) exited = error;
      else fatal(error);
    }
    rejectAll(exited ?? new Error('The local Cosmos endpoint has stopped.'));
  });

  const ask = (request: DistributiveOmit<CosmosThreadRequest, 'id'>): Promise<CosmosThreadMessage & { type: 'reply' }> => {
    if (exited) return Promise.reject(exited);
    const id = nextId++;
    return new Promise((resolveReply, rejectReply) => {
      replies.set(id, { resolve: resolveReply, reject: rejectReply });
      worker.postMessage({ ...request, id });
    });
  };

  let restarting: Promise<CosmosRestart> | undefined;
  let closed: Promise<void> | undefined;
  return {
    endpoint: first.endpoint,
    key: first.key,
    connectionString: first.connectionString,
    get up() {
      return listening && !closing && exited === undefined;
    },
    restart: (downMs = 0) => {
      if (restarting) return Promise.reject(new CosmosRestartInProgressError());
      if (closing) return Promise.reject(new Error('The local Cosmos endpoint is closed.'));
      listening = false;
      restarting = ask({ type: 'restart', downMs })
        .then((reply) => {
          if (reply.error) throw threadError(reply.error);
          if (!reply.restart) throw new Error('The local Cosmos endpoint did not say how its restart went.');
          listening = true;
          return reply.restart;
        })
        .finally(() => {
          restarting = undefined;
        });
      return restarting;
    },
    close: () => {
      closing = true;
      closed ??= (async () => {
        try {
          if (!exited) {
            const reply = await ask({ type: 'close' });
            if (reply.error) throw threadError(reply.error);
          }
        } finally {
          // Even when the endpoint's own close failed: a thread left running would keep the devhost's process alive.
          await worker.terminate();
        }
      })();
      return closed;
    },
  };
}

/** The thread's error as the in-loop endpoint would have thrown it (the restart-in-progress refusal keeps its class). */
function threadError(error: ThreadError): Error {
  if (error.name === 'CosmosRestartInProgressError') return new CosmosRestartInProgressError();
  const rebuilt: Error & { code?: string } = new Error(error.message);
  rebuilt.name = error.name;
  if (error.stack !== undefined) rebuilt.stack = error.stack;
  if (error.code !== undefined) rebuilt.code = error.code;
  return rebuilt;
}
