/**
 * Local Azure Storage (blob, queue, table) for the devhost and tests: Azurite in a child process, as
 * the Functions tooling runs it, on free ports.
 *
 * No orphans: the child (azuriteProcess.ts) runs Azurite in-process and ends as soon as its stdin
 * pipe closes, which happens when stop() ends it and also when this process dies in any way,
 * SIGKILL included. There is never a second, unwatched process.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** The well-known development account every Azure Storage emulator accepts. */
export const DEV_ACCOUNT_NAME = 'devstoreaccount1';
export const DEV_ACCOUNT_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

export interface AzuriteOptions {
  /** A folder that keeps the data across restarts (created if missing), e.g. `.devhost/azurite`. */
  readonly location?: string;
  /** Keep the data in memory only (the default when no location is given). Not with `location`. */
  readonly inMemory?: boolean;
  /** Listening address; default 127.0.0.1. */
  readonly host?: '127.0.0.1';
  /** How long Azurite may take to listen; default 30 s. */
  readonly startTimeoutMs?: number;
  /** Receives every line Azurite prints after it started (it prints little with --silent). */
  readonly onOutput?: (line: string) => void;
  /** Listen on these ports (default 0 each: free ones), e.g. to come back where a restarted Azurite was. */
  readonly ports?: { readonly blob: number; readonly queue: number; readonly table: number };
}

/** How the Azurite child ended. */
export interface AzuriteExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface RunningAzurite {
  /** Standard dev-account connection string with the three endpoints. */
  readonly connectionString: string;
  readonly blobPort: number;
  readonly queuePort: number;
  readonly tablePort: number;
  /** e.g. http://127.0.0.1:PORT/devstoreaccount1 */
  readonly blobEndpoint: string;
  readonly queueEndpoint: string;
  readonly tableEndpoint: string;
  /** The Azurite child process (it exits by itself when this process dies). */
  readonly pid: number;
  /** Resolves when the child has exited, whatever ended it (stop() included). */
  readonly exited: Promise<AzuriteExit>;
  /** Closes Azurite gracefully (persistent data is flushed) and waits for the process to exit. Idempotent. */
  stop(): Promise<void>;
}

type Service = 'Blob' | 'Queue' | 'Table';

const LISTENING = /Azurite (Blob|Queue|Table) service is successfully listening at (\S+)/;
/** After stop() closed the child's stdin, how long it may take to exit before it is killed. */
const STOP_GRACE_MS = 10_000;

export async function startAzurite(options: AzuriteOptions = {}): Promise<RunningAzurite> {
  if (options.location !== undefined && options.inMemory === true) {
    throw new Error('startAzurite: give either a location or inMemory, not both.');
  }
  const host = options.host ?? '127.0.0.1';
  const location = options.location === undefined ? undefined : resolve(options.location);
  if (location !== undefined) mkdirSync(location, { recursive: true });

  const ports = options.ports ?? { blob: 0, queue: 0, table: 0 };
  const args = ['--blobHost', host, '--queueHost', host, '--tableHost', host];
  args.push('--blobPort', String(ports.blob), '--queuePort', String(ports.queue), '--tablePort', String(ports.table));
  args.push('--silent', '--disableTelemetry', '--skipApiVersionCheck');
  args.push(...(location === undefined ? ['--inMemoryPersistence'] : ['--location', location]));

  const entry = childEntry();
  const child = spawn(process.execPath, [...entry.execArgs, ...args], {
    // Azurite writes nothing to its working folder with --inMemoryPersistence; keep it out of the repo anyway.
    cwd: location ?? tmpdir(),
    env: { ...process.env, ...entry.env },
    stdio: ['pipe', 'pipe', 'pipe'],
    windowsHide: true,
  });
  const exit = new Promise<AzuriteExit>((resolveExit) => {
    child.once('exit', (code, signal) => resolveExit({ code, signal }));
    child.once('error', () => resolveExit({ code: null, signal: null })); // never spawned: there is nothing to wait for
  });
  const exited = exit.then(() => undefined);
  // The child may die before it reads its stdin; a write-side EPIPE must not crash us.
  child.stdin.on('error', () => undefined);

  let listening: Record<Service, number>;
  try {
    listening = await waitUntilListening(child, options.startTimeoutMs ?? 30_000);
  } catch (error) {
    child.kill('SIGKILL');
    await exited;
    throw error;
  }
  const pid = child.pid;
  if (pid === undefined) throw new Error('Azurite started without a process id.');
  forwardOutput(child, options.onOutput);

  const endpoint = (port: number) => `http://${host}:${port}/${DEV_ACCOUNT_NAME}`;
  const blobEndpoint = endpoint(listening.Blob);
  const queueEndpoint = endpoint(listening.Queue);
  const tableEndpoint = endpoint(listening.Table);
  let stopping: Promise<void> | undefined;
  return {
    connectionString:
      `DefaultEndpointsProtocol=http;AccountName=${DEV_ACCOUNT_NAME};AccountKey=${DEV_ACCOUNT_KEY};` +
      `BlobEndpoint=${blobEndpoint};QueueEndpoint=${queueEndpoint};TableEndpoint=${tableEndpoint};`,
    blobPort: listening.Blob,
    queuePort: listening.Queue,
    tablePort: listening.Table,
    blobEndpoint,
    queueEndpoint,
    tableEndpoint,
    pid,
    exited: exit,
    stop: () => (stopping ??= stopChild(child, exited)),
  };
}

/**
 * `node <entry>`: the compiled azuriteProcess.js next to this file, or (running from the TypeScript
 * sources, as under jest) azuriteProcess.ts through ts-node.
 */
function childEntry(): { execArgs: string[]; env: Record<string, string> } {
  const compiled = join(__dirname, 'azuriteProcess.js');
  if (existsSync(compiled)) return { execArgs: [compiled], env: {} };
  const source = join(__dirname, 'azuriteProcess.ts');
  if (!existsSync(source)) throw new Error(`Neither ${compiled} nor ${source} exists.`);
  return {
    execArgs: ['-r', require.resolve('ts-node/register/transpile-only'), source],
    // Self-contained: whatever tsconfig ts-node would find from the child's working folder, not that.
    env: {
      TS_NODE_SKIP_PROJECT: 'true',
      TS_NODE_COMPILER_OPTIONS: JSON.stringify({ module: 'commonjs', moduleResolution: 'node', target: 'ES2022' }),
    },
  };
}

function waitUntilListening(child: ChildProcessWithoutNullStreams, timeoutMs: number): Promise<Record<Service, number>> {
  return new Promise((resolvePorts, reject) => {
    const found: Partial<Record<Service, number>> = {};
    const output: string[] = [];
    let pending = '';
    const tail = () => output.slice(-20).join('\n');
    const finish = (error?: Error) => {
      clearTimeout(timer);
      child.stdout.off('data', onStdout);
      child.stderr.off('data', onStderr);
      child.off('exit', onExit);
      child.off('error', onError);
      if (error) reject(error);
    };
    const onStdout = (chunk: Buffer) => {
      pending += chunk.toString('utf8');
      const lines = pending.split(/\r?\n/);
      pending = lines.pop() ?? '';
      for (const line of lines) {
        output.push(line);
        const match = LISTENING.exec(line);
        if (match) found[match[1] as Service] = Number(new URL(match[2] ?? '').port);
      }
      if (found.Blob !== undefined && found.Queue !== undefined && found.Table !== undefined) {
        finish();
        resolvePorts({ Blob: found.Blob, Queue: found.Queue, Table: found.Table });
      }
    };
    const onStderr = (chunk: Buffer) => output.push(...chunk.toString('utf8').split(/\r?\n/).filter(Boolean));
    const onExit = (code: number | null, signal: NodeJS.Signals | null) =>
      finish(new Error(`Azurite exited while starting (${signal ?? `code ${code ?? '?'}`}):\n${tail()}`));
    const onError = (error: Error) => finish(new Error(`Azurite could not be started: ${error.message}`));
    const timer = setTimeout(() => finish(new Error(`Azurite did not listen within ${timeoutMs} ms:\n${tail()}`)), timeoutMs);
    child.stdout.on('data', onStdout);
    child.stderr.on('data', onStderr);
    child.once('exit', onExit);
    child.once('error', onError);
  });
}

/** Keeps reading the child's output (a full pipe would block it) and hands complete lines on. */
function forwardOutput(child: ChildProcessWithoutNullStreams, onOutput: ((line: string) => void) | undefined): void {
  for (const stream of [child.stdout, child.stderr]) {
    let pending = '';
    stream.on('data', (chunk: Buffer) => {
      pending += chunk.toString('utf8');
      const lines = pending.split(/\r?\n/);
      pending = lines.pop() ?? '';
      if (onOutput) for (const line of lines) onOutput(line);
    });
  }
}

async function stopChild(child: ChildProcessWithoutNullStreams, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  // Closing stdin is the child's signal to close Azurite's servers and exit (see azuriteProcess.ts).
  child.stdin.end();
  let timer: NodeJS.Timeout | undefined;
  const gaveUp = new Promise<boolean>((resolveTimeout) => (timer = setTimeout(() => resolveTimeout(true), STOP_GRACE_MS)));
  const timedOut = await Promise.race([exited.then(() => false), gaveUp]);
  clearTimeout(timer);
  if (timedOut) {
    child.kill('SIGKILL');
    await exited;
  }
}
