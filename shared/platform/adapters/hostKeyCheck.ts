import { createHash } from 'node:crypto';
import type { MachineKeyCheck } from '../http/machineKeys';

/** The routes functions/keyCheck.http.ts registers, one per auth level: the host lets a key through only at its level. */
export const KEY_CHECK_ROUTES = { function: 'api/keys/function', admin: 'api/keys/admin' } as const;

const REMEMBER_MS = 60_000;
const MAX_REMEMBERED = 1_000;
const CHECK_TIMEOUT_MS = 5_000;

type Level = 'function' | 'admin' | undefined;

/**
 * Asks the Functions host itself whether it knows a key, by presenting it to two functions it guards
 * at `function` and `admin` level (the host keeps its keys to itself; a Node worker is not told which
 * key a request used). Answers are remembered for a minute per key (by hash), so a machine's requests
 * cost one check a minute (requests that arrive while it is asked wait for that one answer); a key
 * revoked in the host stops working within that minute.
 */
export class HostKeyCheck implements MachineKeyCheck {
  private readonly remembered = new Map<string, { level: Level; until: number }>();
  private readonly inFlight = new Map<string, Promise<Level>>();

  constructor(
    private readonly hostBaseUrl: string,
    private readonly clock: () => number = Date.now,
  ) {}

  async levelOf(key: string): Promise<Level> {
    const id = createHash('sha256').update(key).digest('hex');
    const known = this.remembered.get(id);
    if (known && known.until > this.clock()) return known.level;
    const pending = this.inFlight.get(id) ?? this.ask(id, key);
    this.inFlight.set(id, pending);
    return pending;
  }

  private async ask(id: string, key: string): Promise<Level> {
    try {
      const level: Level = (await this.accepts(KEY_CHECK_ROUTES.function, key))
        ? (await this.accepts(KEY_CHECK_ROUTES.admin, key))
          ? 'admin'
          : 'function'
        : undefined;
      if (this.remembered.size >= MAX_REMEMBERED) this.remembered.delete(this.remembered.keys().next().value ?? '');
      this.remembered.set(id, { level, until: this.clock() + REMEMBER_MS });
      return level;
    } finally {
      this.inFlight.delete(id);
    }
  }

  private async accepts(route: string, key: string): Promise<boolean> {
    let answer: Response;
    try {
      answer = await fetch(`${this.hostBaseUrl}/${route}`, {
        headers: { 'x-functions-key': key },
        signal: AbortSignal.timeout(CHECK_TIMEOUT_MS),
      });
      await answer.body?.cancel();
    } catch (error) {
      throw new KeyCheckUnavailableError(undefined, error);
    }
    if (answer.status === 204) return true;
    if (answer.status === 401) return false;
    // Anything else (429, 5xx, or a 403 from access restrictions in front of the host) says nothing about
    // the key: the request fails as unavailable (503), not as refused.
    throw new KeyCheckUnavailableError(answer.status);
  }
}

/** The host could not say whether it knows the key just now: answered as 503 with Retry-After (http/unavailable.ts). */
export class KeyCheckUnavailableError extends Error {
  readonly statusCode = 503;
  constructor(hostStatus: number | undefined, cause?: unknown) {
    super(`The host could not check the key just now (${hostStatus === undefined ? 'no answer' : `HTTP ${hostStatus}`}).`, { cause });
    this.name = 'KeyCheckUnavailableError';
  }
}

/** The host's own base URL: WEBSITE_HOSTNAME, which App Service, Core Tools and the devhost set. */
export function hostBaseUrlOf(websiteHostname: string): string {
  const local = /^(localhost|127\.0\.0\.1|\[::1\])(:\d+)?$/i.test(websiteHostname);
  return `${local ? 'http' : 'https'}://${websiteHostname}`;
}
