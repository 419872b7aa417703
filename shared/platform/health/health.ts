import { z } from 'zod';

/**
 * One dependency check: resolves when healthy (with an optional short note), rejects with the
 * reason otherwise. Whatever it resolves or rejects with is shown to anyone (the route is
 * anonymous), so it goes through {@link redact} first.
 */
export interface HealthCheck {
  readonly name: string;
  /**
   * Whether the app can do its work without this dependency. A critical one down makes the report
   * `unhealthy` (503); any other down makes it `degraded` (still 200: the app serves its pages, and
   * taking instances out of rotation or restarting them would not bring the dependency back).
   */
  readonly critical: boolean;
  readonly check: (signal: AbortSignal) => Promise<string | undefined>;
  /**
   * Local work before the timed check (loading the dependency's SDK, which a new instance does on its
   * first call): not the dependency's time, so not counted against it. Its failure is the check's to report.
   */
  readonly prepare?: () => Promise<unknown>;
}

export const checkResultSchema = z.strictObject({
  status: z.enum(['healthy', 'unhealthy']),
  critical: z.boolean().meta({ description: 'Whether the app can do its work without this dependency (false) or not (true)' }),
  durationMs: z.number().min(0),
  detail: z.string().optional().meta({ description: 'What the check found, when healthy and it has something to say' }),
  error: z.string().optional().meta({ description: 'Why it is unhealthy: a status and code, never an address or a key' }),
});
export type CheckResult = z.output<typeof checkResultSchema>;

/** The answer of `GET /api/health`. */
export const healthReportSchema = z.strictObject({
  status: z
    .enum(['healthy', 'degraded', 'unhealthy'])
    .meta({ description: 'unhealthy: a critical check failed (503); degraded: only others did (200)' }),
  checks: z.record(z.string(), checkResultSchema).meta({ description: 'Each dependency (cosmos, storage, eventGrid, weather) by name' }),
});
export type HealthReport = z.output<typeof healthReportSchema>;

/** A failure whose message was written for the report (it is still redacted, as it may quote others). */
export class HealthCheckFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HealthCheckFailure';
  }
}

/** Each check's bound when the caller sets none: well inside a load balancer probe's own time-out. */
export const DEFAULT_CHECK_TIMEOUT_MS = 2000;

/** Runs every check in parallel, each bounded by `timeoutMs`, so a hung dependency cannot hang the report. */
export async function checkHealth(checks: readonly HealthCheck[], timeoutMs = DEFAULT_CHECK_TIMEOUT_MS): Promise<HealthReport> {
  await Promise.allSettled(checks.map((check) => check.prepare?.() ?? Promise.resolve()));
  const results = await Promise.all(
    checks.map(async ({ name, critical, check }) => {
      const started = Date.now();
      const signal = AbortSignal.timeout(timeoutMs);
      const timedOut = `no answer within ${timeoutMs} ms`;
      try {
        const detail = await Promise.race([
          check(signal),
          new Promise<never>((_, reject) =>
            signal.addEventListener('abort', () => reject(new HealthCheckFailure(timedOut)), { once: true }),
          ),
        ]);
        const result: CheckResult = {
          status: 'healthy',
          critical,
          durationMs: Date.now() - started,
          ...(detail !== undefined && detail !== '' && { detail: redact(detail) }),
        };
        return [name, result] as const;
      } catch (error) {
        const result: CheckResult = {
          status: 'unhealthy',
          critical,
          durationMs: Date.now() - started,
          error: signal.aborted ? timedOut : describeFailure(error),
        };
        return [name, result] as const;
      }
    }),
  );
  const byName: Record<string, CheckResult> = {};
  for (const [name, result] of results) byName[name] = result;
  const failed = results.filter(([, result]) => result.status === 'unhealthy');
  const status = failed.some(([, result]) => result.critical) ? 'unhealthy' : failed.length > 0 ? 'degraded' : 'healthy';
  return { status, checks: byName };
}

/**
 * A failure as the anonymous report may show it. SDK errors carry endpoints, request URLs with
 * signatures, and stacks in their message and other fields: a failure is shown as its HTTP status and
 * error code when it has them (`HTTP 403 AuthorizationFailure`, `ECONNREFUSED`), else as the first line
 * of its message with addresses and secrets taken out.
 */
export function describeFailure(error: unknown): string {
  if (error instanceof HealthCheckFailure) return redact(error.message);
  const status = httpStatusOf(error);
  const code = codeOf(error) ?? codeOf(causeOf(error));
  const parts = [...(status === undefined ? [] : [`HTTP ${status}`]), ...(code === undefined || code === String(status) ? [] : [code])];
  if (parts.length > 0) return parts.join(' ');
  if (error instanceof Error && error.name === 'AbortError') return 'aborted';
  return redact(error instanceof Error ? error.message : 'failed');
}

const URL_PATTERN = /\b[a-z][a-z0-9+.-]*:\/\/[^\s'"<>]+/gi;
const SECRET_PATTERN =
  /\b(AccountKey|SharedAccessKey|SharedAccessSignature|AccessKey|sig|key|code|apikey|api-key|token|password|secret)=[^;&\s]+/gi;
const IPV4_PATTERN = /\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b/g;
const HOST_PATTERN = /\b(?:[a-z0-9-]+\.)+[a-z]{2,}(?::\d+)?\b/gi;
const MAX_REPORTED_CHARS = 200;

/** The first line of a text, without URLs, host names, IP addresses or `key=value` secrets, at most 200 characters. */
export function redact(text: string): string {
  const line = (text.split('\n')[0] ?? '').trim();
  const clean = line
    .replace(URL_PATTERN, '<url>')
    .replace(SECRET_PATTERN, '$1=<redacted>')
    .replace(IPV4_PATTERN, '<address>')
    .replace(HOST_PATTERN, '<host>');
  return clean.length > MAX_REPORTED_CHARS ? `${clean.slice(0, MAX_REPORTED_CHARS - 1)}…` : clean;
}

function httpStatusOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const fields = error as Record<string, unknown>;
  for (const value of [fields.statusCode, fields.status, fields.code]) {
    if (typeof value === 'number' && Number.isInteger(value) && value >= 100 && value <= 599) return value;
  }
  return undefined;
}

function codeOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as Record<string, unknown>).code;
  return typeof code === 'string' && /^[A-Za-z][\w.]{1,63}$/.test(code) ? code : undefined;
}

function causeOf(error: unknown): unknown {
  return error instanceof Error ? error.cause : undefined;
}
