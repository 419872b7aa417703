import { appServices } from '../shared/platform/composition/appServices';
import { executePlaceCommand, type PlaceCommandDeps } from '../shared/places/application/placeCommands';
import { withProblemDetails, type HttpHandler } from '../shared/platform/http/httpHandler';
import { commandResponse, logCommand } from '../shared/places/http/placeResponses';
import { requireAdmin, type AccessDeps } from '../shared/platform/http/authenticate';
import { optionalIfMatchVersion, originOf, placeIdParam, readJsonBody } from '../shared/platform/http/request';

/** POST /api/places/{id}/approve: an admin (signed in, or the master key) approves a place whose location was validated. */
export function approvePlaceHandler(deps: PlaceCommandDeps & AccessDeps): HttpHandler {
  return withProblemDetails(async (request, context) => {
    const admin = await requireAdmin(request, deps);
    const placeId = placeIdParam(request);
    await readJsonBody(request, { allowEmpty: true });
    const now = deps.clock().toISOString();
    const origin = originOf(request, context, admin);
    const outcome = await executePlaceCommand(
      deps,
      { type: 'ApprovePlace', data: { placeId, now } },
      origin,
      optionalIfMatchVersion(request),
    );
    logCommand(context, origin, 'ApprovePlace', outcome);
    return commandResponse(outcome, 200);
  });
}

export const approvePlaceFunction: HttpHandler = (request, context) => approvePlaceHandler(appServices())(request, context);
