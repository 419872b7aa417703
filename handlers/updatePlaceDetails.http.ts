import { appServices } from '../shared/platform/composition/appServices';
import { asEditor, changePlaceDetails, type EditingDeps } from '../shared/places/application/placeCommands';
import { withProblemDetails, type HttpHandler } from '../shared/platform/http/httpHandler';
import { commandResponse, logCommand } from '../shared/places/http/placeResponses';
import { originOf, placeIdParam, readJsonBody, requiredIfMatchVersion } from '../shared/platform/http/request';
import { parseDetailsChanges } from '../shared/places/http/placeRequests';
import { requireCaller, type AccessDeps } from '../shared/platform/http/authenticate';

/**
 * PATCH /api/places/{id}: the owner (or an admin) changes details; `If-Match` must name the current
 * version. An owner's change to an approved place waits for an admin: 202 with its revision number.
 */
export function updatePlaceDetailsHandler(deps: EditingDeps & AccessDeps): HttpHandler {
  return withProblemDetails(async (request, context) => {
    const editor = await asEditor(deps, await requireCaller(request, deps));
    const placeId = placeIdParam(request);
    const expectedVersion = requiredIfMatchVersion(request);
    const changes = parseDetailsChanges(await readJsonBody(request));
    const origin = originOf(request, context, editor);
    const { outcome, waitsForAdmin } = await changePlaceDetails(deps, editor, placeId, changes, expectedVersion, origin);
    logCommand(context, origin, 'UpdatePlaceDetails', outcome);
    return commandResponse(outcome, waitsForAdmin ? 202 : 200);
  });
}

export const updatePlaceDetailsFunction: HttpHandler = (request, context) => updatePlaceDetailsHandler(appServices())(request, context);
