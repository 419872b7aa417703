/**
 * Time for the durable engine: what `context.df.currentUtcDateTime` becomes (the OrchestratorStarted
 * timestamps) and when timers fire. Tests speed it up; the engine keeps it from running backwards
 * across restarts (a sped-up clock may have run ahead of the wall clock before).
 */
export interface DurableClock {
  /** Milliseconds since the epoch. */
  now(): number;
}

/** How long a timer waits at most before looking at the clock again (setTimeout's own limit is ~24.8 days). */
const MAX_WAIT_MS = 2 ** 31 - 1;

/** The wall clock, `timeScale` times faster, never behind the latest time the engine has already used. */
export class ScaledClock implements DurableClock {
  private readonly realStart = Date.now();
  private base = this.realStart;
  constructor(readonly timeScale = 1) {
    if (!(timeScale > 0) || !Number.isFinite(timeScale)) throw new Error(`timeScale must be a positive number, not ${String(timeScale)}.`);
  }
  now(): number {
    return this.base + (Date.now() - this.realStart) * this.timeScale;
  }
  /** Moves the clock forward to at least `at` (it never goes back). */
  advanceTo(at: number): void {
    const now = this.now();
    if (at > now) this.base += at - now;
  }
}

/**
 * Calls `fire` once `clock.now() >= at`. With an injected clock the engine cannot know how fast it
 * moves, so it looks again at least every `pollMs`. Returns a cancel function.
 */
export function setAlarm(clock: DurableClock, timeScale: number, at: number, fire: () => void, pollMs: number | undefined): () => void {
  let timer: NodeJS.Timeout | undefined;
  let cancelled = false;
  const arm = () => {
    if (cancelled) return;
    const remaining = at - clock.now();
    if (remaining <= 0) {
      timer = undefined;
      fire();
      return;
    }
    let wait = Math.ceil(remaining / timeScale);
    if (pollMs !== undefined) wait = Math.min(wait, pollMs);
    timer = setTimeout(arm, Math.min(Math.max(wait, 1), MAX_WAIT_MS));
    // A pending timer must not keep a stopped devhost (or a finished test) alive.
    timer.unref();
  };
  arm();
  return () => {
    cancelled = true;
    if (timer) clearTimeout(timer);
  };
}
