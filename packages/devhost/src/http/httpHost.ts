import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { ProgrammingModel, Registration } from '../functionsCore';
import { invokeFunction, triggerOf, type RpcTypedData } from '../invoke';
import { setCookieHeader } from './responseCookies';
import { HttpThrottle, UNBOUNDED, type HttpThrottleLimits } from './httpThrottle';
import { listen } from '../listen';
import type { Logger } from '../logger';
import { isAuthorised, type AuthLevel, type HostKeys } from './keys';
import { compileRouteTemplate, type RouteTemplate } from './routeTemplate';
import { readBody } from './readBody';
import { HttpStreamForwarder, type WorkerCapabilities } from './httpStream';
import { createEasyAuth, type EasyAuthOptions } from './easyAuth';

export interface HttpHostOptions {
  readonly port: number;
  readonly host?: string;
  readonly routePrefix: string;
  readonly keys: HostKeys;
  /** Origins allowed by CORS (local.settings.json Host.CORS); `*` allows any. */
  readonly corsOrigins: readonly string[];
  /** Larger bodies are refused with 413 (the host's default is 100 MB). */
  readonly maxBodyBytes?: number;
  /** host.json extensions.http maxConcurrentRequests / maxOutstandingRequests (default unbounded). */
  readonly throttle?: HttpThrottleLimits;
  /** Serve every function as anonymous, as Core Tools does locally (default: keys checked, as in Azure). */
  readonly skipKeyChecks?: boolean;
  /**
   * Hold the app's requests until `useWorkerCapabilities` (the devhost: the worker answers them once the app has
   * started, and the host serves no function before). Otherwise the worker is taken to have no HttpUri.
   */
  readonly awaitWorkerCapabilities?: boolean;
  /**
   * App Service Authentication (Easy Auth, Entra ID) in front of the host, emulated (easyAuth.ts): `/.auth/*` served and
   * every request's identity headers replaced. Without it, a bare host, as Core Tools runs: neither.
   */
  readonly easyAuth?: EasyAuthOptions;
}

/** FUNCTIONS_REQUEST_BODY_SIZE_LIMIT as the host reads it (bytes; default 100 MB), refusing a value it would not take. */
export function requestBodySizeLimit(settings: Readonly<Record<string, string | undefined>>): number {
  const raw = settings.FUNCTIONS_REQUEST_BODY_SIZE_LIMIT;
  if (raw === undefined || raw.trim() === '') return DEFAULT_MAX_BODY;
  const limit = Number(raw);
  if (!Number.isSafeInteger(limit) || limit < 1) {
    throw new Error(`FUNCTIONS_REQUEST_BODY_SIZE_LIMIT must be a whole number of bytes, ≥ 1; it is ${JSON.stringify(raw)}.`);
  }
  return limit;
}

/** A route the devhost itself serves (webhooks, the static page), tried before the app's routes. */
export type ExtraRoute = (request: IncomingMessage, response: ServerResponse, url: URL) => Promise<boolean> | boolean;

interface HttpFunction {
  readonly registration: Registration;
  readonly bindingName: string;
  readonly route: RouteTemplate;
  readonly methods: readonly string[];
  readonly authLevel: AuthLevel;
}

export interface HttpHost {
  readonly url: string;
  readonly server: Server;
  /** The worker's capabilities: with an `HttpUri` (the library's HTTP streaming), HTTP functions are forwarded to it. */
  useWorkerCapabilities(capabilities: WorkerCapabilities): void;
  close(): Promise<void>;
}

const DEFAULT_MAX_BODY = 100 * 1024 * 1024;
const KESTREL_KEEP_ALIVE_TIMEOUT_MS = 130_000;

/** Serves the app's HTTP-triggered functions as the Functions host does. */
export async function startHttpHost(
  model: ProgrammingModel,
  registrations: readonly Registration[],
  options: HttpHostOptions,
  logger: Logger,
  extraRoutes: readonly ExtraRoute[] = [],
): Promise<HttpHost> {
  const functions = registrations.filter((registration) => triggerOf(registration).binding.type === 'httpTrigger').map(toHttpFunction);
  const prefix = options.routePrefix.replace(/^\/+|\/+$/g, '');
  const throttle = new HttpThrottle(options.throttle ?? { maxConcurrentRequests: UNBOUNDED, maxOutstandingRequests: UNBOUNDED });
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY;
  let stream: HttpStreamForwarder | undefined;
  let capabilitiesKnown = !options.awaitWorkerCapabilities;
  let capabilitiesArrived = () => {};
  const capabilitiesReady = new Promise<void>((resolve) => (capabilitiesArrived = resolve));
  const easyAuth = options.easyAuth && createEasyAuth(options.easyAuth);

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      logger.error('The devhost failed to serve a request', error);
      if (!response.headersSent) response.writeHead(500);
      response.end();
    });
  });

  // Kestrel's keep-alive timeout (Node's own is 5 s): clients and Azure's front ends keep their
  // connections as long as the host would.
  server.keepAliveTimeout = KESTREL_KEEP_ALIVE_TIMEOUT_MS;

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    // The platform's authentication runs before the host sees the request: whatever a client says of who it is goes
    // before anything reads the headers (the devhost's own routes, key checks, the function, the stream forward).
    easyAuth?.admit(request);
    const url = new URL(request.url ?? '/', `http://${request.headers.host ?? 'localhost'}`);
    const origin = request.headers.origin;
    const corsAllowed = origin !== undefined && (options.corsOrigins.includes('*') || options.corsOrigins.includes(origin));
    if (corsAllowed) {
      response.setHeader('access-control-allow-origin', origin);
      response.setHeader('vary', 'Origin');
    }
    if (request.method === 'OPTIONS' && request.headers['access-control-request-method']) {
      if (corsAllowed) {
        response.setHeader('access-control-allow-methods', 'GET, POST, PUT, PATCH, DELETE, OPTIONS');
        response.setHeader('access-control-allow-headers', request.headers['access-control-request-headers'] ?? '*');
        response.setHeader('access-control-max-age', '600');
      }
      response.writeHead(corsAllowed ? 204 : 403).end();
      return;
    }
    // The platform's /.auth routes, at the root whatever the route prefix: they never reach the app.
    if (easyAuth && (await easyAuth.serve(request, response, url))) return;
    for (const route of extraRoutes) if (await route(request, response, url)) return;

    const path = url.pathname.replace(/\/+$/, '');
    const relative =
      prefix === ''
        ? path
        : path.toLowerCase().startsWith(`/${prefix.toLowerCase()}/`) || path.toLowerCase() === `/${prefix.toLowerCase()}`
          ? path.slice(prefix.length + 1)
          : undefined;
    const method = (request.method ?? 'GET').toUpperCase();
    const candidates =
      relative === undefined
        ? []
        : functions
            .map((fn) => ({ fn, params: fn.route.match(relative) }))
            .filter(
              (candidate): candidate is { fn: HttpFunction; params: Record<string, string> } =>
                candidate.params !== undefined && candidate.fn.methods.includes(method),
            )
            .sort((a, b) => b.fn.route.precedence - a.fn.route.precedence);
    const chosen = candidates[0];
    if (!chosen) {
      response.writeHead(404).end();
      return;
    }
    const presentedKey = headerValue(request.headers['x-functions-key']) ?? url.searchParams.get('code') ?? undefined;
    if (!options.skipKeyChecks && !isAuthorised(chosen.fn.authLevel, presentedKey, options.keys)) {
      response.writeHead(401).end();
      return;
    }
    if (!capabilitiesKnown) await capabilitiesReady;
    const release = await throttle.enter();
    if (!release) {
      // As the host: 429 at once rather than a queue that grows without bound. Retry-After is the
      // devhost's own hint (a second), so clients back off instead of hammering.
      request.resume();
      response.writeHead(429, { 'retry-after': '1' }).end();
      return;
    }
    try {
      if (stream) {
        // Streamed: the body goes to the function as it arrives (httpStream.ts); one declared too large is refused at once.
        if (Number(request.headers['content-length'] ?? '0') > maxBodyBytes) {
          request.resume();
          response.writeHead(413).end();
          return;
        }
        const { headers, query } = hostHeadersAndQuery(request, url);
        await stream.serve(
          { registration: chosen.fn.registration, bindingName: chosen.fn.bindingName, params: chosen.params, headers, query },
          request,
          response,
        );
        return;
      }
      const body = await readBody(request, maxBodyBytes);
      if (body === 'tooLarge') {
        response.writeHead(413).end();
        return;
      }
      await invokeHttp(chosen.fn, request, response, url, chosen.params, body);
    } finally {
      release();
    }
  }

  async function invokeHttp(
    fn: HttpFunction,
    request: IncomingMessage,
    response: ServerResponse,
    url: URL,
    params: Record<string, string>,
    body: Buffer,
  ): Promise<void> {
    const { headers, query } = hostHeadersAndQuery(request, url);
    // The host sends no body with GET or HEAD (@azure/functions before 4.16 refuses one).
    const method = request.method ?? 'GET';
    const withBody = !['GET', 'HEAD'].includes(method.toUpperCase());
    let result;
    try {
      result = await invokeFunction(
        model,
        fn.registration,
        {
          inputData: [
            {
              name: fn.bindingName,
              data: { http: { method, url: url.toString(), headers, query, params, ...(withBody && { body: { bytes: body } }) } },
            },
          ],
          triggerMetadata: {},
        },
        logger,
        `This function was programmatically called via the host APIs.`,
      );
    } catch {
      response.writeHead(500).end();
      return;
    }
    const http = result.returnValue?.http;
    const status = Number(http?.statusCode ?? 200);
    for (const [name, value] of Object.entries(http?.headers ?? {})) response.setHeader(name, value);
    const cookies = (http?.cookies ?? []).map(setCookieHeader);
    if (cookies.length > 0) response.appendHeader('set-cookie', cookies);
    response.writeHead(Number.isInteger(status) ? status : 200);
    response.end(bodyBytes(http?.body));
  }

  const port = await listen(server, options.port, options.host);
  return {
    url: `http://localhost:${port}`,
    server,
    useWorkerCapabilities: (capabilities) => {
      const httpUri = capabilities.HttpUri;
      if (httpUri) stream = new HttpStreamForwarder(httpUri, model, logger, maxBodyBytes);
      capabilitiesKnown = true;
      capabilitiesArrived();
    },
    close: () =>
      new Promise<void>((resolve) => {
        stream?.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** The request's headers and query as the host hands them to the worker. */
function hostHeadersAndQuery(request: IncomingMessage, url: URL): { headers: Record<string, string>; query: Record<string, string> } {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers))
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  // A repeated query parameter reaches the worker as the host gives it: its values joined by commas.
  const joined = new Map<string, string>();
  for (const [name, value] of url.searchParams) joined.set(name, joined.has(name) ? `${joined.get(name) ?? ''},${value}` : value);
  return { headers, query: Object.fromEntries(joined) };
}

function toHttpFunction(registration: Registration): HttpFunction {
  const { name, binding } = triggerOf(registration);
  const methods = Array.isArray(binding.methods) ? (binding.methods as string[]).map((m) => m.toUpperCase()) : ['GET', 'POST'];
  const authLevel = (typeof binding.authLevel === 'string' ? binding.authLevel.toLowerCase() : 'function') as AuthLevel;
  if (!['anonymous', 'function', 'admin'].includes(authLevel)) {
    throw new Error(`Function ${registration.metadata.name}: auth level "${authLevel}" is not one the devhost serves.`);
  }
  const route = typeof binding.route === 'string' ? binding.route : registration.metadata.name;
  return { registration, bindingName: name, route: compileRouteTemplate(route), methods, authLevel };
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function bodyBytes(body: RpcTypedData | null | undefined): Buffer {
  if (!body) return Buffer.alloc(0);
  if (body.bytes) return Buffer.from(body.bytes);
  if (body.string !== undefined) return Buffer.from(body.string);
  if (body.json !== undefined) return Buffer.from(body.json);
  return Buffer.alloc(0);
}
