import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface LocalSettings {
  readonly values: Record<string, string>;
  readonly corsOrigins: readonly string[];
}

/** local.settings.json as `func start` reads it, falling back to the committed example. */
export function readLocalSettings(appRoot: string): LocalSettings & { readonly file: string } {
  const own = join(appRoot, 'local.settings.json');
  const file = existsSync(own) ? own : join(appRoot, 'local.settings.example.json');
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as { Values?: Record<string, string>; Host?: { CORS?: string } };
  const corsOrigins = (parsed.Host?.CORS ?? '')
    .split(',')
    .map((origin) => origin.trim())
    .filter(Boolean);
  return { file, values: parsed.Values ?? {}, corsOrigins };
}

export function readRoutePrefix(appRoot: string): string {
  const host = JSON.parse(readFileSync(join(appRoot, 'host.json'), 'utf8')) as { extensions?: { http?: { routePrefix?: string } } };
  return host.extensions?.http?.routePrefix ?? 'api';
}
