import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { round } from '../packages/devhost/bench/stats';

const root = join(__dirname, '..');
const RUNS = 5;

export interface StartBenchmark {
  readonly runs: number;
  /** Medians, ms, from spawning the command to the first 200 from /api/health. */
  readonly firstStartMs: number;
  readonly secondStartMs: number;
  /** References measured in the same run: the devhost alone (no npm, no build) and the former start (a full, non-incremental build of everything first). */
  readonly devhostAloneMs: number;
  readonly fullBuildStartMs: number;
  readonly samples: {
    readonly firstStartMs: readonly number[];
    readonly secondStartMs: readonly number[];
    readonly devhostAloneMs: readonly number[];
    readonly fullBuildStartMs: readonly number[];
  };
}

/**
 * `npm start` as a newcomer meets it, timed from the command to a healthy app, in a copy of the
 * repository (node_modules linked) so the figures never depend on what this tree has built:
 * a first start (nothing built, no local data) and a second start with nothing changed, against
 * the devhost alone and the former full-build start. Each run alternates the four, so machine load
 * hits them alike; medians of RUNS.
 */
export async function benchmarkStart(runs = RUNS): Promise<StartBenchmark> {
  const copy = mkdtempSync(join(tmpdir(), 'plannr-start-bench-'));
  try {
    copySources(copy);
    const samples = {
      firstStartMs: [] as number[],
      secondStartMs: [] as number[],
      devhostAloneMs: [] as number[],
      fullBuildStartMs: [] as number[],
    };
    const data = join(copy, 'bench-data');
    for (let run = 0; run < runs; run++) {
      rmSync(join(copy, 'dist'), { recursive: true, force: true });
      rmSync(join(copy, 'packages', 'devhost', 'dist'), { recursive: true, force: true });
      rmSync(join(copy, 'web', 'assets', 'js'), { recursive: true, force: true });
      rmSync(data, { recursive: true, force: true });
      samples.firstStartMs.push(await timeToHealthy(copy, 'npm', ['start', '--', '--data-dir', data]));
      samples.secondStartMs.push(await timeToHealthy(copy, 'npm', ['start', '--', '--data-dir', data]));
      samples.devhostAloneMs.push(
        await timeToHealthy(copy, process.execPath, [join('packages', 'devhost', 'dist', 'main.js'), '--data-dir', data]),
      );
      const tsc = join(copy, 'node_modules', 'typescript', 'bin', 'tsc');
      samples.fullBuildStartMs.push(
        await timeToHealthy(copy, 'sh', [
          '-c',
          `node ${tsc} -b packages/devhost/tsconfig.build.json --force && node ${tsc} -p tsconfig.full.json && node ${tsc} -p web/tsconfig.full.json && node packages/devhost/dist/main.js "$@"`,
          'start',
          '--data-dir',
          data,
        ]),
      );
    }
    const median = (values: readonly number[]) => round([...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN, 0);
    return {
      runs,
      firstStartMs: median(samples.firstStartMs),
      secondStartMs: median(samples.secondStartMs),
      devhostAloneMs: median(samples.devhostAloneMs),
      fullBuildStartMs: median(samples.fullBuildStartMs),
      samples,
    };
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
}

function copySources(to: string): void {
  // The working tree as it is, new files included.
  const tracked = spawnSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: root, encoding: 'utf8' })
    .stdout.split('\0')
    .filter(Boolean);
  for (const file of tracked) if (existsSync(join(root, file))) cpSync(join(root, file), join(to, file), { recursive: true });
  symlinkSync(join(root, 'node_modules'), join(to, 'node_modules'), 'dir');
  // The former `npm start` compiled everything, benches and test fixtures included, from scratch.
  const full = { extends: './tsconfig.build.json', compilerOptions: { incremental: false, tsBuildInfoFile: null } };
  writeFileSync(join(to, 'tsconfig.full.json'), JSON.stringify(full));
  writeFileSync(join(to, 'web', 'tsconfig.full.json'), JSON.stringify({ ...full, extends: './tsconfig.json' }));
}

async function timeToHealthy(cwd: string, command: string, args: readonly string[]): Promise<number> {
  const port = await freePort();
  const started = performance.now();
  const child = spawn(command, [...args, '--port', String(port)], { cwd, stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  let errors = '';
  child.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    for (const deadline = started + 120_000; performance.now() < deadline; await sleep(25)) {
      if (child.exitCode !== null) throw new Error(`${command} ${args.join(' ')} exited ${child.exitCode}: ${errors.slice(-2000)}`);
      const healthy = await fetch(`http://127.0.0.1:${port}/api/health`).then(
        (response) => response.status === 200,
        () => false,
      );
      if (healthy) return performance.now() - started;
    }
    throw new Error(`${command} ${args.join(' ')} was not healthy within 120 s: ${errors.slice(-2000)}`);
  } finally {
    // The whole process group: npm, the devhost and its Azurite child.
    if (child.pid !== undefined && child.exitCode === null) process.kill(-child.pid, 'SIGINT');
    await exited;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}
