import { app } from '@azure/functions';
import { lazyHandler } from '../shared/platform/composition/lazyHandler';

app.cosmosDB('publishEvents', {
  connection: 'COSMOS_CONNECTION',
  databaseName: '%COSMOS_DATABASE%',
  containerName: 'events',
  leaseContainerName: 'leases',
  leaseContainerPrefix: 'publish-',
  createLeaseContainerIfNotExists: false,
  startFromBeginning: true,
  feedPollDelay: 1000,
  maxItemsPerInvocation: 100,
  // Without a retry policy Azure checkpoints past a failed batch: retry it until the topic takes it.
  retry: { strategy: 'exponentialBackoff', maxRetryCount: -1, minimumInterval: { seconds: 1 }, maximumInterval: { minutes: 1 } },
  handler: lazyHandler(async () => (await import('../handlers/publishEvents.cosmos')).publishEventsFunction),
});
