import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCli, type CliProcess } from './cliProcess';

const root = join(__dirname, '..', '..');

export interface DevhostProcess extends CliProcess {
  readonly url: string;
  readonly dataDir: string;
  readonly keys: { functionKey: string; masterKey: string };
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
  const { ready: url, ...devhost } = await startCli(
    [
      '--port',
      String(options.port ?? 0),
      '--data-dir',
      dataDir,
      ...(options.extraModules ?? []).flatMap((file) => ['--extra-module', file]),
      ...(options.args ?? []),
    ],
    {
      cwd: options.cwd ?? root,
      env: options.env,
      name: 'The devhost',
      timeoutMs: 20_000,
      ready: (output) => /running at (http:\/\/\S+)/.exec(output)?.[1],
    },
  );
  const keys = JSON.parse(readFileSync(join(dataDir, 'keys.json'), 'utf8')) as { functionKey: string; masterKey: string };
  return { ...devhost, url, dataDir, keys };
}
