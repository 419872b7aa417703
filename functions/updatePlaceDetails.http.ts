import { app } from '@azure/functions';
import { appServices } from '../shared/platform/composition/appServices';
import { executePlaceCommand, type PlaceCommandDeps } from '../shared/places/application/placeCommands';
import { withProblemDetails, type HttpHandler } from '../shared/platform/http/httpHandler';
import { commandResponse, logCommand } from '../shared/places/http/placeResponses';
import { originOf, placeIdParam, readJsonBody, requiredIfMatchVersion } from '../shared/platform/http/request';
import { parseDetailsChanges } from '../shared/places/http/placeRequests';

/** PATCH /api/places/{id}: an editor changes details; `If-Match` must name the current version. */
export function updatePlaceDetailsHandler(deps: PlaceCommandDeps): HttpHandler {
  return withProblemDetails(async (request, context) => {
    const placeId = placeIdParam(request);
    const expectedVersion = requiredIfMatchVersion(request);
    const changes = parseDetailsChanges(await readJsonBody(request));
    const origin = originOf(request, context);
    const outcome = await executePlaceCommand(deps, { type: 'UpdatePlaceDetails', data: { placeId, changes } }, origin, expectedVersion);
    logCommand(context, origin, 'UpdatePlaceDetails', outcome);
    return commandResponse(outcome, 200);
  });
}

app.http('updatePlaceDetails', {
  methods: ['PATCH'],
  route: 'api/places/{id}',
  authLevel: 'function',
  handler: (request, context) => updatePlaceDetailsHandler(appServices())(request, context),
});
