/**
 * Open-loop load for the reliability tests: requests are sent on a fixed schedule (request i at
 * start + i / rate), whatever the server's answers, so a slow server shows as latency and never as a
 * lower rate; latency is measured from each request's scheduled time (so a client that fell behind
 * its schedule is counted too, not hidden: no coordinated omission). Keep-alive connections through
 * an http.Agent, which also honours the server's `Keep-Alive: timeout` hint.
 */
import { Agent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { seededRandom } from '../../local/seededRandom';
import { FACILITIES, PLACE_KINDS } from '../../shared/places/domain/placeDetails';

export interface PlannedRequest {
  /** What the request is, for per-kind figures (e.g. 'nearby', 'propose'). */
  readonly kind: string;
  readonly method: string;
  /** Path and query, e.g. /api/places/nearby?lat=… */
  readonly path: string;
  readonly headers?: Record<string, string>;
  /** A JSON value (sent with content-type application/json). */
  readonly json?: unknown;
  /** Anything the caller wants back with the result (an Idempotency-Key, a body to retry with…). */
  readonly tag?: unknown;
}

export interface Answer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly text: string;
  /** Sent a second time because the kept-alive connection it first went out on had just been closed by the server. */
  readonly resent?: boolean;
}

export interface RequestResult {
  readonly request: PlannedRequest;
  /** Undefined when there was no HTTP answer (`error` says why). */
  readonly answer?: Answer;
  readonly error?: string;
  /** Epoch ms: when the schedule said to send it, when it was sent, when it ended. */
  readonly scheduledAt: number;
  readonly sentAt: number;
  readonly endedAt: number;
}

export interface HttpClient {
  send(request: PlannedRequest): Promise<Answer>;
  /** Opens `connections` kept-alive connections at once (a request each to a path no function serves), ready for a burst. */
  warm(connections: number): Promise<void>;
  close(): void;
}

/**
 * A keep-alive HTTP client for one base URL; an answer of any status resolves, a transport failure
 * rejects. A request whose reused connection the server closed just as it was sent (ECONNRESET /
 * "socket hang up" on a reused socket: the keep-alive race every HTTP client has) is sent once more on
 * a fresh connection, as browsers and undici do, and marked `resent`.
 */
export function httpClient(
  baseUrl: string,
  options: { readonly maxSockets?: number; readonly timeoutMs?: number; readonly scheduling?: 'lifo' | 'fifo' } = {},
): HttpClient {
  // LIFO by default: reuse the most recently used connection, the one least likely to be closing for
  // idleness. FIFO rotates through all of them, so that a large pool stays open between bursts.
  const maxSockets = options.maxSockets ?? 256;
  const agent = new Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets, scheduling: options.scheduling ?? 'lifo' });
  const timeoutMs = options.timeoutMs ?? 30_000;
  const base = new URL(baseUrl);
  const send = (planned: PlannedRequest, resent: boolean): Promise<Answer> =>
    new Promise<Answer>((resolve, reject) => {
      const body = planned.json === undefined ? undefined : Buffer.from(JSON.stringify(planned.json));
      const request = httpRequest(
        {
          // A resend goes out on a connection of its own, which nobody can be closing.
          agent: resent ? false : agent,
          host: base.hostname,
          port: base.port,
          method: planned.method,
          path: planned.path,
          headers: { ...(body && { 'content-type': 'application/json', 'content-length': String(body.length) }), ...planned.headers },
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () =>
            resolve({
              status: response.statusCode ?? 0,
              headers: response.headers,
              text: Buffer.concat(chunks).toString('utf8'),
              ...(resent && { resent }),
            }),
          );
          response.on('error', reject);
        },
      );
      request.setTimeout(timeoutMs, () => request.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      request.on('error', (error: NodeJS.ErrnoException) => {
        const closedUnderUs = request.reusedSocket && !resent && (error.code === 'ECONNRESET' || error.message === 'socket hang up');
        if (closedUnderUs) send(planned, true).then(resolve, reject);
        else reject(error);
      });
      request.end(body);
    });
  return {
    send: (planned) => send(planned, false),
    warm: async (connections) => {
      await Promise.all(Array.from({ length: connections }, () => send({ kind: 'warm', method: 'GET', path: '/.devhost-warm-up' }, false)));
    },
    close: () => agent.destroy(),
  };
}

export interface OpenLoopOptions {
  readonly client: HttpClient;
  readonly ratePerSecond: number;
  readonly durationMs: number;
  /** The i-th request of the run. */
  readonly plan: (index: number) => PlannedRequest;
  /** Called as each request ends (e.g. to note acknowledged commands at once). */
  readonly onResult?: (result: RequestResult) => void;
  /** Stops issuing early when it returns true (checked before each request). */
  readonly stopWhen?: () => boolean;
}

export interface OpenLoopRun {
  readonly results: RequestResult[];
  readonly startedAt: number;
  /** When the last request was issued. */
  readonly issuedUntil: number;
  readonly endedAt: number;
}

/** Sends `ratePerSecond × durationMs` requests on schedule and waits for every one to end. */
export async function runOpenLoop(options: OpenLoopOptions): Promise<OpenLoopRun> {
  const total = Math.round((options.ratePerSecond * options.durationMs) / 1000);
  const intervalMs = 1000 / options.ratePerSecond;
  const results: RequestResult[] = [];
  const inFlight = new Set<Promise<void>>();
  const startedAt = Date.now();
  let issued = 0;
  let issuedUntil = startedAt;

  const issue = (index: number) => {
    const request = options.plan(index);
    const scheduledAt = startedAt + index * intervalMs;
    const sentAt = Date.now();
    const done = options.client.send(request).then(
      (answer) => ({ request, answer, scheduledAt, sentAt, endedAt: Date.now() }),
      (error: unknown) => ({ request, error: describe(error), scheduledAt, sentAt, endedAt: Date.now() }),
    );
    const tracked: Promise<void> = done.then((result: RequestResult) => {
      results.push(result);
      inFlight.delete(tracked);
      options.onResult?.(result);
    });
    inFlight.add(tracked);
  };

  while (issued < total && !(options.stopWhen?.() ?? false)) {
    const due = Math.min(total, Math.floor((Date.now() - startedAt) / intervalMs) + 1);
    while (issued < due && !(options.stopWhen?.() ?? false)) issue(issued++);
    issuedUntil = Date.now();
    // Timers are coarse: catch up on whatever fell due meanwhile at the next turn.
    await new Promise((resolve) => setTimeout(resolve, Math.max(1, Math.min(5, startedAt + issued * intervalMs - Date.now()))));
  }
  while (inFlight.size > 0) await Promise.all([...inFlight]);
  return { results, startedAt, issuedUntil, endedAt: Date.now() };
}

export interface LatencyFigures {
  readonly count: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
}

/** Nearest-rank percentiles of a list of milliseconds (all 0 for an empty list). */
export function latencyFigures(values: readonly number[]): LatencyFigures {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? 0;
  return { count: sorted.length, p50: round(at(50)), p90: round(at(90)), p99: round(at(99)), max: round(sorted.at(-1) ?? 0) };
}

export interface RunSummary {
  readonly requests: number;
  readonly durationS: number;
  /** Requests issued per second over the issuing period. */
  readonly achievedRatePerS: number;
  /** Answers per second from the first request to the last answer. */
  readonly completedRatePerS: number;
  readonly transportErrors: number;
  /** Requests sent again on a new connection after a kept-alive one closed under them (see httpClient). */
  readonly resent: number;
  readonly statuses: Record<string, number>;
  /** From scheduled time to the end of the answer. */
  readonly latencyMs: LatencyFigures;
  /** How late requests were sent against their schedule (the client's own lag). */
  readonly sendLagMs: LatencyFigures;
  readonly byKind: Record<
    string,
    {
      readonly requests: number;
      readonly statuses: Record<string, number>;
      readonly transportErrors: number;
      readonly latencyMs: LatencyFigures;
    }
  >;
}

export function summarise(run: OpenLoopRun): RunSummary {
  const { results } = run;
  const kinds = [...new Set(results.map((result) => result.request.kind))].sort();
  const statusCounts = (list: readonly RequestResult[]) => {
    const counts: Record<string, number> = {};
    for (const result of list) {
      const key = result.answer ? String(result.answer.status) : 'transport error';
      counts[key] = (counts[key] ?? 0) + 1;
    }
    return counts;
  };
  const latency = (list: readonly RequestResult[]) => latencyFigures(list.map((result) => result.endedAt - result.scheduledAt));
  const issuingS = Math.max(0.001, (run.issuedUntil - run.startedAt) / 1000);
  return {
    requests: results.length,
    durationS: round((run.endedAt - run.startedAt) / 1000),
    achievedRatePerS: round(results.length / issuingS),
    completedRatePerS: round(results.length / Math.max(0.001, (run.endedAt - run.startedAt) / 1000)),
    transportErrors: results.filter((result) => result.error !== undefined).length,
    resent: results.filter((result) => result.answer?.resent === true).length,
    statuses: statusCounts(results),
    latencyMs: latency(results),
    sendLagMs: latencyFigures(results.map((result) => result.sentAt - result.scheduledAt)),
    byKind: Object.fromEntries(
      kinds.map((kind) => {
        const list = results.filter((result) => result.request.kind === kind);
        return [
          kind,
          {
            requests: list.length,
            statuses: statusCounts(list),
            transportErrors: list.filter((result) => result.error !== undefined).length,
            latencyMs: latency(list),
          },
        ];
      }),
    ),
  };
}

/** The summary as a fixed-width table for the test log. */
export function summaryTable(title: string, summary: RunSummary): string {
  const row = (name: string, requests: number, statuses: Record<string, number>, errors: number, figures: LatencyFigures) =>
    [
      name.padEnd(10),
      String(requests).padStart(7),
      String(figures.p50).padStart(8),
      String(figures.p90).padStart(8),
      String(figures.p99).padStart(8),
      String(figures.max).padStart(8),
      String(errors).padStart(6),
      `  ${Object.entries(statuses)
        .map(([status, count]) => `${status}×${count}`)
        .join(' ')}`,
    ].join(' ');
  return [
    `${title}: ${summary.requests} requests in ${summary.durationS} s, issued at ${summary.achievedRatePerS}/s (completed ${summary.completedRatePerS}/s); ` +
      `send lag p99 ${summary.sendLagMs.p99} ms, max ${summary.sendLagMs.max} ms; resent after a keep-alive race ${summary.resent}`,
    `${'kind'.padEnd(10)} ${'count'.padStart(7)} ${'p50 ms'.padStart(8)} ${'p90 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'max ms'.padStart(8)} ${'errors'.padStart(6)}   statuses`,
    ...Object.entries(summary.byKind).map(([kind, figures]) =>
      row(kind, figures.requests, figures.statuses, figures.transportErrors, figures.latencyMs),
    ),
    row('all', summary.requests, summary.statuses, summary.transportErrors, summary.latencyMs),
  ].join('\n');
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}

function describe(error: unknown): string {
  if (error instanceof Error) return `${(error as { code?: string }).code ?? error.name}: ${error.message}`;
  return String(error);
}

// --- what the requests carry ------------------------------------------------------------------

/** Town centres across Great Britain (from local/data/uk-places.json and a few more), for proposals. */
export const GB_TOWNS: readonly { readonly name: string; readonly latitude: number; readonly longitude: number }[] = [
  { name: 'Manchester', latitude: 53.4808, longitude: -2.2426 },
  { name: 'Liverpool', latitude: 53.4084, longitude: -2.9916 },
  { name: 'Chester', latitude: 53.1934, longitude: -2.8931 },
  { name: 'Blackpool', latitude: 53.8175, longitude: -3.0357 },
  { name: 'York', latitude: 53.959, longitude: -1.0815 },
  { name: 'Leeds', latitude: 53.8008, longitude: -1.5491 },
  { name: 'Sheffield', latitude: 53.3811, longitude: -1.4701 },
  { name: 'Hull', latitude: 53.7676, longitude: -0.3274 },
  { name: 'Newcastle', latitude: 54.9783, longitude: -1.6178 },
  { name: 'Birmingham', latitude: 52.4862, longitude: -1.8904 },
  { name: 'Nottingham', latitude: 52.9548, longitude: -1.1581 },
  { name: 'Norwich', latitude: 52.6309, longitude: 1.2974 },
  { name: 'Cambridge', latitude: 52.2053, longitude: 0.1218 },
  { name: 'Oxford', latitude: 51.752, longitude: -1.2577 },
  { name: 'London', latitude: 51.5072, longitude: -0.1276 },
  { name: 'Brighton', latitude: 50.8225, longitude: -0.1372 },
  { name: 'Southampton', latitude: 50.9097, longitude: -1.4044 },
  { name: 'Bristol', latitude: 51.4545, longitude: -2.5879 },
  { name: 'Exeter', latitude: 50.7184, longitude: -3.5339 },
  { name: 'Plymouth', latitude: 50.3755, longitude: -4.1427 },
  { name: 'Cardiff', latitude: 51.4816, longitude: -3.1791 },
  { name: 'Swansea', latitude: 51.6214, longitude: -3.9436 },
  { name: 'Aberystwyth', latitude: 52.4153, longitude: -4.0829 },
  { name: 'Carlisle', latitude: 54.8925, longitude: -2.9329 },
  { name: 'Edinburgh', latitude: 55.9533, longitude: -3.1883 },
  { name: 'Glasgow', latitude: 55.8642, longitude: -4.2518 },
  { name: 'Stirling', latitude: 56.1165, longitude: -3.9369 },
  { name: 'Perth', latitude: 56.3969, longitude: -3.4372 },
  { name: 'Aberdeen', latitude: 57.1497, longitude: -2.0943 },
  { name: 'Inverness', latitude: 57.4778, longitude: -4.2247 },
];

export interface RequestMix {
  /** A valid proposal body near a GB town (a random point within about 4 km of its centre). */
  proposal(label: string): Record<string, unknown>;
  /** A valid nearby search: a random point in GB (or near a town), random radius, time and filters. */
  nearbyPath(): string;
  pick<T>(list: readonly T[]): T;
  chance(probability: number): boolean;
  /** Shuffles in place (Fisher–Yates) and returns the list. */
  shuffle<T>(list: T[]): T[];
}

/** Deterministic request contents for one run. */
export function requestMix(seed: number, now: () => number = Date.now): RequestMix {
  const random = seededRandom(seed);
  const between = (min: number, max: number) => min + random() * (max - min);
  const int = (min: number, max: number) => Math.floor(between(min, max + 1));
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
  const chance = (probability: number) => random() < probability;
  const fixed = (value: number, digits: number) => Number(value.toFixed(digits));
  return {
    pick,
    chance,
    shuffle: (list) => {
      for (let i = list.length - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1));
        [list[i], list[j]] = [list[j] as (typeof list)[number], list[i] as (typeof list)[number]];
      }
      return list;
    },
    proposal: (label) => {
      const town = pick(GB_TOWNS);
      const min = int(0, 12);
      const free = chance(0.4);
      return {
        name: `${label} near ${town.name}`,
        geolocation: {
          latitude: fixed(town.latitude + between(-0.035, 0.035), 5),
          longitude: fixed(town.longitude + between(-0.055, 0.055), 5),
        },
        kind: pick(PLACE_KINDS),
        ageRange: { min, max: int(min, 18) },
        price: free ? { free: true } : { free: false, adultGBP: fixed(between(2, 30), 2), childGBP: fixed(between(0, 15), 2) },
        facilities: FACILITIES.filter(() => chance(0.3)),
        ...(chance(0.5) && {
          openingHours: 'Sa 10:00-17:00; Su 11:00-16:00; Dec 25 off',
        }),
        ...(chance(0.5) && { website: `https://example.org/${encodeURIComponent(label)}` }),
        ...(chance(0.5) && { description: 'A place to spend a day with children. '.repeat(int(1, 10)).trim() }),
      };
    },
    nearbyPath: () => {
      // Half anywhere in GB's bounding box (often nothing near), half around a town (where places are).
      const town = chance(0.5) ? pick(GB_TOWNS) : undefined;
      const lat = town ? town.latitude + between(-0.1, 0.1) : between(50.0, 58.6);
      const lon = town ? town.longitude + between(-0.15, 0.15) : between(-5.7, 1.7);
      const params = new URLSearchParams({ lat: lat.toFixed(4), lon: lon.toFixed(4) });
      if (chance(0.8)) params.set('radiusKm', String(fixed(between(0.5, 50), 1)));
      if (chance(0.5)) params.set('at', new Date(now() + between(0, 6.9 * 24) * 3_600_000).toISOString());
      if (chance(0.4)) params.set('kind', pick(PLACE_KINDS));
      if (chance(0.4)) params.set('age', String(int(0, 18)));
      if (chance(0.3)) params.set('free', chance(0.5) ? 'true' : 'false');
      if (chance(0.5)) params.set('limit', String(int(1, 100)));
      return `/api/places/nearby?${params.toString()}`;
    },
  };
}
