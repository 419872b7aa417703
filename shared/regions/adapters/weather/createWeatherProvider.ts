import type { AppConfig } from '../../../platform/config';
import { MetOfficeProvider } from './metOfficeProvider';
import { OpenMeteoProvider } from './openMeteoProvider';
import type { ProviderClientOptions } from './providerClient';
import type { WeatherProvider, WeatherProviderHealth } from '../../application/weatherProvider';

export interface CreateWeatherProviderOptions extends ProviderClientOptions {
  /** Locations per Open-Meteo request (the Met Office takes one at a time whatever this says). */
  readonly batchSize: number;
  readonly clock?: () => Date;
}

/**
 * The configured provider. Build it once per process and keep it: its circuit breaker only
 * protects the provider if every fetch goes through the same instance.
 */
export function createWeatherProvider(
  weather: AppConfig['weather'],
  options: CreateWeatherProviderOptions,
): WeatherProvider & WeatherProviderHealth {
  switch (weather.provider) {
    case 'open-meteo':
      return new OpenMeteoProvider({ ...options, baseUrl: weather.baseUrl });
    case 'met-office':
      // loadConfig already refuses met-office without a key; this guards configs built by hand.
      if (weather.metOfficeApiKey === undefined) throw new Error('The Met Office provider needs MET_OFFICE_API_KEY.');
      return new MetOfficeProvider({ ...options, baseUrl: weather.baseUrl, apiKey: weather.metOfficeApiKey });
  }
}
