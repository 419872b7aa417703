import { isCosmosEmulator, isDevelopmentStorage, withLocalConnections } from '../../src/localConnections';

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
