import { CosmosClient } from '@azure/cosmos';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ensureCosmosContainers } from '../shared/cosmos/cosmosClient';
import { localCosmosClientOptions, startLocalCosmosEndpoint, type LocalCosmosEndpoint } from './cosmos/localCosmosEndpoint';
import { registeredHooks } from './functionsCore';
import { loadFunctionApp } from './functionApp';
import { startHttpHost, type HttpHost } from './http/httpHost';
import { loadOrCreateKeys, type HostKeys } from './http/keys';
import { triggerOf } from './invoke';
import { consoleLogger, type Logger } from './logger';
import { readLocalSettings, readRoutePrefix } from './settings';

export interface DevhostOptions {
  /** Folder holding package.json, host.json and the compiled app (dist/). */
  readonly appRoot: string;
  readonly port: number;
  /** Where local data and keys live (default `<appRoot>/.devhost`). */
  readonly dataDir?: string;
  readonly quiet?: boolean;
  /** Start with empty local data (keys are kept). */
  readonly fresh?: boolean;
  /** More compiled function modules to load beside the app's (test fixtures). */
  readonly extraModules?: readonly string[];
  readonly env?: Readonly<Record<string, string | undefined>>;
}

export interface Devhost {
  readonly url: string;
  readonly keys: HostKeys;
  readonly keysFile: string;
  readonly functions: readonly string[];
  stop(): Promise<void>;
}

/** Trigger types the devhost can serve so far; any other stops start-up naming the function. */
const SERVED_TRIGGERS = new Set(['httpTrigger']);

/**
 * Runs the compiled app as the Functions host would: loads its registrations, starts the local
 * dependencies, points the app's settings at them and serves its triggers.
 */
export async function startDevhost(options: DevhostOptions): Promise<Devhost> {
  const logger: Logger = consoleLogger({ quiet: options.quiet ?? false });
  const env = options.env ?? process.env;
  const dataDir = options.dataDir ?? join(options.appRoot, '.devhost');
  const settings = readLocalSettings(options.appRoot);
  const keysFile = join(dataDir, 'keys.json');
  if (options.fresh) clearLocalData(dataDir, keysFile);
  const keys = loadOrCreateKeys(keysFile, env);

  const cosmos: LocalCosmosEndpoint = await startLocalCosmosEndpoint();
  let http: HttpHost | undefined;
  try {
    const databaseName = settings.values.COSMOS_DATABASE ?? 'visitplannr';
    const client = new CosmosClient(localCosmosClientOptions(cosmos));
    await ensureCosmosContainers(client, databaseName);
    client.dispose();

    // The app reads its settings from the environment, as in Azure; local dependencies override
    // the example's endpoints, and anything set in the environment wins over local.settings.json.
    Object.assign(process.env, settings.values, { COSMOS_CONNECTION: cosmos.connectionString, COSMOS_DATABASE: databaseName }, pickDefined(env));

    const app = loadFunctionApp(options.appRoot, options.extraModules ?? []);
    for (const registration of app.registrations) {
      const { binding } = triggerOf(registration);
      if (!SERVED_TRIGGERS.has(binding.type)) {
        throw new Error(`The devhost cannot serve the ${binding.type} of function "${registration.metadata.name}" yet.`);
      }
    }
    for (const hook of registeredHooks('appStart')) await hook({ hookData: {}, appHookData: {}, functionAppDirectory: options.appRoot });

    http = await startHttpHost(app.programmingModel, app.registrations, { port: options.port, routePrefix: readRoutePrefix(options.appRoot), keys, corsOrigins: settings.corsOrigins }, logger);
    const running = http;
    return {
      url: running.url,
      keys,
      keysFile,
      functions: app.registrations.map((registration) => registration.metadata.name),
      stop: async () => {
        await running.close();
        await cosmos.close();
      },
    };
  } catch (error) {
    await http?.close();
    await cosmos.close();
    throw error;
  }
}

function clearLocalData(dataDir: string, keep: string): void {
  if (!existsSync(dataDir)) return;
  for (const entry of readdirSync(dataDir)) {
    const path = join(dataDir, entry);
    if (path !== keep) rmSync(path, { recursive: true, force: true });
  }
}

function pickDefined(env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined));
}
