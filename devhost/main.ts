import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startDevhost, type Devhost, type StartStage } from './devhost';

/**
 * `npm start [-- --port N] [--offline] [--fresh]`: the whole app on this machine, no Core Tools.
 * For tests: `--data-dir DIR` keeps local data elsewhere than .devhost/, `--extra-module FILE` loads
 * more compiled function modules beside the app's, `--quiet` logs only warnings and errors.
 */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: process.env.PORT ?? '7071' },
      offline: { type: 'boolean', default: false },
      fresh: { type: 'boolean', default: false },
      quiet: { type: 'boolean', default: false },
      'data-dir': { type: 'string' },
      'extra-module': { type: 'string', multiple: true, default: [] },
    },
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be a port number, not ${values.port}`);

  // Listen for signals before anything starts, so a stop during start-up still stops every child.
  let devhost: Devhost | undefined;
  let stopSignal: string | undefined;
  const stop = (signal: string) => {
    if (stopSignal && devhost === undefined) return;
    stopSignal ??= signal;
    if (!devhost) return;
    const running = devhost;
    devhost = undefined;
    console.log(`\n${signal}: stopping the devhost…`);
    running.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));

  const appRoot = join(__dirname, '..', '..');
  devhost = await startDevhost({
    appRoot,
    port,
    quiet: values.quiet,
    fresh: values.fresh,
    offline: values.offline,
    extraModules: values['extra-module'].map((file) => resolve(file)),
    ...(values['data-dir'] !== undefined && { dataDir: resolve(values['data-dir']) }),
    ...(!values.quiet && { onStage: printStage }),
  });
  if (stopSignal) {
    stop(stopSignal);
    return;
  }
  // Since this process started: with `npm start`, that includes the build (scripts/start.js).
  console.log(`Ready in ${process.uptime().toFixed(1)} s`);
  console.log(
    [
      '',
      `Visit Plannr is running at ${devhost.url}`,
      '',
      `Functions: ${devhost.functions.join(', ')}`,
      `  parents    ${devhost.url}/   editors ${devhost.url}/editor   admins ${devhost.url}/moderation`,
      `  health     ${devhost.url}/api/health`,
      `  propose    POST ${devhost.url}/api/places   (header x-functions-key: ${devhost.keys.functionKey})`,
      `Keys (also in ${devhost.keysFile}): function key ${devhost.keys.functionKey}, master key ${devhost.keys.masterKey}`,
      devhost.weatherUrl === undefined
        ? `Forecasts: ${process.env.WEATHER_PROVIDER ?? 'open-meteo'}${process.env.WEATHER_BASE_URL ? ` at ${process.env.WEATHER_BASE_URL}` : ''} (--offline serves them locally)`
        : `Forecasts: local (offline), from the Open-Meteo-compatible server at ${devhost.weatherUrl}/v1/forecast`,
      ...(devhost.geocoderUrls === undefined
        ? []
        : [
            `Geocoding: local (offline), postcodes.io stand-in at ${devhost.geocoderUrls.postcodes}, Open-Meteo geocoding stand-in at ${devhost.geocoderUrls.placeNames}`,
          ]),
      '',
    ].join('\n'),
  );
}

const STAGE_LABELS: Record<StartStage['name'], string> = {
  storage: 'storage',
  cosmos: 'Cosmos DB',
  offline: 'offline',
  functions: 'functions',
  eventGrid: 'Event Grid',
  durable: 'durable',
  http: 'HTTP',
  triggers: 'triggers',
};

function printStage(stage: StartStage): void {
  console.log(`  ${STAGE_LABELS[stage.name].padEnd(12)}${stage.detail} (${Math.round(stage.ms)} ms)`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
