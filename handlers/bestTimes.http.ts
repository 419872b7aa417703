import { appServices } from '../shared/platform/composition/appServices';
import { bestTimesFor } from '../shared/places/application/bestTimesQuery';
import { type QueryDeps } from '../shared/places/application/placeQueries';
import { withProblemDetails, type HttpHandler } from '../shared/platform/http/httpHandler';
import { placeIdParam } from '../shared/platform/http/request';
import { parseBestTimesQuery } from '../shared/places/http/placeRequests';

/** GET /api/places/{id}/best-times?from&days: an approved place's best visit windows, best first; anything else is 404. */
export function bestTimesHandler(deps: QueryDeps): HttpHandler {
  return withProblemDetails(async (request) => {
    const query = parseBestTimesQuery(placeIdParam(request), request.query, deps.clock());
    return { status: 200, headers: { 'cache-control': 'public, max-age=300' }, jsonBody: await bestTimesFor(deps, query) };
  });
}

export const bestTimesFunction: HttpHandler = (request, context) => bestTimesHandler(appServices())(request, context);
