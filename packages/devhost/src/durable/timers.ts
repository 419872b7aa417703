/** Durable timers: a timer a checkpoint created fires, at its time on the engine's clock, as a TimerFired message. */
import { setAlarm } from './clock';
import type { Deliver } from './inbox';
import type { Live } from './live';
import type { EngineRuntime } from './runtime';
import { inboxRowKey } from './tableRows';

export interface TimerOptions {
  /** How much faster the clock runs than the wall clock (timers wait `delay / timeScale`). */
  readonly timeScale: number;
  /** With an injected clock, how often a waiting timer looks at it again. */
  readonly clockPollMs?: number;
}

export class Timers {
  constructor(
    private readonly runtime: EngineRuntime,
    private readonly deliver: Deliver,
    private readonly options: TimerOptions,
  ) {}

  /** Arms a timer unless it is armed or has fired already. */
  arm(live: Live, id: number, fireAt: number): void {
    if (live.alarms.has(id) || live.completions.has(id)) return;
    const executionId = live.executionId;
    const cancel = setAlarm(
      this.runtime.clock,
      this.options.timeScale,
      fireAt,
      () => {
        live.alarms.delete(id);
        void this.deliver(live, {
          rowKey: inboxRowKey(`timer-${executionId}-${id}`),
          arrival: this.runtime.arrival(),
          executionId,
          event: {
            EventType: 'TimerFired',
            EventId: -1,
            Timestamp: this.runtime.isoNow(),
            TimerId: id,
            FireAt: new Date(fireAt).toISOString(),
          },
        });
      },
      this.options.clockPollMs,
    );
    if (!live.completions.has(id) && this.runtime.isCurrent(live)) live.alarms.set(id, cancel);
  }
}
