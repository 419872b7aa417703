import { app } from '@azure/functions';
import { appServices } from '../shared/platform/composition/appServices';
import { actingAs, assertMayEdit, executePlaceCommand, type EditingDeps } from '../shared/places/application/placeCommands';
import { withProblemDetails, type HttpHandler } from '../shared/platform/http/httpHandler';
import { commandResponse, logCommand } from '../shared/places/http/placeResponses';
import { originOf, placeIdParam, readJsonBody } from '../shared/platform/http/request';
import { parseReason } from '../shared/places/http/placeRequests';
import { requireCaller, type AccessDeps } from '../shared/platform/http/authenticate';

/** POST /api/places/{id}/withdraw: the owner or an admin takes an approved place off the map, with a reason. */
export function withdrawPlaceHandler(deps: EditingDeps & AccessDeps): HttpHandler {
  return withProblemDetails(async (request, context) => {
    const caller = await requireCaller(request, deps);
    await assertMayEdit(deps, caller);
    const placeId = placeIdParam(request);
    const reason = parseReason(await readJsonBody(request));
    const origin = originOf(request, context, caller);
    const outcome = await executePlaceCommand(
      deps,
      { type: 'WithdrawPlace', data: { placeId, reason, ...actingAs(caller, deps.clock()) } },
      origin,
    );
    logCommand(context, origin, 'WithdrawPlace', outcome);
    return commandResponse(outcome, 200);
  });
}

app.http('withdrawPlace', {
  methods: ['POST'],
  route: 'api/places/{id}/withdraw',
  authLevel: 'anonymous',
  handler: (request, context) => withdrawPlaceHandler(appServices())(request, context),
});
