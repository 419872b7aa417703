import type { FunctionMetadata } from '../functionsCore';

/**
 * A function's retry policy (`retry` in its options; retryOptions in its metadata), as the host
 * applies it to the triggers that honour one (timers here): after a failed invocation it invokes
 * again, up to `maxRetryCount` times (-1: without end), waiting `delayInterval` each time
 * (fixedDelay), or from `minimumInterval` doubling up to `maximumInterval` (exponentialBackoff, as the host's RandomizedExponentialBackoffStrategy grows it; the
 * host adds a little jitter, the devhost does not). The invocation sees `retryContext`.
 */
export interface RetryPolicy {
  readonly strategy: 'fixedDelay' | 'exponentialBackoff';
  readonly maxRetryCount: number;
  /** The wait before retry `n` (1-based). */
  delayMs(retry: number): number;
}

interface RpcDuration {
  readonly seconds?: number | string | null;
  readonly nanos?: number | null;
}

export function readRetryPolicy(metadata: FunctionMetadata): RetryPolicy | undefined {
  const options = metadata.retryOptions as
    | {
        retryStrategy?: unknown;
        maxRetryCount?: unknown;
        delayInterval?: RpcDuration | null;
        minimumInterval?: RpcDuration | null;
        maximumInterval?: RpcDuration | null;
      }
    | undefined
    | null;
  if (options === undefined || options === null) return undefined;
  const fail = (problem: string): never => {
    throw new Error(`Function "${metadata.name}": its retry policy ${problem}`);
  };
  const maxRetryCount = Number(options.maxRetryCount);
  if (!Number.isInteger(maxRetryCount) || maxRetryCount < -1) fail(`needs maxRetryCount, a whole number ≥ -1 (-1: without end).`);
  const ms = (duration: RpcDuration | null | undefined, name: string): number => {
    const value = Number(duration?.seconds ?? NaN) * 1000 + (duration?.nanos ?? 0) / 1e6;
    return Number.isFinite(value) && value >= 0 ? value : fail(`needs ${name}.`);
  };
  if (options.retryStrategy === 'fixedDelay') {
    const delay = ms(options.delayInterval, 'delayInterval');
    return { strategy: 'fixedDelay', maxRetryCount, delayMs: () => delay };
  }
  if (options.retryStrategy === 'exponentialBackoff') {
    const minimum = ms(options.minimumInterval, 'minimumInterval');
    const maximum = ms(options.maximumInterval, 'maximumInterval');
    if (maximum < minimum) fail('has a maximumInterval below its minimumInterval.');
    // The host's RandomizedExponentialBackoffStrategy: the minimum, then the minimum plus 1, 2, 4, 8…
    // times it (min, 2·min, 3·min, 5·min, 9·min…), up to the maximum; the host varies each increment ±20 %.
    return {
      strategy: 'exponentialBackoff',
      maxRetryCount,
      delayMs: (retry) => (retry <= 1 ? minimum : Math.min(minimum + minimum * 2 ** Math.min(retry - 2, 30), maximum)),
    };
  }
  return fail(`has strategy ${JSON.stringify(options.retryStrategy)}; the host knows fixedDelay and exponentialBackoff.`);
}
