import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { HostKeys } from './http/keys';
import type { Logger } from './logger';
import type { StartUp } from './startUp';

/**
 * What an app may ask of the devhost at start, without the devhost knowing the app: a module named
 * by the app's package.json (`"devhost": { "setup": "dist/local/devhostSetup.js" }`) that exports
 * `setup`. It runs once the local storage and Cosmos DB endpoint are up and before the functions
 * load: it creates what the app needs there (its Cosmos containers, say), starts stand-ins for the
 * services the app calls (when `offline`), and answers the settings that point the app at them.
 * `devhost emulators` runs the same hook against its own storage, Cosmos DB and topic (emulators.ts),
 * and prints what it answers as the settings `func start` needs.
 */
export interface AppSetupContext {
  readonly appRoot: string;
  /** The devhost's data folder; the app may keep its own local state under it. */
  readonly dataDir: string;
  /** `--offline` was asked for: nothing but local services should be called. */
  readonly offline: boolean;
  /** The app's settings as its functions will see them so far (local connections filled in). */
  readonly settings: Readonly<Record<string, string | undefined>>;
  readonly logger: Logger;
}

export interface AppSetupResult {
  /** Settings that win over local.settings.json and the environment (e.g. the addresses of local stand-ins). */
  readonly settings?: Readonly<Record<string, string>>;
  /** One line for the start-up log, saying what was set up. */
  readonly summary?: string;
  /** Lines for the start-up banner, once the devhost's address and keys are known. */
  readonly banner?: (host: { readonly url: string; readonly keys: HostKeys }) => readonly string[];
  /**
   * Settings that need the devhost's address: called once it listens, before `appStart` and before
   * any trigger runs. The local Event Grid topic (`POST <topicEndpoint>` with `aeg-sas-key: <topicKey>`,
   * or a SAS token signed with it) is here for an app that publishes to a topic named in its settings:
   * point the setting at it when `eventGrid.standsInFor(<its value>)`.
   */
  readonly settingsOnceListening?: (host: ListeningHost) => Readonly<Record<string, string>>;
  /** Stops what `setup` started; called when the devhost stops, after the functions. */
  readonly stop?: () => Promise<void>;
}

export interface ListeningHost {
  /** The host's address: the devhost's, or under `devhost emulators` the host they deliver to (func start's). */
  readonly url: string;
  /** The devhost's keys; absent under `devhost emulators`, which do not know the host's. */
  readonly keys?: HostKeys;
  readonly eventGrid: {
    readonly topicEndpoint: string;
    readonly topicKey: string;
    /**
     * Whether this topic should replace the one a setting names. Under the devhost: unless the setting
     * names another topic on this machine on purpose (localConnections.ts `devhostTopicStandsInFor`), so
     * the devhost can run against `devhost emulators`. Under `devhost emulators`: always.
     */
    standsInFor(endpoint: string | undefined): boolean;
  };
}

export type AppSetup = (context: AppSetupContext) => Promise<AppSetupResult>;

/** The app's set-up hook, or none when its package.json names none. */
export function loadAppSetup(appRoot: string): AppSetup | undefined {
  const packageFile = join(appRoot, 'package.json');
  if (!existsSync(packageFile)) return undefined;
  const declared = (JSON.parse(readFileSync(packageFile, 'utf8')) as { devhost?: { setup?: unknown } }).devhost?.setup;
  if (declared === undefined) return undefined;
  if (typeof declared !== 'string' || declared === '')
    throw new Error(`package.json "devhost.setup" must name a module, not ${JSON.stringify(declared)}.`);
  const file = resolve(appRoot, declared);
  if (!existsSync(file)) throw new Error(`package.json "devhost.setup" names ${declared}, which does not exist (is the app built?).`);
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the app's module, found at run time as the host finds `main`
  const loaded = require(file) as { setup?: unknown };
  if (typeof loaded.setup !== 'function')
    throw new Error(`${declared} (package.json "devhost.setup") does not export a function named setup.`);
  return loaded.setup as AppSetup;
}

/**
 * The app's set-up hook, if it has one, run as a stage of start-up: what it starts stops with the
 * rest. Answers what it answered (nothing without a hook).
 */
export async function runAppSetup(context: AppSetupContext, startUp: Pick<StartUp, 'running' | 'stage'>): Promise<AppSetupResult> {
  const appSetup = loadAppSetup(context.appRoot);
  if (!appSetup) return {};
  const setUp = await appSetup(context);
  if (setUp.stop) startUp.running.push({ stop: setUp.stop });
  startUp.stage('app', setUp.summary ?? 'set up');
  return setUp;
}
