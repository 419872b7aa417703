import type { HttpResponseInit } from '@azure/functions';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { lstat, readFile } from 'node:fs/promises';
import { extname, join, resolve, sep } from 'node:path';

/**
 * The pages of web/ as the app serves them: three pages at fixed paths and the files under
 * web/assets/. Nothing else of web/ (its TypeScript sources, its tsconfig) is reachable.
 */
export const PAGES: Readonly<Record<string, string>> = {
  '': 'index.html',
  editor: 'editor.html',
  // Not /admin: the Functions host keeps paths under admin/ for its own admin API.
  moderation: 'admin.html',
};

const NOT_FOUND_PAGE = '404.html';

/** The only kinds of file served, by extension; anything else is a 404 whatever is on disk. */
export const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.json': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
  '.txt': 'text/plain; charset=utf-8',
};

/**
 * Everything the pages load comes from the app itself: no inline script or style, no other origin,
 * no framing. Inline SVG in the markup is not a script, so the weather icons need no exception.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'permissions-policy': 'geolocation=(self), camera=(), microphone=(), payment=()',
};

/**
 * File names are not fingerprinted, so nothing may be kept unchecked: browsers revalidate every
 * time (a 304 against the ETag costs no body), and a deploy is seen at once.
 */
const PAGE_CACHE = 'no-cache';
const ASSET_CACHE = 'public, no-cache';

/** A path segment the site's files may have: letters, digits, `.`, `_`, `-`, not starting with a dot. */
const SAFE_SEGMENT = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,99}$/;

export interface StaticSite {
  /** `/`, `/editor`, `/moderation`; any other page is the 404 page. */
  page(name: string | undefined, ifNoneMatch: string | null): Promise<HttpResponseInit>;
  /** A file under web/assets/, by its path below it. */
  asset(path: string | undefined, ifNoneMatch: string | null): Promise<HttpResponseInit>;
}

/** Serves the site in `webRoot` (the folder holding index.html and assets/). */
export function staticSite(webRoot: string): StaticSite {
  const root = resolve(webRoot);
  const assets = join(root, 'assets');

  async function notFound(): Promise<HttpResponseInit> {
    const body = await readFile(join(root, NOT_FOUND_PAGE)).catch(() =>
      Buffer.from('<!doctype html><title>Not found</title><p>Not found.</p>'),
    );
    return { status: 404, headers: { ...SECURITY_HEADERS, 'content-type': 'text/html; charset=utf-8', 'cache-control': PAGE_CACHE }, body };
  }

  async function serve(file: string, contentType: string, cacheControl: string, ifNoneMatch: string | null): Promise<HttpResponseInit> {
    // lstat, not stat: a directory is never listed and a link never followed out of the site.
    const info = await lstat(file).catch(() => undefined);
    if (!info?.isFile()) return notFound();
    return fileResponse(await readFile(file), contentType, cacheControl, ifNoneMatch);
  }

  return {
    async page(name, ifNoneMatch) {
      const key = (name ?? '').toLowerCase();
      const file = Object.hasOwn(PAGES, key) ? PAGES[key] : undefined;
      if (file === undefined) return notFound();
      return serve(join(root, file), 'text/html; charset=utf-8', PAGE_CACHE, ifNoneMatch);
    },

    async asset(path, ifNoneMatch) {
      const segments = (path ?? '').split('/');
      if (segments.length > 8 || !segments.every((segment) => SAFE_SEGMENT.test(segment))) return notFound();
      const contentType = CONTENT_TYPES[extname(segments.at(-1) ?? '').toLowerCase()];
      if (contentType === undefined) return notFound();
      const file = join(assets, ...segments);
      // Belt and braces: the segments above cannot climb, and the joined path must still be inside.
      if (!file.startsWith(assets + sep)) return notFound();
      return serve(file, contentType, ASSET_CACHE, ifNoneMatch);
    },
  };
}

/**
 * A file's answer: 200 with its body, or 304 when `If-None-Match` names its ETag (a hash of the
 * content, so any change is a new ETag).
 */
export function fileResponse(
  body: Buffer | string,
  contentType: string,
  cacheControl: string,
  ifNoneMatch: string | null,
): HttpResponseInit {
  const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
  const headers = { ...SECURITY_HEADERS, 'content-type': contentType, 'cache-control': cacheControl, etag };
  if (ifNoneMatch !== null && ifNoneMatch.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag))
    return { status: 304, headers };
  return { status: 200, headers, body };
}

/**
 * Where web/ is at run time, from the folder of the function module that serves it: the package
 * root is two levels up from `dist/functions/` (locally and in the deployed package alike), one
 * level up from `functions/` when the sources run under ts-jest.
 */
export function findWebRoot(functionsDir: string): string {
  const compiled = join(functionsDir, '..', '..', 'web');
  const source = join(functionsDir, '..', 'web');
  return existsSync(join(compiled, 'index.html')) ? compiled : source;
}
