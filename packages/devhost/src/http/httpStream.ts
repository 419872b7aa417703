import {
  Agent,
  request as httpRequest,
  type ClientRequest,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type ServerResponse,
} from 'node:http';
import type { ProgrammingModel, Registration } from '../functionsCore';
import { invokeFunction, type InvocationModel, type RpcTypedData } from '../invoke';
import type { Logger } from '../logger';

/**
 * HTTP streaming (`app.setup({ enableHttpStream: true })`) as the Functions host and the Node worker run it. Checked against:
 *
 * - @azure/functions 4.16 (dist/azure-functions.js): `ProgrammingModel.getCapabilities` starts the library's own HTTP proxy
 *   (src/http/httpProxy `setupHttpProxy`) and answers its address as the `HttpUri` capability. `InvocationModel.getArguments`
 *   then waits for a request to that proxy carrying `x-ms-invocation-id` (`waitForProxyRequest`) and builds the handler's
 *   request from it (`createStreamRequest`): the URL from `x-forwarded-proto`, `x-forwarded-host` and the forwarded path,
 *   the body from the forwarded body, the headers from trigger metadata `Headers` and the route params from the other
 *   string trigger metadata. The handler's response is written to that proxy request's response (`sendProxyResponse`),
 *   not returned over RPC.
 * - azure-functions-nodejs-worker (`startApp`, `getWorkerCapabilities`): the entry point loads, appStart hooks run, then the
 *   worker's own capabilities go through `getCapabilities` and back to the host in the WorkerInitResponse.
 * - azure-functions-host: `GrpcWorkerChannel.SendInvocationRequest` sends the invocation, the http input reduced to an
 *   empty RpcHttp when the worker has an HttpUri (`ToRpcHttp`), and starts `DefaultHttpProxyService` forwarding the
 *   request to that URI with YARP's `IHttpForwarder` (`HttpTransformer.Default`: X-Forwarded-For/-Proto/-Host set, the
 *   Host header dropped, hop-by-hop headers dropped (`RequestUtilities._headersToExclude`), an `ActivityTimeout` of 240 s).
 *   `FunctionInvocationMiddleware` writes nothing for a proxied request: the worker's response reaches the client as it
 *   comes. `HttpRequestSizeMiddleware` sets Kestrel's per-request `MaxRequestBodySize` from
 *   FUNCTIONS_REQUEST_BODY_SIZE_LIMIT, which Kestrel enforces on any read of the body, YARP's copy included; YARP answers
 *   the resulting BadHttpRequestException's 413 when the response has not started (`HandleRequestBodyFailure`) and
 *   resets the connection otherwise. So the limit holds for streamed bodies too.
 */

/** Capabilities as the worker answers them to the host (name → value). */
export type WorkerCapabilities = Readonly<Record<string, string>>;

/** The Node worker's own capabilities, before the programming model adds its (getWorkerCapabilities). */
const NODE_WORKER_CAPABILITIES: WorkerCapabilities = {
  RawHttpBodyBytes: 'true',
  RpcHttpTriggerMetadataRemoved: 'true',
  RpcHttpBodyOnly: 'true',
  IgnoreEmptyValuedRpcHttpHeaders: 'true',
  UseNullableValueDictionaryForHttp: 'true',
  WorkerStatus: 'true',
  TypedDataCollection: 'true',
  HandlesWorkerTerminateMessage: 'true',
};

interface ModelWithCapabilities {
  getCapabilities?: (capabilities: Record<string, string>) => Promise<Record<string, string>>;
}

/**
 * Asks the programming model for the worker's capabilities, as the worker does once the app has started. It also locks
 * `app.setup()`, as in the worker, and with stream mode on starts the library's HTTP proxy.
 */
export async function workerCapabilities(model: ProgrammingModel): Promise<WorkerCapabilities> {
  const withCapabilities = model as ProgrammingModel & ModelWithCapabilities;
  const own = { ...NODE_WORKER_CAPABILITIES };
  return typeof withCapabilities.getCapabilities === 'function' ? await withCapabilities.getCapabilities(own) : own;
}

/** What the host knows of an HTTP request once it has matched a function. */
export interface StreamedCall {
  readonly registration: Registration;
  readonly bindingName: string;
  readonly params: Readonly<Record<string, string>>;
  readonly headers: Readonly<Record<string, string>>;
  readonly query: Readonly<Record<string, string>>;
}

const INVOCATION_ID_HEADER = 'x-ms-invocation-id';
/** YARP's ForwarderRequestConfig.ActivityTimeout in DefaultHttpProxyService. */
const ACTIVITY_TIMEOUT_MS = 240_000;
/**
 * YARP's RequestUtilities._headersToExclude (request and response alike), plus what its default transforms replace:
 * the Host header and the X-Forwarded-* ones. `expect` too: the devhost's own server has already answered 100-continue.
 */
const NOT_FORWARDED = new Set([
  'connection',
  'transfer-encoding',
  'keep-alive',
  'upgrade',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authentication-info',
  'proxy-authorization',
  'proxy-features',
  'proxy-instruction',
  'security-scheme',
  'alpn',
  'close',
  'http2-settings',
  'upgrade-insecure-requests',
  'te',
  'alt-svc',
]);
const REPLACED_ON_REQUEST = new Set(['host', 'expect', 'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', INVOCATION_ID_HEADER]);

/** Forwards HTTP-triggered invocations to the library's proxy (its HttpUri), streaming both ways. */
export class HttpStreamForwarder {
  // Pooled connections to the proxy, as the host's SocketsHttpHandler keeps them.
  private readonly agent = new Agent({ keepAlive: true });
  private readonly proxy: URL;

  constructor(
    httpUri: string,
    private readonly model: ProgrammingModel,
    private readonly logger: Logger,
    private readonly maxBodyBytes: number,
  ) {
    this.proxy = new URL(httpUri);
  }

  /**
   * Invokes the function and answers the client with whatever the function writes to the proxy. Resolves once the
   * response is over (sent, refused or cut off) and the invocation has ended, so the throttle holds the slot as long
   * as the host would.
   */
  serve(call: StreamedCall, request: IncomingMessage, response: ServerResponse): Promise<void> {
    let forward: ClientRequest | undefined;
    // Set when the devhost itself ends the forward, so its 'error' is not taken for the proxy's failure.
    let endedBecause: 'tooLarge' | 'timeout' | 'failed' | 'clientGone' | undefined;
    // The request's head is on a connection to the proxy: the library gets the request, whatever happens to its body.
    let delivered = false;
    // The library has taken the request from its proxy (its getArguments has returned).
    let taken = false;
    // Fails the devhost's side of the invocation when the library can no longer get the request (see getInvocationModel).
    let lose: (error: Error) => void = () => undefined;
    const lost = new Promise<never>((_, reject) => (lose = reject));
    lost.catch(() => undefined);

    const answer = (status: number) => {
      if (response.destroyed) return;
      if (!response.headersSent) response.writeHead(status).end();
      else response.destroy();
    };
    const stop = (reason: NonNullable<typeof endedBecause>) => {
      endedBecause ??= reason;
      // What is left of the client's body is read and dropped, so the connection stays usable.
      request.removeAllListeners('data');
      request.resume();
      // Cut off once its head is out (as YARP sends the head before any of the body): the library then gets the
      // request, and its body ends as aborted, rather than waiting for it for good.
      if (delivered) forward?.destroy();
    };

    const startForwarding = (invocationId: string): ClientRequest => {
      const outgoing = httpRequest({
        host: this.proxy.hostname,
        port: this.proxy.port,
        method: request.method,
        path: request.url ?? '/',
        headers: forwardedHeaders(request, invocationId),
        agent: this.agent,
      });
      // Node sends nothing before the first write: the head goes now, before any of the body, as the host's forward does.
      outgoing.flushHeaders();
      outgoing.once('socket', (socket) => {
        const sent = () =>
          // The head is written to the socket once it is assigned (or connected): then it is out.
          setImmediate(() => {
            delivered = true;
            if (endedBecause !== undefined) outgoing.destroy();
          });
        if (socket.connecting) socket.once('connect', sent);
        else sent();
      });
      outgoing.on('close', () => {
        // A forward that ended before the library took the request, because it never got out or failed on the way (the
        // proxy refused the connection, or dropped it unread), leaves the library waiting for good: the devhost's side of
        // the invocation fails instead, so the throttle's slot is freed and the invocation logged.
        if (!taken && (!delivered || endedBecause === 'failed'))
          lose(
            new Error(
              `The request did not reach function ${call.registration.metadata.name}'s HTTP stream proxy (${endedBecause ?? 'closed'}).`,
            ),
          );
      });
      outgoing.setTimeout(ACTIVITY_TIMEOUT_MS, () => {
        stop('timeout');
        answer(504);
      });
      outgoing.on('error', (error) => {
        if (endedBecause !== undefined) return;
        endedBecause = 'failed';
        this.logger.error(`The devhost could not forward the request to ${call.registration.metadata.name}`, error);
        answer(502);
      });
      outgoing.on('response', (proxied) => relay(proxied));

      // The body goes on as it arrives, never held whole; past FUNCTIONS_REQUEST_BODY_SIZE_LIMIT the forward stops.
      let received = 0;
      request.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (received > this.maxBodyBytes) {
          stop('tooLarge');
          answer(413);
          return;
        }
        if (!outgoing.write(chunk)) request.pause();
      });
      outgoing.on('drain', () => request.resume());
      request.on('end', () => {
        if (endedBecause === undefined) outgoing.end();
      });
      return outgoing;
    };

    const relay = (proxied: IncomingMessage) => {
      if (response.headersSent || response.destroyed) {
        proxied.resume();
        return;
      }
      for (const [name, value] of Object.entries(proxied.headers)) {
        if (value !== undefined && !NOT_FORWARDED.has(name)) response.setHeader(name, value);
      }
      response.writeHead(proxied.statusCode ?? 502);
      proxied.pipe(response);
      // A response the function never finishes (its body stream failed) is cut off, so the client sees it is incomplete.
      proxied.on('error', () => response.destroy());
      proxied.on('close', () => {
        if (!proxied.complete) response.destroy();
      });
    };

    // The host sends the invocation and starts the forward together: the invocation id is known once the invocation
    // model is asked for, which invokeFunction does before anything else.
    const forwardingModel: ProgrammingModel = {
      name: this.model.name,
      version: this.model.version,
      getInvocationModel: (coreContext: unknown) => {
        const invocationId = (coreContext as { invocationId?: unknown }).invocationId;
        if (typeof invocationId !== 'string') throw new Error('The invocation has no id to forward the request with.');
        forward = startForwarding(invocationId);
        const invocation = this.model.getInvocationModel(coreContext) as InvocationModel;
        return {
          // The library waits for the request at its proxy with no end (waitForProxyRequest): the wait ends here too
          // when the forward is lost before it.
          getArguments: () =>
            Promise.race([
              invocation.getArguments().then((args) => {
                taken = true;
                return args;
              }),
              lost,
            ]),
          invokeFunction: (context, inputs, callback) => invocation.invokeFunction(context, inputs, callback),
          getResponse: (context, result) => invocation.getResponse(context, result),
        } satisfies InvocationModel;
      },
    };

    const responseOver = new Promise<void>((resolve) => {
      response.once('close', () => {
        // The client went away before the answer was complete: the function's request and response are cut off too.
        if (!response.writableFinished) stop('clientGone');
        resolve();
      });
    });
    const invocationOver = invokeFunction(
      forwardingModel,
      call.registration,
      {
        // As the host sends it to an HttpUri worker: an empty RpcHttp, the request itself comes through the proxy.
        inputData: [{ name: call.bindingName, data: { http: {} } }],
        triggerMetadata: triggerMetadata(call),
      },
      this.logger,
      `This function was programmatically called via the host APIs.`,
    ).then(
      () => undefined,
      () => {
        stop('failed');
        answer(500);
      },
    );
    return Promise.all([responseOver, invocationOver]).then(() => undefined);
  }

  close(): void {
    this.agent.destroy();
  }
}

/** The HTTP trigger's binding data as the host gives it: route params, then `Headers` and `Query`. */
function triggerMetadata(call: StreamedCall): Record<string, RpcTypedData> {
  const metadata: Record<string, RpcTypedData> = {};
  for (const [name, value] of Object.entries(call.params)) metadata[name] = { string: value };
  metadata.Headers = { json: JSON.stringify(call.headers) };
  metadata.Query = { json: JSON.stringify(call.query) };
  return metadata;
}

function forwardedHeaders(request: IncomingMessage, invocationId: string): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value !== undefined && !NOT_FORWARDED.has(name) && !REPLACED_ON_REQUEST.has(name)) headers[name] = value;
  }
  headers['x-forwarded-for'] = request.socket.remoteAddress ?? '';
  headers['x-forwarded-proto'] = 'http';
  headers['x-forwarded-host'] = request.headers.host ?? 'localhost';
  // The host TryAdds its id, keeping one a client sent (and losing the invocation); the devhost's own always wins.
  headers[INVOCATION_ID_HEADER] = invocationId;
  return headers;
}
