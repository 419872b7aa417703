import { appServices } from '../shared/platform/composition/appServices';
import { whoIs, type EditorAccessDeps } from '../shared/editors/application/editorAccess';
import { withProblemDetails, type HttpHandler } from '../shared/platform/http/httpHandler';
import { requirePerson, type AccessDeps } from '../shared/platform/http/authenticate';
import type { MeAnswer } from '../shared/editors/http/editorRequests';

/** GET /api/me: who is signed in, their roles and their editor access; 401 when nobody is. */
export function meHandler(deps: EditorAccessDeps & AccessDeps): HttpHandler {
  return withProblemDetails(async (request) => {
    const answer: MeAnswer = await whoIs(deps.eventStore, await requirePerson(request, deps));
    return { status: 200, headers: { 'cache-control': 'no-store' }, jsonBody: answer };
  });
}

export const meFunction: HttpHandler = (request, context) => meHandler(appServices())(request, context);
