import { basename, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_DELIVER_TO, startEmulators, WELL_KNOWN_EMULATOR_PORTS, type EmulatorPorts, type RunningEmulators } from './emulators';
import { printStage } from './startLog';
import { stopOnSignals } from './stopOnSignals';

/**
 * `devhost emulators [--app DIR] [--deliver-to URL] [--webhook-key=KEY] [--data-dir DIR] [--fresh]
 * [--offline] [--quiet] [--blob-port N] [--queue-port N] [--table-port N] [--cosmos-port N]
 * [--event-grid-port N]`: the app's local dependencies for `func start` (emulators.ts), then the
 * settings to use; Ctrl-C or SIGTERM stops them.
 */
export async function emulatorsMain(args: readonly string[]): Promise<void> {
  const port = (name: keyof EmulatorPorts) => ({ type: 'string', default: String(WELL_KNOWN_EMULATOR_PORTS[name]) }) as const;
  const { values } = parseArgs({
    args: [...args],
    options: {
      app: { type: 'string', default: process.cwd() },
      'deliver-to': { type: 'string', default: DEFAULT_DELIVER_TO },
      'webhook-key': { type: 'string' },
      'data-dir': { type: 'string' },
      fresh: { type: 'boolean', default: false },
      offline: { type: 'boolean', default: false },
      quiet: { type: 'boolean', default: false },
      'blob-port': port('blob'),
      'queue-port': port('queue'),
      'table-port': port('table'),
      'cosmos-port': port('cosmos'),
      'event-grid-port': port('eventGrid'),
    },
  });
  const portNumber = (option: string, text: string): number => {
    const value = Number(text);
    if (!/^\d+$/.test(text) || value > 65535) throw new Error(`--${option} must be a port number (0 for a free one), not ${text}`);
    return value;
  };

  // Listen for signals before anything starts, so a stop during start-up still stops every child.
  const signals = stopOnSignals('the emulators');

  console.log('Starting the emulators (no host: run func start beside them)…');
  const emulators = await startEmulators({
    appRoot: resolve(values.app),
    deliverTo: values['deliver-to'],
    ...(values['webhook-key'] !== undefined && { webhookKey: values['webhook-key'] }),
    ...(values['data-dir'] !== undefined && { dataDir: resolve(values['data-dir']) }),
    fresh: values.fresh,
    offline: values.offline,
    quiet: values.quiet,
    ports: {
      blob: portNumber('blob-port', values['blob-port']),
      queue: portNumber('queue-port', values['queue-port']),
      table: portNumber('table-port', values['table-port']),
      cosmos: portNumber('cosmos-port', values['cosmos-port']),
      eventGrid: portNumber('event-grid-port', values['event-grid-port']),
    },
    ...(!values.quiet && { onStage: printStage }),
  });
  if (signals.started(emulators)) return;
  console.log(`Ready in ${process.uptime().toFixed(1)} s`);
  console.log(banner(emulators));
}

function banner(emulators: RunningEmulators): string {
  const file = emulators.settingsFile === undefined ? undefined : basename(emulators.settingsFile);
  const comparison =
    file === undefined
      ? 'there is no local.settings.json: create one with these'
      : emulators.differingSettings.length === 0
        ? `${file} has them all as they are`
        : `${file} differs in ${emulators.differingSettings.join(', ')}`;
  const { subscriptions } = emulators.eventGrid;
  return [
    '',
    `Settings for local.settings.json "Values" (${comparison}):`,
    JSON.stringify(emulators.settings, null, 2),
    '',
    subscriptions.length === 0
      ? 'Event Grid: the app has no eventGrid-triggered functions, so the topic delivers nowhere.'
      : `Event Grid delivers to ${subscriptions.map((subscription) => subscription.webhookUrl).join(', ')}`,
    ...(file === 'local.settings.example.json'
      ? ['func start reads only local.settings.json: copy local.settings.example.json to it.']
      : []),
    `Now start the host beside them: func start. Ctrl-C stops the emulators; their data stays in ${emulators.dataDir}.`,
    '',
  ].join('\n');
}
