import {
  devhostTopicStandsInFor,
  isCosmosEmulator,
  isDevelopmentStorage,
  isLocalEventGridTopic,
  needsLocalCosmos,
  needsLocalStorage,
  withLocalConnections,
} from '../../src/localConnections';

const local = {
  storage: 'DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;…',
  cosmos: 'AccountEndpoint=http://127.0.0.1:41234/;AccountKey=k;',
};
/** The Cosmos DB emulator's published connection string, as apps copy it into local.settings.json. */
const EMULATOR =
  'AccountEndpoint=https://localhost:8081/;AccountKey=C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU5DE2nQ9nDuVTqobD4b8mGGyPMbIZnqyMsEcaGQy67XIw/Jw==';

describe('the devhost points connection settings that name the local emulators at its own, by value, whatever their names', () => {
  it('gives every development-storage setting Azurite', () => {
    const resolved = withLocalConnections(
      {
        AzureWebJobsStorage: 'UseDevelopmentStorage=true',
        Orders: 'usedevelopmentstorage=true;',
        Images: 'UseDevelopmentStorage=true;DevelopmentStorageProxyUri=http://127.0.0.1',
      },
      local,
    );
    expect(resolved).toEqual({ AzureWebJobsStorage: local.storage, Orders: local.storage, Images: local.storage });
  });

  it("gives every connection string for the Cosmos DB emulator's local address the devhost's endpoint", () => {
    const resolved = withLocalConnections(
      {
        COSMOS_CONNECTION: EMULATOR,
        Other: 'AccountEndpoint=http://127.0.0.1:8081/;AccountKey=a2V5;',
        Ipv6: 'AccountEndpoint=https://[::1]:8081/;AccountKey=a;',
      },
      local,
    );
    expect(resolved).toMatchObject({ COSMOS_CONNECTION: local.cosmos, Other: local.cosmos, Ipv6: local.cosmos });
  });

  it('leaves real accounts, other ports and everything else as the app wrote them', () => {
    const settings = {
      AzureWebJobsStorage: 'DefaultEndpointsProtocol=https;AccountName=real;AccountKey=a2V5;EndpointSuffix=core.windows.net',
      Cosmos: 'AccountEndpoint=https://real.documents.azure.com:443/;AccountKey=a2V5;',
      LocalButNotTheEmulator: 'AccountEndpoint=http://127.0.0.1:9999/;AccountKey=a2V5;',
      Text: 'UseDevelopmentStorage=false',
      Mentions: 'see localhost:8081',
    };
    expect(withLocalConnections(settings, local)).toEqual(settings);
  });

  it('gives an app with no AzureWebJobsStorage (or an empty one) Azurite, as the host needs one for everything but HTTP', () => {
    expect(withLocalConnections({}, local)).toEqual({ AzureWebJobsStorage: local.storage });
    expect(withLocalConnections({ AzureWebJobsStorage: '' }, local)).toEqual({ AzureWebJobsStorage: local.storage });
  });

  it('recognises the shorthand and the emulator only as whole values', () => {
    expect(isDevelopmentStorage('UseDevelopmentStorage=true')).toBe(true);
    expect(isDevelopmentStorage('x;UseDevelopmentStorage=true')).toBe(false);
    expect(isCosmosEmulator(EMULATOR)).toBe(true);
    expect(isCosmosEmulator('AccountEndpoint=https://localhost/;AccountKey=a;')).toBe(false);
    expect(isCosmosEmulator('AccountEndpoint=not a url;AccountKey=a;')).toBe(false);
  });
});

/** What `devhost emulators` prints for storage and Cosmos DB on ports of their own (a test's free ones). */
const EMULATORS = {
  storage:
    'DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=k;BlobEndpoint=http://127.0.0.1:41000/devstoreaccount1;QueueEndpoint=http://127.0.0.1:41001/devstoreaccount1;TableEndpoint=http://127.0.0.1:41002/devstoreaccount1;',
  cosmos: 'AccountEndpoint=http://127.0.0.1:41081/;AccountKey=k;',
};

describe('the devhost starts its own storage and Cosmos DB only when a setting asks for them', () => {
  it('starts both for the usual settings: the development storage, the emulator, or none at all', () => {
    expect(needsLocalStorage({ AzureWebJobsStorage: 'UseDevelopmentStorage=true' })).toBe(true);
    expect(needsLocalStorage({})).toBe(true);
    expect(needsLocalStorage({ AzureWebJobsStorage: '' })).toBe(true);
    expect(needsLocalStorage({ AzureWebJobsStorage: EMULATORS.storage, Images: 'UseDevelopmentStorage=true' })).toBe(true);
    expect(needsLocalCosmos({ COSMOS_CONNECTION: EMULATOR })).toBe(true);
    expect(needsLocalCosmos({})).toBe(true);
    expect(needsLocalCosmos({ COSMOS_CONNECTION: EMULATORS.cosmos, Other: EMULATOR })).toBe(true);
  });

  it('starts neither when every such setting names one elsewhere (devhost emulators on other ports, a real account)', () => {
    expect(needsLocalStorage({ AzureWebJobsStorage: EMULATORS.storage })).toBe(false);
    expect(needsLocalCosmos({ COSMOS_CONNECTION: EMULATORS.cosmos })).toBe(false);
    expect(needsLocalCosmos({ COSMOS__accountEndpoint: 'https://real.documents.azure.com:443/' })).toBe(false);
  });

  it('leaves the connections alone for which it started nothing', () => {
    const settings = { AzureWebJobsStorage: EMULATORS.storage, COSMOS_CONNECTION: EMULATORS.cosmos };
    expect(withLocalConnections(settings, {})).toEqual(settings);
    expect(withLocalConnections({}, {})).toEqual({});
  });
});

describe("the devhost's own topic stands in for the topic a setting names, unless it names another on this machine", () => {
  it('recognises the local topic by its well-known port, on any loopback address', () => {
    expect(isLocalEventGridTopic('http://127.0.0.1:10003/api/events')).toBe(true);
    expect(isLocalEventGridTopic('https://localhost:10003/api/events')).toBe(true);
    expect(isLocalEventGridTopic('http://127.0.0.1:41003/api/events')).toBe(false);
    expect(isLocalEventGridTopic('https://contoso.westeurope-1.eventgrid.azure.net:10003/api/events')).toBe(false);
  });

  it('stands in for none, the well-known address, a devhost topic route and a topic in Azure', () => {
    expect(devhostTopicStandsInFor(undefined)).toBe(true);
    expect(devhostTopicStandsInFor('')).toBe(true);
    expect(devhostTopicStandsInFor('http://127.0.0.1:10003/api/events')).toBe(true);
    expect(devhostTopicStandsInFor('http://127.0.0.1:7071/devhost/eventgrid/api/events')).toBe(true);
    expect(devhostTopicStandsInFor('https://contoso.westeurope-1.eventgrid.azure.net/api/events')).toBe(true);
  });

  it('keeps a topic started on purpose on another port of this machine (devhost emulators on ports of their own)', () => {
    expect(devhostTopicStandsInFor('http://127.0.0.1:41003/api/events')).toBe(false);
    expect(devhostTopicStandsInFor('http://localhost:41003/api/events')).toBe(false);
  });
});
