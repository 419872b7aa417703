/** One dependency check: resolves when healthy, rejects with a reason otherwise. */
export interface HealthCheck {
  readonly name: string;
  readonly check: (signal: AbortSignal) => Promise<void>;
}

export interface HealthReport {
  readonly status: 'healthy' | 'unhealthy';
  readonly checks: Record<string, { status: 'healthy' | 'unhealthy'; durationMs: number; error?: string }>;
}

/** Runs every check in parallel, each bounded by `timeoutMs`, so a hung dependency cannot hang the report. */
export async function checkHealth(checks: readonly HealthCheck[], timeoutMs = 2000): Promise<HealthReport> {
  const results = await Promise.all(
    checks.map(async ({ name, check }) => {
      const started = Date.now();
      const signal = AbortSignal.timeout(timeoutMs);
      try {
        await Promise.race([
          check(signal),
          new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(new Error(`no answer within ${timeoutMs} ms`)))),
        ]);
        return [name, { status: 'healthy' as const, durationMs: Date.now() - started }] as const;
      } catch (error) {
        // Only the message: errors from SDKs can carry endpoints or keys in other fields.
        const message: string = error instanceof Error ? (error.message.split('\n')[0] ?? '').slice(0, 200) : 'failed';
        return [name, { status: 'unhealthy' as const, durationMs: Date.now() - started, error: message }] as const;
      }
    }),
  );
  const byName: Record<string, HealthReport['checks'][string]> = {};
  for (const [name, result] of results) byName[name] = result;
  return { status: results.every(([, result]) => result.status === 'healthy') ? 'healthy' : 'unhealthy', checks: byName };
}
