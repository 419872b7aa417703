import { app } from '@azure/functions';
import { lazyHandler } from '../shared/platform/composition/lazyHandler';

app.cosmosDB('projectEvents', {
  connection: 'COSMOS_CONNECTION',
  databaseName: '%COSMOS_DATABASE%',
  containerName: 'events',
  leaseContainerName: 'leases',
  leaseContainerPrefix: 'projections-',
  createLeaseContainerIfNotExists: false,
  startFromBeginning: true,
  feedPollDelay: 500,
  maxItemsPerInvocation: 100,
  // In Azure a failed batch would otherwise be checkpointed past; retry it until it succeeds.
  retry: { strategy: 'exponentialBackoff', maxRetryCount: -1, minimumInterval: { seconds: 1 }, maximumInterval: { minutes: 1 } },
  handler: lazyHandler(async () => (await import('../handlers/projectEvents.cosmos')).projectEventsFunction),
});
