import { app } from '@azure/functions';
import { appServices } from '../shared/platform/composition/appServices';
import { isAdmin } from '../shared/kernel/caller';
import { editorStatusOf, type EditorAccessDeps } from '../shared/editors/application/editorAccess';
import { withProblemDetails, type HttpHandler } from '../shared/platform/http/httpHandler';
import { requirePerson, type AccessDeps } from '../shared/platform/http/authenticate';
import type { MeAnswer } from '../shared/editors/http/editorRequests';

/** GET /api/me: who is signed in, their roles and their editor access; 401 when nobody is. */
export function meHandler(deps: EditorAccessDeps & AccessDeps): HttpHandler {
  return withProblemDetails(async (request) => {
    const person = await requirePerson(request, deps);
    const answer: MeAnswer = {
      userId: person.userId,
      name: person.name,
      roles: [...person.roles],
      isAdmin: isAdmin(person),
      editorStatus: await editorStatusOf(deps.eventStore, person.userId),
    };
    return { status: 200, headers: { 'cache-control': 'no-store' }, jsonBody: answer };
  });
}

app.http('me', {
  methods: ['GET'],
  route: 'api/me',
  authLevel: 'anonymous',
  handler: (request, context) => meHandler(appServices())(request, context),
});
