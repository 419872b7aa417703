import { app } from '@azure/functions';
import { appServices } from '../shared/platform/composition/appServices';
import { placeForEditors, type QueryDeps } from '../shared/places/application/placeQueries';
import { withProblemDetails, type HttpHandler } from '../shared/platform/http/httpHandler';
import { etagOf, placeIdParam } from '../shared/platform/http/request';

/**
 * GET /api/manage/places/{id}: a place in any status, for editors and admins (function key). The
 * Node.js worker never learns whether the host accepted a key on an anonymous route, so the parents'
 * route cannot also serve key holders safely: they read here.
 */
export function getManagedPlaceHandler(deps: QueryDeps): HttpHandler {
  return withProblemDetails(async (request) => {
    const place = await placeForEditors(deps, placeIdParam(request));
    return { status: 200, headers: { etag: etagOf(place.version), 'cache-control': 'no-store' }, jsonBody: place };
  });
}

app.http('getManagedPlace', {
  methods: ['GET'],
  route: 'api/manage/places/{id}',
  authLevel: 'function',
  handler: (request, context) => getManagedPlaceHandler(appServices())(request, context),
});
