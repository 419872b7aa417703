import { appServices } from '../shared/platform/composition/appServices';
import { placeForEditors, type QueryDeps } from '../shared/places/application/placeQueries';
import { withProblemDetails, type HttpHandler } from '../shared/platform/http/httpHandler';
import { etagOf, placeIdParam } from '../shared/platform/http/request';
import { requireCaller, type AccessDeps } from '../shared/platform/http/authenticate';
import type { EventStore } from '../shared/platform/eventSourcing/eventStore';

/**
 * GET /api/manage/places/{id}: a place in any status with its owner, pending revision and history,
 * for its owner, admins and machines with a key. The parents' route (`/api/places/{id}`) shows only
 * approved places and none of this.
 */
export function getManagedPlaceHandler(deps: QueryDeps & AccessDeps & { eventStore: EventStore }): HttpHandler {
  return withProblemDetails(async (request) => {
    const caller = await requireCaller(request, deps);
    const place = await placeForEditors(deps, placeIdParam(request), caller);
    return { status: 200, headers: { etag: etagOf(place.version), 'cache-control': 'no-store' }, jsonBody: place };
  });
}

export const getManagedPlaceFunction: HttpHandler = (request, context) => getManagedPlaceHandler(appServices())(request, context);
