import { connectionStringPart, isLoopback } from './cosmos/cosmosConnection';

/**
 * Points an app's connection settings at the devhost's own storage and Cosmos DB endpoint, by what
 * they say rather than by their names: any setting whose value is the development-storage shorthand
 * (`UseDevelopmentStorage=true`, as Core Tools and Azurite read it) gets Azurite's connection
 * string, and any Cosmos DB connection string for the emulator's well-known local endpoint (port
 * 8081 on localhost) gets the devhost's endpoint. Every other setting is left as the app wrote it:
 * a real account named in local.settings.json is used, as under Core Tools.
 */
export interface LocalConnectionStrings {
  readonly storage: string;
  readonly cosmos: string;
}

export const COSMOS_EMULATOR_PORT = 8081;

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

/** The settings with every local storage or Cosmos emulator connection replaced; `AzureWebJobsStorage` defaults to Azurite. */
export function withLocalConnections(
  settings: Readonly<Record<string, string | undefined>>,
  local: LocalConnectionStrings,
): Record<string, string> {
  const resolved: Record<string, string> = {};
  for (const [name, value] of Object.entries(settings)) {
    if (value === undefined) continue;
    resolved[name] = isDevelopmentStorage(value) ? local.storage : isCosmosEmulator(value) ? local.cosmos : value;
  }
  // The host needs a storage account for everything but HTTP; with none named, the local one.
  if (!resolved.AzureWebJobsStorage) resolved.AzureWebJobsStorage = local.storage;
  return resolved;
}
