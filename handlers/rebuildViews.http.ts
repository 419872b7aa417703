import { appServices } from '../shared/platform/composition/appServices';
import type { ProjectionDeps } from '../shared/platform/views/projectEvents';
import { rebuildViews, type ViewsRebuilt } from '../shared/platform/views/rebuildViews';
import { withProblemDetails, type HttpHandler } from '../shared/platform/http/httpHandler';
import { correlationIdOf } from '../shared/platform/http/request';
import { withCorrelation } from '../shared/platform/logging';

/** POST /api/ops/rebuild-views (admin): replays every event into empty read models. */
export function rebuildViewsHandler(deps: ProjectionDeps): HttpHandler {
  return withProblemDetails(async (request, context) => {
    const log = withCorrelation(context, correlationIdOf(request, context.invocationId));
    const started = Date.now();
    log.info('ViewsRebuildStarted');
    const outcome = await rebuildViews(deps);
    log.info('ViewsRebuilt', { events: outcome.events, durationMs: Date.now() - started });
    const answer: ViewsRebuilt = { ...outcome, durationMs: Date.now() - started };
    return { status: 200, jsonBody: answer };
  });
}

export const rebuildViewsFunction: HttpHandler = (request, context) => rebuildViewsHandler(appServices())(request, context);
