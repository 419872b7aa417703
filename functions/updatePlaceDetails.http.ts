import { app } from '@azure/functions';
import { appServices } from '../shared/platform/composition/appServices';
import { actingAs, assertMayEdit, executePlaceCommand, type EditingDeps } from '../shared/places/application/placeCommands';
import { withProblemDetails, type HttpHandler } from '../shared/platform/http/httpHandler';
import { commandResponse, logCommand } from '../shared/places/http/placeResponses';
import { originOf, placeIdParam, readJsonBody, requiredIfMatchVersion } from '../shared/platform/http/request';
import { parseDetailsChanges } from '../shared/places/http/placeRequests';
import { requireCaller, type AccessDeps } from '../shared/platform/http/authenticate';
import { isAdmin } from '../shared/kernel/caller';

/**
 * PATCH /api/places/{id}: the owner (or an admin) changes details; `If-Match` must name the current
 * version. An owner's change to an approved place waits for an admin: 202 with its revision number.
 */
export function updatePlaceDetailsHandler(deps: EditingDeps & AccessDeps): HttpHandler {
  return withProblemDetails(async (request, context) => {
    const caller = await requireCaller(request, deps);
    await assertMayEdit(deps, caller);
    const placeId = placeIdParam(request);
    const expectedVersion = requiredIfMatchVersion(request);
    const changes = parseDetailsChanges(await readJsonBody(request));
    const origin = originOf(request, context, caller);
    const command = { type: 'UpdatePlaceDetails' as const, data: { placeId, changes, ...actingAs(caller, deps.clock()) } };
    const outcome = await executePlaceCommand(deps, command, origin, expectedVersion);
    logCommand(context, origin, 'UpdatePlaceDetails', outcome);
    // 202 when this change became a revision waiting for an admin (the version moved, and only a revision can move an
    // approved place for its owner); a change that changed nothing is a 200, even while an older revision waits.
    const revised =
      !isAdmin(caller) && outcome.status === 'approved' && outcome.pendingRevision !== undefined && outcome.version > expectedVersion;
    return commandResponse(outcome, revised ? 202 : 200);
  });
}

app.http('updatePlaceDetails', {
  methods: ['PATCH'],
  route: 'api/places/{id}',
  authLevel: 'anonymous',
  handler: (request, context) => updatePlaceDetailsHandler(appServices())(request, context),
});
