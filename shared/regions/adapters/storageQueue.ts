import type { QueueClient, StoragePipelineOptions } from '@azure/storage-queue';
import type { AppConfig } from '../../platform/config';
import { loadOnce } from '../../platform/loadOnce';
import { appCredential } from '../../platform/adapters/azureCredential';
import {
  encodeForecastRefreshRequest,
  type ForecastRefreshQueue,
  type ForecastRefreshRequest,
} from '../application/forecastRefreshRequests';

/**
 * A queue of the app's storage account (AzureWebJobsStorage): the connection string, or the account
 * name with the app's managed identity (Storage Queue Data Contributor).
 */
export async function storageQueueClient(
  storage: AppConfig['storage'],
  queueName: string,
  options: StoragePipelineOptions = {},
): Promise<QueueClient> {
  const { QueueServiceClient } = await import('@azure/storage-queue');
  if (storage.connectionString !== undefined)
    return QueueServiceClient.fromConnectionString(storage.connectionString, options).getQueueClient(queueName);
  if (storage.accountName === undefined) throw new Error('AzureWebJobsStorage (or AzureWebJobsStorage__accountName) is not set.');
  return new QueueServiceClient(`https://${storage.accountName}.queue.core.windows.net`, appCredential, options).getQueueClient(queueName);
}

/** What the app does with a queue: send to it (creating it first) and read its properties (the health check). */
export type AppQueue = Pick<QueueClient, 'createIfNotExists' | 'sendMessage' | 'getProperties'>;

/**
 * {@link storageQueueClient}'s queue, built (and the SDK loaded) at its first request: most functions
 * send nothing. A bad connection string fails that request, as building the client would have.
 */
export function lazyStorageQueue(storage: AppConfig['storage'], queueName: string, options: StoragePipelineOptions = {}): AppQueue {
  const queue = loadOnce(() => storageQueueClient(storage, queueName, options));
  return {
    createIfNotExists: async (createOptions) => (await queue()).createIfNotExists(createOptions),
    sendMessage: async (text, sendOptions) => (await queue()).sendMessage(text, sendOptions),
    getProperties: async (propertiesOptions) => (await queue()).getProperties(propertiesOptions),
  };
}

/** The {@link ForecastRefreshQueue} on a storage queue; creates the queue on first use. */
export class StorageForecastRefreshQueue implements ForecastRefreshQueue {
  private created: Promise<unknown> | undefined;

  constructor(private readonly queue: Pick<AppQueue, 'createIfNotExists' | 'sendMessage'>) {}

  async send(request: ForecastRefreshRequest): Promise<void> {
    const text = encodeForecastRefreshRequest(request);
    this.created ??= this.queue.createIfNotExists().catch((error: unknown) => {
      this.created = undefined;
      throw error;
    });
    await this.created;
    await this.queue.sendMessage(text);
  }
}
