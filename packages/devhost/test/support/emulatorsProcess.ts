import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');

export interface EmulatorsProcess {
  /** The settings the emulators printed for local.settings.json "Values". */
  readonly settings: Readonly<Record<string, string>>;
  /** The line saying how they compare with the app's settings file. */
  readonly settingsNote: string;
  readonly dataDir: string;
  readonly child: ChildProcess;
  /** Everything printed so far. */
  output(): string;
  /** Sends a signal and waits for the process to exit. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
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
  const args = [
    join(root, 'dist', 'main.js'),
    'emulators',
    '--app',
    options.app,
    '--deliver-to',
    options.deliverTo,
    '--data-dir',
    dataDir,
    ...['--blob-port', '--queue-port', '--table-port', '--cosmos-port', '--event-grid-port'].flatMap((option) => [option, '0']),
    ...(options.webhookKey === undefined ? [] : ['--webhook-key', options.webhookKey]),
    ...(options.args ?? []),
  ];
  const child = spawn(process.execPath, args, {
    cwd: options.app,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  const printed = await new Promise<{ settings: Record<string, string>; note: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`The emulators did not start within 30 s:\n${output}`)), 30_000);
    const onData = () => {
      const match = /Settings for local\.settings\.json "Values" \(([^\n]*)\):\n(\{[\s\S]*?\n\})\n/.exec(output);
      if (match?.[1] !== undefined && match[2] !== undefined) {
        clearTimeout(timer);
        resolve({ note: match[1], settings: JSON.parse(match[2]) as Record<string, string> });
      }
    };
    child.stdout.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`The emulators exited (${code}) before they started:\n${output}`));
    });
  });
  return {
    settings: printed.settings,
    settingsNote: printed.note,
    dataDir,
    child,
    output: () => output,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
