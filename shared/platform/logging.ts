/**
 * Log lines in one fixed shape, `Name key=value key=value …`, so Application Insights can chart and
 * join them: `traces | where message startswith "ForecastRefreshBatch " | extend updated =
 * toint(extract(@"\bupdated=(\d+)", 1, message))`. A value is written bare when it has no white space
 * or quote, and as a JSON string otherwise (`reason="HTTP 503 (4 attempts)"`), so a line is always one
 * line and a bare value always ends at the next space. Pure: it writes through whatever sink it is given
 * (an InvocationContext), so the orchestrator may use it too.
 */

export type LogValue = string | number | boolean | null | undefined | readonly string[];
export type LogFields = Readonly<Record<string, LogValue>>;

/** The part of an InvocationContext the helpers write to. */
export interface LogSink {
  log(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  error(...args: unknown[]): void;
}

/** Writes `Name key=value …` lines that all carry the correlation id(s) they were made with. */
export interface CorrelatedLog {
  /** The correlation id every line carries (for a batch: the first of them). */
  readonly correlationId: string;
  info(name: string, fields?: LogFields): void;
  warn(name: string, fields?: LogFields): void;
  /** `error`, when given, goes to the sink beside the line (the host keeps its stack for the exceptions table). */
  error(name: string, fields?: LogFields, error?: unknown): void;
}

/** A string value longer than this is cut (provider and store messages can be whole pages). */
export const MAX_VALUE_CHARS = 500;
/** A batch lists at most this many distinct correlation ids (a change-feed batch has at most 100 events). */
export const MAX_LISTED_CORRELATION_IDS = 100;

const BARE = /^[^\s"]+$/;
const KEY = /^[A-Za-z][\w.]*$/;

/** One log line: `Name key=value …`; undefined values are left out, null is written as `-`. */
export function logLine(name: string, fields: LogFields = {}): string {
  const parts = [name];
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined || !KEY.test(key)) continue;
    parts.push(`${key}=${formatValue(value)}`);
  }
  return parts.join(' ');
}

function formatValue(value: Exclude<LogValue, undefined>): string {
  if (value === null) return '-';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  const text = typeof value === 'string' ? value : value.join(',');
  const clipped = text.length > MAX_VALUE_CHARS ? `${text.slice(0, MAX_VALUE_CHARS - 1)}…` : text;
  return BARE.test(clipped) ? clipped : JSON.stringify(clipped);
}

/**
 * The log of one invocation working for one correlation id (an HTTP request's, an event's, a queue
 * message's, a refresh cycle's): every line ends with `correlationId=<id>`. A change-feed batch serves
 * many: give them all and every line lists them, distinct, as `correlationIds=<a>,<b>,…`, so a search
 * for one id (`message has "<id>"`) finds the batches that carried it.
 */
export function withCorrelation(sink: LogSink, correlation: string | readonly string[]): CorrelatedLog {
  const ids = typeof correlation === 'string' ? [correlation] : [...new Set(correlation)];
  const listed = ids.slice(0, MAX_LISTED_CORRELATION_IDS);
  const correlationFields: LogFields =
    typeof correlation === 'string'
      ? { correlationId: correlation }
      : {
          correlationIds: listed.length > 0 ? listed : null,
          ...(ids.length > listed.length && { correlationIdsOmitted: ids.length - listed.length }),
        };
  const line = (name: string, fields: LogFields = {}) => logLine(name, { ...fields, ...correlationFields });
  return {
    correlationId: ids[0] ?? '',
    info: (name, fields) => sink.log(line(name, fields)),
    warn: (name, fields) => sink.warn(line(name, fields)),
    error: (name, fields, error) => (error === undefined ? sink.error(line(name, fields)) : sink.error(line(name, fields), error)),
  };
}

/** The first line of an error's message: enough for a log field, never a stack trace. */
export function errorSummary(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return (message.split('\n')[0] ?? '').trim();
}

/** The correlation ids of stored events or event documents (their `metadata.correlationId`), in order. */
export function correlationIdsOf(events: readonly unknown[]): string[] {
  const ids: string[] = [];
  for (const event of events) {
    if (typeof event !== 'object' || event === null || !('metadata' in event)) continue;
    const { metadata } = event;
    if (typeof metadata === 'object' && metadata !== null && 'correlationId' in metadata && typeof metadata.correlationId === 'string')
      ids.push(metadata.correlationId);
  }
  return ids;
}

/**
 * How long ago the oldest of these events occurred (`metadata.occurredAt`): for a change-feed batch,
 * how far the feed is behind, as that batch saw it. Null when none has a readable time.
 */
export function changeFeedLagMs(events: readonly unknown[], now: Date): number | null {
  let oldest = Number.POSITIVE_INFINITY;
  for (const event of events) {
    if (typeof event !== 'object' || event === null || !('metadata' in event)) continue;
    const { metadata } = event;
    if (typeof metadata !== 'object' || metadata === null || !('occurredAt' in metadata) || typeof metadata.occurredAt !== 'string')
      continue;
    const at = Date.parse(metadata.occurredAt);
    if (!Number.isNaN(at)) oldest = Math.min(oldest, at);
  }
  return oldest === Number.POSITIVE_INFINITY ? null : Math.max(0, now.getTime() - oldest);
}
