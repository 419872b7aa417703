import { appServices } from '../shared/platform/composition/appServices';
import { asEditor, withdrawPlace, type EditingDeps } from '../shared/places/application/placeCommands';
import { withProblemDetails, type HttpHandler } from '../shared/platform/http/httpHandler';
import { commandResponse, logCommand } from '../shared/places/http/placeResponses';
import { originOf, placeIdParam, readJsonBody } from '../shared/platform/http/request';
import { parseReason } from '../shared/places/http/placeRequests';
import { requireCaller, type AccessDeps } from '../shared/platform/http/authenticate';

/** POST /api/places/{id}/withdraw: the owner or an admin takes an approved place off the map, with a reason. */
export function withdrawPlaceHandler(deps: EditingDeps & AccessDeps): HttpHandler {
  return withProblemDetails(async (request, context) => {
    const editor = await asEditor(deps, await requireCaller(request, deps));
    const placeId = placeIdParam(request);
    const reason = parseReason(await readJsonBody(request));
    const origin = originOf(request, context, editor);
    const outcome = await withdrawPlace(deps, editor, placeId, reason, origin);
    logCommand(context, origin, 'WithdrawPlace', outcome);
    return commandResponse(outcome, 200);
  });
}

export const withdrawPlaceFunction: HttpHandler = (request, context) => withdrawPlaceHandler(appServices())(request, context);
