/**
 * The entry of the local Cosmos endpoint's thread (cosmosThread.ts): starts the restartable endpoint
 * with the options it was given, says where it listens, then restarts or closes it when asked.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { CosmosThreadMessage, CosmosThreadOptions, CosmosThreadRequest, ThreadError } from './cosmosThread';
import { startRestartableCosmos } from './restartableCosmos';

async function main(): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('cosmosThreadMain runs as a worker thread of the devhost.');
  const cosmos = await startRestartableCosmos(workerData as CosmosThreadOptions);
  const send = (message: CosmosThreadMessage) => port.postMessage(message);
  send({ type: 'started', endpoint: cosmos.endpoint, key: cosmos.key, connectionString: cosmos.connectionString });

  port.on('message', (request: CosmosThreadRequest) => {
    const answer =
      request.type === 'restart'
        ? cosmos.restart(request.downMs).then((restart) => send({ type: 'reply', id: request.id, restart }))
        : cosmos.close().then(() => {
            send({ type: 'reply', id: request.id });
            // Nothing more will be asked: let the thread end once the reply is out.
            port.close();
          });
    answer.catch((error: unknown) => send({ type: 'reply', id: request.id, error: asThreadError(error) }));
  });
}

function asThreadError(error: unknown): ThreadError {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error) };
  const code = (error as { code?: unknown }).code;
  return {
    name: error.name,
    message: error.message,
    ...(error.stack !== undefined && { stack: error.stack }),
    ...(typeof code === 'string' && { code }),
  };
}

void main().catch((error: unknown) => {
  // Thrown, not sent: the devhost hears a failed start as the thread's 'error'.
  setImmediate(() => {
    throw error;
  });
});
