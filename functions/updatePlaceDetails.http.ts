import { app } from '@azure/functions';
import { appServices } from '../shared/appServices';
import { executePlaceCommand, type PlaceCommandDeps } from '../shared/application/placeCommands';
import { withProblemDetails, type HttpHandler } from '../shared/http/httpHandler';
import { commandResponse, logCommand } from '../shared/http/placeResponses';
import { originOf, placeIdParam, readJsonBody, requiredIfMatchVersion } from '../shared/http/request';
import { parseDetailsChanges } from '../shared/places/placeInput';

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
