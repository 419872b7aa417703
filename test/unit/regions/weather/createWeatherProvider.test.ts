import { createWeatherProvider } from '../../../../shared/regions/adapters/weather/createWeatherProvider';
import { MetOfficeProvider } from '../../../../shared/regions/adapters/weather/metOfficeProvider';
import { OpenMeteoProvider } from '../../../../shared/regions/adapters/weather/openMeteoProvider';

describe('createWeatherProvider', () => {
  it('builds Open-Meteo with the configured batch size', () => {
    const provider = createWeatherProvider({ provider: 'open-meteo', baseUrl: 'https://api.open-meteo.com' }, { batchSize: 25 });
    expect(provider).toBeInstanceOf(OpenMeteoProvider);
    expect(provider).toMatchObject({ name: 'open-meteo', maxLocationsPerRequest: 25 });
  });

  it('builds the Met Office provider, one location per request whatever the batch size', () => {
    const provider = createWeatherProvider(
      { provider: 'met-office', baseUrl: 'https://data.hub.api.metoffice.gov.uk/sitespecific/v0', metOfficeApiKey: 'key' },
      { batchSize: 25 },
    );
    expect(provider).toBeInstanceOf(MetOfficeProvider);
    expect(provider).toMatchObject({ name: 'met-office', maxLocationsPerRequest: 1 });
  });

  it('refuses the Met Office without a key, and a batch size below 1', () => {
    expect(() => createWeatherProvider({ provider: 'met-office', baseUrl: 'https://example.test' }, { batchSize: 1 })).toThrow(
      /MET_OFFICE_API_KEY/,
    );
    expect(() => createWeatherProvider({ provider: 'open-meteo', baseUrl: 'https://example.test' }, { batchSize: 0 })).toThrow(RangeError);
  });
});
