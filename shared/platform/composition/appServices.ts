import { randomUUID } from 'node:crypto';
import ngeohash from 'ngeohash';
import type { EditingDeps } from '../../places/application/placeCommands';
import type { QueryDeps } from '../../places/application/placeQueries';
import type { ProjectionDeps } from '../views/projectEvents';
import type { ViewStore } from '../views/viewStore';
import type { PlaceViews } from '../../places/application/placeViews';
import type { RegionViews } from '../../regions/application/regionViews';
import { CosmosDeadLetterStore } from '../views/adapters/cosmosDeadLetterStore';
import { CosmosViewStore } from '../views/adapters/cosmosViewStore';
import { loadConfig, type AppConfig } from '../config';
import { DEFAULT_CHECK_TIMEOUT_MS, type HealthCheck } from '../health/health';
import { cosmosHealthCheck, eventGridHealthCheck, storageHealthCheck, weatherHealthCheck } from '../health/healthChecks';
import type { Geocoder } from '../../places/application/geocoder';
import { HttpGeocoder } from '../../places/adapters/httpGeocoder';
import type { EventPublisher } from '../publishing/eventPublisher';
import { createEventGridPublisherClient, EventGridEventPublisher } from '../publishing/adapters/eventGridPublisher';
import { FORECAST_REFRESH_QUEUE, type ForecastRefreshQueue } from '../../regions/application/forecastRefreshRequests';
import { lazyStorageQueue, StorageForecastRefreshQueue } from '../../regions/adapters/storageQueue';
import { CosmosEventStore } from '../eventSourcing/adapters/cosmosEventStore';
import { CONTAINERS, lazyCosmosContainers } from '../adapters/cosmosClient';
import { createWeatherProvider } from '../../regions/adapters/weather/createWeatherProvider';
import type { WeatherProvider } from '../../regions/application/weatherProvider';
import { SearchDemandRecorder } from '../../regions/application/searchDemandRecorder';
import { demandFetchRuleOf } from '../../regions/application/forecastSettings';
import type { AccessDeps } from '../http/authenticate';
import type { MachineKeyCheck } from '../http/machineKeys';
import type { EditorViews } from '../../editors/application/editorViews';
import { HostKeyCheck, hostBaseUrlOf, KeyCheckUnavailableError } from '../adapters/hostKeyCheck';
import { EditorAccessCheck } from '../../places/adapters/editorAccessCheck';
import { PlaceSearchIndex } from '../../places/adapters/placeSearchIndex';
import { searchPartitions } from '../../places/adapters/searchPartitions';
import { CosmosViewFeed } from '../views/adapters/cosmosViewFeed';
import { errorSummary, logLine } from '../logging';

/** Everything the function adapters need, built once per process from the settings. */
export interface AppServices extends EditingDeps, Omit<QueryDeps, 'views'>, Omit<ProjectionDeps, 'views'>, AccessDeps {
  /** The one views container: the projections' store and each feature's queries. */
  readonly views: ViewStore & PlaceViews & RegionViews & EditorViews;
  readonly config: AppConfig;
  readonly healthChecks: readonly HealthCheck[];
  /** The Event Grid topic the change feed is published to. */
  readonly eventPublisher: EventPublisher;
  readonly geocoder: Geocoder;
  /** forecast-refresh-requests on AzureWebJobsStorage. */
  readonly forecastRefreshQueue: ForecastRefreshQueue;
  /** The configured forecast API; one instance per process, so its circuit breaker sees every call. */
  readonly weather: WeatherProvider;
  /** Notes the regions parents search, buffered per process (one instance, so every search counts in one buffer). */
  readonly searchDemand: SearchDemandRecorder;
  /** The parents' searches (nearby, newest, their forecasts) from memory, kept current from the views' change feed; one per process. */
  readonly placeSearch: PlaceViews;
}

let services: AppServices | undefined;

/** The composition root: validated settings, Cosmos-backed stores, the real clock. */
export function appServices(): AppServices {
  services ??= createAppServices(loadConfig(process.env));
  return services;
}

/** The services if this process has built them (a hook at shutdown must not build them just to close them). */
export function builtAppServices(): AppServices | undefined {
  return services;
}

/**
 * Builds every service without loading an SDK: each adapter loads its own (Cosmos, Event Grid, storage
 * queues, identity, axios) at its first request, so a function loads only the SDKs it uses.
 */
export function createAppServices(config: AppConfig): AppServices {
  const container = lazyCosmosContainers(config.cosmos);
  const eventPublisher = new EventGridEventPublisher(createEventGridPublisherClient(config.eventGrid));
  const weather = createWeatherProvider(config.weather, { batchSize: config.forecast.batchSize });
  // The health check's own queue clients try once: a storage account that is down should say so at
  // once, with its reason, rather than after the SDK's retries outlast the check's time-out.
  const healthQueue = (name: string) =>
    lazyStorageQueue(config.storage, name, { retryOptions: { maxTries: 1, tryTimeoutInMs: DEFAULT_CHECK_TIMEOUT_MS } });
  const viewsContainer = container(CONTAINERS.views);
  const views = new CosmosViewStore(viewsContainer);
  const forecastRefreshQueue = new StorageForecastRefreshQueue(lazyStorageQueue(config.storage, FORECAST_REFRESH_QUEUE));
  const clock = () => new Date();
  const events = container(CONTAINERS.events);
  const eventStore = new CosmosEventStore(events);
  return {
    config,
    healthChecks: [
      { ...cosmosHealthCheck({ read: async (options) => (await events()).read(options) }), prepare: events },
      {
        ...storageHealthCheck(
          { requests: healthQueue(FORECAST_REFRESH_QUEUE), poison: healthQueue(`${FORECAST_REFRESH_QUEUE}-poison`) },
          FORECAST_REFRESH_QUEUE,
        ),
        prepare: () => import('@azure/storage-queue'),
      },
      eventGridHealthCheck(config.eventGrid.topicEndpoint, { lastPublish: () => eventPublisher.lastPublish() }),
      weatherHealthCheck(weather),
    ],
    eventStore,
    views,
    deadLetters: new CosmosDeadLetterStore(container(CONTAINERS.deadletters)),
    geohash: (latitude, longitude, precision) => ngeohash.encode(latitude, longitude, precision),
    clock,
    newId: randomUUID,
    eventPublisher,
    geocoder: new HttpGeocoder({ postcodesBaseUrl: config.postcodesBaseUrl, placeNamesBaseUrl: config.geocoderBaseUrl }),
    forecastRefreshQueue,
    weather,
    machineKeys: machineKeyCheck(config.websiteHostname),
    signInEnabled: config.signInEnabled,
    editorAccess: new EditorAccessCheck(eventStore),
    placeSearch: new PlaceSearchIndex(views, new CosmosViewFeed(viewsContainer, searchPartitions()), {
      // No invocation owns these lines: the worker sends console output to the host's log as well.
      onLoaded: (loaded) => console.info(logLine('SearchIndexLoaded', loaded)),
      onFeedFailed: (error) => console.warn(logLine('SearchIndexFeedFailed', { error: errorSummary(error) })),
    }),
    searchDemand: new SearchDemandRecorder({
      demand: views,
      forecastRefreshQueue,
      clock,
      rule: demandFetchRuleOf(config.forecast),
    }),
  };
}

/** Keys are checked by asking the host itself; without its name (WEBSITE_HOSTNAME) no key can be checked, and keys get 503. */
function machineKeyCheck(websiteHostname: string | undefined): MachineKeyCheck {
  if (websiteHostname) return new HostKeyCheck(hostBaseUrlOf(websiteHostname));
  return { levelOf: () => Promise.reject(new KeyCheckUnavailableError(undefined, new Error('WEBSITE_HOSTNAME is not set'))) };
}
