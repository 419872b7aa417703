import { createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { dirname } from 'node:path';
import { renderMessagePage, renderSignInPage, type FieldProblem, type SignInView } from './easyAuthPages';
import { readBody } from './readBody';

/**
 * App Service Authentication ("Easy Auth") with the Microsoft Entra ID provider, as the platform runs it in front of a
 * function app, emulated the way the Static Web Apps CLI emulates its own: a local sign-in form stands in for Entra ID,
 * and whoever is typed there is the signed-in user. What the app sees is what App Service gives it:
 *
 * - Every request loses the principal and token headers the client sent (every `x-ms-client-principal*` and
 *   `x-ms-token-*`: the platform's own; a client cannot forge them) and, with a session, gets the signed-in user's
 *   `x-ms-client-principal` (base64 JSON), `-id`, `-name` and `-idp`.
 * - `/.auth/login/aad`, `/.auth/login/aad/callback`, `/.auth/me` and `/.auth/logout` are the platform's, whatever the
 *   app's route prefix; they never reach the app.
 * - Unlike the platform, which has a real identity provider behind it, anyone who reaches the form signs in as anyone:
 *   so `/.auth/*` answers only at a loopback host name (not to a DNS-rebinding page), and signing in or out by POST
 *   only from the devhost's own origin (not from another site the developer's browser has open).
 *
 * The principal's shape, checked against:
 * - Microsoft's "Work with user identities in Azure App Service authentication" (MicrosoftDocs/azure-docs,
 *   articles/app-service/configure-authentication-user-identities.md): the headers, and the decoded payload
 *   `{ auth_typ, claims: [{ typ, val }], name_typ, role_typ }`.
 * - A real Entra ID (v2) principal quoted in dasiths/NEasyAuthMiddleware issue #18: `auth_typ` "aad", `name_typ` the
 *   emailaddress URI, `role_typ` the long role URI, and claims `http://schemas.xmlsoap.org/ws/2005/05/identity/claims/
 *   emailaddress`, `name`, `http://schemas.microsoft.com/identity/claims/objectidentifier`, `preferred_username`.
 * - App roles arrive as `roles` claims although `role_typ` names the long URI (Easy Auth passes Entra v2 claims through
 *   unmapped): AzureAD/microsoft-identity-web PR #2166 ("the claim will always be roles"), kirkone/
 *   KK.AspNetCore.EasyAuthAuthentication PR #57's sample, and azure-functions-host issue #3898 (IsInRole sees none).
 *   The devhost sends roles the same way, so an app that only reads `role_typ` fails here as it would in Azure.
 */

/** A user as the sign-in form describes one. */
export interface SignedInUser {
  /** Entra's object id (any id the form accepts, here). */
  readonly userId: string;
  /** The name or email: App Service's `X-MS-CLIENT-PRINCIPAL-NAME`. */
  readonly userDetails: string;
  /** App roles, as Entra assigns them. */
  readonly roles: readonly string[];
}

export interface AuthSession extends SignedInUser {
  /** When the session ends, in ms since the epoch. */
  readonly expiresAt: number;
}

export interface Claim {
  readonly typ: string;
  readonly val: string;
}

/** `X-MS-CLIENT-PRINCIPAL`, decoded. */
export interface ClientPrincipal {
  readonly auth_typ: string;
  readonly claims: readonly Claim[];
  readonly name_typ: string;
  readonly role_typ: string;
}

export interface EasyAuthOptions {
  /** The key the session cookies are signed with (loadOrCreateAuthSecret). */
  readonly secret: Buffer;
  /** Milliseconds since the epoch (tests move it). */
  readonly now?: () => number;
}

export interface EasyAuth {
  /** Takes away the principal headers the client sent and adds the session's, as the platform does to every request. */
  admit(request: IncomingMessage): void;
  /** Answers `/.auth/*`; false for every other path. */
  serve(request: IncomingMessage, response: ServerResponse, url: URL): Promise<boolean>;
}

/** App Service's session cookie name. */
export const SESSION_COOKIE = 'AppServiceAuthSession';
/** How long a session lasts (in App Service, authsettingsV2 `login.cookieExpiration` sets it). */
export const SESSION_LIFETIME_MS = 8 * 60 * 60 * 1000;
export const IDENTITY_PROVIDER = 'aad';
export const SIGN_IN_PATH = '/.auth/login/aad';
export const SIGN_IN_CALLBACK_PATH = '/.auth/login/aad/callback';

const OBJECT_ID_CLAIM = 'http://schemas.microsoft.com/identity/claims/objectidentifier';
const EMAIL_CLAIM = 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress';
const ROLE_CLAIM_TYPE = 'http://schemas.microsoft.com/ws/2008/06/identity/claims/role';
/** `X-MS-CLIENT-PRINCIPAL`, `-ID`, `-NAME`, `-IDP` and any other the platform may add: every one is the platform's. */
const PRINCIPAL_HEADER_PREFIX = 'x-ms-client-principal';
const TOKEN_HEADER_PREFIX = 'x-ms-token-';

const USER_ID = /^[A-Za-z0-9._@:-]{1,128}$/;
const USER_ID_MAX = 128;
const USER_DETAILS_MAX = 256;
const ROLE = /^[A-Za-z0-9._-]+$/;
const ROLE_MAX = 64;
/** Keeps the cookie well under the 4 KB browsers store (20 roles of 64 characters, base64, signed: about 2.5 KB). */
const ROLES_MAX = 20;
/** The sign-in form's fields are a few hundred bytes; anything far larger is not the form. */
const FORM_MAX_BYTES = 16 * 1024;
/** Whitespace other than the space, and control characters: nothing a name or an HTTP header should hold. */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
/** `X-MS-CLIENT-PRINCIPAL-NAME` carries the name as it is: beyond Latin-1, Node cannot write it in a header. */
const BEYOND_LATIN1 = /[\u0100-\uffff]/;

// --- The session secret ---------------------------------------------------------------------------------------------

/**
 * The session cookies' signing key: the one kept in `file` (`.devhost/auth.json`, beside the keys, so sessions survive
 * restarts), else a new random one written there, readable by its owner only.
 */
export function loadOrCreateAuthSecret(file: string): Buffer {
  const stored = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { sessionSecret?: unknown }).sessionSecret : undefined;
  const secret = typeof stored === 'string' ? Buffer.from(stored, 'base64url') : Buffer.alloc(0);
  // A hand-edited or truncated secret would make forgeable cookies: a short one is replaced.
  if (secret.length >= 32) return secret;
  const fresh = randomBytes(32);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify({ sessionSecret: fresh.toString('base64url') }, null, 2)}\n`, { mode: 0o600 });
  return fresh;
}

// --- The form -------------------------------------------------------------------------------------------------------

export type SignInForm =
  | { readonly ok: true; readonly user: SignedInUser; readonly redirect: string }
  | { readonly ok: false; readonly problems: readonly FieldProblem[]; readonly view: SignInView };

/** The sign-in form's fields (`userId`, `userDetails`, `roles`, `post_login_redirect_uri`), checked. */
export function parseSignInForm(fields: URLSearchParams): SignInForm {
  const userId = (fields.get('userId') ?? '').trim();
  const userDetails = (fields.get('userDetails') ?? '').trim();
  const rolesText = fields.get('roles') ?? '';
  const redirect = safeRedirectPath(fields.get('post_login_redirect_uri'));
  const roles = [
    ...new Set(
      rolesText
        .split(',')
        .map((role) => role.trim())
        .filter(Boolean),
    ),
  ];
  const problems = [
    ...userIdProblems(userId).map((message) => ({ field: 'userId', message }) as const),
    ...userDetailsProblems(userDetails).map((message) => ({ field: 'userDetails', message }) as const),
    ...rolesProblems(roles).map((message) => ({ field: 'roles', message }) as const),
  ];
  if (problems.length > 0) return { ok: false, problems, view: { userId, userDetails, roles: rolesText.trim(), redirect, problems } };
  return { ok: true, user: { userId, userDetails, roles }, redirect };
}

function userIdProblems(userId: string): string[] {
  if (userId === '') return ['Enter a user id.'];
  if (userId.length > USER_ID_MAX) return [`The user id is ${userId.length} characters long: at most ${USER_ID_MAX} are allowed.`];
  if (!USER_ID.test(userId)) return ['The user id may only hold letters, digits and . _ @ : - (no spaces).'];
  return [];
}

function userDetailsProblems(userDetails: string): string[] {
  if (userDetails === '') return ['Enter a name or email.'];
  if (userDetails.length > USER_DETAILS_MAX)
    return [`The name or email is ${userDetails.length} characters long: at most ${USER_DETAILS_MAX} are allowed.`];
  if (CONTROL.test(userDetails)) return ['The name or email may not hold tabs, line breaks or other control characters.'];
  if (BEYOND_LATIN1.test(userDetails))
    return ['The name or email may only hold Latin-1 characters (letters such as é or ß are fine): it is sent as an HTTP header.'];
  return [];
}

function rolesProblems(roles: readonly string[]): string[] {
  if (roles.length > ROLES_MAX) return [`That is ${roles.length} roles: at most ${ROLES_MAX} are allowed.`];
  return roles.flatMap((role) => {
    const shown = role.length > 40 ? `${role.slice(0, 40)}…` : role;
    if (role.length > ROLE_MAX) return [`The role "${shown}" is ${role.length} characters long: at most ${ROLE_MAX} are allowed.`];
    if (!ROLE.test(role)) return [`The role "${shown}" may only hold letters, digits and . _ - (separate roles with commas).`];
    return [];
  });
}

function isValidUser(user: SignedInUser): boolean {
  return (
    userIdProblems(user.userId).length === 0 && userDetailsProblems(user.userDetails).length === 0 && rolesProblems(user.roles).length === 0
  );
}

/**
 * Where to send the browser after signing in or out: a path on this host only, else '/'. The URL parser has the last
 * word, since browsers drop tabs and line breaks ('/\t/evil.example' is '//evil.example' to them) and resolve dot
 * segments ('/.//evil.example', '/a/..//evil.example', '/%2e//evil.example' are '//evil.example' too). So the answer,
 * its serialisation (safe in a Location header), is what is checked: one leading '/', not '//' or '/\', which
 * browsers take for another host.
 */
export function safeRedirectPath(value: string | null | undefined): string {
  if (typeof value !== 'string' || !value.startsWith('/')) return '/';
  const base = 'http://devhost.invalid';
  let url: URL;
  try {
    url = new URL(value, base);
  } catch {
    return '/';
  }
  if (url.origin !== base) return '/';
  const path = `${url.pathname}${url.search}${url.hash}`;
  return isLocalPath(path) ? path : '/';
}

function isLocalPath(path: string): boolean {
  return path.startsWith('/') && !path.startsWith('//') && !path.startsWith('/\\');
}

// --- The session cookie ---------------------------------------------------------------------------------------------

interface SessionPayload {
  readonly uid: string;
  readonly name: string;
  readonly roles: readonly string[];
  readonly exp: number;
}

/** The cookie's value: the session, base64url JSON, then '.', then its HMAC-SHA256 under `secret`. */
export function signSession(session: AuthSession, secret: Buffer): string {
  const payload: SessionPayload = { uid: session.userId, name: session.userDetails, roles: session.roles, exp: session.expiresAt };
  const encoded = Buffer.from(JSON.stringify(payload)).toString('base64url');
  return `${encoded}.${mac(encoded, secret)}`;
}

/** The session a cookie value holds; undefined when it is not one `secret` signed, or it has expired. */
export function readSession(value: string, secret: Buffer, now: number): AuthSession | undefined {
  const [encoded, signature, ...rest] = value.split('.');
  if (encoded === undefined || signature === undefined || rest.length > 0) return undefined;
  const expected = Buffer.from(mac(encoded, secret));
  const presented = Buffer.from(signature);
  if (presented.length !== expected.length || !timingSafeEqual(presented, expected)) return undefined;
  let payload: unknown;
  try {
    payload = JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (!isSessionPayload(payload) || !(payload.exp > now)) return undefined;
  const session: AuthSession = { userId: payload.uid, userDetails: payload.name, roles: payload.roles, expiresAt: payload.exp };
  // Signed by us, so well formed; checked again so that a rule tightened since cannot let an old cookie through.
  return isValidUser(session) ? session : undefined;
}

function isSessionPayload(value: unknown): value is SessionPayload {
  if (typeof value !== 'object' || value === null) return false;
  const { uid, name, roles, exp } = value as Record<string, unknown>;
  return (
    typeof uid === 'string' &&
    typeof name === 'string' &&
    Array.isArray(roles) &&
    roles.every((role) => typeof role === 'string') &&
    typeof exp === 'number' &&
    Number.isFinite(exp)
  );
}

function mac(encoded: string, secret: Buffer): string {
  return createHmac('sha256', secret).update(encoded).digest('base64url');
}

/** The session among a request's cookies, if one is valid (a browser may send the name twice, for two paths). */
export function sessionFromCookies(cookieHeader: string | undefined, secret: Buffer, now: number): AuthSession | undefined {
  for (const part of (cookieHeader ?? '').split(';')) {
    const at = part.indexOf('=');
    if (at < 0 || part.slice(0, at).trim() !== SESSION_COOKIE) continue;
    const session = readSession(part.slice(at + 1).trim(), secret, now);
    if (session) return session;
  }
  return undefined;
}

/**
 * Set-Cookie for a session: HttpOnly (no script reads it), SameSite=Lax (sent on top-level navigations to the app, not
 * on other sites' requests), Path=/ and no expiry of its own, as App Service's. Not Secure: the devhost serves plain
 * http, where clients other than browsers on localhost would drop a Secure cookie.
 */
export function sessionCookie(value: string): string {
  return `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Lax`;
}

export function clearedSessionCookie(): string {
  return `${SESSION_COOKIE}=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; HttpOnly; SameSite=Lax`;
}

// --- The principal --------------------------------------------------------------------------------------------------

/** The claims App Service passes on for an Entra ID user, in its order (see the top of this file). */
export function principalClaims(user: SignedInUser): Claim[] {
  return [
    { typ: EMAIL_CLAIM, val: user.userDetails },
    { typ: 'name', val: user.userDetails },
    { typ: OBJECT_ID_CLAIM, val: user.userId },
    { typ: 'preferred_username', val: user.userDetails },
    ...user.roles.map((role) => ({ typ: 'roles', val: role })),
  ];
}

export function clientPrincipal(user: SignedInUser): ClientPrincipal {
  return { auth_typ: IDENTITY_PROVIDER, claims: principalClaims(user), name_typ: EMAIL_CLAIM, role_typ: ROLE_CLAIM_TYPE };
}

/** The headers App Service adds to a signed-in user's requests (lower case, as Node gives headers). */
export function principalHeaders(user: SignedInUser): Record<string, string> {
  return {
    'x-ms-client-principal': Buffer.from(JSON.stringify(clientPrincipal(user))).toString('base64'),
    'x-ms-client-principal-id': user.userId,
    'x-ms-client-principal-name': user.userDetails,
    'x-ms-client-principal-idp': IDENTITY_PROVIDER,
  };
}

/**
 * Headers only the platform sets, by prefix: the principal's (`X-MS-CLIENT-PRINCIPAL*`) and the identity provider's
 * tokens (`X-MS-TOKEN-AAD-*`, …). A client's own are never passed on, whatever follows the prefix.
 */
export function isPlatformIdentityHeader(name: string): boolean {
  const lower = name.toLowerCase();
  return lower.startsWith(PRINCIPAL_HEADER_PREFIX) || lower.startsWith(TOKEN_HEADER_PREFIX);
}

/**
 * Replaces the request's identity headers in place: the client's go, the user's (if any) come. In place, so that every
 * later reader (the devhost's own routes, key checks, the worker's headers, the stream-mode forward) sees the same;
 * `rawHeaders` too, for any reader of those.
 */
export function replaceIdentityHeaders(request: IncomingMessage, user: SignedInUser | undefined): void {
  const sent = Object.keys(request.headers).filter(isPlatformIdentityHeader);
  // The usual request, signed out and claiming no one, is left as it is.
  if (sent.length === 0 && !user) return;
  for (const name of sent) Reflect.deleteProperty(request.headers, name);
  const raw: string[] = [];
  for (let i = 0; i + 1 < request.rawHeaders.length; i += 2) {
    const name = request.rawHeaders[i] ?? '';
    if (!isPlatformIdentityHeader(name)) raw.push(name, request.rawHeaders[i + 1] ?? '');
  }
  if (user) {
    for (const [name, value] of Object.entries(principalHeaders(user))) {
      request.headers[name] = value;
      raw.push(name, value);
    }
  }
  request.rawHeaders = raw;
}

/** `/.auth/me` as App Service answers it: one entry per signed-in provider (no tokens: there is no token store). */
export function authMe(session: AuthSession | undefined): unknown[] {
  if (!session) return [];
  return [
    {
      provider_name: IDENTITY_PROVIDER,
      user_id: session.userDetails,
      user_claims: principalClaims(session),
      expires_on: new Date(session.expiresAt).toISOString(),
    },
  ];
}

// --- The routes -----------------------------------------------------------------------------------------------------

export function createEasyAuth(options: EasyAuthOptions): EasyAuth {
  const now = options.now ?? Date.now;
  const sessionOf = (request: IncomingMessage) => sessionFromCookies(request.headers.cookie, options.secret, now());

  async function signIn(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const type = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
    if (type !== 'application/x-www-form-urlencoded') {
      request.resume();
      html(response, 415, renderMessagePage('Sign-in not understood', 'The sign-in form is sent as application/x-www-form-urlencoded.'));
      return;
    }
    const body = await readBody(request, FORM_MAX_BYTES);
    if (body === 'tooLarge') {
      html(response, 413, renderMessagePage('Sign-in not understood', `The sign-in form is at most ${FORM_MAX_BYTES} bytes.`));
      return;
    }
    const form = parseSignInForm(new URLSearchParams(body.toString('utf8')));
    if (!form.ok) {
      html(response, 400, renderSignInPage(form.view));
      return;
    }
    const value = signSession({ ...form.user, expiresAt: now() + SESSION_LIFETIME_MS }, options.secret);
    response.writeHead(302, { location: form.redirect, 'set-cookie': sessionCookie(value), 'cache-control': 'no-store' }).end();
  }

  return {
    admit: (request) => replaceIdentityHeaders(request, sessionOf(request)),
    serve: async (request, response, url) => {
      const path = url.pathname.toLowerCase().replace(/\/+$/, '');
      if (path !== '/.auth' && !path.startsWith('/.auth/')) return false;
      if (!namesLoopback(request.headers.host)) {
        request.resume();
        return refused(
          response,
          'The devhost answers /.auth/* only at localhost, 127.0.0.1 or [::1] (any port): this request named another host, ' +
            'as a page on a name of its own that resolves here (DNS rebinding) would.',
        );
      }
      const method = (request.method ?? 'GET').toUpperCase();
      const reads = method === 'GET' || method === 'HEAD';
      // What changes the session (signing in, signing out by POST) must come from the devhost's own pages, not another site's.
      if ((path === SIGN_IN_CALLBACK_PATH || (path === '/.auth/logout' && method === 'POST')) && !sameOrigin(request)) {
        request.resume();
        return refused(response, 'The devhost signs in and out only on a request from its own pages: this one came from another site.');
      }
      switch (path) {
        case SIGN_IN_PATH:
          if (!reads) return notAllowed(response, 'GET, HEAD');
          html(
            response,
            200,
            renderSignInPage({
              userId: randomUUID(),
              userDetails: '',
              roles: '',
              redirect: safeRedirectPath(url.searchParams.get('post_login_redirect_uri')),
              problems: [],
            }),
          );
          return true;
        case SIGN_IN_CALLBACK_PATH:
          if (method !== 'POST') return notAllowed(response, 'POST');
          await signIn(request, response);
          return true;
        case '/.auth/me':
          if (!reads) return notAllowed(response, 'GET, HEAD');
          json(response, authMe(sessionOf(request)));
          return true;
        case '/.auth/logout':
          if (!reads && method !== 'POST') return notAllowed(response, 'GET, HEAD, POST');
          response
            .writeHead(302, {
              location: safeRedirectPath(url.searchParams.get('post_logout_redirect_uri')),
              'set-cookie': clearedSessionCookie(),
              'cache-control': 'no-store',
            })
            .end();
          return true;
        default:
          // The platform owns every /.auth path: an unknown one is not the app's either.
          response.writeHead(404).end();
          return true;
      }
    },
  };
}

/**
 * Whether the Host header names this machine by a loopback name: `localhost`, `127.0.0.1` or `[::1]`, any port. A page
 * that rebinds a name of its own to 127.0.0.1 sends that name, so it cannot reach the sign-in (nor read /.auth/me).
 */
export function namesLoopback(host: string | undefined): boolean {
  return host !== undefined && LOOPBACK_HOST.test(host);
}

const LOOPBACK_HOST = /^(?:localhost|127\.0\.0\.1|\[::1\])(?::\d{1,5})?$/i;

/**
 * Whether a request that changes the session comes from the devhost's own origin: refused when the browser says it
 * came from another site (`Sec-Fetch-Site` `cross-site` or `same-site`: another port of localhost is same-site), or its
 * `Origin` is not `http://<Host>`. Clients that send neither (curl, tests, older browsers' same-origin posts) pass.
 */
export function sameOrigin(request: IncomingMessage): boolean {
  const site = headerText(request.headers['sec-fetch-site'])?.trim().toLowerCase();
  if (site === 'cross-site' || site === 'same-site') return false;
  const origin = headerText(request.headers.origin);
  if (origin === undefined) return true;
  return origin.trim().toLowerCase() === `http://${request.headers.host ?? ''}`.toLowerCase();
}

function headerText(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(',') : value;
}

/** The pages take nothing from elsewhere and post only here; no one frames them. */
const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-content-type-options': 'nosniff',
};

function html(response: ServerResponse, status: number, page: string): void {
  response.writeHead(status, PAGE_HEADERS).end(page);
}

function json(response: ServerResponse, body: unknown): void {
  response.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' }).end(JSON.stringify(body));
}

function refused(response: ServerResponse, why: string): true {
  response
    .writeHead(403, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' })
    .end(`${why}\n`);
  return true;
}

function notAllowed(response: ServerResponse, allow: string): true {
  response.writeHead(405, { allow }).end();
  return true;
}
