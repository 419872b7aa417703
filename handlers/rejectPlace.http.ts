import { appServices } from '../shared/platform/composition/appServices';
import { executePlaceCommand, type PlaceCommandDeps } from '../shared/places/application/placeCommands';
import { withProblemDetails, type HttpHandler } from '../shared/platform/http/httpHandler';
import { commandResponse, logCommand } from '../shared/places/http/placeResponses';
import { requireAdmin, type AccessDeps } from '../shared/platform/http/authenticate';
import { optionalIfMatchVersion, originOf, placeIdParam, readJsonBody } from '../shared/platform/http/request';
import { parseReason } from '../shared/places/http/placeRequests';

/** POST /api/places/{id}/reject: an admin (signed in, or the master key) rejects a place whose location was validated, with a reason. */
export function rejectPlaceHandler(deps: PlaceCommandDeps & AccessDeps): HttpHandler {
  return withProblemDetails(async (request, context) => {
    const admin = await requireAdmin(request, deps);
    const placeId = placeIdParam(request);
    const reason = parseReason(await readJsonBody(request));
    const now = deps.clock().toISOString();
    const origin = originOf(request, context, admin);
    const outcome = await executePlaceCommand(
      deps,
      { type: 'RejectPlace', data: { placeId, reason, now } },
      origin,
      optionalIfMatchVersion(request),
    );
    logCommand(context, origin, 'RejectPlace', outcome);
    return commandResponse(outcome, 200);
  });
}

export const rejectPlaceFunction: HttpHandler = (request, context) => rejectPlaceHandler(appServices())(request, context);
