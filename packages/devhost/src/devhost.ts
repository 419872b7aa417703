import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { runAppSetup } from './appSetup';
import { startCosmosThread } from './cosmos/cosmosThread';
import { controlRoute, testControlsEnabled } from './control';
import {
  DURABLE_TRIGGER_TYPES,
  readDurableTaskOptions,
  startDurable,
  usesDurable,
  withDurableClientInput,
  type RunningDurable,
} from './durable';
import { startEventGrid, TOPIC_ENDPOINT_PATH, topicKeyOf } from './eventGrid/eventGrid';
import { runAppHooks, type ProgrammingModel, type Registration } from './functionsCore';
import { enabledRegistrations, installFunctionsCore, loadFunctionApp } from './functionApp';
import { refuseUnservedBindings, startBindings } from './bindings';
import { requestBodySizeLimit, startHttpHost } from './http/httpHost';
import { httpThrottleLimits } from './http/httpThrottle';
import { workerCapabilities } from './http/httpStream';
import { loadOrCreateKeys, type HostKeys } from './http/keys';
import { loadOrCreateAuthSecret, SIGN_IN_PATH } from './http/easyAuth';
import { invokeFunction, triggerOf } from './invoke';
import { readFunctionTimeout, readLogFilter, withFunctionTimeout } from './hostLimits';
import { consoleLogger, type Logger } from './logger';
import { mergedAppSettings, readLocalSettings, readRoutePrefix, websiteHostname } from './settings';
import { startInOrder, type StartStage } from './startUp';
import { superviseAzurite } from './storage/azuriteSupervisor';
import { blobListenerOptions, startBlobTriggers } from './triggers/blobTrigger';
import { startCosmosTriggers } from './triggers/cosmosTrigger';
import { startQueueTriggers, type QueueListenerOptions } from './triggers/queueTrigger';
import { startTimerTriggers } from './triggers/timerTrigger';
import type { HostJson, TriggerHostContext } from './triggers/triggerHost';
import { connectionStringPart } from './cosmos/cosmosConnection';
import {
  COSMOS_EMULATOR_PORT,
  EMULATORS_DATA_FOLDER,
  devhostTopicStandsInFor,
  needsLocalCosmos,
  needsLocalStorage,
  withLocalConnections,
} from './localConnections';
import { AZURITE_PORTS, portsFree, startEmulatorPort } from './wellKnownPorts';

export interface DevhostOptions {
  /** Folder holding package.json, host.json and the compiled app (dist/). */
  readonly appRoot: string;
  readonly port: number;
  /** Where local data and keys live (default `<appRoot>/.devhost`). */
  readonly dataDir?: string;
  readonly quiet?: boolean;
  /** Start with empty local data (the keys and the sign-in secret are kept). */
  readonly fresh?: boolean;
  /** More compiled function modules to load beside the app's (test fixtures). */
  readonly extraModules?: readonly string[];
  /** Ask the app's set-up hook for local stand-ins of the services it calls: no network needed. */
  readonly offline?: boolean;
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Serve every function as anonymous, as Core Tools does locally (default: keys checked, as in Azure). */
  readonly skipKeyChecks?: boolean;
  /**
   * Emulate App Service Authentication with Entra ID (default true): `/.auth/*` sign-in and the `x-ms-client-principal`
   * headers, as App Service adds them in front of the app. False: a bare host, as Core Tools runs (http/easyAuth.ts).
   */
  readonly easyAuth?: boolean;
  /** Told as each stage of start-up is done, with what it started and how long it took. */
  readonly onStage?: (stage: StartStage) => void;
}

export interface Devhost {
  readonly url: string;
  readonly keys: HostKeys;
  readonly keysFile: string;
  /** The local sign-in page, when App Service Authentication is emulated. */
  readonly signInUrl: string | undefined;
  readonly functions: readonly string[];
  /** The app's own lines for the start-up banner (its set-up hook's). */
  readonly banner: readonly string[];
  stop(): Promise<void>;
}

/** Trigger types the devhost serves; any other stops start-up naming the function. */
const SERVED_TRIGGERS = new Set([
  'httpTrigger',
  'eventGridTrigger',
  'timerTrigger',
  'cosmosDBTrigger',
  'queueTrigger',
  'blobTrigger',
  ...DURABLE_TRIGGER_TYPES,
]);

/**
 * Runs the compiled app as the Functions host would: loads its registrations, starts the local
 * dependencies, points the app's settings at them and serves every trigger. Services start in
 * dependency order and stop in reverse, so nothing is left running on failure or stop.
 */
export async function startDevhost(options: DevhostOptions): Promise<Devhost> {
  const env = options.env ?? process.env;
  const dataDir = options.dataDir ?? join(options.appRoot, '.devhost');
  const keysFile = join(dataDir, 'keys.json');
  // Kept with the keys (and through --fresh, as they are), so that a sign-in outlives restarts.
  const authSecretFile = join(dataDir, 'auth.json');
  if (options.fresh) clearLocalData(dataDir, [keysFile, authSecretFile, join(dataDir, EMULATORS_DATA_FOLDER)]);
  const keys = loadOrCreateKeys(keysFile, env);
  const easyAuth = options.easyAuth === false ? undefined : { secret: loadOrCreateAuthSecret(authSecretFile) };
  const settings = readLocalSettings(options.appRoot);
  if (!easyAuth) refuseAuthEnabledWithoutEasyAuth(settings.values, env, 'local.settings.json');
  const hostJson = JSON.parse(readFileSync(join(options.appRoot, 'host.json'), 'utf8')) as HostJson;
  const logger: Logger = consoleLogger({ quiet: options.quiet ?? false, enabled: readLogFilter(hostJson.logging?.logLevel) });
  const functionTimeoutMs = readFunctionTimeout(hostJson.functionTimeout);

  return startInOrder(options.onStage, async ({ running, stage, stopAll }) => {
    // What the app's settings name (local.settings.json, then the environment). Embedded storage and
    // Cosmos DB start only when something names them (the usual case); settings that name them elsewhere
    // (`devhost emulators` on other ports, real accounts) are used as written, as under Core Tools.
    const named = mergedAppSettings(settings.values, env);
    // The Cosmos endpoint's thread loads and restores while Azurite's child starts: both take their
    // time outside this loop. Closed if starting storage fails, so no thread outlives a failed start.
    const cosmosStarting = needsLocalCosmos(named) ? startCosmosThread({ persistDir: join(dataDir, 'cosmos') }) : undefined;
    // Awaited below; until then its failure must not count as unhandled.
    cosmosStarting?.catch(() => undefined);
    // Azurite is a child process that ends with the devhost, even when the devhost is killed; if it
    // ends on its own, it is started again on the same ports (azuriteSupervisor.ts).
    // On Azurite's well-known ports when they are free (wellKnownPorts.ts), else on free ones.
    const azuriteOptions = { location: join(dataDir, 'azurite'), logger, pidFile: join(dataDir, 'azurite.pid') };
    const startAzurite = async () =>
      (await portsFree(Object.values(AZURITE_PORTS)))
        ? await superviseAzurite({ ...azuriteOptions, ports: AZURITE_PORTS }).catch(() => superviseAzurite(azuriteOptions))
        : await superviseAzurite(azuriteOptions);
    const azurite = !needsLocalStorage(named)
      ? undefined
      : await startAzurite().catch(async (error: unknown) => {
          await cosmosStarting?.then((cosmos) => cosmos.close()).catch(() => undefined);
          throw error;
        });
    if (azurite) running.push(azurite);
    stage(
      'storage',
      azurite
        ? `Azurite: blob ${azurite.blobPort}, queue ${azurite.queuePort}, table ${azurite.tablePort}`
        : `none started: AzureWebJobsStorage names ${storageAccountOf(named.AzureWebJobsStorage ?? '')}`,
    );
    // Restartable in place (same port, same data) for the test control route; on a thread of its own,
    // as Cosmos DB is a service apart from the Functions worker in Azure (cosmosThread.ts).
    const cosmos = await cosmosStarting;
    if (cosmos) running.push({ stop: () => cosmos.close() });
    const emulatorPort =
      cosmos && (await portsFree([COSMOS_EMULATOR_PORT])) ? await startEmulatorPort(cosmos.endpoint).catch(() => undefined) : undefined;
    if (emulatorPort) running.push({ stop: () => emulatorPort.close() });
    stage(
      'cosmos',
      !cosmos
        ? 'none started: every Cosmos DB connection names an account elsewhere'
        : `local endpoint ${cosmos.endpoint} ${emulatorPort ? `and at the emulator's https://localhost:${emulatorPort.port}` : `(the emulator's port ${COSMOS_EMULATOR_PORT} is taken)`}`,
    );

    // The app reads its settings from the environment, as in Azure: local.settings.json, then whatever
    // the environment already sets, with every connection that names the local storage or Cosmos DB
    // emulator pointed at the devhost's (localConnections.ts); then the app's set-up hook, which may
    // create what the app needs there and answer settings of its own (e.g. --offline stand-ins).
    const appSettings = withLocalConnections(named, {
      ...(azurite && { storage: azurite.connectionString }),
      ...(cosmos && { cosmos: cosmos.connectionString }),
    });
    // Before the app's own modules load, as the worker's @azure/functions-core would be there.
    installFunctionsCore();
    const setUp = await runAppSetup(
      { appRoot: options.appRoot, dataDir, offline: options.offline ?? false, settings: appSettings, logger },
      { running, stage },
    );
    Object.assign(process.env, appSettings, setUp.settings);
    // Core Tools gives the app WEBSITE_HOSTNAME, its own localhost:<port>, unless a setting names one: set now when the
    // port is known (before the app's modules load, as under the host), and again once the devhost listens.
    const settingsSoFar = { ...appSettings, ...setUp.settings };
    let hostnameSet: string | undefined;
    const setWebsiteHostname = (port: number) => {
      hostnameSet = websiteHostname(settingsSoFar, port);
      if (hostnameSet !== undefined) process.env.WEBSITE_HOSTNAME = hostnameSet;
    };
    // Taken back on stop, so that a devhost started later in the same process does not take it for a setting.
    running.push({
      stop: () => {
        if (hostnameSet !== undefined && process.env.WEBSITE_HOSTNAME === hostnameSet) delete process.env.WEBSITE_HOSTNAME;
        return Promise.resolve();
      },
    });
    if (options.port !== 0) setWebsiteHostname(options.port);
    // App Service sets WEBSITE_AUTH_ENABLED=True when its authentication is on: apps read it to know whether
    // x-ms-client-principal comes from the platform (stripped from clients) and can be believed.
    if (!easyAuth) refuseAuthEnabledWithoutEasyAuth(setUp.settings ?? {}, {}, "the app's set-up hook");
    const authEnabledSet = easyAuth && settingsSoFar.WEBSITE_AUTH_ENABLED === undefined ? 'True' : undefined;
    if (authEnabledSet) {
      process.env.WEBSITE_AUTH_ENABLED = authEnabledSet;
      running.push({
        stop: () => {
          if (process.env.WEBSITE_AUTH_ENABLED === authEnabledSet) delete process.env.WEBSITE_AUTH_ENABLED;
          return Promise.resolve();
        },
      });
    }

    const app = loadFunctionApp(options.appRoot, options.extraModules ?? []);
    const registrations = enabledRegistrations(app.registrations, process.env, logger);
    refuseUnservedTriggers(registrations);
    refuseUnservedBindings(registrations, { settings: process.env, hostJson });
    const disabled = app.registrations.length - registrations.length;
    stage('functions', `${registrations.length} functions loaded${disabled > 0 ? `, ${disabled} disabled` : ''}`);
    // Every invocation of a function with a durableClient input gets the client's binding data.
    let durable: RunningDurable | undefined;
    // Inputs and outputs beside the trigger (queue, blob, table, Cosmos DB) around every invocation.
    const bindings = startBindings(
      withFunctionTimeout(
        withDurableClientInput(app.programmingModel, () => durable),
        functionTimeoutMs,
        logger,
      ),
      { settings: process.env, hostJson },
    );
    running.push({ stop: () => Promise.resolve(bindings.dispose()) });
    const model = bindings.model;
    const context = triggerContext(model, logger, hostJson, dataDir);

    // The local topic's key: DEVHOST_EVENTGRID_TOPIC_KEY, or a fixed local one. The app learns it (and
    // the topic's address) through its set-up hook once the devhost listens (settingsOnceListening).
    const eventGridTopicKey = topicKeyOf(named);
    const eventGrid = await startEventGrid(registrations, context, {
      topicKey: eventGridTopicKey,
      keys,
      appRoot: options.appRoot,
    });
    running.push(eventGrid);
    stage(
      'eventGrid',
      `local topic, ${registrations.filter((registration) => triggerOf(registration).binding.type === 'eventGridTrigger').length} subscriptions`,
    );

    // The engine's client links need the HTTP address, known only once the server listens.
    const httpAddress: { url?: string } = {};
    if (usesDurable(registrations)) {
      // Orchestrations resume only once everything they may call is up (see the end of start-up).
      durable = await startDurable(registrations, context, {
        // The task hub lives where the host keeps it: AzureWebJobsStorage (Azurite's unless it names other storage).
        storageConnectionString: process.env.AzureWebJobsStorage ?? '',
        ...readDurableTaskOptions(hostJson, process.env),
        keys,
        baseUrl: () => httpAddress.url ?? `http://localhost:${options.port}`,
        resume: false,
        timeScale: durableTimeScale(process.env),
      });
      running.push(durable);
      stage('durable', `task hub ${durable.hubName}`);
    }

    const http = await startHttpHost(
      model,
      registrations,
      {
        port: options.port,
        routePrefix: readRoutePrefix(options.appRoot),
        keys,
        corsOrigins: settings.corsOrigins,
        throttle: httpThrottleLimits(hostJson.extensions?.http),
        maxBodyBytes: requestBodySizeLimit(process.env),
        skipKeyChecks: options.skipKeyChecks ?? false,
        awaitWorkerCapabilities: true,
        ...(easyAuth && { easyAuth }),
      },
      logger,
      [
        ...(testControlsEnabled(process.env) && cosmos
          ? [controlRoute(keys, { restartCosmos: (downMs) => cosmos.restart(downMs) }, logger)]
          : []),
        ...eventGrid.routes,
        ...(durable?.routes ?? []),
      ],
    );
    httpAddress.url = http.url;
    running.push({ stop: () => http.close() });
    stage('http', `listening on ${http.url}`);
    setWebsiteHostname(Number(new URL(http.url).port));
    // Settings only known now (the address), before appStart and before any trigger runs.
    Object.assign(
      process.env,
      setUp.settingsOnceListening?.({
        url: http.url,
        keys,
        eventGrid: {
          topicEndpoint: `${http.url}${TOPIC_ENDPOINT_PATH}`,
          topicKey: eventGridTopicKey,
          standsInFor: devhostTopicStandsInFor,
        },
      }),
    );

    await runAppHooks('appStart', options.appRoot);
    // As the worker answers the host's init request once appStart has run: stream mode's HttpUri among them.
    http.useWorkerCapabilities(await workerCapabilities(app.programmingModel));
    // On stop, appTerminate runs once the triggers have stopped, while what the app may call is still up.
    running.push({
      stop: () =>
        runAppHooks('appTerminate', options.appRoot).catch((error: unknown) => logger.error('An appTerminate hook failed', error)),
    });

    // Triggers that start work on their own come last, once everything they may call is up.
    running.push(await startQueueTriggers(registrations, context, queueListenerOptions(process.env)));
    running.push(await startBlobTriggers(registrations, context, blobListenerOptions(options.appRoot, process.env)));
    running.push(await startCosmosTriggers(registrations, context));
    running.push(await startTimerTriggers(registrations, context));
    await durable?.resume();
    stage('triggers', 'queues, change feed, timers and orchestrations running');

    return {
      url: http.url,
      keys,
      keysFile,
      signInUrl: easyAuth && `${http.url}${SIGN_IN_PATH}`,
      functions: registrations.map((registration) => registration.metadata.name),
      banner: setUp.banner?.({ url: http.url, keys }) ?? [],
      stop: stopAll,
    };
  });
}

function triggerContext(model: ProgrammingModel, logger: Logger, hostJson: HostJson, dataDir: string): TriggerHostContext {
  return {
    invoke: (registration, request, reason) => invokeFunction(model, registration, request, logger, reason),
    logger,
    settings: process.env,
    hostJson,
    dataDir,
  };
}

function refuseUnservedTriggers(registrations: readonly Registration[]): void {
  for (const registration of registrations) {
    const { binding } = triggerOf(registration);
    if (!SERVED_TRIGGERS.has(binding.type)) {
      throw new Error(`The devhost cannot serve the ${binding.type} of function "${registration.metadata.name}".`);
    }
  }
}

/**
 * Refuses WEBSITE_AUTH_ENABLED=True with the emulation off: the app would take it that a platform strips the
 * x-ms-client-principal headers clients send, and believe whatever principal a client claims, since nothing strips them.
 */
function refuseAuthEnabledWithoutEasyAuth(
  values: Readonly<Record<string, string | undefined>>,
  env: Readonly<Record<string, string | undefined>>,
  valuesFrom: string,
): void {
  const fromEnv = env.WEBSITE_AUTH_ENABLED;
  const value = fromEnv ?? values.WEBSITE_AUTH_ENABLED;
  if (value?.trim().toLowerCase() !== 'true') return;
  throw new Error(
    `WEBSITE_AUTH_ENABLED=${value} (set in ${fromEnv === undefined ? valuesFrom : 'the environment'}) tells the app a platform ` +
      'strips client-sent x-ms-client-principal headers, but with --no-easy-auth nothing does; remove the setting or drop --no-easy-auth.',
  );
}

function clearLocalData(dataDir: string, keep: readonly string[]): void {
  if (!existsSync(dataDir)) return;
  for (const entry of readdirSync(dataDir)) {
    const path = join(dataDir, entry);
    if (!keep.includes(path)) rmSync(path, { recursive: true, force: true });
  }
}

/** Where a storage connection string points, for the start-up line (never its key). */
function storageAccountOf(connectionString: string): string {
  const endpoint = connectionStringPart(connectionString, 'BlobEndpoint') ?? connectionStringPart(connectionString, 'QueueEndpoint');
  if (endpoint !== undefined) return endpoint;
  const account = connectionStringPart(connectionString, 'AccountName');
  return account === undefined ? 'other storage' : `the account ${account}`;
}

/**
 * DEVHOST_DURABLE_TIME_SCALE (tests only): durable time runs this many times faster, so a refresh
 * durable timer of minutes passes in seconds. Activities and everything else keep real time.
 */
function durableTimeScale(env: Readonly<Record<string, string | undefined>>): number {
  const text = env.DEVHOST_DURABLE_TIME_SCALE;
  if (text === undefined || text === '') return 1;
  const scale = Number(text);
  if (!Number.isFinite(scale) || scale < 1) throw new Error(`DEVHOST_DURABLE_TIME_SCALE must be a number ≥ 1, not "${text}".`);
  return scale;
}

/**
 * DEVHOST_QUEUE_MESSAGE_LEASE_SECONDS (tests only): how long a fetched queue message stays invisible
 * while it runs, instead of the host's 10 minutes. A fetch whose answer is lost (storage restarted
 * mid-request) leaves its messages invisible that long before they are delivered again.
 */
function queueListenerOptions(env: Readonly<Record<string, string | undefined>>): QueueListenerOptions {
  const text = env.DEVHOST_QUEUE_MESSAGE_LEASE_SECONDS;
  if (text === undefined || text === '') return {};
  const seconds = Number(text);
  if (!Number.isInteger(seconds) || seconds < 2)
    throw new Error(`DEVHOST_QUEUE_MESSAGE_LEASE_SECONDS must be a whole number ≥ 2, not "${text}".`);
  return { messageLeaseMs: seconds * 1000 };
}
