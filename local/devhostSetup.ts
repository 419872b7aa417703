/**
 * Visit Plannr's set-up hook for the devhost (package.json `"devhost": { "setup": … }`): what the app
 * needs locally that the devhost cannot know. It creates the app's Cosmos DB database and containers
 * (in Azure the Bicep template owns them), points the app's Event Grid settings at the local topic
 * (the devhost's, or under `devhost emulators` theirs), and with `--offline` starts the local
 * stand-ins of the weather and geocoding services and points the app at them.
 */
import type { AppSetup, AppSetupResult } from 'functions-devhost';
import { createCosmosClient, ensureCosmosContainers } from '../shared/platform/adapters/cosmosClient';
import { startLocalGeocoders } from './geocoding/localGeocoders';
import { startLocalOpenMeteo } from './weather/localOpenMeteo';

const DEFAULT_DATABASE = 'visitplannr';

export const setup: AppSetup = async ({ settings, offline }): Promise<AppSetupResult> => {
  const database = settings.COSMOS_DATABASE ?? DEFAULT_DATABASE;
  const client = await createCosmosClient({
    database,
    ...(settings.COSMOS_CONNECTION !== undefined && { connectionString: settings.COSMOS_CONNECTION }),
    ...(settings.COSMOS__accountEndpoint !== undefined && { accountEndpoint: settings.COSMOS__accountEndpoint }),
  });
  try {
    await ensureCosmosContainers(client, database);
  } finally {
    client.dispose();
  }
  const pages = (url: string, functionKey: string): string[] => [
    `  parents    ${url}/   editors ${url}/editor   admins ${url}/moderation`,
    `  health     ${url}/api/health`,
    `  propose    POST ${url}/api/places   (header x-functions-key: ${functionKey})`,
  ];
  // The app publishes its events to the local topic, as it would to Azure's: the devhost's, unless the
  // settings name `npm run emulators`' topic on ports of its own (which delivers to the devhost's webhook).
  const settingsOnceListening: AppSetupResult['settingsOnceListening'] = ({ eventGrid }): Record<string, string> =>
    eventGrid.standsInFor(settings.EVENTGRID_TOPIC_ENDPOINT)
      ? { EVENTGRID_TOPIC_ENDPOINT: eventGrid.topicEndpoint, EVENTGRID_TOPIC_KEY: eventGrid.topicKey }
      : {};
  if (!offline) {
    return {
      settings: { COSMOS_DATABASE: database },
      settingsOnceListening,
      summary: `database ${database} and its containers`,
      banner: ({ url, keys }) => [
        ...pages(url, keys.functionKey),
        `Forecasts: ${settings.WEATHER_PROVIDER ?? 'open-meteo'}${settings.WEATHER_BASE_URL ? ` at ${settings.WEATHER_BASE_URL}` : ''} (--offline serves them locally)`,
      ],
    };
  }

  const weather = await startLocalOpenMeteo();
  const geocoders = await startLocalGeocoders().catch(async (error: unknown) => {
    await weather.stop();
    throw error;
  });
  return {
    // --offline is asked for on this run, so these beat the settings file and the environment.
    settings: {
      COSMOS_DATABASE: database,
      WEATHER_PROVIDER: 'open-meteo',
      WEATHER_BASE_URL: weather.url,
      POSTCODES_BASE_URL: geocoders.postcodesUrl,
      GEOCODER_BASE_URL: geocoders.placeNamesUrl,
    },
    settingsOnceListening,
    summary: `database ${database} and its containers; offline: local weather ${weather.url}, geocoders ${geocoders.postcodesUrl} and ${geocoders.placeNamesUrl}`,
    banner: ({ url, keys }) => [
      ...pages(url, keys.functionKey),
      `Forecasts: local (offline), from the Open-Meteo-compatible server at ${weather.url}/v1/forecast`,
      `Geocoding: local (offline), postcodes.io stand-in at ${geocoders.postcodesUrl}, Open-Meteo geocoding stand-in at ${geocoders.placeNamesUrl}`,
    ],
    stop: async () => {
      await geocoders.stop();
      await weather.stop();
    },
  };
};
