/**
 * `devhost emulators --app DIR`: the app's local dependencies without a host, for those who run the
 * app with Core Tools (`func start`): Azurite, the local Cosmos DB endpoint (with what the app's set-up
 * hook creates there, e.g. its containers) and a local Event Grid topic whose subscriptions deliver to
 * the host's Event Grid webhook over HTTP, as Event Grid delivers to a function app. Each listens on a
 * fixed, well-known port (Azurite's 10000–10002, the Cosmos DB emulator's 8081, the topic's 10003), so
 * the app's committed settings can name them; it then answers the settings a local.settings.json needs.
 *
 * The same parts as the devhost's (storage/, cosmos/, eventGrid/, the app's set-up hook), with two
 * differences: a taken port is an error, not a reason to move (the settings name the port), and the
 * topic delivers over HTTP instead of invoking functions in this process.
 */
import { createServer, type Server } from 'node:http';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { runAppSetup } from './appSetup';
import { connectionStringPart, isLoopback } from './cosmos/cosmosConnection';
import { EMULATOR_KEY, startLocalCosmosEndpoint } from './cosmos/localCosmosEndpoint';
import { startRemoteEventGrid, topicKeyOf, type EventGridRetryOptions, type EventGridStats } from './eventGrid/eventGrid';
import { WEBHOOK_PATH } from './eventGrid/webhook';
import { deliverToWebhook, webhookUrl } from './eventGrid/webhookDelivery';
import { sendError } from './eventGrid/wire';
import { enabledRegistrations, installFunctionsCore, loadFunctionApp } from './functionApp';
import type { ExtraRoute } from './http/httpHost';
import { triggerOf } from './invoke';
import { listen } from './listen';
import {
  COSMOS_EMULATOR_PORT,
  EMULATORS_DATA_FOLDER,
  EVENT_GRID_TOPIC_PATH,
  EVENT_GRID_TOPIC_PORT,
  isDevelopmentStorage,
} from './localConnections';
import { consoleLogger, type Logger } from './logger';
import { mergedAppSettings, readLocalSettings } from './settings';
import { startInOrder, type StartStage } from './startUp';
import { superviseAzurite } from './storage/azuriteSupervisor';
import type { RunningService } from './triggers/triggerHost';
import { AZURITE_PORTS, portsFree, startEmulatorPort } from './wellKnownPorts';

export interface EmulatorPorts {
  readonly blob: number;
  readonly queue: number;
  readonly table: number;
  readonly cosmos: number;
  readonly eventGrid: number;
}

/** The ports the emulators take unless told otherwise: the ones tools, SDK samples and local.settings.example.json assume. */
export const WELL_KNOWN_EMULATOR_PORTS: EmulatorPorts = {
  ...AZURITE_PORTS,
  cosmos: COSMOS_EMULATOR_PORT,
  eventGrid: EVENT_GRID_TOPIC_PORT,
};

/** func start's default address. */
export const DEFAULT_DELIVER_TO = 'http://127.0.0.1:7071';

export { EMULATORS_DATA_FOLDER } from './localConnections';

export interface EmulatorsOptions {
  /** The Functions app (package.json, host.json, local.settings.json, the compiled functions). */
  readonly appRoot: string;
  /** Where the emulators keep their data (default `<app>/.devhost/emulators`; the devhost's own --fresh leaves it). */
  readonly dataDir?: string;
  /** Ports to listen on instead of the well-known ones; 0 takes a free one (tests). */
  readonly ports?: Partial<EmulatorPorts>;
  /** The host the topic delivers to (default {@link DEFAULT_DELIVER_TO}). */
  readonly deliverTo?: string;
  /** Sent as the webhook's `code` (a devhost's webhook takes its master key; Core Tools checks none). */
  readonly webhookKey?: string;
  /** Ask the app's set-up hook for its local stand-ins too (their settings are printed with the rest). */
  readonly offline?: boolean;
  /** Start with empty data. */
  readonly fresh?: boolean;
  readonly quiet?: boolean;
  /** Where their log lines go (default the console, info lines only without `quiet`). */
  readonly logger?: Logger;
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** The topic's retry schedule (default Event Grid's, as the devhost's topic has it); tests shorten it. */
  readonly retry?: EventGridRetryOptions;
  readonly onStage?: (stage: StartStage) => void;
}

export interface RunningEmulators {
  /** What a local.settings.json "Values" needs to use these emulators, by the app's own setting names. */
  readonly settings: Readonly<Record<string, string>>;
  /** The settings file the app has (local.settings.json, else local.settings.example.json), if any. */
  readonly settingsFile: string | undefined;
  /** The names in `settings` whose value that file does not have as it is. */
  readonly differingSettings: readonly string[];
  readonly dataDir: string;
  readonly storage: {
    readonly blobPort: number;
    readonly queuePort: number;
    readonly tablePort: number;
    readonly connectionString: string;
  };
  readonly cosmos: { readonly port: number; readonly connectionString: string };
  readonly eventGrid: {
    readonly topicEndpoint: string;
    readonly topicKey: string;
    /** One per eventGrid-triggered function: where it is delivered (without the key). */
    readonly subscriptions: readonly { readonly functionName: string; readonly webhookUrl: string }[];
    stats(): EventGridStats;
    idle(): Promise<void>;
  };
  stop(): Promise<void>;
}

const PORT_NAMES: Record<keyof EmulatorPorts, string> = {
  blob: 'Azurite blob (--blob-port)',
  queue: 'Azurite queue (--queue-port)',
  table: 'Azurite table (--table-port)',
  cosmos: 'Cosmos DB (--cosmos-port)',
  eventGrid: 'Event Grid topic (--event-grid-port)',
};

export async function startEmulators(options: EmulatorsOptions): Promise<RunningEmulators> {
  const env = options.env ?? process.env;
  const dataDir = options.dataDir ?? join(options.appRoot, '.devhost', EMULATORS_DATA_FOLDER);
  const ports: EmulatorPorts = { ...WELL_KNOWN_EMULATOR_PORTS, ...options.ports };
  for (const [name, port] of Object.entries(ports))
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`The ${name} port must be a port number, not ${port}.`);
  const deliverTo = hostAddress(options.deliverTo ?? DEFAULT_DELIVER_TO);
  await refuseTakenPorts(ports);
  if (options.fresh) rmSync(dataDir, { recursive: true, force: true });
  const logger = options.logger ?? consoleLogger({ quiet: options.quiet ?? false });
  const settingsFile = readLocalSettings(options.appRoot);

  return startInOrder(options.onStage, async ({ running, stage, stopAll }) => {
    // Supervised as under the devhost (restarted on the same ports if it dies), on the ports the settings name.
    const azurite = await superviseAzurite({
      location: join(dataDir, 'azurite'),
      logger,
      pidFile: join(dataDir, 'azurite.pid'),
      ports: { blob: ports.blob, queue: ports.queue, table: ports.table },
    });
    running.push(azurite);
    stage('storage', `Azurite: blob ${azurite.blobPort}, queue ${azurite.queuePort}, table ${azurite.tablePort}`);

    // The local endpoint on a port of its own, behind the emulator's port (HTTPS with the emulator's
    // self-signed certificate, and plain HTTP), as the devhost puts it at 8081.
    const cosmos = await startLocalCosmosEndpoint({ persistDir: join(dataDir, 'cosmos') });
    running.push({ stop: () => cosmos.close() });
    const cosmosFront = await startEmulatorPort(cosmos.endpoint, ports.cosmos);
    running.push({ stop: () => cosmosFront.close() });
    const cosmosConnection = `AccountEndpoint=http://127.0.0.1:${cosmosFront.port}/;AccountKey=${EMULATOR_KEY};`;
    stage('cosmos', `local endpoint at the emulator's address, http(s)://127.0.0.1:${cosmosFront.port}`);

    // The app's settings as func start will read them, with every connection to the local storage or
    // Cosmos DB emulator pointed at these, both for the set-up hook (explicit connection strings) and
    // for printing (the development-storage shorthand where Azurite is on its own ports).
    const onWellKnownPorts =
      azurite.blobPort === AZURITE_PORTS.blob && azurite.queuePort === AZURITE_PORTS.queue && azurite.tablePort === AZURITE_PORTS.table;
    const storageSetting = onWellKnownPorts ? 'UseDevelopmentStorage=true' : azurite.connectionString;
    const named = mergedAppSettings(settingsFile.values, env);
    const forHook: Record<string, string> = { ...named };
    const printed: Record<string, string> = { AzureWebJobsStorage: storageSetting };
    forHook.AzureWebJobsStorage = azurite.connectionString;
    for (const [name, value] of Object.entries(named)) {
      if (isDevelopmentStorage(value)) {
        forHook[name] = azurite.connectionString;
        printed[name] = storageSetting;
      } else if (namesLocalCosmos(value, cosmosFront.port)) {
        forHook[name] = cosmosConnection;
        // Already this port (http or https, the emulator's key or another: the endpoint checks none): as written.
        printed[name] = portOf(connectionStringPart(value, 'AccountEndpoint') ?? '') === cosmosFront.port ? value : cosmosConnection;
      }
    }

    installFunctionsCore();
    const setUp = await runAppSetup(
      { appRoot: options.appRoot, dataDir, offline: options.offline ?? false, settings: forHook, logger },
      { running, stage },
    );

    // The functions, found as the devhost (and the host's worker) finds them: loading the compiled
    // app, with its settings in the environment as they will be under func start. Only while it loads
    // (its functions never run here, and the set-up hook has them as an argument), so the process that
    // started the emulators, a test's among them, keeps its own environment.
    const appSettings: Record<string, string> = { ...forHook, ...setUp.settings };
    const app = whileInEnvironment(appSettings, () => loadFunctionApp(options.appRoot));
    const registrations = enabledRegistrations(app.registrations, appSettings, logger);
    const subscribers = registrations.filter((registration) => triggerOf(registration).binding.type === 'eventGridTrigger');
    stage('functions', `${registrations.length} functions, ${subscribers.length} triggered by Event Grid`);

    const topicKey = topicKeyOf(named);
    const eventGrid = await startRemoteEventGrid(
      subscribers,
      { logger, dataDir },
      {
        topicKey,
        topicPath: EVENT_GRID_TOPIC_PATH,
        topicName: 'emulators',
        appRoot: options.appRoot,
        deliver: deliverToWebhook({ deliverTo, logger, ...(options.webhookKey !== undefined && { webhookKey: options.webhookKey }) }),
        ...(options.retry && { retry: options.retry }),
      },
    );
    running.push(eventGrid);
    const topic = await serveTopic(eventGrid.routes, ports.eventGrid, logger);
    running.push(topic);
    const topicEndpoint = `http://127.0.0.1:${topic.port}${EVENT_GRID_TOPIC_PATH}`;
    const subscriptions = subscribers.map((registration) => ({
      functionName: registration.metadata.name,
      webhookUrl: webhookUrl(deliverTo, registration.metadata.name).toString(),
    }));
    stage(
      'eventGrid',
      `topic ${topicEndpoint}, ${subscriptions.length} subscriptions delivering to ${deliverTo}${WEBHOOK_PATH}?functionName=…`,
    );

    // The app says which of its settings name the topic, as it does under the devhost; here the
    // topic is always this one, whatever the settings named before.
    const onceListening =
      setUp.settingsOnceListening?.({ url: deliverTo, eventGrid: { topicEndpoint, topicKey, standsInFor: () => true } }) ?? {};
    const settings = { ...printed, ...setUp.settings, ...onceListening };
    return {
      settings,
      settingsFile: settingsFile.file,
      differingSettings: Object.keys(settings).filter((name) => settingsFile.values[name] !== settings[name]),
      dataDir,
      storage: {
        blobPort: azurite.blobPort,
        queuePort: azurite.queuePort,
        tablePort: azurite.tablePort,
        connectionString: azurite.connectionString,
      },
      cosmos: { port: cosmosFront.port, connectionString: cosmosConnection },
      eventGrid: { topicEndpoint, topicKey, subscriptions, stats: () => eventGrid.stats(), idle: () => eventGrid.idle() },
      stop: stopAll,
    };
  });
}

/** Runs `load` with `settings` in process.env, then puts back what was there before. */
function whileInEnvironment<T>(settings: Readonly<Record<string, string>>, load: () => T): T {
  const before = Object.keys(settings).map((name) => [name, process.env[name]] as const);
  Object.assign(process.env, settings);
  try {
    return load();
  } finally {
    for (const [name, value] of before) {
      if (value === undefined) Reflect.deleteProperty(process.env, name);
      else process.env[name] = value;
    }
  }
}

/** A base URL without a trailing slash; http or https only. */
function hostAddress(text: string): string {
  if (!URL.canParse(text) || !/^https?:$/.test(new URL(text).protocol))
    throw new Error(`--deliver-to must be the host's http(s) address, e.g. ${DEFAULT_DELIVER_TO}, not "${text}".`);
  return text.replace(/\/+$/, '');
}

/** Fails naming every fixed port something else holds: the settings name these ports, so moving would break them. */
async function refuseTakenPorts(ports: EmulatorPorts): Promise<void> {
  const taken: string[] = [];
  for (const [name, port] of Object.entries(ports) as [keyof EmulatorPorts, number][])
    if (port !== 0 && !(await portsFree([port]))) taken.push(`${port} (${PORT_NAMES[name]})`);
  if (taken.length > 0)
    throw new Error(
      `Port ${taken.join(', ')} ${taken.length === 1 ? 'is' : 'are'} taken: is the devhost (npm start) or another emulator running? Stop it, or choose other ports (0 for a free one).`,
    );
}

/** A Cosmos DB connection string for the emulator's well-known address, or for these emulators' own port. */
function namesLocalCosmos(value: string, port: number): boolean {
  const endpoint = connectionStringPart(value, 'AccountEndpoint');
  if (endpoint === undefined || !isLoopback(endpoint)) return false;
  const at = portOf(endpoint);
  return at === COSMOS_EMULATOR_PORT || at === port;
}

function portOf(endpoint: string): number | undefined {
  if (!URL.canParse(endpoint)) return undefined;
  const url = new URL(endpoint);
  return Number(url.port || (url.protocol === 'https:' ? 443 : 80));
}

/** The topic on a port of its own, at Azure's path (`/api/events`); anything else is 404. */
async function serveTopic(
  routes: readonly ExtraRoute[],
  port: number,
  logger: Logger,
): Promise<RunningService & { readonly port: number }> {
  const server: Server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    void (async () => {
      for (const route of routes) if (await route(request, response, url)) return;
      request.resume();
      sendError(response, 404, 'NotFound', `This is an Event Grid topic: POST events to ${EVENT_GRID_TOPIC_PATH}.`);
    })().catch((error: unknown) => {
      logger.error('Event Grid topic: a request failed', error);
      if (response.headersSent) response.destroy();
      else sendError(response, 500, 'InternalServerError', 'The request failed.');
    });
  });
  return {
    port: await listen(server, port),
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
