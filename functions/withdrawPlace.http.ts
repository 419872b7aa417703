import { app } from '@azure/functions';
import { appServices } from '../shared/platform/composition/appServices';
import { executePlaceCommand, type PlaceCommandDeps } from '../shared/places/application/placeCommands';
import { withProblemDetails, type HttpHandler } from '../shared/platform/http/httpHandler';
import { commandResponse, logCommand } from '../shared/places/http/placeResponses';
import { originOf, placeIdParam, readJsonBody } from '../shared/platform/http/request';
import { parseReason } from '../shared/places/http/placeRequests';

/** POST /api/places/{id}/withdraw: an admin takes an approved place off the map, with a reason. */
export function withdrawPlaceHandler(deps: PlaceCommandDeps): HttpHandler {
  return withProblemDetails(async (request, context) => {
    const placeId = placeIdParam(request);
    const reason = parseReason(await readJsonBody(request));
    const now = deps.clock().toISOString();
    const origin = originOf(request, context);
    const outcome = await executePlaceCommand(deps, { type: 'WithdrawPlace', data: { placeId, reason, now } }, origin);
    logCommand(context, origin, 'WithdrawPlace', outcome);
    return commandResponse(outcome, 200);
  });
}

app.http('withdrawPlace', {
  methods: ['POST'],
  route: 'api/places/{id}/withdraw',
  authLevel: 'admin',
  handler: (request, context) => withdrawPlaceHandler(appServices())(request, context),
});
