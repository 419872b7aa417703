import { app } from '@azure/functions';
import { appServices } from '../shared/appServices';
import { checkHealth, type HealthCheck } from '../shared/health';

/** GET /api/health: each dependency's status with short timeouts; 503 when one is down. No secrets. */
export function healthHandler(checks: () => readonly HealthCheck[]) {
  return async () => {
    const report = await checkHealth(checks());
    return { status: report.status === 'healthy' ? 200 : 503, headers: { 'cache-control': 'no-store' }, jsonBody: report };
  };
}

app.http('health', {
  methods: ['GET'],
  route: 'health',
  authLevel: 'anonymous',
  handler: healthHandler(() => appServices().healthChecks),
});
