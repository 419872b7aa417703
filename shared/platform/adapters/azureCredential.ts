import type { TokenCredential } from '@azure/identity';
import { loadOnce } from '../loadOnce';

const defaultCredential = loadOnce(async (): Promise<TokenCredential> => new (await import('@azure/identity')).DefaultAzureCredential());

/**
 * The app's managed identity (DefaultAzureCredential) for every SDK client, one per process so its
 * tokens are cached once. `@azure/identity` loads at the first token request: with connection strings
 * and keys (local, tests) it never does.
 */
export const appCredential: TokenCredential = {
  getToken: async (scopes, options) => (await defaultCredential()).getToken(scopes, options),
};
