import { appServices } from '../shared/platform/composition/appServices';
import { placeForParents, type QueryDeps } from '../shared/places/application/placeQueries';
import { withProblemDetails, type HttpHandler } from '../shared/platform/http/httpHandler';
import { etagOf, placeIdParam } from '../shared/platform/http/request';

/** GET /api/places/{id}: an approved place with its forecast for the coming days; anything else is 404. */
export function getPlaceHandler(deps: QueryDeps): HttpHandler {
  return withProblemDetails(async (request) => {
    const place = await placeForParents(deps, placeIdParam(request));
    return { status: 200, headers: { etag: etagOf(place.version), 'cache-control': 'public, max-age=60' }, jsonBody: place };
  });
}

export const getPlaceFunction: HttpHandler = (request, context) => getPlaceHandler(appServices())(request, context);
