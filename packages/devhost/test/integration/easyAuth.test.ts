import { app } from '@azure/functions';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, request as httpRequest, type IncomingHttpHeaders, type OutgoingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getProgrammingModel, registeredFunctions, type ProgrammingModel, type Registration } from '../../src/functionsCore';
import { loadOrCreateAuthSecret, SESSION_LIFETIME_MS, type ClientPrincipal } from '../../src/http/easyAuth';
import { startHttpHost, type ExtraRoute, type HttpHost, type HttpHostOptions } from '../../src/http/httpHost';
import type { InvocationModel } from '../../src/invoke';
import { consoleLogger } from '../../src/logger';

/**
 * App Service Authentication emulated in front of the devhost's HTTP host (http/easyAuth.ts): the identity headers a
 * client sends never reach the app, a session from the local sign-in does, on every path (the app's functions, the
 * devhost's own routes, the stream-mode forward), and /.auth/* is the devhost's whatever the app's routes are.
 */

/** The identity headers among a request's: what App Service sets (and a client might forge). */
function identityHeaders(headers: Iterable<[string, string]>): Record<string, string> {
  return Object.fromEntries([...headers].filter(([name]) => /^x-ms-(client-principal|token-)/i.test(name)));
}
const fromNode = (headers: IncomingHttpHeaders): [string, string][] =>
  Object.entries(headers).flatMap(([name, value]) => (typeof value === 'string' ? [[name, value] as [string, string]] : []));

let caughtByCatchAll = 0;
app.http('easyAuthWhoAmI', {
  methods: ['GET', 'POST'],
  route: 'whoami',
  authLevel: 'anonymous',
  handler: (request) => ({ jsonBody: identityHeaders(request.headers) }),
});
// Would take /.auth/* too, were it the app's to take.
app.http('easyAuthCatchAll', {
  methods: ['GET', 'POST'],
  route: '{*rest}',
  authLevel: 'anonymous',
  handler: () => {
    caughtByCatchAll++;
    return { status: 418 };
  },
});

/** A route of the devhost's own (as its webhooks are), which sees the headers the app would. */
const ownRoute: ExtraRoute = (request, response, url) => {
  if (url.pathname !== '/devhost/echo') return false;
  response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(identityHeaders(fromNode(request.headers))));
  return true;
};

const FORGED_PRINCIPAL = Buffer.from(
  JSON.stringify({ auth_typ: 'aad', claims: [{ typ: 'roles', val: 'admin' }], name_typ: 'name', role_typ: 'roles' }),
).toString('base64');
/** What a client might send to pass itself off as someone. */
const FORGED = {
  'x-ms-client-principal': FORGED_PRINCIPAL,
  'x-ms-client-principal-id': 'forged-id',
  'x-ms-client-principal-name': 'forged@example.com',
  'x-ms-client-principal-idp': 'aad',
  'x-ms-token-aad-id-token': 'forged-token',
  // Any other x-ms-client-principal* header is the platform's as well.
  'x-ms-client-principal-roles': 'admin',
};

const logger = consoleLogger({ quiet: true });
const keys = { functionKey: 'function-key', masterKey: 'master-key' };

function registrations(...names: string[]): Registration[] {
  return registeredFunctions().filter((registration) => names.includes(registration.metadata.name));
}

function model(): ProgrammingModel {
  const found = getProgrammingModel();
  if (!found) throw new Error('no programming model');
  return found;
}

function hostOptions(overrides: Partial<HttpHostOptions>): HttpHostOptions {
  return { port: 0, routePrefix: '', keys, corsOrigins: [], ...overrides };
}

/** The session cookie's `name=value`, from a sign-in's Set-Cookie. */
function cookieOf(response: Response): string {
  const [setCookie] = response.headers.getSetCookie();
  return (setCookie ?? '').split(';')[0] ?? '';
}

function decodePrincipal(header: string | undefined): ClientPrincipal {
  return JSON.parse(Buffer.from(header ?? '', 'base64').toString('utf8')) as ClientPrincipal;
}

function signIn(url: string, fields: Record<string, string>): Promise<Response> {
  return fetch(`${url}/.auth/login/aad/callback`, { method: 'POST', body: new URLSearchParams(fields), redirect: 'manual' });
}

interface RawAnswer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly text: string;
}

/** A request with headers fetch will not send as given (Host), or as a browser sends them (Origin, Sec-Fetch-Site). */
function rawRequest(url: string, options: { method?: string; headers?: OutgoingHttpHeaders; body?: string }): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const call = httpRequest(url, { method: options.method ?? 'GET', headers: options.headers ?? {} }, (response) => {
      let text = '';
      response.on('data', (chunk: Buffer) => (text += chunk.toString()));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, text }));
    });
    call.on('error', reject);
    call.end(options.body);
  });
}

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

const ADA = { userId: 'a9c2b1f0-5e7d-4b1a-9c3e-6f2d8e4a7b10', userDetails: 'ada@example.com', roles: 'admin, editor' };

describe('the devhost emulates App Service Authentication (Entra ID)', () => {
  let dataDir: string;
  let secretFile: string;
  let clock = Date.UTC(2025, 5, 1, 9, 0, 0);
  let host: HttpHost;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'easy-auth-'));
    secretFile = join(dataDir, 'auth.json');
    host = await startHttpHost(
      model(),
      registrations('easyAuthWhoAmI', 'easyAuthCatchAll'),
      // An empty route prefix and a catch-all: /.auth/* is the devhost's all the same.
      hostOptions({ easyAuth: { secret: loadOrCreateAuthSecret(secretFile), now: () => clock } }),
      logger,
      [ownRoute],
    );
  });
  afterAll(async () => {
    await host.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const whoAmI = async (headers: Record<string, string> = {}) => {
    const answer = await fetch(`${host.url}/whoami`, { headers });
    expect(answer.status).toBe(200);
    return (await answer.json()) as Record<string, string>;
  };

  it('signed out, the app gets no principal, whatever the client sends', async () => {
    expect(await whoAmI(FORGED)).toEqual({});
    const own = await fetch(`${host.url}/devhost/echo`, { headers: FORGED });
    expect(await own.json()).toEqual({});
  });

  it('serves the local sign-in page: an HTML form, its user id a fresh UUID, the redirect carried along', async () => {
    const page = await fetch(`${host.url}/.auth/login/aad?post_login_redirect_uri=/plans%3Fday%3Dsat`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toMatch(/default-src 'none'/);
    const html = await page.text();
    expect(html).toMatch(/<form method="post" action="\/\.auth\/login\/aad\/callback"/);
    expect(html).toMatch(/local stand-in for <strong>Microsoft Entra ID sign-in/);
    expect(html).toContain('<input type="hidden" name="post_login_redirect_uri" value="/plans?day=sat">');
    const userId = /<input id="userId" name="userId" value="([^"]*)"/.exec(html)?.[1];
    expect(userId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const again = await (await fetch(`${host.url}/.auth/login/aad`)).text();
    expect(/<input id="userId" name="userId" value="([^"]*)"/.exec(again)?.[1]).not.toBe(userId);
  });

  it('signs in: 302 to the path asked for, with an HttpOnly, SameSite=Lax session cookie for the whole site', async () => {
    const answer = await signIn(host.url, { ...ADA, post_login_redirect_uri: '/plans?day=sat' });
    expect(answer.status).toBe(302);
    expect(answer.headers.get('location')).toBe('/plans?day=sat');
    const setCookie = answer.headers.getSetCookie();
    expect(setCookie).toHaveLength(1);
    expect(setCookie[0]).toMatch(/^AppServiceAuthSession=[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+; Path=\/; HttpOnly; SameSite=Lax$/);

    // Anywhere but a path on this host goes home, however the path spells it.
    for (const redirect of ['//evil.example/', '/.//evil.example', '/a/..//evil.example', '/%2e//evil.example', '/./\\evil.example']) {
      const elsewhere = await signIn(host.url, { ...ADA, post_login_redirect_uri: redirect });
      expect([redirect, elsewhere.headers.get('location')]).toEqual([redirect, '/']);
    }
  });

  it("with the cookie, the app gets App Service's principal headers for the user, and none the client forged", async () => {
    const cookie = cookieOf(await signIn(host.url, ADA));
    const seen = await whoAmI({ ...FORGED, cookie });
    expect(Object.keys(seen).sort()).toEqual([
      'x-ms-client-principal',
      'x-ms-client-principal-id',
      'x-ms-client-principal-idp',
      'x-ms-client-principal-name',
    ]);
    expect(seen['x-ms-client-principal-id']).toBe(ADA.userId);
    expect(seen['x-ms-client-principal-name']).toBe('ada@example.com');
    expect(seen['x-ms-client-principal-idp']).toBe('aad');
    const principal = decodePrincipal(seen['x-ms-client-principal']);
    expect(principal.auth_typ).toBe('aad');
    expect(principal.name_typ).toBe('http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress');
    expect(principal.role_typ).toBe('http://schemas.microsoft.com/ws/2008/06/identity/claims/role');
    expect(principal.claims).toEqual(
      expect.arrayContaining([
        { typ: 'http://schemas.microsoft.com/identity/claims/objectidentifier', val: ADA.userId },
        { typ: 'name', val: 'ada@example.com' },
        { typ: 'preferred_username', val: 'ada@example.com' },
        { typ: 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress', val: 'ada@example.com' },
      ]),
    );
    expect(principal.claims.filter((claim) => claim.typ === 'roles').map((claim) => claim.val)).toEqual(['admin', 'editor']);

    // The devhost's own routes see the same as the app.
    const own = (await (await fetch(`${host.url}/devhost/echo`, { headers: { ...FORGED, cookie } })).json()) as Record<string, string>;
    expect(own).toEqual(seen);
  });

  it('/.auth/me lists the signed-in user as App Service does, and [] when signed out', async () => {
    const cookie = cookieOf(await signIn(host.url, ADA));
    const me = await fetch(`${host.url}/.auth/me`, { headers: { cookie } });
    expect(me.status).toBe(200);
    expect(me.headers.get('content-type')).toBe('application/json; charset=utf-8');
    const [entry, ...more] = (await me.json()) as Record<string, unknown>[];
    expect(more).toEqual([]);
    expect(entry).toMatchObject({
      provider_name: 'aad',
      user_id: 'ada@example.com',
      expires_on: new Date(clock + SESSION_LIFETIME_MS).toISOString(),
    });
    expect(entry?.user_claims).toContainEqual({ typ: 'roles', val: 'admin' });

    const signedOut = await fetch(`${host.url}/.auth/me`);
    expect(signedOut.status).toBe(200);
    expect(await signedOut.json()).toEqual([]);
  });

  it('refuses a form that is not right with 400 and a page that says what is wrong, keeping what was typed', async () => {
    const answer = await signIn(host.url, { userId: 'has spaces', userDetails: '', roles: 'admin, two words' });
    expect(answer.status).toBe(400);
    expect(answer.headers.getSetCookie()).toEqual([]);
    const html = await answer.text();
    expect(html).toMatch(/role="alert"/);
    expect(html).toMatch(/The user id may only hold letters, digits/);
    expect(html).toMatch(/Enter a name or email/);
    expect(html).toMatch(/The role &#34;two words&#34; may only hold/);
    expect(html).toContain('value="has spaces"');

    const notAForm = await fetch(`${host.url}/.auth/login/aad/callback`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(ADA),
    });
    expect(notAForm.status).toBe(415);
  });

  it('signs out: the cookie cleared, 302 to the path asked for', async () => {
    const answer = await fetch(`${host.url}/.auth/logout?post_logout_redirect_uri=/bye`, { redirect: 'manual' });
    expect(answer.status).toBe(302);
    expect(answer.headers.get('location')).toBe('/bye');
    expect(answer.headers.getSetCookie()).toEqual([
      'AppServiceAuthSession=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; HttpOnly; SameSite=Lax',
    ]);
    for (const redirect of ['https://evil.example/', '/.//evil.example', '/%2e//evil.example']) {
      const home = await fetch(`${host.url}/.auth/logout?post_logout_redirect_uri=${encodeURIComponent(redirect)}`, { redirect: 'manual' });
      expect([redirect, home.headers.get('location')]).toEqual([redirect, '/']);
    }
  });

  it('answers /.auth/* only at localhost, 127.0.0.1 or [::1]: a page on a rebound name of its own gets 403, saying why', async () => {
    const port = new URL(host.url).port;
    for (const name of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`, 'LocalHost', '127.0.0.1']) {
      const me = await rawRequest(`${host.url}/.auth/me`, { headers: { host: name } });
      expect([name, me.status]).toEqual([name, 200]);
    }
    const before = caughtByCatchAll;
    for (const name of [`evil.example:${port}`, `localhost.evil.example:${port}`, `192.168.1.10:${port}`, `0.0.0.0:${port}`]) {
      for (const [method, path, body] of [
        ['GET', '/.auth/login/aad', undefined],
        ['GET', '/.auth/me', undefined],
        ['POST', '/.auth/login/aad/callback', new URLSearchParams({ ...ADA, roles: 'admin' }).toString()],
        ['GET', '/.auth/logout', undefined],
        ['GET', '/.auth/unknown', undefined],
      ] as const) {
        const answer = await rawRequest(`${host.url}${path}`, { method, headers: { ...FORM, host: name }, body });
        expect([name, path, answer.status]).toEqual([name, path, 403]);
        expect(answer.headers['set-cookie']).toBeUndefined();
        expect(answer.headers['content-type']).toBe('text/plain; charset=utf-8');
        expect(answer.text).toMatch(/answers \/\.auth\/\* only at localhost, 127\.0\.0\.1 or \[::1\]/);
      }
    }
    expect(caughtByCatchAll).toBe(before);
  });

  it("refuses a sign-in, or a sign-out by POST, that another site's page sends (403, no cookie set or cleared)", async () => {
    const own = `http://${new URL(host.url).host}`;
    const body = new URLSearchParams({ ...ADA, roles: 'admin' }).toString();
    const from = (headers: OutgoingHttpHeaders) => ({ method: 'POST', headers: { ...FORM, ...headers }, body });
    for (const headers of [
      { 'sec-fetch-site': 'cross-site' },
      { 'sec-fetch-site': 'same-site', origin: 'http://localhost:3000' },
      { origin: 'http://evil.example' },
      { origin: 'null' },
      { 'sec-fetch-site': 'same-origin', origin: 'http://evil.example' },
    ]) {
      for (const path of ['/.auth/login/aad/callback', '/.auth/logout']) {
        const answer = await rawRequest(`${host.url}${path}`, from(headers));
        expect([headers, path, answer.status]).toEqual([headers, path, 403]);
        expect(answer.headers['set-cookie']).toBeUndefined();
        expect(answer.text).toMatch(/only on a request from its own pages/);
      }
    }
    // The devhost's own form, as a browser posts it; and clients that name no site (curl, tests).
    for (const headers of [{ 'sec-fetch-site': 'same-origin', origin: own }, { 'sec-fetch-site': 'none' }, {}]) {
      const signedIn = await rawRequest(`${host.url}/.auth/login/aad/callback`, from(headers));
      expect([headers, signedIn.status]).toEqual([headers, 302]);
      expect(signedIn.headers['set-cookie']?.[0]).toMatch(/^AppServiceAuthSession=/);
      const signedOut = await rawRequest(`${host.url}/.auth/logout`, { method: 'POST', headers });
      expect([headers, signedOut.status]).toEqual([headers, 302]);
    }
    // A link to sign out is followed as App Service follows it.
    const link = await rawRequest(`${host.url}/.auth/logout`, { headers: { 'sec-fetch-site': 'cross-site' } });
    expect(link.status).toBe(302);
  });

  it('takes a tampered or expired cookie for no session', async () => {
    const cookie = cookieOf(await signIn(host.url, ADA));
    const [name, value = ''] = cookie.split('=');
    const [payload = '', signature = ''] = value.split('.');
    const tampered = `${name ?? ''}=${Buffer.from(JSON.stringify({ uid: 'someone-else', name: 'x', roles: ['admin'], exp: clock + 1e9 })).toString('base64url')}.${signature}`;
    expect(await whoAmI({ cookie: tampered })).toEqual({});
    expect(await whoAmI({ cookie: `${name ?? ''}=${payload}.${signature.slice(1)}` })).toEqual({});

    const signedInAt = clock;
    try {
      clock = signedInAt + SESSION_LIFETIME_MS - 1;
      expect(await whoAmI({ cookie })).toHaveProperty('x-ms-client-principal-id', ADA.userId);
      clock = signedInAt + SESSION_LIFETIME_MS;
      expect(await whoAmI({ cookie })).toEqual({});
      expect(await (await fetch(`${host.url}/.auth/me`, { headers: { cookie } })).json()).toEqual([]);
    } finally {
      clock = signedInAt;
    }
  });

  it('keeps a session through a restart: the secret is kept beside the keys', async () => {
    const cookie = cookieOf(await signIn(host.url, ADA));
    const restarted = await startHttpHost(
      model(),
      registrations('easyAuthWhoAmI'),
      hostOptions({ easyAuth: { secret: loadOrCreateAuthSecret(secretFile), now: () => clock } }),
      logger,
    );
    try {
      expect((await (await fetch(`${restarted.url}/whoami`, { headers: { cookie } })).json()) as Record<string, string>).toHaveProperty(
        'x-ms-client-principal-id',
        ADA.userId,
      );
    } finally {
      await restarted.close();
    }
  });

  it('owns every /.auth path, whatever the route prefix: an unknown one is 404, and none reaches the app', async () => {
    const before = caughtByCatchAll;
    expect((await fetch(`${host.url}/.auth/login/github`)).status).toBe(404);
    expect((await fetch(`${host.url}/.auth/me`, { method: 'POST' })).status).toBe(405);
    expect((await fetch(`${host.url}/.auth/login/aad/callback`)).status).toBe(405);
    expect((await fetch(`${host.url}/.auth/ME`)).status).toBe(200);
    expect((await fetch(`${host.url}/anything-else`)).status).toBe(418);
    expect(caughtByCatchAll).toBe(before + 1);
  });
});

describe('with App Service Authentication off, the devhost is a bare host, as Core Tools runs', () => {
  let host: HttpHost;
  beforeAll(async () => {
    host = await startHttpHost(model(), registrations('easyAuthWhoAmI'), hostOptions({ routePrefix: 'api' }), logger);
  });
  afterAll(() => host.close());

  it('serves no /.auth routes and passes the identity headers on as they came', async () => {
    expect((await fetch(`${host.url}/.auth/login/aad`)).status).toBe(404);
    expect((await fetch(`${host.url}/.auth/me`)).status).toBe(404);
    expect((await signIn(host.url, ADA)).status).toBe(404);
    const seen = (await (await fetch(`${host.url}/api/whoami`, { headers: FORGED })).json()) as Record<string, string>;
    expect(seen).toEqual(FORGED);
  });
});

/**
 * HTTP stream mode: the function's request comes through the library's proxy, its headers from the invocation's
 * `Headers` trigger metadata (httpStream.ts). A stand-in for the library answers with the identity headers of both.
 */
describe('the principal reaches a function in HTTP stream mode too', () => {
  const seenByInvocation = new Map<string, Record<string, string>>();
  const answered = new Map<string, () => void>();
  const proxy: Server = createServer((proxied, answer) => {
    const id = String(proxied.headers['x-ms-invocation-id']);
    proxied.resume();
    proxied.on('end', () => {
      answer
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ forwarded: identityHeaders(fromNode(proxied.headers)), metadata: seenByInvocation.get(id) }));
      answered.get(id)?.();
    });
  });
  const standIn: ProgrammingModel = {
    name: 'stand-in',
    version: '0',
    getInvocationModel: (coreContext) => {
      const { invocationId, request } = coreContext as {
        invocationId: string;
        request: { triggerMetadata?: Record<string, { json?: string }> };
      };
      const headers = JSON.parse(request.triggerMetadata?.Headers?.json ?? '{}') as Record<string, string>;
      seenByInvocation.set(invocationId, identityHeaders(Object.entries(headers)));
      const done = new Promise<void>((resolve) => answered.set(invocationId, resolve));
      return {
        getArguments: () => Promise.resolve({ context: {}, inputs: [] }),
        invokeFunction: () => done,
        getResponse: () => Promise.resolve({ outputData: [] }),
      } satisfies InvocationModel;
    },
  };
  const streamed: Registration = {
    metadata: {
      name: 'streamed',
      bindings: { request: { type: 'httpTrigger', direction: 'in', authLevel: 'anonymous', route: 'streamed', methods: ['GET'] } },
    },
    callback: () => undefined,
  };
  let host: HttpHost;

  beforeAll(async () => {
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    host = await startHttpHost(
      standIn,
      [streamed],
      hostOptions({ routePrefix: 'api', easyAuth: { secret: Buffer.alloc(32, 1) }, awaitWorkerCapabilities: true }),
      logger,
    );
    host.useWorkerCapabilities({ HttpUri: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}/` });
  });
  afterAll(async () => {
    await host.close();
    await new Promise((resolve) => proxy.close(resolve));
  });

  it('strips what the client forged, in the forward and the trigger metadata alike, and adds the signed-in user', async () => {
    const call = async (headers: Record<string, string>) => {
      const answer = await fetch(`${host.url}/api/streamed`, { headers });
      expect(answer.status).toBe(200);
      return (await answer.json()) as { forwarded: Record<string, string>; metadata: Record<string, string> };
    };
    expect(await call(FORGED)).toEqual({ forwarded: {}, metadata: {} });

    const cookie = cookieOf(await signIn(host.url, ADA));
    const signedIn = await call({ ...FORGED, cookie });
    expect(signedIn.forwarded).toEqual(signedIn.metadata);
    expect(signedIn.forwarded['x-ms-client-principal-id']).toBe(ADA.userId);
    expect(signedIn.forwarded['x-ms-token-aad-id-token']).toBeUndefined();
    expect(decodePrincipal(signedIn.forwarded['x-ms-client-principal']).claims).toContainEqual({ typ: 'roles', val: 'editor' });
  });
});
