import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { seededRandom } from '../seededRandom';

/** The faults a local weather server can inject, whatever API it speaks. */
export interface WeatherFaults {
  /** Added before every answer (including error answers). */
  latencyMs?: number;
  /** Share of requests (0–1) answered with `errorStatus`. */
  errorRate?: number;
  /** Default 503. */
  errorStatus?: number;
  /** Share of requests (0–1) accepted and never answered, until the client gives up or the server stops. */
  hangRate?: number;
  /** The next `next` requests answer 429 with `Retry-After: retryAfterSeconds`. */
  rateLimit?: { next: number; retryAfterSeconds: number };
}

/** One request as the server saw it; `status` is 0 until answered (for ever, for a hang). */
export interface RequestEntry {
  readonly path: string;
  readonly locations: number;
  status: number;
}

/** What makes a faulty server speak one provider's API: its answers, in its own formats. */
export interface ProviderDialect {
  /** How many locations a request asks for. */
  locationsOf(url: URL): number;
  /** An answer given before any fault (a missing key, say), or undefined to go on. */
  refuse?(request: IncomingMessage, reply: Reply): (() => void) | undefined;
  /** Retry-After when the rate limit names none. */
  readonly defaultRetryAfterSeconds: number;
  tooManyRequests(reply: Reply, retryAfter: string): void;
  injectedError(reply: Reply, status: number): void;
  /** What a hang looks like on the wire (by default nothing at all); `draw` is uniform in [0, 1). */
  hang?(response: ServerResponse, draw: number): void;
  answer(request: IncomingMessage, url: URL, reply: Reply): void;
}

/** Answers one request as JSON and records its status. */
export type Reply = (status: number, body: unknown, headers?: Record<string, string>) => void;

export interface FaultyServerOptions {
  /** Default 0: a free port. */
  readonly port?: number;
  /** Default 127.0.0.1. */
  readonly host?: string;
  readonly faults?: WeatherFaults;
  /** Seed of the fault generator (default 1). */
  readonly seed?: number;
}

export interface FaultyServer {
  /** `http://host:port`, with a wildcard host shown as 127.0.0.1. */
  readonly origin: string;
  readonly requests: readonly RequestEntry[];
  /** The most requests that were open at once. */
  readonly peakInFlight: number;
  /** Time spent making answers (the dialect's work and the JSON), so a benchmark can tell it from its client's. */
  readonly busyMs: number;
  /** Replaces the faults; a `rateLimit` given here starts a new burst. */
  readonly setFaults: (faults: WeatherFaults) => void;
  readonly stop: () => Promise<void>;
}

/**
 * An HTTP server that speaks a weather provider's API with injected faults: latency, errors, hangs
 * and 429 bursts. Every request takes the same three draws from a seeded generator whatever the
 * faults, so a run with the same seed and requests repeats and one knob does not shift another's
 * sequence. stop() ends hung and keep-alive connections too.
 */
export async function startFaultyServer(dialect: ProviderDialect, options: FaultyServerOptions = {}): Promise<FaultyServer> {
  const random = seededRandom(options.seed ?? 1);
  let faults: WeatherFaults = { ...options.faults };
  let rateLimited = faults.rateLimit?.next ?? 0;
  const requests: RequestEntry[] = [];
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  let inFlight = 0;
  let peakInFlight = 0;
  let busyMs = 0;

  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const entry: RequestEntry = { path: url.pathname, locations: dialect.locationsOf(url), status: 0 };
    requests.push(entry);
    inFlight += 1;
    peakInFlight = Math.max(peakInFlight, inFlight);
    response.once('close', () => (inFlight -= 1));
    const [hangDraw, hangKind, errorDraw] = [random(), random(), random()];
    const reply: Reply = (status, body, headers = {}) => {
      entry.status = status;
      const text = JSON.stringify(body);
      response.writeHead(status, {
        'content-type': 'application/json; charset=utf-8',
        'content-length': Buffer.byteLength(text),
        ...headers,
      });
      response.end(text);
    };

    let answer = dialect.refuse?.(request, reply);
    if (answer === undefined && rateLimited > 0) {
      rateLimited -= 1;
      const retryAfter = String(faults.rateLimit?.retryAfterSeconds ?? dialect.defaultRetryAfterSeconds);
      answer = () => dialect.tooManyRequests(reply, retryAfter);
    } else if (answer === undefined && hangDraw < (faults.hangRate ?? 0)) {
      request.resume();
      dialect.hang?.(response, hangKind);
      return;
    } else if (answer === undefined && errorDraw < (faults.errorRate ?? 0)) {
      const status = faults.errorStatus ?? 503;
      answer = () => dialect.injectedError(reply, status);
    }
    const answerOf = answer ?? (() => dialect.answer(request, url, reply));
    const respond = () => {
      const started = performance.now();
      answerOf();
      busyMs += performance.now() - started;
    };

    request.resume();
    const latency = faults.latencyMs ?? 0;
    if (latency <= 0) {
      respond();
      return;
    }
    const timer = setTimeout(() => {
      timers.delete(timer);
      if (!response.destroyed) respond();
    }, latency);
    timers.add(timer);
    response.once('close', () => {
      clearTimeout(timer);
      timers.delete(timer);
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });

  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;

  let stopped: Promise<void> | undefined;
  return {
    origin: `http://${shownHost}:${port}`,
    requests,
    get peakInFlight() {
      return peakInFlight;
    },
    get busyMs() {
      return busyMs;
    },
    setFaults: (next) => {
      faults = { ...next };
      rateLimited = next.rateLimit?.next ?? 0;
    },
    stop: () => {
      stopped ??= new Promise<void>((resolve) => {
        for (const timer of timers) clearTimeout(timer);
        timers.clear();
        server.close(() => resolve());
        // Hung and keep-alive sockets would hold close() open for ever.
        for (const socket of sockets) socket.destroy();
      });
      return stopped;
    },
  };
}
