import { join } from 'node:path';
import { loadSubscriptions } from 'functions-devhost/eventGrid/subscriptions';
import { registeredFunctions } from 'functions-devhost/functionsCore';
import '../../../../functions/activateRegion.eventGrid';
import '../../../../functions/publishEvents.cosmos';
import '../../../../functions/validatePlaceLocation.eventGrid';

const root = join(__dirname, '..', '..', '..', '..');

describe('the fan-out functions as the host sees them', () => {
  it('publish from the events change feed on their own lease, from the beginning, retried without end', () => {
    const publish = registeredFunctions().find((registration) => registration.metadata.name === 'publishEvents');
    const trigger = Object.values(publish?.metadata.bindings ?? {}).find((binding) => binding.type === 'cosmosDBTrigger');
    expect(trigger).toMatchObject({
      connection: 'COSMOS_CONNECTION',
      databaseName: '%COSMOS_DATABASE%',
      containerName: 'events',
      leaseContainerName: 'leases',
      leaseContainerPrefix: 'publish-',
      createLeaseContainerIfNotExists: false,
      startFromBeginning: true,
      feedPollDelay: 1000,
    });
    expect(publish?.metadata.retryOptions).toMatchObject({ strategy: 'exponentialBackoff', maxRetryCount: -1 });
  });

  it('subscribe to the topic with the filters of devhost.eventgrid.json', () => {
    const filters = Object.fromEntries(
      loadSubscriptions(registeredFunctions(), join(root, 'devhost.eventgrid.json')).map((subscription) => [
        subscription.functionName,
        subscription.filter,
      ]),
    );
    expect(filters).toEqual({
      validatePlaceLocation: { includedEventTypes: ['VisitPlannr.PlaceProposed'] },
      activateRegion: { includedEventTypes: ['VisitPlannr.PlaceLocationValidated'] },
    });
  });
});
