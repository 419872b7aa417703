import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface LocalSettings {
  readonly values: Record<string, string>;
  readonly corsOrigins: readonly string[];
}

/**
 * local.settings.json as `func start` reads it; without one, a committed `local.settings.example.json`
 * (so a fresh clone starts), and without either no settings at all, as `func start` runs.
 */
export function readLocalSettings(appRoot: string): LocalSettings & { readonly file: string | undefined } {
  const file = [join(appRoot, 'local.settings.json'), join(appRoot, 'local.settings.example.json')].find((candidate) =>
    existsSync(candidate),
  );
  if (file === undefined) return { file, values: {}, corsOrigins: [] };
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as { Values?: Record<string, string>; Host?: { CORS?: string } };
  const corsOrigins = (parsed.Host?.CORS ?? '')
    .split(',')
    .map((origin) => origin.trim())
    .filter(Boolean);
  return { file, values: parsed.Values ?? {}, corsOrigins };
}

/**
 * The app's settings as the host gives them to it: local.settings.json's values, overlaid by every
 * variable the environment sets.
 */
export function mergedAppSettings(
  values: Readonly<Record<string, string>>,
  env: Readonly<Record<string, string | undefined>>,
): Record<string, string> {
  return { ...values, ...pickDefined(env) };
}

/** The environment's variables that are set. */
function pickDefined(env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined));
}

/**
 * The WEBSITE_HOSTNAME the app gets from the devhost, as Core Tools gives it (its own `localhost:<port>`: StartHostAction's
 * GetConfigurationSettings), or undefined when the settings already name one, which then stands.
 */
export function websiteHostname(settings: Readonly<Record<string, string | undefined>>, port: number): string | undefined {
  const named = settings.WEBSITE_HOSTNAME;
  return named !== undefined && named !== '' ? undefined : `localhost:${port}`;
}

export function readRoutePrefix(appRoot: string): string {
  const host = JSON.parse(readFileSync(join(appRoot, 'host.json'), 'utf8')) as { extensions?: { http?: { routePrefix?: string } } };
  return host.extensions?.http?.routePrefix ?? 'api';
}
