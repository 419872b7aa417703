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
 * arrays index by index); a boolean holds when it held in more than half the runs (so one lucky run
 * of three cannot pass a check); anything else is taken from the first run. Figures derived from
 * others (a ratio, a difference) are medians of their own, so they need not equal the same
 * derivation from the medians.
 */
export function medianOfRuns<T>(runs: readonly T[]): T {
  return combine(runs) as T;
}

function combine(values: readonly unknown[]): unknown {
  const [first] = values;
  if (values.some((value) => typeof value === 'number')) {
    // A run without the figure (a failed measure, NaN written as null) makes the median no figure at all, so its target fails.
    if (!values.every((value) => typeof value === 'number' && Number.isFinite(value))) return Number.NaN;
    const numbers = (values as number[]).slice().sort((a, b) => a - b);
    const middle = Math.floor(numbers.length / 2);
    return numbers.length % 2 === 1 ? numbers[middle] : round(((numbers[middle - 1] ?? 0) + (numbers[middle] ?? 0)) / 2);
  }
  if (typeof first === 'boolean') return values.filter((value) => value === true).length * 2 > values.length;
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
export function parseBenchArgs(args: readonly string[]): {
  runs: number;
  /** The sections named, in order; none means every section. */
  named: readonly string[];
  wanted: (section: string) => boolean;
} {
  const runsAt = args.indexOf('--runs');
  const runs = runsAt >= 0 ? Number(args[runsAt + 1]) : 3;
  if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs must be a whole number of at least 1');
  const named = args.filter((arg, i) => !arg.startsWith('--') && !(runsAt >= 0 && i === runsAt + 1));
  return { runs, named, wanted: (section) => named.length === 0 || named.includes(section) };
}

/** The machine a run was measured on, as recorded beside its figures. */
export function describeMachine(): { cpus: number; cpu: string; memoryGiB: number; node: string; loadAverageAtStart: number } {
  return {
    cpus: cpus().length,
    cpu: cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    loadAverageAtStart: loadAverage1m(),
  };
}

/** The 1-minute load average: on a shared machine, what else competed for the CPUs while a section ran. */
export function loadAverage1m(): number {
  return round(loadavg()[0] ?? 0, 2);
}

/*
 * Targets: a bound a figure must meet, stated so that it can fail. The limit is either fixed or a
 * factor of a reference figure measured in the same run (so a busy machine slows both sides alike),
 * and the target is judged where it is built, from the figures the report shows.
 */

export type Comparison = 'atMost' | 'atLeast' | 'equals';

export interface Bound {
  readonly comparison: Comparison;
  readonly limit: number;
  /** When the limit is `factor × figure` of something measured in the same run. */
  readonly reference?: { readonly name: string; readonly figure: number; readonly factor: number };
  /** Must hold in every run, not only for the median: what must never happen (an error, a request too many). */
  readonly everyRun?: boolean;
}

export interface Target extends Bound {
  readonly name: string;
  readonly figure: number;
  readonly pass: boolean;
}

export const atMost = (limit: number): Bound => ({ comparison: 'atMost', limit });
export const atLeast = (limit: number): Bound => ({ comparison: 'atLeast', limit });
export const equals = (limit: number): Bound => ({ comparison: 'equals', limit });

/** The bound, held in every run rather than by the median. */
export function inEveryRun(bound: Bound): Bound {
  return { ...bound, everyRun: true };
}

/** At most `factor` × a figure measured in the same run, e.g. a cycle's wall time against its ideal. */
export function atMostTimes(factor: number, reference: { readonly name: string; readonly figure: number }): Bound {
  return { comparison: 'atMost', limit: round(factor * reference.figure), reference: { ...reference, factor } };
}

/** Judges a figure against its bound. A figure that is not a finite number (a run that measured nothing) fails. */
export function judge(name: string, figure: number, bound: Bound): Target {
  const holds =
    bound.comparison === 'atMost' ? figure <= bound.limit : bound.comparison === 'atLeast' ? figure >= bound.limit : figure === bound.limit;
  return { ...bound, name, figure, pass: Number.isFinite(figure) && Number.isFinite(bound.limit) && holds };
}

/** `≤ 2`, `≤ 1.3 × ideal (2600)`: a bound as the report and the console write it. */
export function describeBound(bound: Bound): string {
  const sign = bound.comparison === 'atMost' ? '≤' : bound.comparison === 'atLeast' ? '≥' : '=';
  const limit = bound.reference
    ? `${sign} ${bound.reference.factor} × ${bound.reference.name} (${bound.limit})`
    : `${sign} ${bound.limit.toLocaleString('en-GB')}`;
  return bound.everyRun ? `${limit} in every run` : limit;
}
