import { appServices } from '../shared/platform/composition/appServices';
import { asEditor, proposePlace, type EditingDeps } from '../shared/places/application/placeCommands';
import { withProblemDetails, type HttpHandler } from '../shared/platform/http/httpHandler';
import { commandResponse, logCommand } from '../shared/places/http/placeResponses';
import { idempotencyKeyHeader, originOf, readJsonBody } from '../shared/platform/http/request';
import { parseProposal } from '../shared/places/http/placeRequests';
import { requireCaller, type AccessDeps } from '../shared/platform/http/authenticate';

/**
 * POST /api/places: an approved editor (or an admin, or a machine with a key) proposes a place and
 * becomes its owner; 202 with where to find it. Honours Idempotency-Key, per caller.
 */
export function proposePlaceHandler(deps: EditingDeps & AccessDeps): HttpHandler {
  return withProblemDetails(async (request, context) => {
    // Who may propose at all is said before what is wrong with the proposal.
    const editor = await asEditor(deps, await requireCaller(request, deps));
    const idempotencyKey = idempotencyKeyHeader(request);
    const proposal = parseProposal(await readJsonBody(request));
    const origin = originOf(request, context, editor);
    const outcome = await proposePlace(deps, proposal, editor, origin, idempotencyKey);
    logCommand(context, origin, 'ProposePlace', outcome);
    return commandResponse(outcome, 202);
  });
}

export const proposePlaceFunction: HttpHandler = (request, context) => proposePlaceHandler(appServices())(request, context);
