import { appServices } from '../shared/platform/composition/appServices';
import { managedPlaces, type QueryDeps } from '../shared/places/application/placeQueries';
import { withProblemDetails, type HttpHandler } from '../shared/platform/http/httpHandler';
import { parseStatusListQuery } from '../shared/places/http/placeRequests';
import { requireCaller, type AccessDeps } from '../shared/platform/http/authenticate';

/**
 * GET /api/manage/places?status&mine&limit: with `mine=true`, the caller's own places (any status,
 * or one); otherwise the places in one status (default `locationValidated`, awaiting moderation;
 * `revisionPending`, approved places with a change waiting), earliest proposed first, for admins and
 * machines with a key.
 */
export function listManagedPlacesHandler(deps: QueryDeps & AccessDeps): HttpHandler {
  return withProblemDetails(async (request) => {
    const caller = await requireCaller(request, deps);
    const answer = await managedPlaces(deps, caller, parseStatusListQuery(request.query));
    return { status: 200, headers: { 'cache-control': 'no-store' }, jsonBody: answer };
  });
}

export const listManagedPlacesFunction: HttpHandler = (request, context) => listManagedPlacesHandler(appServices())(request, context);
