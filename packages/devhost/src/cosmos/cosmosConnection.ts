import { CosmosClient, type CosmosClientOptions } from '@azure/cosmos';
import { DefaultAzureCredential } from '@azure/identity';

/** A Cosmos DB connection as a binding's `connection` setting names it: a connection string, or an account endpoint used with an identity. */
export interface CosmosConnection {
  readonly connectionString?: string;
  readonly accountEndpoint: string;
}

/**
 * A client for a connection, as the host's Cosmos DB extension makes one: the key from the connection
 * string, or the identity (`DefaultAzureCredential`) for `<name>__accountEndpoint`. Endpoint discovery
 * (multi-region routing) is off for a loopback endpoint, which has no regions to discover.
 */
export function cosmosClientFor(connection: CosmosConnection): CosmosClient {
  const options: CosmosClientOptions =
    connection.connectionString === undefined
      ? { endpoint: connection.accountEndpoint, aadCredentials: new DefaultAzureCredential() }
      : { endpoint: connection.accountEndpoint, key: connectionStringPart(connection.connectionString, 'AccountKey') ?? '' };
  return new CosmosClient({
    ...options,
    ...(isLoopback(connection.accountEndpoint) && { connectionPolicy: { enableEndpointDiscovery: false } }),
  });
}

export function connectionStringPart(connectionString: string, name: string): string | undefined {
  for (const part of connectionString.split(';')) {
    const at = part.indexOf('=');
    if (at > 0 && part.slice(0, at).trim().toLowerCase() === name.toLowerCase()) return part.slice(at + 1).trim();
  }
  return undefined;
}

export function isLoopback(endpoint: string): boolean {
  if (!URL.canParse(endpoint)) return false;
  const { hostname } = new URL(endpoint);
  return hostname === 'localhost' || hostname === '[::1]' || hostname.startsWith('127.');
}
