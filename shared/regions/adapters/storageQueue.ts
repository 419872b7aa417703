import { DefaultAzureCredential } from '@azure/identity';
import { QueueServiceClient, type QueueClient, type StoragePipelineOptions } from '@azure/storage-queue';
import type { AppConfig } from '../../platform/config';
import {
  encodeForecastRefreshRequest,
  type ForecastRefreshQueue,
  type ForecastRefreshRequest,
} from '../application/forecastRefreshRequests';

/**
 * A queue of the app's storage account (AzureWebJobsStorage): the connection string, or the account
 * name with the app's managed identity (Storage Queue Data Contributor).
 */
export function storageQueueClient(storage: AppConfig['storage'], queueName: string, options: StoragePipelineOptions = {}): QueueClient {
  if (storage.connectionString !== undefined)
    return QueueServiceClient.fromConnectionString(storage.connectionString, options).getQueueClient(queueName);
  if (storage.accountName === undefined) throw new Error('AzureWebJobsStorage (or AzureWebJobsStorage__accountName) is not set.');
  return new QueueServiceClient(
    `https://${storage.accountName}.queue.core.windows.net`,
    new DefaultAzureCredential(),
    options,
  ).getQueueClient(queueName);
}

/** The {@link ForecastRefreshQueue} on a storage queue; creates the queue on first use. */
export class StorageForecastRefreshQueue implements ForecastRefreshQueue {
  private created: Promise<unknown> | undefined;

  constructor(private readonly queue: QueueClient) {}

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
