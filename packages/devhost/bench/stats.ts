import { cpus, loadavg, totalmem } from 'node:os';

/** Latency summaries for benchmarks. */
export interface LatencySummary {
  readonly count: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

export function summarise(samplesMs: readonly number[]): LatencySummary {
  const sorted = [...samplesMs].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
  return { count: sorted.length, p50Ms: round(at(0.5)), p99Ms: round(at(0.99)), maxMs: round(sorted.at(-1) ?? Number.NaN) };
}

export function round(value: number, digits = 3): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

/** Runs tasks with at most `limit` in flight. */
export async function withConcurrency<T>(items: readonly T[], limit: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T;
      await task(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/**
 * The run-by-run median of every number in a list of same-shaped results (objects key by key,
 * arrays index by index); anything else is taken from the first run.
 */
export function medianOfRuns<T>(runs: readonly T[]): T {
  return combine(runs) as T;
}

function combine(values: readonly unknown[]): unknown {
  const [first] = values;
  if (typeof first === 'number') {
    const numbers = values.filter((value): value is number => typeof value === 'number').sort((a, b) => a - b);
    const middle = Math.floor(numbers.length / 2);
    return numbers.length % 2 === 1 ? numbers[middle] : round(((numbers[middle - 1] ?? 0) + (numbers[middle] ?? 0)) / 2);
  }
  if (Array.isArray(first))
    return first.map((_, i) => combine(values.map((value) => (Array.isArray(value) ? (value as unknown[])[i] : undefined))));
  if (first !== null && typeof first === 'object') {
    return Object.fromEntries(
      Object.keys(first).map((key) => [
        key,
        combine(values.map((value) => (value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined))),
      ]),
    );
  }
  return first;
}

/** A bench runner's command line: `[--runs N] [section…]` (default 3 runs, every section). */
export function parseBenchArgs(args: readonly string[]): { runs: number; wanted: (section: string) => boolean } {
  const runsAt = args.indexOf('--runs');
  const runs = runsAt >= 0 ? Number(args[runsAt + 1]) : 3;
  if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs must be a whole number of at least 1');
  const only = args.filter((arg, i) => !arg.startsWith('--') && !(runsAt >= 0 && i === runsAt + 1));
  return { runs, wanted: (section) => only.length === 0 || only.includes(section) };
}

/** The machine a run was measured on, as recorded beside its figures. */
export function describeMachine(): { cpus: number; cpu: string; memoryGiB: number; node: string; loadAverageAtStart: number } {
  return {
    cpus: cpus().length,
    cpu: cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    loadAverageAtStart: Math.round((loadavg()[0] ?? 0) * 100) / 100,
  };
}
