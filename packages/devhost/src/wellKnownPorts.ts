import { readFileSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import { Agent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { listen } from './listen';
import { COSMOS_EMULATOR_PORT } from './localConnections';

/**
 * The local services at the ports tools and SDK samples assume (Azurite's 10000-10002, the Cosmos DB
 * emulator's 8081), when nothing else holds them: code that names `UseDevelopmentStorage=true` or
 * the emulator's endpoint directly, not through a setting the devhost can rewrite, then finds them.
 * When a port is taken (a real Azurite or emulator, another devhost) the devhost uses free ports, as
 * before, and says so.
 */
export const AZURITE_PORTS = { blob: 10000, queue: 10001, table: 10002 } as const;

/** Whether every port can be listened on at 127.0.0.1 now. */
export async function portsFree(ports: readonly number[]): Promise<boolean> {
  for (const port of ports) {
    const free = await new Promise<boolean>((resolve) => {
      const probe = createServer();
      probe.once('error', () => resolve(false));
      probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
    });
    if (!free) return false;
  }
  return true;
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'upgrade']);

function withoutHopByHop(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !HOP_BY_HOP.has(name)));
}

function isAccountRead(method: string | undefined, url: string | undefined): boolean {
  return method === 'GET' && (url === '/' || url === '');
}

export interface EmulatorPort {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * The Cosmos DB emulator's port in front of the local endpoint. The emulator speaks HTTPS with a
 * self-signed certificate (clients of it turn verification off or trust it); the local endpoint
 * speaks HTTP. Each connection is told apart by its first byte (a TLS handshake starts with 0x16):
 * TLS is answered with @vercel/cosmosdb-server's own self-signed certificate and each request passed
 * on; plain HTTP is piped through unchanged. The endpoint advertises `http://` locations, which this
 * port serves too.
 */
export async function startEmulatorPort(target: string, port = COSMOS_EMULATOR_PORT): Promise<EmulatorPort> {
  const { hostname, port: targetPort } = new URL(target);
  // Connection headers are per hop: the client's "close" must not end the pooled connection behind.
  const agent = new Agent({ keepAlive: true });
  const certificates = dirname(require.resolve('@vercel/cosmosdb-server/package.json'));
  const tls = createHttpsServer(
    { cert: readFileSync(join(certificates, 'cert.pem')), key: readFileSync(join(certificates, 'key.pem')) },
    (request, response) => {
      const forwarded = httpRequest(
        { hostname, port: targetPort, method: request.method, path: request.url, headers: withoutHopByHop(request.headers), agent },
        (answer) => {
          if (!isAccountRead(request.method, request.url)) {
            response.writeHead(answer.statusCode ?? 502, answer.headers);
            answer.pipe(response);
            return;
          }
          // The account's locations name the endpoint's own http:// address, which a client that came
          // over HTTPS (with insecure connections refused, the SDK's default) would not follow: name this port.
          const chunks: Buffer[] = [];
          answer.on('data', (chunk: Buffer) => chunks.push(chunk));
          answer.on('end', () => {
            const origin = `https://${request.headers.host ?? `localhost:${String((front.address() as AddressInfo).port)}`}/`;
            const body = Buffer.from(
              Buffer.concat(chunks)
                .toString('utf8')
                .replace(/"databaseAccountEndpoint":"[^"]*"/g, `"databaseAccountEndpoint":${JSON.stringify(origin)}`),
            );
            response.writeHead(answer.statusCode ?? 502, { ...answer.headers, 'content-length': String(body.length) });
            response.end(body);
          });
        },
      );
      forwarded.once('error', () => response.destroy());
      request.pipe(forwarded);
    },
  );
  const sockets = new Set<Socket>();
  const front: Server = createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.once('error', () => socket.destroy());
    socket.once('readable', () => {
      const first: Buffer | null = socket.read(1) as Buffer | null;
      if (first === null) return;
      socket.unshift(first);
      if (first[0] === 0x16) {
        tls.emit('connection', socket);
        return;
      }
      const upstream = connect(Number(targetPort), hostname);
      upstream.once('error', () => socket.destroy());
      socket.once('close', () => upstream.destroy());
      socket.pipe(upstream).pipe(socket);
    });
  });
  return {
    port: await listen(front, port),
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        agent.destroy();
        front.close(() => resolve());
      }),
  };
}
