#!/usr/bin/env node
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startDevhost } from './devhost';
import { printStage } from './startLog';
import { stopOnSignals } from './stopOnSignals';

/**
 * `npm start [-- --port N] [--offline] [--fresh]`: the whole app on this machine, no Core Tools;
 * `--offline` asks the app's set-up hook (appSetup.ts) for local stand-ins of the services it calls.
 * `--app DIR` runs the Functions app in DIR (default: the current folder); `--skip-key-checks` serves
 * every function as anonymous, as Core Tools does locally; `--no-easy-auth` leaves out the emulation of
 * App Service Authentication (the local sign-in at /.auth/login/aad and the x-ms-client-principal
 * headers), as Core Tools runs. For tests: `--data-dir DIR` keeps local data elsewhere than .devhost/,
 * `--extra-module FILE` loads more compiled function modules beside the app's, `--quiet` logs only
 * warnings and errors.
 * `devhost emulators …` starts the app's dependencies without the host, for `func start` (emulatorsCli.ts).
 */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: process.env.PORT ?? '7071' },
      offline: { type: 'boolean', default: false },
      fresh: { type: 'boolean', default: false },
      quiet: { type: 'boolean', default: false },
      'skip-key-checks': { type: 'boolean', default: false },
      // Named as it is read, not parseArgs' negation (allowNegative needs Node 22).
      'no-easy-auth': { type: 'boolean', default: false },
      app: { type: 'string', default: process.cwd() },
      'data-dir': { type: 'string' },
      'extra-module': { type: 'string', multiple: true, default: [] },
    },
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be a port number, not ${values.port}`);

  // Listen for signals before anything starts, so a stop during start-up still stops every child.
  const signals = stopOnSignals('the devhost');
  const devhost = await startDevhost({
    appRoot: resolve(values.app),
    port,
    quiet: values.quiet,
    fresh: values.fresh,
    offline: values.offline,
    skipKeyChecks: values['skip-key-checks'],
    easyAuth: !values['no-easy-auth'],
    extraModules: values['extra-module'].map((file) => resolve(file)),
    ...(values['data-dir'] !== undefined && { dataDir: resolve(values['data-dir']) }),
    ...(!values.quiet && { onStage: printStage }),
  });
  if (signals.started(devhost)) return;
  // Since this process started: with `npm start`, that includes the build (scripts/start.js).
  console.log(`Ready in ${process.uptime().toFixed(1)} s`);
  console.log(
    [
      '',
      `The Functions app is running at ${devhost.url}`,
      '',
      `Functions: ${devhost.functions.join(', ')}`,
      // The master key opens the host's admin API and the durable webhooks: it stays in its file, never on screen.
      `Keys for scripts: function key ${devhost.keys.functionKey}; the master key is in ${devhost.keysFile}`,
      devhost.signInUrl === undefined
        ? 'Sign-in: off (--no-easy-auth): no /.auth routes, x-ms-client-principal headers passed through as sent'
        : `Sign-in: ${devhost.signInUrl} (the local stand-in for App Service Authentication with Entra ID)`,
      ...devhost.banner,
      '',
    ].join('\n'),
  );
}

// `devhost emulators …`: the app's local dependencies without the host (emulatorsCli.ts).
const [command, ...rest] = process.argv.slice(2);
// Loaded only for that command: the devhost's own start does not load the emulators' modules.
(command === 'emulators' ? import('./emulatorsCli').then(({ emulatorsMain }) => emulatorsMain(rest)) : main()).catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
