import type { ProgrammingModel } from './functionsCore';
import { setInvocationDeadline } from './invoke';
import type { Logger } from './logger';
import { parseTimeSpan } from './triggers/queueTrigger';

/**
 * Two host.json settings that shape every invocation, read as the host reads them.
 *
 * `functionTimeout` ("hh:mm:ss"; "-1" or null for none): an invocation still running when it passes
 * fails with the host's message, and its trigger retries or gives up as after any failure. The
 * default is the host's outside the Consumption plan, 30 minutes (Core Tools runs with it). One
 * difference: the host then restarts the worker process, which ends the function; the devhost cannot
 * stop a running JavaScript function, so it keeps running in this process, and the devhost says so.
 *
 * `logging.logLevel`: which log lines are written, by category as the host names them (a function's
 * own lines `Function.<name>.User`, the host's lines about it `Function.<name>`; `default` for the
 * rest), the longest matching category prefix winning, levels Trace < Debug < Information < Warning <
 * Error < Critical < None.
 */
export const DEFAULT_FUNCTION_TIMEOUT_MS = 30 * 60_000;

export function readFunctionTimeout(value: unknown): number | undefined {
  if (value === undefined) return DEFAULT_FUNCTION_TIMEOUT_MS;
  if (value === null || value === '-1' || value === -1) return undefined;
  return parseTimeSpan(value, 'functionTimeout');
}

export class FunctionTimeoutError extends Error {}

/**
 * The programming model with each invocation bounded by `timeoutMs`, as the host bounds it: the whole invocation, its
 * arguments (input bindings, a streamed request), hooks, handler and response (output bindings) included. The deadline
 * is kept by `invokeFunction` (invoke.ts), which the model's wrappers all pass the invocation's core context through.
 */
export function withFunctionTimeout(model: ProgrammingModel, timeoutMs: number | undefined, logger: Logger): ProgrammingModel {
  if (timeoutMs === undefined) return model;
  const limit = formatTimeSpan(timeoutMs);
  return {
    name: model.name,
    version: model.version,
    getInvocationModel(coreContext: unknown): unknown {
      const { invocationId, metadata } = coreContext as { invocationId: string; metadata: { name: string } };
      setInvocationDeadline(coreContext, {
        ms: timeoutMs,
        expired: () => {
          logger.error(
            `Timeout value of ${limit} exceeded by function 'Functions.${metadata.name}' (Id: '${invocationId}'). ` +
              'The invocation fails; the function itself keeps running in the devhost (the host would restart the worker).',
          );
          return new FunctionTimeoutError(`Timeout value of ${limit} was exceeded by function: Functions.${metadata.name}`);
        },
      });
      return model.getInvocationModel(coreContext);
    },
  };
}

function formatTimeSpan(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(Math.floor(seconds / 3600))}:${pad(Math.floor(seconds / 60) % 60)}:${pad(seconds % 60)}`;
}

const LEVELS = ['trace', 'debug', 'information', 'warning', 'error', 'critical', 'none'] as const;
type LevelName = (typeof LEVELS)[number];

/** Whether a line of `level` in `category` is written. */
export type LogFilter = (category: string, level: string) => boolean;

export function readLogFilter(logLevel: unknown): LogFilter {
  const rules = new Map<string, number>();
  if (logLevel !== undefined && logLevel !== null) {
    if (typeof logLevel !== 'object') throw new Error('host.json logging.logLevel must be an object of category: level.');
    for (const [category, level] of Object.entries(logLevel as Record<string, unknown>)) {
      const rank = typeof level === 'string' ? LEVELS.indexOf(level.toLowerCase() as LevelName) : -1;
      if (rank < 0)
        throw new Error(
          `host.json logging.logLevel.${category} must be one of Trace, Debug, Information, Warning, Error, Critical, None; not ${JSON.stringify(level)}.`,
        );
      rules.set(category.toLowerCase(), rank);
    }
  }
  const minimum = (category: string): number => {
    const lower = category.toLowerCase();
    let best: { length: number; rank: number } | undefined;
    for (const [prefix, rank] of rules) {
      if (prefix === 'default') continue;
      if ((lower === prefix || lower.startsWith(`${prefix}.`)) && (!best || prefix.length > best.length))
        best = { length: prefix.length, rank };
    }
    return best?.rank ?? rules.get('default') ?? LEVELS.indexOf('information');
  };
  return (category, level) => {
    const rank = LEVELS.indexOf(level.toLowerCase() as LevelName);
    return rank >= 0 && rank < LEVELS.indexOf('none') && rank >= minimum(category);
  };
}
