import { withProblemDetails, type HttpHandler } from '../shared/platform/http/httpHandler';
import { openApiDocument, type OpenApiDocument } from '../shared/platform/composition/openApi';
import { fileResponse } from '../shared/platform/http/staticSite';

/**
 * GET /api/openapi.json: the API's OpenAPI 3.1 description, built once from the app's own schemas.
 * Served like the site's files: an ETag of its content, revalidated on every use (304 when unchanged).
 */
export function openApiHandler(document: () => OpenApiDocument): HttpHandler {
  let text: string | undefined;
  return withProblemDetails((request) => {
    text ??= JSON.stringify(document());
    return Promise.resolve(fileResponse(text, 'application/json; charset=utf-8', 'public, no-cache', request.headers.get('if-none-match')));
  });
}

export const openApiFunction: HttpHandler = openApiHandler(openApiDocument);
