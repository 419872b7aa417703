import Module from 'node:module';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { minimatch } from 'minimatch';
import * as functionsCore from './functionsCore';
import type { Logger } from './logger';

type Resolve = (request: string, parent: unknown, isMain: boolean, options: unknown) => string;
const moduleWithResolver = Module as unknown as { _resolveFilename: Resolve };

let installed = false;

/**
 * Makes `require('@azure/functions-core')` (which the Functions worker normally answers) resolve to
 * the devhost's stand-in, so @azure/functions registers functions with us instead of dropping them.
 */
export function installFunctionsCore(): void {
  if (installed) return;
  installed = true;
  const standIn = require.resolve('./functionsCore');
  const original = moduleWithResolver._resolveFilename;
  moduleWithResolver._resolveFilename = function (request, parent, isMain, options) {
    return request === '@azure/functions-core' ? standIn : original.call(this, request, parent, isMain, options);
  };
}

export interface LoadedApp {
  readonly files: readonly string[];
  readonly registrations: readonly functionsCore.Registration[];
  readonly programmingModel: functionsCore.ProgrammingModel;
}

/**
 * Loads the compiled app exactly as the host does: every file that package.json `main` (a glob)
 * matches, relative to the app root.
 */
export function loadFunctionApp(appRoot: string, extraModules: readonly string[] = []): LoadedApp {
  installFunctionsCore();
  const { main } = JSON.parse(readFileSync(join(appRoot, 'package.json'), 'utf8')) as { main?: string };
  if (!main) throw new Error('package.json has no "main": the Functions host would find no functions.');
  const files = listFiles(appRoot, main).filter((file) => minimatch(file, main));
  if (files.length === 0) throw new Error(`package.json "main" (${main}) matches no file: run "npm run build" first.`);
  // The host loads each entry with require(); so does the devhost, after the stand-in is in place.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  for (const file of [...files.map((file) => join(appRoot, file)), ...extraModules]) require(file);
  const programmingModel = functionsCore.getProgrammingModel();
  if (!programmingModel) throw new Error('The app registered no functions through @azure/functions.');
  return { files, registrations: functionsCore.registeredFunctions(), programmingModel };
}

/**
 * Without the functions an `AzureWebJobs.<name>.Disabled` setting turns off ("true" or "1"), as the
 * host leaves them: not triggered, not served.
 */
export function enabledRegistrations(
  registrations: readonly functionsCore.Registration[],
  settings: Readonly<Record<string, string | undefined>>,
  logger: Logger,
): functionsCore.Registration[] {
  return registrations.filter((registration) => {
    const name = registration.metadata.name;
    const setting = settings[`AzureWebJobs.${name}.Disabled`]?.trim().toLowerCase();
    const disabled = setting === 'true' || setting === '1';
    if (disabled) logger.info(`Function '${name}' is disabled (AzureWebJobs.${name}.Disabled).`);
    return !disabled;
  });
}

/** Files under the glob's fixed leading folders (so node_modules is never walked). */
function listFiles(root: string, glob: string): string[] {
  const fixed: string[] = [];
  for (const segment of glob.split('/').slice(0, -1)) {
    if (/[*?[\]{}!]/.test(segment)) break;
    fixed.push(segment);
  }
  const base = join(root, ...fixed);
  if (!existsSync(base)) return [];
  return readdirSync(base, { recursive: true, encoding: 'utf8' }).map((file) => relative(root, join(base, file)).split('\\').join('/'));
}
