import { app } from '@azure/functions';
import { appServices } from '../shared/platform/composition/appServices';
import { placesWithStatus, type QueryDeps } from '../shared/places/application/placeQueries';
import { withProblemDetails, type HttpHandler } from '../shared/platform/http/httpHandler';
import { parseStatusListQuery } from '../shared/places/http/placeRequests';

/**
 * GET /api/manage/places?status&limit: places in one status (default `locationValidated`, the ones
 * awaiting moderation), earliest proposed first, for editors and admins (function key).
 */
export function listManagedPlacesHandler(deps: QueryDeps): HttpHandler {
  return withProblemDetails(async (request) => ({
    status: 200,
    headers: { 'cache-control': 'no-store' },
    jsonBody: await placesWithStatus(deps, parseStatusListQuery(request.query)),
  }));
}

app.http('listManagedPlaces', {
  methods: ['GET'],
  route: 'api/manage/places',
  authLevel: 'function',
  handler: (request, context) => listManagedPlacesHandler(appServices())(request, context),
});
