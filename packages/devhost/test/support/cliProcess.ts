import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');

export interface CliProcess {
  readonly child: ChildProcess;
  /** Everything it printed so far, stdout and stderr. */
  output(): string;
  /** Sends a signal and waits for the process to exit. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface CliOptions<T> {
  readonly cwd: string;
  /** Added to this process's environment. */
  readonly env?: Record<string, string> | undefined;
  /** What is starting, for the errors ("The devhost"). */
  readonly name: string;
  readonly timeoutMs: number;
  /** What start-up printed on stdout once it is ready, or undefined while it is not. */
  readonly ready: (output: string) => T | undefined;
}

/**
 * Runs this package's compiled CLI (`node dist/main.js ARGS`, as the `devhost` bin) and resolves once
 * `ready` finds what it looks for; fails with everything printed if the process exits first or takes
 * longer than `timeoutMs`.
 */
export async function startCli<T>(args: readonly string[], options: CliOptions<T>): Promise<CliProcess & { readonly ready: T }> {
  const child = spawn(process.execPath, [join(root, 'dist', 'main.js'), ...args], {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  const ready = await new Promise<T>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${options.name} did not start within ${options.timeoutMs / 1000} s:\n${output}`)),
      options.timeoutMs,
    );
    const onData = () => {
      const found = options.ready(output);
      if (found !== undefined) {
        clearTimeout(timer);
        resolve(found);
      }
    };
    child.stdout.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${options.name} exited (${code}) before it started:\n${output}`));
    });
  });
  return {
    ready,
    child,
    output: () => output,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** Alive and not a zombie (an orphan that PID 1 has not reaped yet is already gone for our purpose). */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const state = /\) (\S)/.exec(readFileSync(`/proc/${pid}/stat`, 'utf8'))?.[1];
    return state !== 'Z' && state !== 'X';
  } catch {
    return true; // no /proc: trust kill(0)
  }
}
