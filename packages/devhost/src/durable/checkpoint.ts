/**
 * Checkpoint writing: an episode's new history rows, committed at once, and the Instances row projected
 * from the history.
 *
 * Write order (why a crash at any point is harmless):
 * 1. A checkpoint — the episode's new history rows (OrchestratorStarted, the delivered events, TaskScheduled,
 *    TimerCreated, SubOrchestrationInstanceCreated, ExecutionCompleted, OrchestratorCompleted) and the
 *    sentinel, ETag-checked, in entity-group transactions with the sentinel in the last — commits BEFORE any
 *    activity, timer or child it schedules is started (episode.ts). Until it commits nothing of the episode exists.
 * 2. No history is ever committed that rests on a result that is not recorded: a result is recorded
 *    either as an inbox row before the episode that consumes it (raised events, terminations, starts
 *    always; activity/timer/child results whenever the instance is busy), or — when the instance is idle —
 *    in the very transaction of the checkpoint that consumes it (one Azurite round trip instead of three:
 *    insert, checkpoint, delete). Either way a crash before that write loses only an unrecorded result,
 *    whose activity runs again (or timer fires again, or child result is collected again) on restart (inbox.ts).
 * 3. On start, every running instance is read back: scheduled activities with no recorded result run
 *    again (a recorded result is never lost and its activity never runs again), timers are re-armed (an
 *    overdue one fires at once), children are re-created or their results collected, and messages
 *    still in the inbox are delivered; inbox rows a checkpoint already consumed are recognised (the
 *    history names them) and deleted, never delivered twice (recovery.ts).
 * 4. The Instances row is a projection written after the history; it is repaired from the history.
 */
import { randomUUID } from 'node:crypto';
import type { Live } from './live';
import type { HistoryEvent, ParentInstance } from './protocol';
import type { EngineRuntime } from './runtime';
import { ConcurrencyError } from './store';
import { historyRowKey, type InboxMessage, type InstanceRow } from './tableRows';

/** How long the Instances row's LastUpdatedTime may lag behind the history (it is a projection). */
const ROW_DEBOUNCE_MS = 1000;

/** Tells a parent orchestration that its child reached a final status. */
export type NotifyParent = (parent: ParentInstance, child: Pick<InstanceRow, 'name' | 'runtimeStatus' | 'output'>) => Promise<void>;

export class Checkpoints {
  constructor(
    private readonly runtime: EngineRuntime,
    private readonly notifyParent: NotifyParent,
    /** Whatever else ends with the instance (the locks it still holds). */
    private readonly onFinished: (live: Live) => Promise<void>,
  ) {}

  /** Commits an episode's events, deleting the inbox rows it consumed; then they are the instance's history. */
  async commit(live: Live, events: readonly HistoryEvent[], consumed: readonly string[]): Promise<void> {
    const committed = await this.runtime.store.commit({
      instanceId: live.id,
      executionId: live.executionId,
      fromLength: live.history.length,
      events,
      sentinelEtag: live.sentinelEtag,
      deletes: consumed,
      returnOverflowDeletes: true,
    });
    live.sentinelEtag = committed.etag;
    // Consumed inbox rows that did not fit in the last transaction: their row keys are never reused, and
    // one left behind by a crash is recognised as consumed, so they need not hold up the instance.
    if (committed.overflowDeletes.length > 0)
      void this.runtime.track(live.root, this.runtime.store.deleteRows(live.id, committed.overflowDeletes));
    live.inlineInFlight = [];
    live.blocked = false;
    if (live.blockedTimer) clearTimeout(live.blockedTimer);
    live.blockedTimer = undefined;
    live.append(events);
    for (const key of consumed) live.pending.delete(key);
  }

  async continueAsNew(
    live: Live,
    input: string | undefined,
    consumed: string[],
    now: number,
    customStatus: string | undefined,
  ): Promise<void> {
    if (live.status === 'Pending') {
      // A Pending row whose sentinel names another execution means "start me again" to load(): not after this.
      live.status = 'Running';
      await this.saveRow(live);
    }
    const executionId = randomUUID().replace(/-/g, '');
    const previousLength = live.history.length;
    const { input: _previousInput, ...row } = live.row();
    const start = this.runtime.startMessage({ ...row, executionId, ...(input !== undefined ? { input } : {}) });
    // The new execution replaces the old one in a single transaction; the old rows are deleted after,
    // before the new execution writes rows with the same keys.
    ({ etag: live.sentinelEtag } = await this.runtime.store.commit({
      instanceId: live.id,
      executionId,
      fromLength: 0,
      events: [],
      sentinelEtag: live.sentinelEtag,
      newMessages: [start],
      deletes: [...consumed, ...Array.from({ length: previousLength }, (_, sequence) => historyRowKey(sequence))],
    }));
    // Results the old execution consumed are of no use to the new one.
    live.inlineInFlight = [];
    live.lastActions = undefined;
    live.executionId = executionId;
    live.input = input;
    live.cancelAlarms();
    for (const key of consumed) live.pending.delete(key);
    for (const [key, message] of live.pending) if (live.isStale(message)) live.pending.delete(key);
    live.setHistory([]);
    live.pending.set(start.rowKey, start);
    live.customStatus = customStatus;
    live.lastUpdatedTime = now;
    this.touchRow(live);
  }

  async terminate(live: Live, message: InboxMessage, consumed: string[]): Promise<void> {
    const now = this.runtime.episodeTime(live);
    const at = new Date(now).toISOString();
    const reason = message.event.EventType === 'ExecutionTerminated' ? message.event.Input : undefined;
    const events: HistoryEvent[] = [
      { EventType: 'OrchestratorStarted', EventId: -1, Timestamp: at },
      {
        EventType: 'ExecutionTerminated',
        EventId: -1,
        Timestamp: at,
        SourceMessage: message.rowKey,
        ...(reason !== undefined ? { Input: reason } : {}),
      },
      {
        EventType: 'ExecutionCompleted',
        EventId: -1,
        Timestamp: at,
        OrchestrationStatus: 'Terminated',
        ...(reason !== undefined ? { Result: reason } : {}),
      },
      { EventType: 'OrchestratorCompleted', EventId: -1, Timestamp: at },
    ];
    await this.commit(live, events, consumed);
    live.status = 'Terminated';
    live.output = reason;
    live.lastUpdatedTime = now;
    await this.finish(live);
  }

  /** An instance reached a final status (its checkpoint is committed): record it, tell the parent, forget it. */
  async finish(live: Live): Promise<void> {
    this.runtime.forget(live);
    // Before the row says it finished: a crash until then loads the instance again, which finishes it again.
    await this.onFinished(live);
    await this.saveRow(live);
    if (live.parent) await this.notifyParent(live.parent, live.row());
  }

  /** Writes the Instances row now (coalescing with a write in flight). */
  saveRow(live: Live): Promise<void> {
    live.rowDirty = true;
    if (live.rowTimer) {
      clearTimeout(live.rowTimer);
      live.rowTimer = undefined;
    }
    live.rowWriting ??= this.runtime.track(
      live.root,
      (async () => {
        try {
          while (live.rowDirty) {
            live.rowDirty = false;
            try {
              live.instanceEtag = await this.runtime.store.writeInstance(live.row(), live.instanceEtag ?? '*');
            } catch (error) {
              if (!(error instanceof ConcurrencyError)) throw error;
              // Changed behind our back (an earlier engine's late write): take the current ETag and write ours.
              const current = await this.runtime.store.readInstance(live.id);
              live.instanceEtag = current?.etag;
              live.rowDirty = true;
              if (!current) break;
            }
          }
        } catch (error) {
          this.runtime.logger.error(`Durable: could not update the Instances row of ${live.id}`, error);
        } finally {
          live.rowWriting = undefined;
        }
      })(),
    );
    return live.rowWriting;
  }

  /** LastUpdatedTime-only changes are written at most once a second (the write takes the state of that moment). */
  touchRow(live: Live): void {
    if (live.rowTimer) return;
    live.rowTimer = setTimeout(() => {
      live.rowTimer = undefined;
      if (this.runtime.isCurrent(live) && !this.runtime.stopping) void this.saveRow(live);
    }, ROW_DEBOUNCE_MS);
    live.rowTimer.unref();
  }
}
