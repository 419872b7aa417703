import { app } from '@azure/functions';
import { appServices } from '../shared/appServices';
import { loadPlace, type PlaceCommandDeps } from '../shared/application/placeCommands';
import { withProblemDetails, type HttpHandler } from '../shared/http/httpHandler';
import { placeRepresentation } from '../shared/http/placeResponses';
import { problemResponse } from '../shared/http/problem';
import { etagOf, placeIdParam } from '../shared/http/request';

/**
 * GET /api/places/{id}: a place in any status, for editors and admins (function key). It folds the
 * place's stream; the parents' read model replaces this with the projection.
 */
export function getPlaceHandler(deps: Pick<PlaceCommandDeps, 'eventStore'>): HttpHandler {
  return withProblemDetails(async (request) => {
    const placeId = placeIdParam(request);
    const { state, version } = await loadPlace(deps, placeId);
    if (state.status === 'absent') return problemResponse(404, `There is no place ${placeId}.`);
    return { status: 200, headers: { etag: etagOf(version) }, jsonBody: placeRepresentation(state, version) };
  });
}

app.http('getPlace', {
  methods: ['GET'],
  route: 'places/{id}',
  authLevel: 'function',
  handler: (request, context) => getPlaceHandler(appServices())(request, context),
});
