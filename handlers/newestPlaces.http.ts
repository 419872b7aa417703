import { appServices } from '../shared/platform/composition/appServices';
import { newestPlaces, type QueryDeps } from '../shared/places/application/placeQueries';
import { withProblemDetails, type HttpHandler } from '../shared/platform/http/httpHandler';
import { parseNewestQuery } from '../shared/places/http/placeRequests';

/** GET /api/places/newest?limit (1–50, default 5): the newest approved places, newest first. */
export function newestPlacesHandler(deps: QueryDeps): HttpHandler {
  return withProblemDetails(async (request) => ({
    status: 200,
    headers: { 'cache-control': 'public, max-age=60' },
    jsonBody: await newestPlaces(deps, parseNewestQuery(request.query)),
  }));
}

export const newestPlacesFunction: HttpHandler = (request, context) => {
  const services = appServices();
  return newestPlacesHandler({ ...services, views: services.placeSearch })(request, context);
};
