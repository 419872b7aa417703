import { app } from '@azure/functions';
import { appServices } from '../shared/appServices';
import type { ProjectionDeps } from '../shared/application/projectEvents';
import { rebuildViews } from '../shared/application/rebuildViews';
import { withProblemDetails, type HttpHandler } from '../shared/http/httpHandler';

/** POST /api/ops/rebuild-views (admin): replays every event into empty read models. */
export function rebuildViewsHandler(deps: ProjectionDeps): HttpHandler {
  return withProblemDetails(async (_request, context) => {
    const started = Date.now();
    const outcome = await rebuildViews(deps);
    context.log(`Rebuilt the views from ${outcome.events} event(s) in ${Date.now() - started} ms.`);
    return { status: 200, jsonBody: { ...outcome, durationMs: Date.now() - started } };
  });
}

app.http('rebuildViews', {
  methods: ['POST'],
  route: 'ops/rebuild-views',
  authLevel: 'admin',
  handler: (request, context) => rebuildViewsHandler(appServices())(request, context),
});
