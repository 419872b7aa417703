import { appServices } from '../shared/platform/composition/appServices';
import { approveEditor, suspendEditor, type EditorAccessDeps } from '../shared/editors/application/editorAccess';
import { withProblemDetails, type HttpHandler } from '../shared/platform/http/httpHandler';
import { requireAdmin, type AccessDeps } from '../shared/platform/http/authenticate';
import { originOf, readJsonBody } from '../shared/platform/http/request';
import { parseOptionalReason, userIdParam } from '../shared/editors/http/editorRequests';

/** POST /api/editors/{userId}/approve: an admin approves (or restores) an editor. */
export function approveEditorHandler(deps: EditorAccessDeps & AccessDeps): HttpHandler {
  return withProblemDetails(async (request, context) => {
    const admin = await requireAdmin(request, deps);
    const userId = userIdParam(request.params);
    await readJsonBody(request, { allowEmpty: true });
    return { status: 200, jsonBody: await approveEditor(deps, admin, userId, originOf(request, context)) };
  });
}

/** POST /api/editors/{userId}/suspend: an admin suspends an editor, optionally saying why. */
export function suspendEditorHandler(deps: EditorAccessDeps & AccessDeps): HttpHandler {
  return withProblemDetails(async (request, context) => {
    const admin = await requireAdmin(request, deps);
    const userId = userIdParam(request.params);
    const reason = parseOptionalReason(await readJsonBody(request, { allowEmpty: true }));
    return { status: 200, jsonBody: await suspendEditor(deps, admin, userId, reason, originOf(request, context)) };
  });
}

export const approveEditorFunction: HttpHandler = (request, context) => approveEditorHandler(appServices())(request, context);

export const suspendEditorFunction: HttpHandler = (request, context) => suspendEditorHandler(appServices())(request, context);
