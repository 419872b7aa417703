import { join } from 'node:path';
import {
  startDevhostProcess as startPackageDevhost,
  type DevhostProcess,
  type DevhostProcessOptions,
} from '../../packages/devhost/test/support/devhostProcess';

export type { DevhostProcess, DevhostProcessOptions };

const root = join(__dirname, '..', '..');

/**
 * Tests never reach the real weather API: unless a test points WEATHER_BASE_URL at its own server,
 * the devhost runs with --offline (the app's local Open-Meteo-compatible server).
 */
function weatherArgs(options: DevhostProcessOptions): string[] {
  const own = options.env?.WEATHER_BASE_URL !== undefined || (options.args ?? []).includes('--offline');
  return own ? [] : ['--offline'];
}

/** Runs Visit Plannr in the devhost (its compiled CLI) as `npm start` would, on a free port, with its own data folder. */
export function startDevhostProcess(options: DevhostProcessOptions = {}): Promise<DevhostProcess> {
  return startPackageDevhost({ cwd: root, ...options, args: ['--app', root, ...(options.args ?? []), ...weatherArgs(options)] });
}
