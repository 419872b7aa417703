import { app } from '@azure/functions';
import { appServices } from '../shared/platform/composition/appServices';
import { proposePlace, type PlaceCommandDeps } from '../shared/places/application/placeCommands';
import { withProblemDetails, type HttpHandler } from '../shared/platform/http/httpHandler';
import { commandResponse, logCommand } from '../shared/places/http/placeResponses';
import { idempotencyKeyHeader, originOf, readJsonBody } from '../shared/platform/http/request';
import { parseProposal } from '../shared/places/http/placeRequests';

/** POST /api/places: an editor proposes a place; 202 with where to find it. Honours Idempotency-Key. */
export function proposePlaceHandler(deps: PlaceCommandDeps): HttpHandler {
  return withProblemDetails(async (request, context) => {
    const idempotencyKey = idempotencyKeyHeader(request);
    const proposal = parseProposal(await readJsonBody(request));
    const origin = originOf(request, context);
    const outcome = await proposePlace(deps, proposal, origin, idempotencyKey);
    logCommand(context, origin, 'ProposePlace', outcome);
    return commandResponse(outcome, 202);
  });
}

app.http('proposePlace', {
  methods: ['POST'],
  route: 'api/places',
  authLevel: 'function',
  handler: (request, context) => proposePlaceHandler(appServices())(request, context),
});
