import { connectionStringPart, isLoopback } from './cosmos/cosmosConnection';
import { TOPIC_ENDPOINT_PATH } from './eventGrid/eventGrid';

/**
 * Points an app's connection settings at the devhost's own storage and Cosmos DB endpoint, by what
 * they say rather than by their names: any setting whose value is the development-storage shorthand
 * (`UseDevelopmentStorage=true`, as Core Tools and Azurite read it) gets Azurite's connection
 * string, and any Cosmos DB connection string for the emulator's well-known local endpoint (port
 * 8081 on localhost) gets the devhost's endpoint. Every other setting is left as the app wrote it:
 * a real account named in local.settings.json is used, as under Core Tools.
 */
export interface LocalConnectionStrings {
  /** Azurite's connection string; absent when the devhost started none (no setting asks for it, see {@link needsLocalStorage}). */
  readonly storage?: string;
  /** The local Cosmos DB endpoint's; absent when the devhost started none ({@link needsLocalCosmos}). */
  readonly cosmos?: string;
}

export const COSMOS_EMULATOR_PORT = 8081;

/**
 * Where `devhost emulators` serves its Event Grid topic (`http://127.0.0.1:10003/api/events`), next to
 * Azurite's 10000–10002: local.settings.example.json names it, so `func start` publishes there. Event
 * Grid has no official emulator, hence no port of its own; nothing well known uses this one.
 */
export const EVENT_GRID_TOPIC_PORT = 10003;
export const EVENT_GRID_TOPIC_PATH = '/api/events';

export function isDevelopmentStorage(value: string): boolean {
  return /^\s*UseDevelopmentStorage\s*=\s*true\s*(;|$)/i.test(value);
}

/** A Cosmos DB connection string whose AccountEndpoint is the emulator's local address. */
export function isCosmosEmulator(value: string): boolean {
  const endpoint = connectionStringPart(value, 'AccountEndpoint');
  if (endpoint === undefined || !isLoopback(endpoint)) return false;
  const url = new URL(endpoint);
  return Number(url.port || (url.protocol === 'https:' ? 443 : 80)) === COSMOS_EMULATOR_PORT;
}

/** An Event Grid topic endpoint at the local topic's well-known address (any loopback host, http or https). */
export function isLocalEventGridTopic(value: string | undefined): boolean {
  if (value === undefined || !isLoopback(value)) return false;
  const url = new URL(value);
  return Number(url.port || (url.protocol === 'https:' ? 443 : 80)) === EVENT_GRID_TOPIC_PORT;
}

/**
 * Whether the devhost's own topic stands in for the topic an app's setting names: none; the local
 * topic's well-known address; a devhost's topic route (on whatever port); or a topic in Azure, whose
 * subscriptions deliver to Azure, so the functions running here would never see the app's events.
 * A topic at another address on this machine (`devhost emulators` on ports of its own) was started
 * on purpose and is kept: the app publishes there, and it delivers to the devhost's webhook.
 */
export function devhostTopicStandsInFor(endpoint: string | undefined): boolean {
  if (endpoint === undefined || endpoint.trim() === '' || !URL.canParse(endpoint) || !isLoopback(endpoint)) return true;
  return isLocalEventGridTopic(endpoint) || new URL(endpoint).pathname.replace(/\/+$/, '').toLowerCase() === TOPIC_ENDPOINT_PATH;
}

/**
 * Whether the app needs the devhost's own storage: some setting names the development storage, or
 * there is no `AzureWebJobsStorage` (the host needs one). Settings that all name storage elsewhere
 * (`devhost emulators` on other ports, a real account) need none.
 */
export function needsLocalStorage(settings: Readonly<Record<string, string | undefined>>): boolean {
  return !settings.AzureWebJobsStorage || Object.values(settings).some((value) => value !== undefined && isDevelopmentStorage(value));
}

/**
 * Whether the app needs the devhost's own Cosmos DB endpoint: some setting names the emulator's address,
 * or none names a Cosmos DB account at all (code may name the emulator's address directly). Only when
 * every Cosmos DB connection names an account elsewhere is no local endpoint started.
 */
export function needsLocalCosmos(settings: Readonly<Record<string, string | undefined>>): boolean {
  const cosmos = Object.entries(settings).filter(
    ([name, value]) =>
      value !== undefined && (connectionStringPart(value, 'AccountEndpoint') !== undefined || /__accountEndpoint$/i.test(name)),
  );
  return cosmos.length === 0 || cosmos.some(([, value]) => value !== undefined && isCosmosEmulator(value));
}

/** The settings with every local storage or Cosmos emulator connection replaced; `AzureWebJobsStorage` defaults to Azurite. */
export function withLocalConnections(
  settings: Readonly<Record<string, string | undefined>>,
  local: LocalConnectionStrings,
): Record<string, string> {
  const resolved: Record<string, string> = {};
  for (const [name, value] of Object.entries(settings)) {
    if (value === undefined) continue;
    resolved[name] =
      isDevelopmentStorage(value) && local.storage !== undefined
        ? local.storage
        : isCosmosEmulator(value) && local.cosmos !== undefined
          ? local.cosmos
          : value;
  }
  // The host needs a storage account for everything but HTTP; with none named, the local one.
  if (!resolved.AzureWebJobsStorage && local.storage !== undefined) resolved.AzureWebJobsStorage = local.storage;
  return resolved;
}

/** `devhost emulators`' data, under the devhost's data folder but not the devhost's: --fresh leaves it. */
export const EMULATORS_DATA_FOLDER = 'emulators';
