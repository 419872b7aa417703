import { appServices } from '../shared/platform/composition/appServices';
import { editorsWithStatus } from '../shared/editors/application/editorAccess';
import type { EditorViews } from '../shared/editors/application/editorViews';
import { withProblemDetails, type HttpHandler } from '../shared/platform/http/httpHandler';
import { requireAdmin, type AccessDeps } from '../shared/platform/http/authenticate';
import { parseEditorListQuery, type EditorListAnswer } from '../shared/editors/http/editorRequests';

/** GET /api/manage/editors?status&limit: editors in one status (default pending), for admins. */
export function listEditorsHandler(deps: { views: EditorViews } & AccessDeps): HttpHandler {
  return withProblemDetails(async (request) => {
    await requireAdmin(request, deps);
    const { status, limit } = parseEditorListQuery(request.query);
    const answer: EditorListAnswer = { status, editors: await editorsWithStatus(deps.views, status, limit) };
    return { status: 200, headers: { 'cache-control': 'no-store' }, jsonBody: answer };
  });
}

export const listEditorsFunction: HttpHandler = (request, context) => listEditorsHandler(appServices())(request, context);
