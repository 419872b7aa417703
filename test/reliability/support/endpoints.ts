/**
 * The app's HTTP endpoints as the Functions host sees them, derived from the registrations (every
 * functions/*.ts imported under the devhost's `@azure/functions-core` stand-in, as
 * test/unit/functionRegistrations.test.ts does), so a route added tomorrow is fuzzed and checked
 * without anyone listing it. Also: which endpoint the host would route a request to (the devhost's
 * own route templates and precedence), so a test can tell the app's answers from the host's.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { registeredFunctions, type Registration } from 'functions-devhost/functionsCore';
import { compileRouteTemplate, type RouteTemplate } from 'functions-devhost/http/routeTemplate';
import { triggerOf } from 'functions-devhost/invoke';

export const root = join(__dirname, '..', '..', '..');

export type AuthLevel = 'anonymous' | 'function' | 'admin';

export interface RouteParameter {
  readonly name: string;
  readonly optional: boolean;
  readonly catchAll: boolean;
}

export interface HttpEndpoint {
  /** The function's name. */
  readonly name: string;
  /** The route template as registered (no route prefix). */
  readonly route: string;
  readonly methods: readonly string[];
  readonly authLevel: AuthLevel;
  readonly parameters: readonly RouteParameter[];
  readonly template: RouteTemplate;
  /** The app's API (problem+json errors), as opposed to the site's pages and files. */
  readonly isApi: boolean;
}

/**
 * Imports every function module (require, as the host loads them) under the devhost's
 * `@azure/functions-core` stand-in and returns what they registered.
 */
export function loadFunctionRegistrations(): readonly Registration[] {
  const sources = readdirSync(join(root, 'functions'), { recursive: true, encoding: 'utf8' }).filter((file) => file.endsWith('.ts'));
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  for (const source of sources) require(join(root, 'functions', source));
  const registrations = registeredFunctions();
  if (registrations.length === 0) {
    throw new Error(
      "No function registered: the jest config must map '@azure/functions-core' to the devhost's functionsCore.ts (as jest.app.config.js does).",
    );
  }
  return registrations;
}

/** The trigger type of each registered function, by name. */
export function triggerTypes(registrations: readonly Registration[]): Record<string, string> {
  return Object.fromEntries(registrations.map((registration) => [registration.metadata.name, triggerOf(registration).binding.type]));
}

/**
 * Every HTTP trigger's route, methods and auth level, from the registrations. Synchronous, so test
 * files can declare a test per endpoint.
 */
export function loadHttpEndpoints(): HttpEndpoint[] {
  const registrations = loadFunctionRegistrations();
  const endpoints = registrations.flatMap((registration): HttpEndpoint[] => {
    const { binding } = triggerOf(registration);
    if (binding.type !== 'httpTrigger') return [];
    const route = typeof binding.route === 'string' ? binding.route : registration.metadata.name;
    const methods = Array.isArray(binding.methods) ? binding.methods.map((method) => String(method).toUpperCase()) : ['GET', 'POST'];
    const authLevel = (typeof binding.authLevel === 'string' ? binding.authLevel.toLowerCase() : 'function') as AuthLevel;
    return [httpEndpoint(registration.metadata.name, route, methods, authLevel)];
  });
  if (endpoints.length === 0) throw new Error('The app registers no HTTP function.');
  return endpoints;
}

/** An endpoint from its registration's parts (also for test-only functions a test loads into the devhost). */
export function httpEndpoint(name: string, route: string, methods: readonly string[], authLevel: AuthLevel): HttpEndpoint {
  const prefix = routePrefix();
  const fullRoute = prefix === '' ? route : `${prefix}/${route}`;
  return {
    name,
    route,
    methods,
    authLevel,
    parameters: parametersOf(route),
    template: compileRouteTemplate(route),
    isApi: fullRoute.toLowerCase().startsWith('api/'),
  };
}

/** host.json's extensions.http.routePrefix ('api' when unset, as the host defaults). */
export function routePrefix(): string {
  const host = JSON.parse(readFileSync(join(root, 'host.json'), 'utf8')) as { extensions?: { http?: { routePrefix?: string } } };
  return (host.extensions?.http?.routePrefix ?? 'api').replace(/^\/+|\/+$/g, '');
}

function parametersOf(route: string): RouteParameter[] {
  return route.split('/').flatMap((segment): RouteParameter[] => {
    const match = /^\{(\*)?([A-Za-z_]\w*)(?::[a-z]+)?(\?)?\}$/.exec(segment);
    return match?.[2] ? [{ name: match[2], optional: match[3] === '?', catchAll: match[1] === '*' }] : [];
  });
}

/**
 * The URL path of an endpoint with its parameters filled: each value is percent-encoded unless it
 * is marked raw (a value already in URL form, e.g. `%2e%2e`), a catch-all segment by segment; an
 * optional parameter given `undefined` is left out.
 */
export function pathOf(endpoint: HttpEndpoint, values: Readonly<Record<string, ParamValue | undefined>>): string {
  const prefix = routePrefix();
  const segments = endpoint.route.split('/').flatMap((segment): string[] => {
    const match = /^\{(\*)?([A-Za-z_]\w*)(?::[a-z]+)?(\?)?\}$/.exec(segment);
    if (!match?.[2]) return [segment];
    const value = values[match[2]];
    if (value === undefined) return [];
    if (value.raw) return [value.text];
    return [match[1] === '*' ? value.text.split('/').map(encodeSegment).join('/') : encodeSegment(value.text)];
  });
  return `/${[...(prefix === '' ? [] : [prefix]), ...segments].join('/')}`;
}

/** encodeURIComponent, with a lone surrogate (which it refuses) sent as U+FFFD, as a UTF-8 encoder would. */
export function encodeSegment(text: string): string {
  return encodeURIComponent(text.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD'));
}

export interface ParamValue {
  readonly text: string;
  /** Put in the URL as it is (already URL syntax), rather than percent-encoded. */
  readonly raw?: boolean;
}

/** Paths the host itself serves before the app's routes (webhooks, the devhost's topic and controls). */
export function isHostPath(pathname: string): boolean {
  const path = pathname.toLowerCase();
  return path.startsWith('/runtime/') || path.startsWith('/devhost/') || path.startsWith('/admin/host/');
}

/**
 * The endpoint the host routes a request to, as the devhost (and ASP.NET routing) decides: the
 * matching template with the given method and the highest precedence; undefined: the host's 404.
 */
export function routeOf(
  endpoints: readonly HttpEndpoint[],
  method: string,
  pathname: string,
): { endpoint: HttpEndpoint; params: Record<string, string> } | undefined {
  const prefix = routePrefix().toLowerCase();
  const path = pathname.replace(/\/+$/, '');
  let relative: string | undefined = path;
  if (prefix !== '')
    relative =
      path.toLowerCase().startsWith(`/${prefix}/`) || path.toLowerCase() === `/${prefix}` ? path.slice(prefix.length + 1) : undefined;
  if (relative === undefined) return undefined;
  const candidates = endpoints
    .filter((endpoint) => endpoint.methods.includes(method.toUpperCase()))
    .map((endpoint) => ({ endpoint, params: endpoint.template.match(relative) }))
    .filter((candidate): candidate is { endpoint: HttpEndpoint; params: Record<string, string> } => candidate.params !== undefined)
    .sort((a, b) => b.endpoint.template.precedence - a.endpoint.template.precedence);
  return candidates[0];
}

/** Which key a request presents, and whether that satisfies an auth level (function routes take the master key too). */
export type KeyChoice = 'none' | 'wrong' | 'function' | 'master';

export function keyAuthorises(level: AuthLevel, key: KeyChoice): boolean {
  if (level === 'anonymous') return true;
  if (key === 'master') return true;
  return level === 'function' && key === 'function';
}

/** The least key that gets through an auth level. */
export function keyFor(level: AuthLevel): KeyChoice {
  return level === 'anonymous' ? 'none' : level === 'function' ? 'function' : 'master';
}

/** Reads an answer whole: status, headers and body text. */
export interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
}

export async function answerOf(response: Response): Promise<Answer> {
  return { status: response.status, headers: response.headers, text: await response.text() };
}

/** The media type of a content-type header, lower case, without parameters. */
export function mediaTypeOf(headers: Headers): string {
  return (headers.get('content-type') ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

/** The number of events in the store, through test/fixtures/eventCountProbe.ts. */
export async function eventCount(url: string, masterKey: string): Promise<number> {
  const response = await fetch(`${url}/api/test/event-count`, { headers: { 'x-functions-key': masterKey } });
  if (response.status !== 200)
    throw new Error(`The event count probe answered ${response.status}: is test/fixtures/eventCountProbe loaded?`);
  return ((await response.json()) as { count: number }).count;
}

export const EVENT_COUNT_PROBE = join(root, 'dist', 'test', 'fixtures', 'eventCountProbe.js');
