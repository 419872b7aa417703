import { cpSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { startDevhostProcess, type DevhostProcess, type DevhostProcessOptions } from './devhostProcess';

export interface RunningFixtureApp {
  readonly devhost: DevhostProcess;
  /** This run's copy of the app. */
  readonly appDir: string;
  /** Stops the devhost and removes the copy. */
  stop(): Promise<void>;
}

/** Where a test's copy of a fixture app goes (test-artifacts/, outside the sources). */
export function fixtureAppCopy(name: string, tag = name): string {
  return join(__dirname, '..', '..', 'test-artifacts', 'apps', `${tag}-${process.pid}`);
}

/**
 * Runs one of the apps in test/fixtures/apps with `devhost --app`, from a copy: an app and the
 * devhost write beside it, never into the sources. The copy still finds the repository's
 * node_modules, as an app finds its own. `prepare` may change the copy (a host.json variant) first.
 */
export async function startFixtureApp(
  name: string,
  options: DevhostProcessOptions & { readonly tag?: string; readonly prepare?: (appDir: string) => void } = {},
): Promise<RunningFixtureApp> {
  const { tag, prepare, ...devhostOptions } = options;
  const appDir = fixtureAppCopy(name, tag);
  cpSync(join(__dirname, '..', 'fixtures', 'apps', name), appDir, { recursive: true });
  prepare?.(appDir);
  try {
    const devhost = await startDevhostProcess({ ...devhostOptions, args: ['--app', appDir, ...(devhostOptions.args ?? [])] });
    return {
      devhost,
      appDir,
      stop: async () => {
        try {
          await devhost.stop();
        } finally {
          rmSync(appDir, { recursive: true, force: true });
        }
      },
    };
  } catch (error) {
    rmSync(appDir, { recursive: true, force: true });
    throw error;
  }
}
