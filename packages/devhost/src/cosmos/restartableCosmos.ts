/**
 * The devhost's local Cosmos endpoint, restartable in place: restart() closes the endpoint (every
 * connection dropped, the journal flushed and closed), optionally stays down for a while, and opens
 * it again from its persisted directory on the same port, so every client's connection string stays
 * valid. Used by the devhost's test control route (see control.ts); a client sees what it would see
 * of a Cosmos DB outage: refused connections, then the same data back.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { startLocalCosmosEndpoint, type LocalCosmosEndpoint, type LocalCosmosOptions } from './localCosmosEndpoint';
import { CosmosRestartInProgressError, type CosmosRestart, type RestartableCosmos } from './cosmosRestart';

export { CosmosRestartInProgressError, type CosmosRestart, type RestartableCosmos } from './cosmosRestart';

/** How long a restart keeps trying to take its port back (another process may hold it briefly). */
const REBIND_ATTEMPTS = 50;
const REBIND_DELAY_MS = 100;

export async function startRestartableCosmos(options: LocalCosmosOptions & { readonly persistDir: string }): Promise<RestartableCosmos> {
  let current: LocalCosmosEndpoint | undefined = await startLocalCosmosEndpoint(options);
  const { endpoint, key, connectionString } = current;
  const port = Number(new URL(endpoint).port);
  let restarting: Promise<CosmosRestart> | undefined;
  let closed = false;
  // Read through a function: close() sets it while a restart awaits.
  const isClosed = () => closed;

  const reopen = async (): Promise<LocalCosmosEndpoint> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await startLocalCosmosEndpoint({ ...options, port });
      } catch (error) {
        if ((error as { code?: unknown }).code !== 'EADDRINUSE' || attempt >= REBIND_ATTEMPTS) throw error;
        await sleep(REBIND_DELAY_MS);
      }
    }
  };

  return {
    endpoint,
    key,
    connectionString,
    get up() {
      return current !== undefined;
    },
    restart: (downMs = 0) => {
      if (restarting) return Promise.reject(new CosmosRestartInProgressError());
      if (closed) return Promise.reject(new Error('The local Cosmos endpoint is closed.'));
      const running = current;
      restarting = (async () => {
        const since = Date.now();
        current = undefined;
        await running?.close();
        await sleep(downMs);
        const next = await reopen();
        if (isClosed()) {
          await next.close();
          throw new Error('The local Cosmos endpoint was closed while restarting.');
        }
        current = next;
        return { downMs: Date.now() - since, ...(next.restored && { restored: next.restored }) };
      })().finally(() => {
        restarting = undefined;
      });
      return restarting;
    },
    close: async () => {
      closed = true;
      await restarting?.catch(() => undefined);
      const running = current;
      current = undefined;
      await running?.close();
    },
  };
}
