import { createHash } from 'node:crypto';
import type { MachineKeyCheck } from '../http/machineKeys';

/** The routes functions/keyCheck.http.ts registers, one per auth level: the host lets a key through only at its level. */
export const KEY_CHECK_ROUTES = { function: 'api/keys/function', admin: 'api/keys/admin' } as const;

const REMEMBER_MS = 60_000;
/**
 * How long after its minute a key the host accepted still opens the app while it is asked again in
 * the background: a busy script never waits on its own re-check (which needs one of the host's HTTP
 * slots its own requests may be holding), nor fails when the host cannot answer for a moment.
 */
const STALE_MS = 5 * 60_000;
const MAX_REMEMBERED = 1_000;
/** Checks of new keys in flight at once per instance: random keys cannot make the app call itself without bound. */
const MAX_CHECKS_IN_FLIGHT = 16;
const CHECK_TIMEOUT_MS = 5_000;
/** How long a background re-check that failed waits before the host is asked again. */
const RETRY_AFTER_FAILURE_MS = 5_000;

type Level = 'function' | 'admin';

/**
 * Asks the Functions host itself whether it knows a key, by presenting it to two functions it guards
 * at `function` and `admin` level (the host keeps its keys to itself; a Node worker is not told which
 * key a request used). Answers are remembered for a minute per key (by hash), so a machine's requests
 * cost one check a minute. A new key's requests wait for its one answer; an accepted key's re-check
 * runs in the background while its last answer stands (for up to five minutes more), so a key revoked
 * in the host stops working a minute or so after it was last confirmed, once the re-check has answered.
 * Keys the host accepted and keys it refused are remembered apart (accepted ones least recently used
 * out, refused ones oldest out), so a stream of made-up keys cannot push the real ones out; and only
 * so many checks of new keys run at once (beyond that the request is a 503), which made-up keys can
 * fill but which never stands between a recently accepted key and the app.
 */
export class HostKeyCheck implements MachineKeyCheck {
  private readonly accepted = new Map<string, { level: Level; until: number; askAgainAt?: number }>();
  private readonly refused = new Map<string, number>();
  private readonly inFlight = new Map<string, Promise<Level | undefined>>();

  constructor(
    private readonly hostBaseUrl: string,
    private readonly clock: () => number = Date.now,
  ) {}

  async levelOf(key: string): Promise<Level | undefined> {
    const id = createHash('sha256').update(key).digest('hex');
    const now = this.clock();
    const known = this.accepted.get(id);
    if (known && known.until > now) return touch(this.accepted, id, known).level;
    if (known && known.until + STALE_MS > now) {
      // Asked again in the background; if the host cannot answer, the last answer stands and the host is
      // not asked again for a few seconds (else every request of a busy script would ask, and add load
      // to a host that is already refusing it).
      if (!this.inFlight.has(id) && (known.askAgainAt ?? 0) <= now) {
        this.start(id, key).catch(() => {
          known.askAgainAt = this.clock() + RETRY_AFTER_FAILURE_MS;
        });
      }
      return touch(this.accepted, id, known).level;
    }
    if ((this.refused.get(id) ?? 0) > now) return undefined;
    const pending = this.inFlight.get(id);
    if (pending) return pending;
    if (this.inFlight.size >= MAX_CHECKS_IN_FLIGHT) throw new KeyCheckUnavailableError(undefined, new Error('too many key checks at once'));
    return this.start(id, key);
  }

  private start(id: string, key: string): Promise<Level | undefined> {
    const asking = this.ask(id, key);
    this.inFlight.set(id, asking);
    return asking;
  }

  private async ask(id: string, key: string): Promise<Level | undefined> {
    try {
      const level = (await this.accepts(KEY_CHECK_ROUTES.function, key))
        ? (await this.accepts(KEY_CHECK_ROUTES.admin, key))
          ? 'admin'
          : 'function'
        : undefined;
      const until = this.clock() + REMEMBER_MS;
      if (level === undefined) {
        this.accepted.delete(id);
        remember(this.refused, id, until);
      } else {
        this.refused.delete(id);
        remember(this.accepted, id, { level, until });
      }
      return level;
    } finally {
      this.inFlight.delete(id);
    }
  }

  private async accepts(route: string, key: string): Promise<boolean> {
    let answer: Response;
    try {
      // Never followed: a redirect (a sign-in page, a front door) must not carry the key anywhere else.
      answer = await fetch(`${this.hostBaseUrl}/${route}`, {
        headers: { 'x-functions-key': key },
        redirect: 'manual',
        signal: AbortSignal.timeout(CHECK_TIMEOUT_MS),
      });
      await answer.body?.cancel();
    } catch (error) {
      throw new KeyCheckUnavailableError(undefined, error);
    }
    if (answer.status === 204) return true;
    if (answer.status === 401) return false;
    // Anything else (3xx, 429, 5xx, or a 403 from access restrictions in front of the host) says nothing
    // about the key: the request fails as unavailable (503), not as refused.
    throw new KeyCheckUnavailableError(answer.status);
  }
}

/** Marks an entry as just used (a Map iterates in insertion order: the first entry is the least recently used). */
function touch<V>(map: Map<string, V>, id: string, value: V): V {
  map.delete(id);
  map.set(id, value);
  return value;
}

function remember<V>(map: Map<string, V>, id: string, value: V): void {
  map.delete(id);
  if (map.size >= MAX_REMEMBERED) map.delete(map.keys().next().value ?? '');
  map.set(id, value);
}

/** The host could not say whether it knows the key just now: answered as 503 with Retry-After (http/unavailable.ts). */
export class KeyCheckUnavailableError extends Error {
  readonly statusCode = 503;
  constructor(hostStatus: number | undefined, cause?: unknown) {
    const why = hostStatus === undefined ? `no answer${reasonOf(cause)}` : `HTTP ${hostStatus}`;
    super(`The host could not check the key just now (${why}).`, { cause });
    this.name = 'KeyCheckUnavailableError';
  }
}

/** For the log: the socket error's code in the cause chain (ECONNREFUSED…), else the error's name (TimeoutError…); never its text. */
function reasonOf(cause: unknown): string {
  let name: string | undefined;
  for (let error = cause, depth = 0; error instanceof Error && depth < 5; error = error.cause, depth++) {
    const { code } = error as { code?: unknown };
    if (typeof code === 'string') return `: ${code}`;
    name ??= error.name;
  }
  return name === undefined ? '' : `: ${name}`;
}

/** The host's own base URL: WEBSITE_HOSTNAME, which App Service, Core Tools and the devhost set. */
export function hostBaseUrlOf(websiteHostname: string): string {
  const local = /^(localhost|127\.0\.0\.1|\[::1\])(:\d+)?$/i.test(websiteHostname);
  return `${local ? 'http' : 'https'}://${websiteHostname}`;
}
