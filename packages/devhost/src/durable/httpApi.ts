/**
 * The Durable Task extension's HTTP API, as durable-functions' DurableClient calls it.
 *
 * The client reads the `durableClient` input binding (`clientInputData()` below). When it has an
 * `rpcBaseUrl` — the extension gives one to out-of-process workers — every client call goes there:
 * `orchestrators/{name}[/{id}]`, `instances/[{id}]`, `instances/{id}/raiseEvent/{event}`,
 * `instances/{id}/terminate?reason=`, with no key (the extension serves it on a loopback-only
 * port). `creationUrls`/`managementUrls` are only used to build the links of
 * `createCheckStatusResponse` / `createHttpManagementPayload`: those point at the public webhooks
 * (`/runtime/webhooks/durabletask/…` on the devhost port), which take the master key or the
 * extension's system key as `code` or `x-functions-key` — the links carry the system key, never the
 * master key. (`requiredQueryStringParameters` is only used for entity URLs when there is no rpcBaseUrl.)
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { listen } from '../listen';
import type { ExtraRoute } from '../http/httpHost';
import type { HostKeys } from '../http/keys';
import type { Logger } from '../logger';
import { DurableRequestError, type DurableEngine, type InstanceQuery, type InstanceStatus } from './engine';
import { handleEntityRequest } from './entityApi';
import { isTerminal, RUNTIME_STATUSES } from './protocol';

export const WEBHOOK_PATH = '/runtime/webhooks/durabletask';
const RPC_PATH = '/durabletask';
const MAX_BODY_BYTES = 16 * 1024 * 1024;

/** The `durableClient` input binding's value (durable-functions' OrchestrationClientInputData). */
export interface DurableClientInputData {
  readonly taskHubName: string;
  readonly creationUrls: { readonly createNewInstancePostUri: string; readonly createAndWaitOnNewInstancePostUri: string };
  readonly managementUrls: {
    readonly id: string;
    readonly statusQueryGetUri: string;
    readonly sendEventPostUri: string;
    readonly terminatePostUri: string;
    readonly rewindPostUri: string;
    readonly purgeHistoryDeleteUri: string;
    readonly restartPostUri: string;
    readonly suspendPostUri: string;
    readonly resumePostUri: string;
  };
  readonly baseUrl: string;
  readonly requiredQueryStringParameters: string;
  readonly rpcBaseUrl: string;
  readonly httpBaseUrl: string;
}

export interface DurableHttpApi {
  /** The public webhooks, to serve on the devhost port. */
  readonly route: ExtraRoute;
  /** The loopback endpoint the client uses. */
  readonly rpcBaseUrl: string;
  clientInputData(): DurableClientInputData;
  close(): Promise<void>;
}

interface Reply {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
}

const INSTANCE_PLACEHOLDER = 'INSTANCEID';

/** The extension's system key for its webhooks ("durabletask_extension"), derived from the master key so it survives restarts. */
export function durableSystemKey(keys: HostKeys): string {
  return createHmac('sha256', keys.masterKey).update('durabletask_extension').digest('base64url');
}

export async function startDurableHttpApi(
  engine: DurableEngine,
  options: { keys: HostKeys; baseUrl: () => string; logger: Logger },
): Promise<DurableHttpApi> {
  const systemKey = durableSystemKey(options.keys);
  const hub = engine.hubName;
  const publicBase = () => `${options.baseUrl().replace(/\/+$/, '')}${WEBHOOK_PATH}`;
  const hubQuery = () => `taskHub=${encodeURIComponent(hub)}&connection=Storage&code=${systemKey}`;

  const clientInputData = (): DurableClientInputData => {
    const base = publicBase();
    const instance = `${base}/instances/${INSTANCE_PLACEHOLDER}`;
    return {
      taskHubName: hub,
      creationUrls: {
        createNewInstancePostUri: `${base}/orchestrators/{functionName}[/{instanceId}]?code=${systemKey}`,
        createAndWaitOnNewInstancePostUri: `${base}/orchestrators/{functionName}[/{instanceId}]?timeout={timeoutInSeconds}&pollingInterval={intervalInSeconds}&code=${systemKey}`,
      },
      managementUrls: {
        id: INSTANCE_PLACEHOLDER,
        statusQueryGetUri: `${instance}?${hubQuery()}`,
        sendEventPostUri: `${instance}/raiseEvent/{eventName}?${hubQuery()}`,
        terminatePostUri: `${instance}/terminate?reason={text}&${hubQuery()}`,
        rewindPostUri: `${instance}/rewind?reason={text}&${hubQuery()}`,
        purgeHistoryDeleteUri: `${instance}?${hubQuery()}`,
        restartPostUri: `${instance}/restart?${hubQuery()}`,
        suspendPostUri: `${instance}/suspend?reason={text}&${hubQuery()}`,
        resumePostUri: `${instance}/resume?reason={text}&${hubQuery()}`,
      },
      baseUrl: base,
      requiredQueryStringParameters: `code=${systemKey}`,
      rpcBaseUrl,
      httpBaseUrl: base,
    };
  };

  const managementPayload = (instanceId: string) => {
    const urls = clientInputData().managementUrls;
    const id = encodeURIComponent(instanceId);
    const fill = (template: string) => template.replace(INSTANCE_PLACEHOLDER, id);
    return {
      id: instanceId,
      statusQueryGetUri: fill(urls.statusQueryGetUri),
      sendEventPostUri: fill(urls.sendEventPostUri),
      terminatePostUri: fill(urls.terminatePostUri),
      rewindPostUri: fill(urls.rewindPostUri),
      purgeHistoryDeleteUri: fill(urls.purgeHistoryDeleteUri),
      restartPostUri: fill(urls.restartPostUri),
      suspendPostUri: fill(urls.suspendPostUri),
      resumePostUri: fill(urls.resumePostUri),
    };
  };

  const handle = async (method: string, path: string, url: URL, request: IncomingMessage): Promise<Reply> => {
    const requestedHub = url.searchParams.get('taskHub');
    if (requestedHub && requestedHub.toLowerCase() !== hub.toLowerCase()) {
      return text(400, `The devhost serves one task hub, '${hub}', not '${requestedHub}'.`);
    }
    const segments = path.split('/').filter(Boolean).map(decodeSegment);
    const [area, first, second, third] = segments;
    if (area === 'orchestrators' && first !== undefined && segments.length <= 3 && method === 'POST') {
      const input = await readJsonBody(request);
      const started = await engine.startNew({
        name: first,
        ...(second !== undefined ? { instanceId: second } : {}),
        ...(input !== undefined ? { input } : {}),
        ...versionOf(url),
      });
      const timeoutSeconds = Number(url.searchParams.get('timeout') ?? '0');
      if (timeoutSeconds > 0)
        return waitForCompletion(started.instanceId, timeoutSeconds, Number(url.searchParams.get('pollingInterval') ?? '1'));
      return accepted(started.instanceId);
    }
    if (area === 'instances' && segments.length === 1) {
      const query = parseQuery(url);
      if (method === 'GET') {
        // The client pages by sending the previous answer's continuation token as a header.
        const token = headerValue(request.headers['x-ms-continuation-token']);
        if (token) Object.assign(query, { continuationToken: token });
        const page = await engine.query(query);
        return {
          status: 200,
          body: page.statuses,
          ...(page.continuationToken ? { headers: { 'x-ms-continuation-token': page.continuationToken } } : {}),
        };
      }
      if (method === 'DELETE') {
        const deleted = await engine.purgeBy(query);
        return deleted > 0 ? { status: 200, body: { instancesDeleted: deleted } } : text(404, 'No instances matched.');
      }
    }
    if (area === 'instances' && first !== undefined && segments.length === 2) {
      if (method === 'GET') {
        const flag = (name: string) => url.searchParams.get(name)?.toLowerCase() === 'true';
        const status = await engine.status(first, {
          showHistory: flag('showHistory'),
          showHistoryOutput: flag('showHistoryOutput'),
          showInput: url.searchParams.get('showInput')?.toLowerCase() !== 'false',
        });
        if (!status) return { status: 404, body: { message: `No instance with ID '${first}' found.` } };
        return statusReply(status);
      }
      if (method === 'DELETE') {
        const deleted = await engine.purge(first);
        return deleted > 0
          ? { status: 200, body: { instancesDeleted: deleted } }
          : text(404, `No finished instance with ID '${first}' found.`);
      }
    }
    if (area === 'instances' && first !== undefined && method === 'POST') {
      if (second === 'raiseEvent' && third !== undefined && segments.length === 4) {
        await engine.raiseEvent(first, third, await readJsonBody(request));
        return { status: 202 };
      }
      if (second === 'terminate' && segments.length === 3) {
        await engine.terminate(first, url.searchParams.get('reason') ?? undefined);
        return { status: 202 };
      }
      if (second !== undefined && ['suspend', 'resume', 'rewind', 'restart'].includes(second) && segments.length === 3) {
        return text(501, `The devhost's durable engine does not support ${second}.`);
      }
    }
    if (area === 'entities')
      return handleEntityRequest(engine.entities, {
        method,
        segments: segments.slice(1),
        url,
        ...withToken(headerValue(request.headers['x-ms-continuation-token'])),
        body: () => readJsonBody(request),
      });
    return text(404, `No durable API at ${method} ${path}.`);
  };

  const statusReply = (status: InstanceStatus): Reply => {
    const running = !isTerminal(status.runtimeStatus);
    return running
      ? { status: 202, body: status, headers: { location: managementPayload(status.instanceId).statusQueryGetUri, 'retry-after': '10' } }
      : { status: 200, body: status };
  };

  const accepted = (instanceId: string): Reply => {
    const payload = managementPayload(instanceId);
    return { status: 202, body: payload, headers: { location: payload.statusQueryGetUri, 'retry-after': '10' } };
  };

  const waitForCompletion = async (instanceId: string, timeoutSeconds: number, intervalSeconds: number): Promise<Reply> => {
    const deadline = Date.now() + timeoutSeconds * 1000;
    for (;;) {
      const status = await engine.status(instanceId);
      if (status && status.runtimeStatus === 'Completed') return { status: 200, body: status.output };
      if (status && isTerminal(status.runtimeStatus)) return { status: 200, body: status };
      if (Date.now() >= deadline) return accepted(instanceId);
      await new Promise((resolve) => setTimeout(resolve, Math.max(50, Math.min(intervalSeconds * 1000, deadline - Date.now()))));
    }
  };

  const serve = async (path: string, url: URL, request: IncomingMessage, response: ServerResponse): Promise<void> => {
    let reply: Reply;
    try {
      reply = await handle((request.method ?? 'GET').toUpperCase(), path, url, request);
    } catch (error) {
      if (error instanceof DurableRequestError) reply = text(error.status, error.message);
      else if (error instanceof BodyError) reply = text(error.status, error.message);
      else {
        options.logger.error('Durable: the management API failed', error);
        reply = text(500, error instanceof Error ? error.message : String(error));
      }
    }
    const body = reply.body === undefined ? '' : JSON.stringify(reply.body);
    response.writeHead(reply.status, { ...(body ? { 'content-type': 'application/json; charset=utf-8' } : {}), ...reply.headers });
    response.end(body);
  };

  // The client's endpoint: loopback only, no key (as the extension's local RPC endpoint).
  const rpc = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const path = url.pathname;
    if (path !== RPC_PATH && !path.startsWith(`${RPC_PATH}/`)) {
      response.writeHead(404).end();
      return;
    }
    void serve(path.slice(RPC_PATH.length), url, request, response);
  });
  const rpcBaseUrl = `http://127.0.0.1:${await listen(rpc, 0)}${RPC_PATH}/`;

  const route: ExtraRoute = async (request, response, url) => {
    const path = url.pathname;
    if (path.toLowerCase() !== WEBHOOK_PATH && !path.toLowerCase().startsWith(`${WEBHOOK_PATH}/`)) return false;
    const presented = headerValue(request.headers['x-functions-key']) ?? url.searchParams.get('code') ?? undefined;
    if (presented === undefined || !(sameSecret(presented, systemKey) || sameSecret(presented, options.keys.masterKey))) {
      response.writeHead(401).end();
      return true;
    }
    await serve(path.slice(WEBHOOK_PATH.length), url, request, response);
    return true;
  };

  return {
    route,
    rpcBaseUrl,
    clientInputData,
    close: () =>
      new Promise<void>((resolve) => {
        rpc.close(() => resolve());
        rpc.closeAllConnections();
      }),
  };
}

class BodyError extends Error {
  constructor(
    readonly status: 400 | 413,
    message: string,
  ) {
    super(message);
  }
}

/** The body as JSON text (validated), or undefined when empty. */
async function readJsonBody(request: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new BodyError(413, `The body is larger than ${MAX_BODY_BYTES} bytes.`);
    chunks.push(chunk);
  }
  const body = Buffer.concat(chunks).toString('utf8').trim();
  if (body === '') return undefined;
  try {
    JSON.parse(body);
  } catch {
    throw new BodyError(400, 'The body is not JSON.');
  }
  return body;
}

function parseQuery(url: URL): InstanceQuery {
  const statuses = url.searchParams
    .getAll('runtimeStatus')
    .flatMap((value) => value.split(','))
    .map((value) => value.trim())
    .filter(Boolean)
    .map((value) => {
      const status = RUNTIME_STATUSES.find((candidate) => candidate.toLowerCase() === value.toLowerCase());
      if (!status) throw new BodyError(400, `Unknown runtimeStatus '${value}'.`);
      return status;
    });
  const time = (name: string) => {
    const value = url.searchParams.get(name);
    if (value === null || value === '') return undefined;
    const at = Date.parse(value);
    if (Number.isNaN(at)) throw new BodyError(400, `${name} is not a date: '${value}'.`);
    return at;
  };
  const top = url.searchParams.get('top');
  const createdTimeFrom = time('createdTimeFrom');
  const createdTimeTo = time('createdTimeTo');
  const prefix = url.searchParams.get('instanceIdPrefix');
  return {
    ...(statuses.length > 0 ? { runtimeStatus: statuses } : {}),
    ...(createdTimeFrom !== undefined ? { createdTimeFrom } : {}),
    ...(createdTimeTo !== undefined ? { createdTimeTo } : {}),
    ...(prefix ? { instanceIdPrefix: prefix } : {}),
    ...(top && Number(top) > 0 ? { top: Number(top) } : {}),
    showInput: url.searchParams.get('showInput')?.toLowerCase() !== 'false',
  };
}

function versionOf(url: URL): { version?: string } {
  const version = url.searchParams.get('version');
  return version ? { version } : {};
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function text(status: number, message: string): Reply {
  return { status, body: { message } };
}

function withToken(token: string | undefined): { continuationToken?: string } {
  return token ? { continuationToken: token } : {};
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function sameSecret(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
