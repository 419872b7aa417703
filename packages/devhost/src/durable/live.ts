/**
 * An instance that is not finished, as the engine keeps it in memory: its committed history (with the
 * form the worker is sent, cached), the durable messages not yet in it, and what is in flight for it
 * (writes, timers, the Instances row).
 */
import { completionId } from './history';
import { isTerminal, toWireEvent, type HistoryEvent, type OrchestratorAction, type ParentInstance, type RuntimeStatus } from './protocol';
import type { InboxMessage, InstanceRow } from './tableRows';

export class Live {
  executionId: string;
  name: string;
  version: string | undefined;
  history: HistoryEvent[] = [];
  sentinelEtag: string | undefined;
  /** Durable messages not yet in the history, by row key. */
  readonly pending = new Map<string, InboxMessage>();
  /**
   * Results that arrived while the instance was idle: recorded by the checkpoint that consumes them
   * (in its transaction) instead of an inbox row first. Only results the engine can derive again after
   * a crash (activity results, fired timers, children's results) travel this way.
   */
  inline: InboxMessage[] = [];
  /** Inline messages taken by the episode in progress, until its checkpoint commits them. */
  inlineInFlight: InboxMessage[] = [];
  /** The committed history as the worker receives it (JSON, IsPlayed), cached: replays resend it every episode. */
  wire: string[] = [];
  /** The actions of the last episode: what the orchestrator would return again until the task it awaits settles. */
  lastActions: readonly OrchestratorAction[] | undefined;
  /** Results arrive that cannot move the orchestrator on (e.g. part of a fan-in): they wait in the inbox, no episode runs. */
  blocked = false;
  blockedTimer: NodeJS.Timeout | undefined;
  /** Ids whose completion is in the history, pending, or being written. */
  completions = new Set<number>();
  /** Inbox rows the history consumed (`SourceMessage`): a copy delivered again is recognised. */
  consumed = new Set<string>();
  /** Messages being made durable, with who waits for that. */
  readonly writeQueue: { readonly message: InboxMessage; readonly done: () => void }[] = [];
  writing = false;
  pumping = false;
  retryTimer: NodeJS.Timeout | undefined;
  status: RuntimeStatus;
  input: string | undefined;
  output: string | undefined;
  customStatus: string | undefined;
  createdTime: number;
  lastUpdatedTime: number;
  parent: ParentInstance | undefined;
  instanceEtag: string | undefined;
  rowDirty = false;
  rowWriting: Promise<void> | undefined;
  rowTimer: NodeJS.Timeout | undefined;
  readonly alarms = new Map<number, () => void>();
  /** The top-level instance whose work this is (idle() waits per tree). */
  root: string;

  constructor(
    readonly id: string,
    row: InstanceRow,
  ) {
    this.executionId = row.executionId;
    this.name = row.name;
    this.version = row.version;
    this.status = row.runtimeStatus;
    this.input = row.input;
    this.output = row.output;
    this.customStatus = row.customStatus;
    this.createdTime = row.createdTime;
    this.lastUpdatedTime = row.lastUpdatedTime;
    this.parent = row.parent;
    this.root = id;
  }

  setHistory(history: HistoryEvent[]): void {
    this.history = history;
    this.wire = history.map((event) => JSON.stringify(toWireEvent(event, true)));
    this.completions = new Set();
    this.consumed = new Set();
    for (const event of history) this.note(event);
  }

  /** Adds the events a checkpoint committed. */
  append(events: readonly HistoryEvent[]): void {
    for (const event of events) {
      this.history.push(event);
      this.wire.push(JSON.stringify(toWireEvent(event, true)));
      this.note(event);
    }
  }

  private note(event: HistoryEvent): void {
    const id = completionId(event);
    if (id !== undefined) this.completions.add(id);
    if (event.SourceMessage !== undefined) this.consumed.add(event.SourceMessage);
  }

  /** Whether a message is of no use to this execution: meant for another, or a start it already took. */
  isStale(message: InboxMessage): boolean {
    if (message.event.EventType === 'ExecutionStarted')
      return message.event.OrchestrationInstance.ExecutionId !== this.executionId || this.history.length > 0;
    return message.executionId !== undefined && message.executionId !== this.executionId;
  }

  cancelAlarms(): void {
    for (const cancel of this.alarms.values()) cancel();
    this.alarms.clear();
  }

  row(): InstanceRow {
    return {
      instanceId: this.id,
      name: this.name,
      ...(this.version !== undefined ? { version: this.version } : {}),
      executionId: this.executionId,
      ...(this.input !== undefined ? { input: this.input } : {}),
      ...(this.output !== undefined ? { output: this.output } : {}),
      ...(this.customStatus !== undefined ? { customStatus: this.customStatus } : {}),
      runtimeStatus: this.status,
      createdTime: this.createdTime,
      lastUpdatedTime: this.lastUpdatedTime,
      ...(isTerminal(this.status) ? { completedTime: this.lastUpdatedTime } : {}),
      ...(this.parent ? { parent: this.parent } : {}),
    };
  }
}
