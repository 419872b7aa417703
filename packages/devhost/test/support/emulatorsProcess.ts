import { mkdtempSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EmulatorPorts } from '../../src/emulators';
import { startCli, type CliProcess } from './cliProcess';

export interface EmulatorsProcess extends CliProcess {
  /** The settings the emulators printed for local.settings.json "Values". */
  readonly settings: Readonly<Record<string, string>>;
  /** The line saying how they compare with the app's settings file. */
  readonly settingsNote: string;
  readonly dataDir: string;
}

export interface EmulatorsProcessOptions {
  readonly app: string;
  /** Where the topic delivers (the host's address). */
  readonly deliverTo: string;
  readonly webhookKey?: string;
  readonly dataDir?: string;
  readonly env?: Record<string, string>;
  readonly args?: readonly string[];
}

/**
 * Runs `devhost emulators` (the compiled CLI) for an app with every port free (0), never the
 * well-known ones a running `npm start` may hold, and its own data folder; resolves once it has
 * printed the settings.
 */
export async function startEmulatorsProcess(options: EmulatorsProcessOptions): Promise<EmulatorsProcess> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'devhost-emulators-'));
  const { ready, ...emulators } = await startCli(
    [
      'emulators',
      '--app',
      options.app,
      '--deliver-to',
      options.deliverTo,
      '--data-dir',
      dataDir,
      ...['--blob-port', '--queue-port', '--table-port', '--cosmos-port', '--event-grid-port'].flatMap((option) => [option, '0']),
      ...(options.webhookKey === undefined ? [] : [`--webhook-key=${options.webhookKey}`]),
      ...(options.args ?? []),
    ],
    { cwd: options.app, env: options.env, name: 'The emulators', timeoutMs: 30_000, ready: printedSettings },
  );
  return { ...emulators, settings: ready.settings, settingsNote: ready.note, dataDir };
}

function printedSettings(output: string): { settings: Record<string, string>; note: string } | undefined {
  const match = /Settings for local\.settings\.json "Values" \(([^\n]*)\):\n(\{[\s\S]*?\n\})\n/.exec(output);
  return match?.[1] === undefined || match[2] === undefined
    ? undefined
    : { note: match[1], settings: JSON.parse(match[2]) as Record<string, string> };
}

/** A port nothing listens on now, for the host: the emulators must know where to deliver before it starts. */
export async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/** The ports the emulators took, from their start-up lines. */
export function emulatorPortsOf(output: string): EmulatorPorts {
  const storage = /Azurite: blob (\d+), queue (\d+), table (\d+)/.exec(output);
  const cosmos = /http\(s\):\/\/127\.0\.0\.1:(\d+)/.exec(output);
  const topic = /topic http:\/\/127\.0\.0\.1:(\d+)\/api\/events/.exec(output);
  if (!storage || !cosmos || !topic) throw new Error(`The emulators did not say their ports:\n${output}`);
  return {
    blob: Number(storage[1]),
    queue: Number(storage[2]),
    table: Number(storage[3]),
    cosmos: Number(cosmos[1]),
    eventGrid: Number(topic[1]),
  };
}
