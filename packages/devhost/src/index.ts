/**
 * functions-devhost: runs an Azure Functions app (Node.js, v4 programming model) on this machine, as
 * the Functions host would, with its local dependencies embedded. The CLI (`devhost --app DIR`,
 * main.ts) is the usual way in; this module is for apps' set-up hooks and for tests that drive a
 * devhost, or one of its parts, from code. Deeper modules (`functions-devhost/<path>`) are the
 * parts themselves, for tests of apps; they may change between versions.
 */
export { startDevhost, type Devhost, type DevhostOptions } from './devhost';
export type { StartStage } from './startUp';
export { startEmulators, type EmulatorPorts, type EmulatorsOptions, type RunningEmulators } from './emulators';
export type { AppSetup, AppSetupContext, AppSetupResult, ListeningHost } from './appSetup';
export type { HostKeys } from './http/keys';
export { consoleLogger, type Logger } from './logger';
export {
  startLocalCosmosEndpoint,
  localCosmosClientOptions,
  type LocalCosmosEndpoint,
  type LocalCosmosOptions,
} from './cosmos/localCosmosEndpoint';
export { startAzurite, DEV_ACCOUNT_NAME, DEV_ACCOUNT_KEY, type AzuriteOptions, type RunningAzurite } from './storage/azurite';
export { getProgrammingModel, registeredFunctions, registeredHooks, type Registration, type FunctionMetadata } from './functionsCore';
export { invokeFunction, triggerOf, type InvocationRequest, type InvocationResult, type RpcTypedData } from './invoke';
