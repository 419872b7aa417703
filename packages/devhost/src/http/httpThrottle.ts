/**
 * host.json `extensions.http.maxConcurrentRequests` and `maxOutstandingRequests`, as the Functions
 * host applies them: at most `maxConcurrentRequests` HTTP functions run at once (the rest wait their
 * turn), and at most `maxOutstandingRequests` requests are held at any time, running and waiting
 * together; any beyond are turned away at once with 429. Unset or -1: unbounded (the host's default).
 */
export interface HttpThrottleLimits {
  readonly maxConcurrentRequests: number;
  readonly maxOutstandingRequests: number;
}

export const UNBOUNDED = -1;

export class HttpThrottle {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly limits: HttpThrottleLimits) {}

  /** How many requests are held now, running and waiting. */
  get outstanding(): number {
    return this.running + this.waiting.length;
  }

  /** Resolves with a release function once the request may run, or undefined when it must be turned away (429). */
  async enter(): Promise<(() => void) | undefined> {
    const { maxConcurrentRequests, maxOutstandingRequests } = this.limits;
    if (maxOutstandingRequests !== UNBOUNDED && this.outstanding >= maxOutstandingRequests) return undefined;
    if (maxConcurrentRequests !== UNBOUNDED && this.running >= maxConcurrentRequests) {
      // The slot is handed over by release(): `running` already counts this request when it resumes.
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.running++;
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    };
  }
}

/** Reads the limits from host.json's `extensions.http`, refusing values the host would not take. */
export function httpThrottleLimits(
  http: { readonly maxConcurrentRequests?: unknown; readonly maxOutstandingRequests?: unknown } | undefined,
): HttpThrottleLimits {
  const limit = (name: 'maxConcurrentRequests' | 'maxOutstandingRequests'): number => {
    const value = http?.[name];
    if (value === undefined || value === UNBOUNDED) return UNBOUNDED;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
      throw new Error(`host.json extensions.http.${name} must be a whole number ≥ 1, or -1 for no limit; it is ${JSON.stringify(value)}.`);
    }
    return value;
  };
  return { maxConcurrentRequests: limit('maxConcurrentRequests'), maxOutstandingRequests: limit('maxOutstandingRequests') };
}
