import { app } from '@azure/functions';
import { findWebRoot, staticSite, type StaticSite } from '../shared/platform/http/staticSite';
import type { HttpHandler } from '../shared/platform/http/httpHandler';

/**
 * The site: the parents' page at `/`, the editors' form at `/editor`, the admins' moderation list at
 * `/moderation`, and their files under `/assets/`. host.json's empty routePrefix lets a function serve
 * the site root; every API route starts with `api/` itself, and literal segments outrank `{page?}`.
 */
export function webPageHandler(site: StaticSite): HttpHandler {
  return (request) => site.page(request.params.page, request.headers.get('if-none-match'));
}

export function webAssetHandler(site: StaticSite): HttpHandler {
  return (request) => site.asset(request.params.file, request.headers.get('if-none-match'));
}

const site = staticSite(findWebRoot(__dirname));

app.http('webPage', {
  methods: ['GET'],
  route: '{page?}',
  authLevel: 'anonymous',
  handler: webPageHandler(site),
});

app.http('webAsset', {
  methods: ['GET'],
  route: 'assets/{*file}',
  authLevel: 'anonymous',
  handler: webAssetHandler(site),
});
