import { ConfigError, loadConfig } from '../../../shared/platform/config';

const local = {
  AzureWebJobsStorage: 'UseDevelopmentStorage=true',
  COSMOS_CONNECTION: 'AccountEndpoint=http://127.0.0.1:8081/;AccountKey=a2V5;',
  COSMOS_DATABASE: 'visitplannr',
  EVENTGRID_TOPIC_ENDPOINT: 'http://127.0.0.1:7071/devhost/eventgrid/api/events',
};

describe('settings', () => {
  it('reads the local settings with defaults for the optional ones', () => {
    expect(loadConfig(local)).toMatchObject({
      cosmos: { database: 'visitplannr', connectionString: local.COSMOS_CONNECTION },
      weather: { provider: 'open-meteo', baseUrl: 'https://api.open-meteo.com' },
      forecast: {
        refreshMinutes: 60,
        cycleMinutes: 60,
        searchedMaxAgeMinutes: 60,
        dailyCallBudget: 5000,
        callsPerMinute: 600,
        batchSize: 50,
        parallelism: 4,
      },
      regionPrecision: 5,
    });
  });

  it('accepts identity-based Cosmos and storage settings', () => {
    const { AzureWebJobsStorage: _s, COSMOS_CONNECTION: _c, ...rest } = local;
    const config = loadConfig({
      ...rest,
      AzureWebJobsStorage__accountName: 'plannrstore',
      COSMOS__accountEndpoint: 'https://plannr.documents.azure.com:443/',
    });
    expect(config.cosmos.accountEndpoint).toBe('https://plannr.documents.azure.com:443/');
    expect(config.storage.accountName).toBe('plannrstore');
  });

  it('names every missing or malformed setting at once', () => {
    let error: unknown;
    try {
      loadConfig({
        COSMOS_CONNECTION: 'nonsense',
        REGION_PRECISION: 'five',
        WEATHER_PROVIDER: 'met-office',
        FORECAST_REFRESH_MINUTES: '1',
      });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    for (const name of [
      'AzureWebJobsStorage',
      'COSMOS_CONNECTION',
      'COSMOS_DATABASE',
      'EVENTGRID_TOPIC_ENDPOINT',
      'REGION_PRECISION',
      'MET_OFFICE_API_KEY',
      'FORECAST_REFRESH_MINUTES',
    ]) {
      expect(message).toContain(name);
    }
  });
});
