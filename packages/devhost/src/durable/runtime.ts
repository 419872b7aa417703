/**
 * What every part of the engine shares: the instances it has loaded, the clock and the order messages
 * arrive in, per-instance locks, and the count of work in flight that idle() and stop() wait for.
 */
import type { Logger } from '../logger';
import type { DurableClock } from './clock';
import { lastStarted } from './history';
import type { Live } from './live';
import type { DurableStore } from './store';
import { inboxRowKey, type InboxMessage, type InstanceRow } from './tableRows';

/** After an unexpected failure (storage down), how long before the work is tried again. */
export const RETRY_AFTER_ERROR_MS = 1000;

export class EngineRuntime {
  /** Instances that are not finished, by id. */
  readonly live = new Map<string, Live>();
  stopping = false;
  private readonly locks = new Map<string, Promise<unknown>>();
  private readonly busy = new Map<string, number>();
  private busyTotal = 0;
  private readonly idleWaiters: { root: string | undefined; resolve: () => void }[] = [];
  private arrivals = 0;

  constructor(
    readonly store: DurableStore,
    readonly logger: Logger,
    readonly clock: DurableClock,
  ) {}

  /** Whether `live` is still its instance's state in memory (not finished, replaced or reloaded since). */
  isCurrent(live: Live): boolean {
    return this.live.get(live.id) === live;
  }

  /** Drops an instance from memory: its timers stop, late messages for it are ignored. */
  forget(live: Live): void {
    live.cancelAlarms();
    if (live.retryTimer) clearTimeout(live.retryTimer);
    if (live.blockedTimer) clearTimeout(live.blockedTimer);
    if (this.isCurrent(live)) this.live.delete(live.id);
  }

  /** The time of an episode starting now: never before the instance's last one. */
  episodeTime(live: Live): number {
    return Math.max(this.clock.now(), lastStarted(live.history));
  }

  arrival(): string {
    return `${Math.floor(this.clock.now()).toString().padStart(15, '0')}.${(this.arrivals++).toString().padStart(9, '0')}`;
  }

  isoNow(): string {
    return new Date(this.clock.now()).toISOString();
  }

  startMessage(row: InstanceRow): InboxMessage {
    return {
      rowKey: inboxRowKey(`start-${row.executionId}`),
      arrival: this.arrival(),
      executionId: row.executionId,
      event: {
        EventType: 'ExecutionStarted',
        EventId: -1,
        Timestamp: this.isoNow(),
        Name: row.name,
        ...(row.version !== undefined ? { Version: row.version } : {}),
        ...(row.input !== undefined ? { Input: row.input } : {}),
        ...(row.parent ? { ParentInstance: row.parent } : {}),
        OrchestrationInstance: { InstanceId: row.instanceId, ExecutionId: row.executionId },
      },
    };
  }

  async withLock<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.locks.get(key) ?? Promise.resolve();
    const next = previous.then(task, task);
    const settled = next.catch(() => undefined);
    this.locks.set(key, settled);
    try {
      return await next;
    } finally {
      if (this.locks.get(key) === settled) this.locks.delete(key);
    }
  }

  /** Counts work for idle() and logs its failure (nothing tracked is awaited by anyone who could). */
  track(root: string, work: Promise<unknown>): Promise<void> {
    this.changeBusy(root, 1);
    return work.then(
      () => this.changeBusy(root, -1),
      (error: unknown) => {
        this.logger.error('Durable: background work failed', error);
        this.changeBusy(root, -1);
      },
    );
  }

  changeBusy(root: string, delta: number): void {
    const count = (this.busy.get(root) ?? 0) + delta;
    if (count <= 0) this.busy.delete(root);
    else this.busy.set(root, count);
    this.busyTotal += delta;
    if (delta < 0) {
      // Settle waiters a tick later: one step of work often starts the next synchronously after finishing.
      setImmediate(() => {
        for (const waiter of [...this.idleWaiters]) {
          const count = waiter.root === undefined ? this.busyTotal : (this.busy.get(waiter.root) ?? 0);
          if (count === 0) {
            this.idleWaiters.splice(this.idleWaiters.indexOf(waiter), 1);
            waiter.resolve();
          }
        }
      });
    }
  }

  /** Work in flight anywhere. */
  get inFlight(): number {
    return this.busyTotal;
  }

  /** Resolves once nothing is running or about to run for the instance's tree (or anywhere). */
  idle(instanceId: string | undefined): Promise<void> {
    const root = instanceId === undefined ? undefined : (this.live.get(instanceId)?.root ?? instanceId);
    if ((root === undefined ? this.busyTotal : (this.busy.get(root) ?? 0)) === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push({ root, resolve }));
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
