import { appServices } from '../shared/platform/composition/appServices';
import { executePlaceCommand, type PlaceCommandDeps } from '../shared/places/application/placeCommands';
import { withProblemDetails, type HttpHandler } from '../shared/platform/http/httpHandler';
import { commandResponse, logCommand } from '../shared/places/http/placeResponses';
import { originOf, placeIdParam, readJsonBody } from '../shared/platform/http/request';
import { parseReason, revisionParam } from '../shared/places/http/placeRequests';
import { requireAdmin, type AccessDeps } from '../shared/platform/http/authenticate';

/** POST /api/places/{id}/revisions/{revision}/approve: an admin approves a change to an approved place; parents see it. */
export function approveRevisionHandler(deps: PlaceCommandDeps & AccessDeps): HttpHandler {
  return withProblemDetails(async (request, context) => {
    const admin = await requireAdmin(request, deps);
    const placeId = placeIdParam(request);
    const revision = revisionParam(request.params);
    await readJsonBody(request, { allowEmpty: true });
    const now = deps.clock().toISOString();
    const origin = originOf(request, context, admin);
    const outcome = await executePlaceCommand(deps, { type: 'ApproveRevision', data: { placeId, revision, now } }, origin);
    logCommand(context, origin, 'ApproveRevision', outcome);
    return commandResponse(outcome, 200);
  });
}

/** POST /api/places/{id}/revisions/{revision}/reject: an admin refuses a change, with a reason; parents never see it. */
export function rejectRevisionHandler(deps: PlaceCommandDeps & AccessDeps): HttpHandler {
  return withProblemDetails(async (request, context) => {
    const admin = await requireAdmin(request, deps);
    const placeId = placeIdParam(request);
    const revision = revisionParam(request.params);
    const reason = parseReason(await readJsonBody(request));
    const now = deps.clock().toISOString();
    const origin = originOf(request, context, admin);
    const outcome = await executePlaceCommand(deps, { type: 'RejectRevision', data: { placeId, revision, reason, now } }, origin);
    logCommand(context, origin, 'RejectRevision', outcome);
    return commandResponse(outcome, 200);
  });
}

export const approveRevisionFunction: HttpHandler = (request, context) => approveRevisionHandler(appServices())(request, context);

export const rejectRevisionFunction: HttpHandler = (request, context) => rejectRevisionHandler(appServices())(request, context);
