/**
 * Episode scheduling: when an instance runs its next episode. One at a time per instance, in a limited
 * number of slots, for as long as it has messages the orchestrator can take; after a lost race the
 * instance is read back, after any other failure the episode is tried again.
 *
 * A fan-in does not pay one episode per result: while results arrive that cannot move the orchestrator
 * on (replaying them against its last actions, as the library would, leaves the awaited task open), they
 * wait durably in the inbox and one episode consumes them all.
 */
import { REPLAY_OPTIONS } from './episode';
import { byArrival } from './history';
import type { Inbox } from './inbox';
import type { Limiter } from './limiter';
import type { Live } from './live';
import type { HistoryEvent } from './protocol';
import { replayActions } from './replay';
import { RETRY_AFTER_ERROR_MS, type EngineRuntime } from './runtime';
import { ConcurrencyError } from './store';
import type { InboxMessage } from './tableRows';
import { openTasks } from './tasks';

/** The longest an instance waits without an episode while results arrive that cannot move it on. */
const MAX_BLOCKED_MS = 1000;

export interface EpisodeHooks {
  /** Runs one episode over the pending messages and `inline` (results no inbox row holds). */
  run(live: Live, inline: readonly InboxMessage[]): Promise<void>;
  /** Reads an instance back after another writer changed its history. */
  reload(live: Live): Promise<void>;
}

export class EpisodeScheduler {
  constructor(
    private readonly runtime: EngineRuntime,
    private readonly inbox: Pick<Inbox, 'writeDurably'>,
    private readonly slots: Limiter,
    private readonly hooks: EpisodeHooks,
  ) {}

  /** Runs episodes for the instance while it has work, unless it is running them already. */
  pump(live: Live): void {
    if (live.pumping || this.runtime.stopping || !this.hasWork(live)) return;
    live.pumping = true;
    this.runtime.changeBusy(live.root, 1);
    void (async () => {
      try {
        while (!this.runtime.stopping && this.runtime.isCurrent(live) && this.hasWork(live)) {
          if (this.cannotMoveOn(live)) {
            this.block(live);
            break;
          }
          await this.slots.run(() => this.episode(live));
        }
      } catch (error) {
        if (error instanceof ConcurrencyError && this.runtime.isCurrent(live)) {
          this.runtime.logger.warn(`Durable: ${error.message} Reloading instance ${live.id}.`);
          await this.hooks
            .reload(live)
            .catch((reloadError: unknown) => this.runtime.logger.error(`Durable: could not reload ${live.id}`, reloadError));
        } else if (!this.runtime.stopping) {
          this.runtime.logger.error(`Durable: an episode of ${live.id} failed; retrying`, error);
          live.retryTimer = setTimeout(() => this.pump(live), RETRY_AFTER_ERROR_MS);
          live.retryTimer.unref();
        }
      } finally {
        live.pumping = false;
        this.runtime.changeBusy(live.root, -1);
      }
    })();
  }

  private hasWork(live: Live): boolean {
    if (live.inline.length > 0 && live.history.length > 0) return true;
    for (const message of live.pending.values()) {
      const type = message.event.EventType;
      // Before its start message an instance takes nothing but a termination (raised events wait).
      if (type === 'ExecutionTerminated' || live.history.length > 0 || (type === 'ExecutionStarted' && !live.isStale(message))) return true;
    }
    return false;
  }

  /**
   * Whether an episode now would change nothing: more results are due, and replaying the pending ones
   * against the last actions (as the library would) leaves the awaited task open with nothing new to
   * schedule — a fan-in still waiting for the rest. Then one episode at the end replaces hundreds.
   */
  private cannotMoveOn(live: Live): boolean {
    if (!live.lastActions || live.history.length === 0) return false;
    const messages = [...live.pending.values(), ...live.inline];
    if (messages.some((message) => message.event.EventType === 'ExecutionTerminated' || message.event.EventType === 'ExecutionStarted'))
      return false;
    // More results must be on their way (tasks with no result known yet, or results being written); else run now.
    const writing = live.writing || live.writeQueue.length > 0;
    if (!writing && openTasks(live.history, live.completions).length === 0) return false;
    const now = this.runtime.episodeTime(live);
    const seen: HistoryEvent[] = [
      ...live.history,
      { EventType: 'OrchestratorStarted', EventId: -1, Timestamp: new Date(now).toISOString() },
    ];
    for (const message of messages.sort(byArrival)) if (!live.isStale(message)) seen.push(message.event);
    const replay = replayActions(seen, live.lastActions, REPLAY_OPTIONS);
    return replay.waiting && replay.newTasks.length === 0 && !replay.nonDeterminism && !replay.unsupported;
  }

  private block(live: Live): void {
    live.blocked = true;
    // Results held in memory must not wait there: make them durable.
    for (const message of live.inline.splice(0)) void this.inbox.writeDurably(live, message);
    // Should the replay above ever misjudge, an episode runs anyway before long.
    live.blockedTimer ??= setTimeout(() => {
      live.blockedTimer = undefined;
      if (!live.blocked) return;
      live.blocked = false;
      live.lastActions = undefined;
      this.pump(live);
    }, MAX_BLOCKED_MS);
    live.blockedTimer.unref();
  }

  private async episode(live: Live): Promise<void> {
    live.inlineInFlight = live.inline.splice(0);
    try {
      await this.hooks.run(live, live.inlineInFlight);
    } finally {
      // Not committed (the checkpoint failed): they must not be lost, make them durable the usual way.
      for (const message of live.inlineInFlight.splice(0)) void this.inbox.writeDurably(live, message);
    }
  }
}
