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
}

/**
 * Tests never reach the real weather API: unless a test points WEATHER_BASE_URL at its own server,
 * the devhost runs with --offline (its local Open-Meteo-compatible server).
 */
function weatherArgs(options: DevhostProcessOptions): string[] {
  const own = options.env?.WEATHER_BASE_URL !== undefined || (options.args ?? []).includes('--offline');
  return own ? [] : ['--offline'];
}

/** Starts the compiled devhost (the devhost package's CLI, `packages/devhost/dist/main.js`) as `npm start` would, on a free port. */
export async function startDevhostProcess(options: DevhostProcessOptions = {}): Promise<DevhostProcess> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'plannr-devhost-'));
  const args = [
    join(root, 'packages', 'devhost', 'dist', 'main.js'),
    '--port',
    String(options.port ?? 0),
    '--data-dir',
    dataDir,
    ...(options.extraModules ?? []).flatMap((file) => ['--extra-module', file]),
    ...(options.args ?? []),
    ...weatherArgs(options),
  ];
  const child = spawn(process.execPath, args, { cwd: root, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
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
