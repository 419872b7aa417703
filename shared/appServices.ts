import { randomUUID } from 'node:crypto';
import type { PlaceCommandDeps } from './application/placeCommands';
import { loadConfig, type AppConfig } from './config';
import type { HealthCheck } from './health';
import { CosmosEventStore } from './cosmos/cosmosEventStore';
import { CONTAINERS, cosmosDatabase, createCosmosClient } from './cosmos/cosmosClient';

/** Everything the function adapters need, built once per process from the settings. */
export interface AppServices extends PlaceCommandDeps {
  readonly config: AppConfig;
  readonly healthChecks: readonly HealthCheck[];
}

let services: AppServices | undefined;

/** The composition root: validated settings, Cosmos-backed stores, the real clock. */
export function appServices(): AppServices {
  services ??= createAppServices(loadConfig(process.env));
  return services;
}

export function createAppServices(config: AppConfig): AppServices {
  const database = cosmosDatabase(createCosmosClient(config.cosmos), config.cosmos);
  return {
    config,
    healthChecks: [
      {
        name: 'cosmos',
        check: async (abortSignal) => {
          await database.container(CONTAINERS.events).read({ abortSignal });
        },
      },
    ],
    eventStore: new CosmosEventStore(database.container(CONTAINERS.events)),
    clock: () => new Date(),
    newId: randomUUID,
  };
}
