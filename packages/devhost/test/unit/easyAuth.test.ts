import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  authMe,
  clientPrincipal,
  loadOrCreateAuthSecret,
  namesLoopback,
  parseSignInForm,
  principalHeaders,
  readSession,
  replaceIdentityHeaders,
  safeRedirectPath,
  sameOrigin,
  sessionCookie,
  sessionFromCookies,
  signSession,
  type AuthSession,
  type ClientPrincipal,
} from '../../src/http/easyAuth';
import { renderSignInPage } from '../../src/http/easyAuthPages';

const SECRET = Buffer.alloc(32, 7);
const NOW = Date.UTC(2025, 5, 1, 9, 0, 0);
const SESSION: AuthSession = {
  userId: '4f1c2e9a-0b7d-4c55-9a8e-2f3d6b1c0e77',
  userDetails: 'ada@example.com',
  roles: ['admin', 'editor'],
  expiresAt: NOW + 60_000,
};

describe('the devhost keeps the session secret beside its keys', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'easy-auth-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('creates a random secret once, readable by its owner only, and reuses it', () => {
    const file = join(dir, '.devhost', 'auth.json');
    const first = loadOrCreateAuthSecret(file);
    expect(first.length).toBe(32);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(loadOrCreateAuthSecret(file).equals(first)).toBe(true);
    expect(loadOrCreateAuthSecret(join(dir, 'other.json')).equals(first)).toBe(false);
  });

  it('replaces a secret too short to sign with', () => {
    const file = join(dir, 'auth.json');
    writeFileSync(file, JSON.stringify({ sessionSecret: 'c2hvcnQ' }));
    const secret = loadOrCreateAuthSecret(file);
    expect(secret.length).toBe(32);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ sessionSecret: secret.toString('base64url') });
  });
});

describe('the session cookie', () => {
  it('reads back what it signed, until it expires', () => {
    const value = signSession(SESSION, SECRET);
    expect(readSession(value, SECRET, NOW)).toEqual(SESSION);
    expect(readSession(value, SECRET, SESSION.expiresAt - 1)).toEqual(SESSION);
    expect(readSession(value, SECRET, SESSION.expiresAt)).toBeUndefined();
    expect(readSession(value, SECRET, SESSION.expiresAt + 1)).toBeUndefined();
  });

  it('is no session when signed with another secret', () => {
    expect(readSession(signSession(SESSION, Buffer.alloc(32, 8)), SECRET, NOW)).toBeUndefined();
  });

  it('is no session when tampered with: other roles, a later expiry, a changed or missing signature, junk', () => {
    const value = signSession(SESSION, SECRET);
    const [, signature] = value.split('.');
    const forged = (payload: unknown) => `${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${signature ?? ''}`;
    expect(
      readSession(
        forged({ uid: SESSION.userId, name: SESSION.userDetails, roles: ['admin', 'owner'], exp: SESSION.expiresAt }),
        SECRET,
        NOW,
      ),
    ).toBeUndefined();
    expect(
      readSession(forged({ uid: SESSION.userId, name: SESSION.userDetails, roles: SESSION.roles, exp: NOW + 1e12 }), SECRET, NOW),
    ).toBeUndefined();
    const flipped = `${value.slice(0, -1)}${value.endsWith('A') ? 'B' : 'A'}`;
    expect(readSession(flipped, SECRET, NOW)).toBeUndefined();
    expect(readSession(value.split('.')[0] ?? '', SECRET, NOW)).toBeUndefined();
    expect(readSession(`${value}.more`, SECRET, NOW)).toBeUndefined();
    expect(readSession('', SECRET, NOW)).toBeUndefined();
    expect(readSession('not a cookie', SECRET, NOW)).toBeUndefined();
  });

  it('is no session when signed but not shaped as one', () => {
    const signed = (payload: unknown) => {
      const encoded = Buffer.from(JSON.stringify(payload)).toString('base64url');
      return `${encoded}.${createHmac('sha256', SECRET).update(encoded).digest('base64url')}`;
    };
    expect(readSession(signed({ uid: SESSION.userId, name: SESSION.userDetails, roles: [], exp: NOW + 1000 }), SECRET, NOW)).toMatchObject({
      roles: [],
    });
    expect(readSession(signed({ uid: 'has space', name: 'x', roles: [], exp: NOW + 1000 }), SECRET, NOW)).toBeUndefined();
    expect(readSession(signed({ uid: 'a', name: 'x', roles: [1], exp: NOW + 1000 }), SECRET, NOW)).toBeUndefined();
    expect(readSession(signed({ uid: 'a', name: 'x', roles: [], exp: 'later' }), SECRET, NOW)).toBeUndefined();
    expect(readSession(signed(['a']), SECRET, NOW)).toBeUndefined();
  });

  it('is found among the other cookies of a Cookie header, the first valid one winning', () => {
    const value = signSession(SESSION, SECRET);
    expect(sessionFromCookies(`theme=dark; AppServiceAuthSession=${value}; other=1`, SECRET, NOW)).toEqual(SESSION);
    expect(sessionFromCookies(`AppServiceAuthSession=stale.sig; AppServiceAuthSession=${value}`, SECRET, NOW)).toEqual(SESSION);
    expect(sessionFromCookies(`XAppServiceAuthSession=${value}`, SECRET, NOW)).toBeUndefined();
    expect(sessionFromCookies(undefined, SECRET, NOW)).toBeUndefined();
  });

  it('is set HttpOnly, SameSite=Lax, Path=/, with no expiry of its own', () => {
    expect(sessionCookie('v.s')).toBe('AppServiceAuthSession=v.s; Path=/; HttpOnly; SameSite=Lax');
  });
});

describe('the redirect after sign-in or sign-out', () => {
  it.each([
    ['/', '/'],
    ['/editor', '/editor'],
    ['/plan?day=sat&kids=2#map', '/plan?day=sat&kids=2#map'],
    ['/a b', '/a%20b'],
    ['/a/../plan', '/plan'],
    ['/./plan/./x', '/plan/x'],
  ])('keeps a path on this host: %j → %j', (given, expected) => {
    expect(safeRedirectPath(given)).toBe(expected);
  });

  it.each([
    ['//evil.example/x'],
    ['/\\evil.example'],
    ['https://evil.example/'],
    ['evil.example'],
    ['javascript:alert(1)'],
    ['/\t/evil.example'],
    ['/\n/evil.example'],
    // Dot segments and encoded dots resolve to '//': what the URL parser serialises is what is checked.
    ['/.//evil.example'],
    ['/a/..//evil.example'],
    ['/%2e//evil.example'],
    ['/%2E//evil.example'],
    ['/./\\evil.example'],
    ['/a/../\\evil.example'],
    ['/.//evil.example/x?y=1#z'],
    [''],
    [null],
    [undefined],
  ])('sends anything else to "/": %j', (given) => {
    expect(safeRedirectPath(given)).toBe('/');
  });
});

describe('who may reach /.auth/*', () => {
  it.each([['localhost'], ['localhost:7071'], ['LOCALHOST:7071'], ['127.0.0.1'], ['127.0.0.1:80'], ['[::1]'], ['[::1]:7071']])(
    'a Host that names a loopback name: %j',
    (host) => {
      expect(namesLoopback(host)).toBe(true);
    },
  );

  it.each([
    [undefined],
    [''],
    ['evil.example'],
    ['evil.example:7071'],
    ['localhost.evil.example:7071'],
    ['127.0.0.1.nip.io:7071'],
    ['evil.localhost:7071'],
    ['127.0.0.2:7071'],
    ['0.0.0.0:7071'],
    ['192.168.1.10:7071'],
    ['[::ffff:127.0.0.1]:7071'],
    ['localhost:7071:1'],
    ['localhost:'],
  ])('no other Host: %j', (host) => {
    expect(namesLoopback(host)).toBe(false);
  });

  const request = (headers: Record<string, string>) => ({ headers: { host: 'localhost:7071', ...headers } }) as unknown as IncomingMessage;

  it.each([
    [{}],
    [{ 'sec-fetch-site': 'same-origin', origin: 'http://localhost:7071' }],
    [{ 'sec-fetch-site': 'none' }],
    [{ origin: 'http://LOCALHOST:7071' }],
  ])('a session change from the devhost itself, or a client that names no site: %j', (headers) => {
    expect(sameOrigin(request(headers))).toBe(true);
  });

  it.each([
    [{ 'sec-fetch-site': 'cross-site' }],
    [{ 'sec-fetch-site': 'same-site' }],
    [{ 'sec-fetch-site': 'Cross-Site', origin: 'http://localhost:7071' }],
    [{ origin: 'http://evil.example' }],
    [{ origin: 'http://localhost:3000' }],
    [{ origin: 'https://localhost:7071' }],
    [{ origin: 'null' }],
  ])('none from another site: %j', (headers) => {
    expect(sameOrigin(request(headers))).toBe(false);
  });
});

describe('the sign-in form', () => {
  const form = (fields: Record<string, string>) => parseSignInForm(new URLSearchParams(fields));

  it('takes a user id, a name or email and comma-separated roles (trimmed, empty and repeated ones dropped)', () => {
    expect(
      form({
        userId: ' user-1@x:y.z_ ',
        userDetails: ' Ada Lovelace ',
        roles: ' admin, ,editor,admin ',
        post_login_redirect_uri: '/editor',
      }),
    ).toEqual({
      ok: true,
      user: { userId: 'user-1@x:y.z_', userDetails: 'Ada Lovelace', roles: ['admin', 'editor'] },
      redirect: '/editor',
    });
    expect(form({ userId: 'u', userDetails: 'Zoë Åström' })).toMatchObject({ ok: true, user: { roles: [] }, redirect: '/' });
    expect(form({ userId: 'u', userDetails: 'x', post_login_redirect_uri: '//evil.example' })).toMatchObject({ ok: true, redirect: '/' });
  });

  it.each([
    [{ userDetails: 'x' }, 'userId', /Enter a user id/],
    [{ userId: 'a b', userDetails: 'x' }, 'userId', /letters, digits and \. _ @ : -/],
    [{ userId: 'ü', userDetails: 'x' }, 'userId', /letters, digits/],
    [{ userId: 'a'.repeat(129), userDetails: 'x' }, 'userId', /129 characters long: at most 128/],
    [{ userId: 'u' }, 'userDetails', /Enter a name or email/],
    [{ userId: 'u', userDetails: 'x'.repeat(257) }, 'userDetails', /257 characters long: at most 256/],
    [{ userId: 'u', userDetails: 'a\tb' }, 'userDetails', /control characters/],
    [{ userId: 'u', userDetails: '李雷' }, 'userDetails', /Latin-1/],
    [{ userId: 'u', userDetails: 'x', roles: 'admin, super user' }, 'roles', /The role "super user" may only hold/],
    [{ userId: 'u', userDetails: 'x', roles: 'r'.repeat(65) }, 'roles', /65 characters long: at most 64/],
    [{ userId: 'u', userDetails: 'x', roles: Array.from({ length: 21 }, (_, i) => `r${i}`).join(',') }, 'roles', /21 roles: at most 20/],
  ])('refuses %j, saying what is wrong with %s', (fields, field, message) => {
    const result = form(fields);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems).toEqual([{ field, message: expect.stringMatching(message) as unknown }]);
  });

  it('lists every problem at once and sends back what was typed, with the redirect made safe', () => {
    const result = form({ userId: 'a b', userDetails: '', roles: 'ok, no way', post_login_redirect_uri: 'https://evil.example' });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems.map((problem) => problem.field)).toEqual(['userId', 'userDetails', 'roles']);
    expect(result.view).toMatchObject({ userId: 'a b', userDetails: '', roles: 'ok, no way', redirect: '/' });
  });

  it('is an accessible page: labelled fields, hints, the stand-in said plainly, problems tied to their fields, all escaped', () => {
    const fresh = renderSignInPage({ userId: 'id-1', userDetails: '', roles: '', redirect: '/x?a=1&b="2"', problems: [] });
    expect(fresh).toMatch(/<html lang="en">/);
    expect(fresh).toMatch(/<meta name="viewport" content="width=device-width, initial-scale=1">/);
    expect(fresh).toMatch(/local stand-in for <strong>Microsoft Entra ID sign-in<\/strong>/);
    for (const field of ['userId', 'userDetails', 'roles']) {
      expect(fresh).toContain(`<label for="${field}">`);
      expect(fresh).toMatch(new RegExp(`<input id="${field}" name="${field}" [^>]*aria-describedby="${field}-hint"`));
    }
    expect(fresh).toMatch(/“admin” for an administrator/);
    expect(fresh).toContain('<input type="hidden" name="post_login_redirect_uri" value="/x?a=1&#38;b=&#34;2&#34;">');
    expect(fresh).not.toMatch(/role="alert"|<input[^>]*aria-invalid/);

    const refused = renderSignInPage({
      userId: '"><script>',
      userDetails: '',
      roles: '',
      redirect: '/',
      problems: [{ field: 'userId', message: 'The user id may only hold <letters>.' }],
    });
    expect(refused).toMatch(/<title>Error: Sign in/);
    expect(refused).toMatch(/role="alert"/);
    expect(refused).toContain('<a href="#userId">The user id may only hold &#60;letters&#62;.</a>');
    expect(refused).toMatch(/<input id="userId" [^>]*aria-describedby="userId-hint userId-problem" aria-invalid="true"/);
    expect(refused).toContain('value="&#34;&#62;&#60;script&#62;"');
    expect(refused).not.toContain('<script>');
  });
});

describe('the principal, as App Service sends it for Entra ID', () => {
  const decoded = (headers: Record<string, string>) =>
    JSON.parse(Buffer.from(headers['x-ms-client-principal'] ?? '', 'base64').toString('utf8')) as ClientPrincipal;

  it('is base64 JSON with auth_typ aad, the long name and role types, and roles as "roles" claims', () => {
    const headers = principalHeaders(SESSION);
    expect(decoded(headers)).toEqual({
      auth_typ: 'aad',
      claims: [
        { typ: 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress', val: 'ada@example.com' },
        { typ: 'name', val: 'ada@example.com' },
        { typ: 'http://schemas.microsoft.com/identity/claims/objectidentifier', val: SESSION.userId },
        { typ: 'preferred_username', val: 'ada@example.com' },
        { typ: 'roles', val: 'admin' },
        { typ: 'roles', val: 'editor' },
      ],
      name_typ: 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress',
      role_typ: 'http://schemas.microsoft.com/ws/2008/06/identity/claims/role',
    });
    expect(decoded(headers)).toEqual(clientPrincipal(SESSION));
    expect(headers).toMatchObject({
      'x-ms-client-principal-id': SESSION.userId,
      'x-ms-client-principal-name': 'ada@example.com',
      'x-ms-client-principal-idp': 'aad',
    });
    expect(headers['x-ms-client-principal']).toMatch(/^[A-Za-z0-9+/]+=*$/);
  });

  it('is what /.auth/me lists, with the user id App Service gives there (the name) and the expiry', () => {
    expect(authMe(SESSION)).toEqual([
      {
        provider_name: 'aad',
        user_id: 'ada@example.com',
        user_claims: clientPrincipal(SESSION).claims,
        expires_on: new Date(SESSION.expiresAt).toISOString(),
      },
    ]);
    expect(authMe(undefined)).toEqual([]);
  });

  it("replaces the client's identity headers, in headers and rawHeaders alike, and leaves the rest", () => {
    const request = {
      headers: {
        host: 'localhost',
        'x-ms-client-principal': 'forged',
        'x-ms-client-principal-id': 'forged',
        'x-ms-client-principal-name': 'forged',
        'x-ms-client-principal-idp': 'forged',
        'x-ms-token-aad-id-token': 'forged',
        'x-ms-client-principal-other': 'forged',
        'x-ms-client-principal-roles': 'forged',
        'x-ms-client-principalx': 'forged',
        'x-ms-client-princip': 'kept',
        'x-ms-tokens': 'kept',
        cookie: 'a=1',
      },
      rawHeaders: [
        'Host',
        'localhost',
        'X-MS-CLIENT-PRINCIPAL',
        'forged',
        'X-MS-TOKEN-AAD-ACCESS-TOKEN',
        'forged',
        'X-MS-Client-Principal-Other',
        'forged',
        'X-MS-Client-Princip',
        'kept',
        'Cookie',
        'a=1',
      ],
    } as unknown as IncomingMessage;
    replaceIdentityHeaders(request, undefined);
    expect(request.headers).toEqual({ host: 'localhost', 'x-ms-client-princip': 'kept', 'x-ms-tokens': 'kept', cookie: 'a=1' });
    expect(request.rawHeaders).toEqual(['Host', 'localhost', 'X-MS-Client-Princip', 'kept', 'Cookie', 'a=1']);

    replaceIdentityHeaders(request, SESSION);
    expect(request.headers).toMatchObject(principalHeaders(SESSION));
    expect(request.rawHeaders.slice(6)).toEqual(Object.entries(principalHeaders(SESSION)).flat());
  });
});
