import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HttpResponse, type HttpResponseInit } from '@azure/functions';
import { CONTENT_SECURITY_POLICY, findWebRoot, PAGES, staticSite } from '../../../../shared/platform/http/staticSite';

const repoRoot = join(__dirname, '..', '..', '..', '..');

async function read(init: HttpResponseInit): Promise<{ status: number; headers: Record<string, string>; body: string }> {
  const response = new HttpResponse(init);
  return { status: response.status, headers: Object.fromEntries(response.headers.entries()), body: await response.text() };
}

describe('the static site: pages and assets', () => {
  let root: string;
  beforeAll(() => {
    const dir = mkdtempSync(join(tmpdir(), 'plannr-web-'));
    root = join(dir, 'web');
    mkdirSync(join(root, 'assets', 'js'), { recursive: true });
    mkdirSync(join(root, 'assets', 'folder.css'));
    for (const [file, text] of Object.entries({
      'index.html': 'parents',
      'editor.html': 'editors',
      'admin.html': 'admins',
      '404.html': 'not found page',
      'assets/site.css': 'body{}',
      'assets/js/parents.js': 'export {};',
      'assets/icon.svg': '<svg/>',
      'assets/notes.ts': 'secret',
      'tsconfig.json': '{}',
    })) {
      writeFileSync(join(root, file), text);
    }
    writeFileSync(join(dir, 'secret.css'), 'outside');
    symlinkSync(join(dir, 'secret.css'), join(root, 'assets', 'link.css'));
  });
  afterAll(() => rmSync(join(root, '..'), { recursive: true, force: true }));

  it('serves /, /editor and /moderation as HTML with a strict policy, nosniff and revalidation', async () => {
    const site = staticSite(root);
    for (const [page, body] of [
      [undefined, 'parents'],
      ['', 'parents'],
      ['editor', 'editors'],
      ['Moderation', 'admins'],
    ] as const) {
      const answer = await read(await site.page(page, null));
      expect(answer).toMatchObject({
        status: 200,
        body,
        headers: {
          'content-type': 'text/html; charset=utf-8',
          'content-security-policy': CONTENT_SECURITY_POLICY,
          'x-content-type-options': 'nosniff',
          'cache-control': 'no-cache',
        },
      });
      expect(answer.headers.etag).toMatch(/^"[\w-]+"$/);
    }
    expect(CONTENT_SECURITY_POLICY).toContain("default-src 'self'");
    expect(CONTENT_SECURITY_POLICY).toContain("script-src 'self'");
    expect(CONTENT_SECURITY_POLICY).not.toContain('unsafe-inline');
  });

  it('answers any other page with the 404 page (HTML, same headers), whatever the name', async () => {
    const site = staticSite(root);
    for (const page of ['nope', 'index.html', 'index', '404', '__proto__', 'constructor', 'hasOwnProperty', 'assets', 'api']) {
      const answer = await read(await site.page(page, null));
      expect({
        page,
        status: answer.status,
        body: answer.body,
        type: answer.headers['content-type'],
        nosniff: answer.headers['x-content-type-options'],
      }).toEqual({ page, status: 404, body: 'not found page', type: 'text/html; charset=utf-8', nosniff: 'nosniff' });
    }
  });

  it('serves assets with their content type, and 304 to a matching If-None-Match', async () => {
    const site = staticSite(root);
    const css = await read(await site.asset('site.css', null));
    expect(css).toMatchObject({
      status: 200,
      body: 'body{}',
      headers: { 'content-type': 'text/css; charset=utf-8', 'cache-control': 'public, no-cache', 'x-content-type-options': 'nosniff' },
    });
    expect(await read(await site.asset('js/parents.js', null))).toMatchObject({
      status: 200,
      headers: { 'content-type': 'text/javascript; charset=utf-8' },
    });
    expect(await read(await site.asset('icon.svg', null))).toMatchObject({ status: 200, headers: { 'content-type': 'image/svg+xml' } });
    const etag = css.headers.etag ?? '';
    expect(await read(await site.asset('site.css', etag))).toMatchObject({ status: 304, body: '', headers: { etag } });
    expect(await read(await site.asset('site.css', `W/${etag}, "other"`))).toMatchObject({ status: 304 });
    expect((await read(await site.asset('site.css', '"stale"'))).status).toBe(200);
  });

  it('never leaves web/assets/: no climbing, hidden files, folders, links, unknown types or odd names', async () => {
    const site = staticSite(root);
    const refused = [
      '../index.html',
      '../tsconfig.json',
      '..',
      '.',
      'js/../../index.html',
      'js/./parents.js',
      '..%2findex.html',
      '%2e%2e/index.html',
      '.hidden.css',
      'js',
      'js/',
      '',
      undefined,
      'folder.css',
      'link.css',
      'notes.ts',
      'a\\b.css',
      '/etc/passwd',
      'site.css/',
      'site.css\0.js',
      'x'.repeat(120) + '.css',
      'a/b/c/d/e/f/g/h/i.css',
    ];
    for (const path of refused) {
      const answer = await read(await site.asset(path, null));
      expect({ path, status: answer.status, body: answer.body }).toEqual({ path, status: 404, body: 'not found page' });
    }
  });

  it('finds web/ beside the compiled functions (dist/functions → ../../web) and beside the sources under ts-jest', () => {
    expect(findWebRoot(join(repoRoot, 'dist', 'functions'))).toBe(join(repoRoot, 'web'));
    expect(findWebRoot(join(repoRoot, 'functions'))).toBe(join(repoRoot, 'web'));
  });
});

describe('the pages in web/', () => {
  const web = join(repoRoot, 'web');
  const pages = readdirSync(web).filter((file) => file.endsWith('.html'));

  it('has every page the site serves, each with a language, a title and a main landmark', () => {
    expect(pages).toEqual(expect.arrayContaining([...Object.values(PAGES), '404.html']));
    for (const page of pages) {
      const html = readFileSync(join(web, page), 'utf8');
      expect({
        page,
        lang: /<html lang="en-GB">/.test(html),
        title: /<title>[^<]+<\/title>/.test(html),
        main: /<main[\s>]/.test(html),
      }).toEqual({ page, lang: true, title: true, main: true });
    }
  });

  it('loads nothing from elsewhere and runs no inline script or style', () => {
    for (const page of pages) {
      const html = readFileSync(join(web, page), 'utf8');
      const references = [...html.matchAll(/\b(?:src|href)="([^"#]*)"/g)].map((match) => match[1] ?? '');
      const loaded = [...html.matchAll(/<(?:script|link|img)\b[^>]*\b(?:src|href)="([^"]*)"/g)].map((match) => match[1] ?? '');
      expect({ page, external: loaded.filter((url) => !url.startsWith('/')) }).toEqual({ page, external: [] });
      expect({
        page,
        inlineScript: /<script(?![^>]*\bsrc=)[^>]*>/.test(html),
        inlineStyle: /<style|\sstyle="/.test(html),
        handlers: /\son[a-z]+="/.test(html),
      }).toEqual({ page, inlineScript: false, inlineStyle: false, handlers: false });
      for (const reference of references.filter((url) => url.startsWith('/assets/') && !url.startsWith('/assets/js/'))) {
        expect({ page, reference, exists: readdirSync(join(web, 'assets')).includes(reference.slice('/assets/'.length)) }).toEqual({
          page,
          reference,
          exists: true,
        });
      }
    }
  });
});
