import { app } from '@azure/functions';
import { appServices } from '../shared/platform/composition/appServices';
import { findNearby, type QueryDeps } from '../shared/places/application/placeQueries';
import { withProblemDetails, type HttpHandler } from '../shared/platform/http/httpHandler';
import { parseNearbyQuery } from '../shared/places/http/placeRequests';

/** GET /api/places/nearby?lat&lon&radiusKm&at&kind&age&free&limit: approved places by distance, with weather. */
export function nearbyPlacesHandler(deps: QueryDeps): HttpHandler {
  return withProblemDetails(async (request) => {
    const query = parseNearbyQuery(request.query, deps.clock());
    return { status: 200, headers: { 'cache-control': 'public, max-age=60' }, jsonBody: await findNearby(deps, query) };
  });
}

app.http('nearbyPlaces', {
  methods: ['GET'],
  route: 'api/places/nearby',
  authLevel: 'anonymous',
  handler: (request, context) => nearbyPlacesHandler(appServices())(request, context),
});
