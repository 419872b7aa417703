import { appServices } from '../shared/platform/composition/appServices';
import { requestEditorAccess, type EditorAccessDeps } from '../shared/editors/application/editorAccess';
import { withProblemDetails, type HttpHandler } from '../shared/platform/http/httpHandler';
import { requirePerson, type AccessDeps } from '../shared/platform/http/authenticate';
import { originOf, readJsonBody } from '../shared/platform/http/request';
import { parseOptionalReason } from '../shared/editors/http/editorRequests';

/** POST /api/editor-access: a signed-in person asks to become an editor; 202 while an admin decides. */
export function requestEditorAccessHandler(deps: EditorAccessDeps & AccessDeps): HttpHandler {
  return withProblemDetails(async (request, context) => {
    const person = await requirePerson(request, deps);
    const reason = parseOptionalReason(await readJsonBody(request, { allowEmpty: true }));
    const outcome = await requestEditorAccess(deps, person, reason, originOf(request, context));
    return { status: outcome.status === 'pending' ? 202 : 200, headers: { 'cache-control': 'no-store' }, jsonBody: outcome };
  });
}

export const requestEditorAccessFunction: HttpHandler = (request, context) => requestEditorAccessHandler(appServices())(request, context);
