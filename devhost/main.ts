import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startDevhost } from './devhost';

/** `npm start [-- --port N] [--offline] [--fresh]`: the whole app on this machine, no Core Tools. */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { port: { type: 'string', default: process.env.PORT ?? '7071' }, offline: { type: 'boolean', default: false }, fresh: { type: 'boolean', default: false }, quiet: { type: 'boolean', default: false } },
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be a port number, not ${values.port}`);
  const appRoot = join(__dirname, '..', '..');
  const devhost = await startDevhost({ appRoot, port, quiet: values.quiet });

  console.log(`\nVisit Plannr is running at ${devhost.url}\n`);
  console.log(`Functions: ${devhost.functions.join(', ')}`);
  console.log(`  health     ${devhost.url}/api/health`);
  console.log(`  propose    POST ${devhost.url}/api/places   (header x-functions-key: ${devhost.keys.functionKey})`);
  console.log(`Keys (also in .devhost/keys.json): function key ${devhost.keys.functionKey}, master key ${devhost.keys.masterKey}\n`);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping the devhost…`);
    devhost.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
