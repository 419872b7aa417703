/**
 * Reading instances back — every unfinished one when the engine starts, one whose history another writer
 * changed — finishing what a crash left half done and restarting the work they wait for (point 3 of the
 * write order in checkpoint.ts).
 */
import type { Checkpoints } from './checkpoint';
import type { DurableClock } from './clock';
import { completionId } from './history';
import { Live } from './live';
import { isTerminal, type EventOf } from './protocol';
import type { EngineRuntime } from './runtime';
import type { InstanceRow } from './tableRows';
import { lastEpisodeMessages, messageOf } from './orchestrationEntities';
import { NOT_AN_ENTITY } from './status';
import { openTasks, restartTask, type TaskWorkers } from './tasks';

export class Recovery {
  constructor(
    private readonly runtime: EngineRuntime,
    private readonly checkpoints: Pick<Checkpoints, 'finish'>,
    private readonly workers: TaskWorkers,
    /** Lets an instance run an episode if it has messages to take. */
    private readonly wake: (live: Live) => void,
  ) {}

  /** Reads back every unfinished instance and resumes its work. Returns how many are running. */
  async resumeAll(): Promise<number> {
    const rows: (InstanceRow & { etag: string })[] = [];
    for await (const row of this.runtime.store.listInstances(
      `(RuntimeStatus eq 'Pending' or RuntimeStatus eq 'Running' or RuntimeStatus eq 'ContinuedAsNew' or RuntimeStatus eq 'Suspended') and ${NOT_AN_ENTITY}`,
    ))
      rows.push(row);
    // A sped-up clock may have run ahead of the wall clock before the restart: never go back.
    const latest = Math.max(0, ...rows.map((row) => row.lastUpdatedTime));
    const clock = this.runtime.clock as DurableClock & { advanceTo?: (at: number) => void };
    clock.advanceTo?.(latest);
    const recovered: Live[] = [];
    for (const row of rows) {
      // Started since this engine came up (resume() may run after the client API is already served).
      if (this.runtime.live.has(row.instanceId)) continue;
      try {
        const live = await this.load(row);
        if (live) recovered.push(live);
      } catch (error) {
        this.runtime.logger.error(`Durable: could not resume instance ${row.instanceId}`, error);
      }
    }
    // Children belong to their top-level instance's tree (idle() waits for the whole tree).
    for (const live of recovered) {
      let root = live;
      for (let depth = 0; root.parent && depth < 100; depth++) {
        const next = this.runtime.live.get(root.parent.OrchestrationInstance.InstanceId);
        if (!next || next === live) break;
        root = next;
      }
      live.root = root.id;
    }
    for (const live of recovered) this.resumeWork(live);
    return recovered.length;
  }

  /** Drops the instance's state in memory and reads it back from its rows. */
  async reload(live: Live): Promise<void> {
    this.runtime.forget(live);
    const row = await this.runtime.store.readInstance(live.id);
    if (!row || isTerminal(row.runtimeStatus)) return;
    const fresh = await this.load(row);
    if (fresh) this.resumeWork(fresh);
  }

  /** Builds an instance's in-memory state from its rows; finishes what a crash left half done. Returns it if it is still running. */
  private async load(row: InstanceRow & { etag: string }): Promise<Live | undefined> {
    const store = this.runtime.store;
    const snapshot = await store.readPartition(row.instanceId);
    const live = new Live(row.instanceId, row);
    live.instanceEtag = row.etag;
    if (snapshot.garbage.length > 0) await store.deleteRows(row.instanceId, snapshot.garbage);
    if (!snapshot.sentinel || (snapshot.sentinel.executionId !== row.executionId && row.runtimeStatus === 'Pending')) {
      // The Instances row was written, its start message was not: write it now.
      if (!snapshot.sentinel && row.runtimeStatus !== 'Pending')
        throw new Error(`instance ${row.instanceId} is ${row.runtimeStatus} but has no history.`);
      await store.deleteRows(
        row.instanceId,
        snapshot.inbox.map((message) => message.rowKey),
      );
      const start = this.runtime.startMessage(row);
      live.sentinelEtag = await store.startExecution(row.instanceId, row.executionId, start, snapshot.sentinel?.etag);
      live.pending.set(start.rowKey, start);
      this.runtime.live.set(live.id, live);
      return live;
    }
    // After a continueAsNew the sentinel is ahead of the (lazily written) Instances row.
    live.executionId = snapshot.sentinel.executionId;
    live.sentinelEtag = snapshot.sentinel.etag;
    live.setHistory([...snapshot.history]);
    const started = live.history.find((event): event is EventOf<'ExecutionStarted'> => event.EventType === 'ExecutionStarted');
    if (started) {
      live.input = started.Input;
      live.parent = started.ParentInstance;
    }
    const stale: string[] = [];
    for (const message of snapshot.inbox) {
      if (live.consumed.has(message.rowKey) || live.isStale(message)) stale.push(message.rowKey);
      else {
        live.pending.set(message.rowKey, message);
        const id = completionId(message.event);
        if (id !== undefined) live.completions.add(id);
      }
    }
    if (stale.length > 0) await store.deleteRows(live.id, stale);
    const completed = live.history.find((event): event is EventOf<'ExecutionCompleted'> => event.EventType === 'ExecutionCompleted');
    if (completed) {
      // Finished before the crash; only the projection and the parent's notification may be missing.
      live.status = completed.OrchestrationStatus === 'ContinuedAsNew' ? 'Running' : completed.OrchestrationStatus;
      live.output = completed.Result;
      live.lastUpdatedTime = Date.parse(completed.Timestamp);
      await this.checkpoints.finish(live);
      return undefined;
    }
    if (live.history.length > 0 && live.status === 'Pending') live.status = 'Running';
    this.runtime.live.set(live.id, live);
    return live;
  }

  /** Restarts what a loaded instance was waiting for. */
  private resumeWork(live: Live): void {
    for (const event of openTasks(live.history, live.completions)) restartTask(live, event, this.workers);
    // A crash may have come between the last checkpoint and its messages to entities: send them again,
    // in order (each is taken once).
    const messages = lastEpisodeMessages(live.history);
    if (messages.length > 0)
      void this.runtime.track(
        live.root,
        (async () => {
          for (const event of messages) {
            const message = messageOf(event);
            if (message) await this.workers.sendToEntity(event.InstanceId, message);
          }
        })(),
      );
    this.wake(live);
  }
}
