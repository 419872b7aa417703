import { appServices } from '../shared/platform/composition/appServices';
import { checkHealth, DEFAULT_CHECK_TIMEOUT_MS, type HealthCheck } from '../shared/platform/health/health';
import { correlationIdOf } from '../shared/platform/http/request';
import { withProblemDetails, type HttpHandler } from '../shared/platform/http/httpHandler';
import { withCorrelation } from '../shared/platform/logging';

/**
 * GET /api/health: each dependency's status, every check bounded by a short time-out. 200 when all are
 * healthy, and when only non-critical ones (Event Grid, the weather provider) are down: `degraded`,
 * the app still serves places. 503 when a critical one (Cosmos DB, storage) is down. No secrets: checks
 * report codes and counts, never endpoints, keys or stacks. A report that is not healthy is logged
 * (`HealthReport status=… failed=…`) so an alert can follow it.
 */
export function healthHandler(checks: () => readonly HealthCheck[], timeoutMs = DEFAULT_CHECK_TIMEOUT_MS): HttpHandler {
  return withProblemDetails(async (request, context) => {
    const report = await checkHealth(checks(), timeoutMs);
    if (report.status !== 'healthy') {
      const failed = Object.entries(report.checks).filter(([, check]) => check.status === 'unhealthy');
      withCorrelation(context, correlationIdOf(request, context.invocationId)).warn('HealthReport', {
        status: report.status,
        failed: failed.map(([name]) => name),
        errors: failed.map(([name, check]) => `${name}: ${check.error ?? ''}`).join('; '),
      });
    }
    return { status: report.status === 'unhealthy' ? 503 : 200, headers: { 'cache-control': 'no-store' }, jsonBody: report };
  });
}

export const healthFunction: HttpHandler = healthHandler(() => appServices().healthChecks);
