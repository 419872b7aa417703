import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ProgrammingModel, Registration } from '../../src/functionsCore';
import { HttpStreamForwarder } from '../../src/http/httpStream';
import type { Logger } from '../../src/logger';

/**
 * The stream-mode forward (httpStream.ts) against a stand-in for @azure/functions' proxy, whose invocation model waits
 * for its request at the proxy with no end, as the library's waitForProxyRequest does.
 */
const registration: Registration = {
  metadata: { name: 'upload', bindings: { request: { type: 'httpTrigger', direction: 'in' } } },
  callback: () => undefined,
};

function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    info: (message) => lines.push(message),
    warn: (message) => lines.push(message),
    error: (message) => lines.push(message),
    functionLog: () => undefined,
  };
}

/** The library's side: requests reaching its proxy by invocation id, and an invocation model that waits for them. */
function proxyStandIn() {
  const arrived = new Map<string, IncomingMessage>();
  const waiting = new Map<string, (request: IncomingMessage) => void>();
  const server = createServer((proxied, answer) => {
    const id = String(proxied.headers['x-ms-invocation-id']);
    arrived.set(id, proxied);
    waiting.get(id)?.(proxied);
    // As a handler that reads the body: an aborted one fails it; a whole one is answered.
    proxied.resume();
    proxied.on('end', () => answer.writeHead(200).end('read'));
  });
  const model: ProgrammingModel = {
    name: 'stand-in',
    version: '0',
    getInvocationModel: (coreContext) => {
      const id = (coreContext as { invocationId: string }).invocationId;
      return {
        getArguments: () =>
          new Promise((resolve) => {
            const taken = (proxied: IncomingMessage) => {
              // The body's end or abort ends the invocation, as the handler reading it would.
              const body = new Promise((done, failed) => {
                proxied.on('end', done);
                proxied.on('aborted', () => failed(new Error('aborted')));
                proxied.on('error', failed);
              });
              resolve({ context: {}, inputs: [body] });
            };
            const already = arrived.get(id);
            if (already) taken(already);
            else waiting.set(id, taken);
          }),
        invokeFunction: (_context: unknown, inputs: unknown[]) => inputs[0] as Promise<unknown>,
        getResponse: () => Promise.resolve({ outputData: [] }),
      };
    },
  };
  return { server, model, arrived };
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

/** The devhost's side: a server that hands every request to the forwarder, and says when each has been served. */
async function devhostServing(forwarder: HttpStreamForwarder): Promise<{ server: Server; url: string; served: Promise<void>[] }> {
  const served: Promise<void>[] = [];
  const server = createServer((incoming, response) => {
    served.push(forwarder.serve({ registration, bindingName: 'request', params: {}, headers: {}, query: {} }, incoming, response));
  });
  return { server, url: `http://127.0.0.1:${await listen(server)}/api/upload`, served };
}

/** Posts chunked: `first`, then nothing more; resolves with the status. */
function postChunked(url: string, first: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const call = request(url, { method: 'POST', agent: false }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
      call.destroy();
    });
    call.on('error', reject);
    call.write(first);
  });
}

/** 'pending' if `promise` has not settled within `ms`. */
async function settledWithin(promise: Promise<unknown>, ms: number): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise((resolve) => (timer = setTimeout(() => resolve('pending'), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

describe('the HTTP stream forward never leaves an invocation waiting for its request', () => {
  const servers: Server[] = [];
  afterEach(async () => {
    for (const server of servers.splice(0)) {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('delivers the request to the proxy even when its first chunk is already over the size limit (413)', async () => {
    const proxy = proxyStandIn();
    servers.push(proxy.server);
    const logger = recordingLogger();
    const forwarder = new HttpStreamForwarder(`http://localhost:${await listen(proxy.server)}/`, proxy.model, logger, 1000);
    const devhost = await devhostServing(forwarder);
    servers.push(devhost.server);
    try {
      expect(await postChunked(devhost.url, Buffer.alloc(16 * 1024, 1))).toBe(413);
      // The invocation ends (failed: its body was cut off), so the throttle's slot would be freed.
      await expect(settledWithin(Promise.all(devhost.served), 5000)).resolves.not.toBe('pending');
      expect(proxy.arrived.size).toBe(1);
      expect(logger.lines).toContainEqual(expect.stringMatching(/^Executed 'Functions\.upload' \(Failed, /));
    } finally {
      forwarder.close();
    }
  });

  it('fails the invocation when the proxy cannot be reached (502), rather than waiting for good', async () => {
    // A port with nothing listening on it.
    const closed = createServer();
    const port = await listen(closed);
    await new Promise((resolve) => closed.close(resolve));
    const proxy = proxyStandIn();
    const logger = recordingLogger();
    const forwarder = new HttpStreamForwarder(`http://127.0.0.1:${port}/`, proxy.model, logger, 1000);
    const devhost = await devhostServing(forwarder);
    servers.push(devhost.server);
    try {
      expect(await postChunked(devhost.url, Buffer.alloc(10, 1))).toBe(502);
      await expect(settledWithin(Promise.all(devhost.served), 5000)).resolves.not.toBe('pending');
      expect(logger.lines).toContainEqual(expect.stringMatching(/^Executed 'Functions\.upload' \(Failed, /));
    } finally {
      forwarder.close();
    }
  });
});
