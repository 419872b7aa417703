import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');

export interface DevhostProcess {
  readonly url: string;
  readonly dataDir: string;
  readonly keys: { functionKey: string; masterKey: string };
  readonly child: ChildProcess;
  /** Everything the devhost printed so far. */
  output(): string;
  /** Sends a signal and waits for the process to exit. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface DevhostProcessOptions {
  readonly dataDir?: string;
  readonly port?: number;
  readonly extraModules?: readonly string[];
  readonly env?: Record<string, string>;
  readonly args?: readonly string[];
  /** The devhost's working folder (default this package's). */
  readonly cwd?: string;
}

/** Starts this package's compiled CLI (`node dist/main.js`, as the `devhost` bin) on a free port, with its own data folder. */
export async function startDevhostProcess(options: DevhostProcessOptions = {}): Promise<DevhostProcess> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'devhost-test-'));
  const args = [
    join(root, 'dist', 'main.js'),
    '--port',
    String(options.port ?? 0),
    '--data-dir',
    dataDir,
    ...(options.extraModules ?? []).flatMap((file) => ['--extra-module', file]),
    ...(options.args ?? []),
  ];
  const child = spawn(process.execPath, args, {
    cwd: options.cwd ?? root,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`The devhost did not start within 20 s:\n${output}`)), 20_000);
    const onData = () => {
      const match = /running at (http:\/\/\S+)/.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`The devhost exited (${code}) before it started:\n${output}`));
    });
  });
  const keys = JSON.parse(readFileSync(join(dataDir, 'keys.json'), 'utf8')) as { functionKey: string; masterKey: string };
  return {
    url,
    dataDir,
    keys,
    child,
    output: () => output,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
