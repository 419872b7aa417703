/**
 * The host's side of a replay: which sequence number every scheduled task has, which tasks are new,
 * and whether the orchestrator's actions still agree with its history.
 *
 * The library numbers tasks as it tracks them: each atomic task gets the next sequence number when
 * it is first yielded (children of WhenAll/WhenAny depth-first), a retry takes one number for its
 * back-off timer and one for each new attempt, and a long timer one per sub-timer; completions are
 * matched by those numbers (`TaskScheduledId`, `TimerId`), external events by name. The extension
 * learns the same numbers by replaying the returned actions against DurableTask.Core, awaiting each
 * top-level action in turn. This module does the same over the same history events, in the same order,
 * so both sides agree on every number without the worker ever telling them to us.
 */
import { fromJsonText, isRecord, type EventOf, type HistoryEvent, type OrchestratorAction } from './protocol';
import {
  Atomic,
  EventWait,
  FireAndForget,
  HttpPoll,
  httpTask,
  LongTimer,
  Retry,
  Unsupported,
  WhenAll,
  WhenAny,
  type DistributiveOmit,
  type EntityOutbound,
  type Node,
  type Outcome,
  type ReplayOptions,
  type ReplayScope,
  type ScheduledTask,
} from './replayTasks';

export type { EntityOutbound, ExpiredRetry, ReplayOptions, ScheduledTask } from './replayTasks';

export interface ReplayResult {
  /** Why the actions do not match the history (non-deterministic orchestrator); undefined when they do. */
  readonly nonDeterminism?: string;
  /** An action the devhost does not run. */
  readonly unsupported?: string;
  /** Tasks the orchestrator scheduled that the history does not record yet, by sequence number. */
  readonly newTasks: readonly ScheduledTask[];
  /** Timers (already created) whose task was cancelled: their firing is of no use. */
  readonly canceledTimers: readonly number[];
  /** The input of a continueAsNew the orchestrator reached (JSON text, or null for none). */
  readonly continueAsNew?: { readonly input?: string };
  /** Event names the orchestrator is waiting for. */
  readonly waitingForEvents: readonly string[];
  /** Whether the task the orchestrator awaits is still open (it would not run on). */
  readonly waiting: boolean;
}

type Completion = Extract<
  HistoryEvent,
  { EventType: 'TaskCompleted' | 'TaskFailed' | 'TimerFired' | 'SubOrchestrationInstanceCompleted' | 'SubOrchestrationInstanceFailed' }
>;

class Replay implements ReplayScope {
  now = 0;
  unsupported: string | undefined;
  continueAsNew: { input?: string } | undefined;
  private sequence = 0;
  private readonly allocated = new Map<number, Atomic>();
  private readonly deferred = new Map<number, Completion[]>();
  private readonly openEvents = new Map<string, EventWait[]>();
  private readonly deferredEvents = new Map<string, Outcome[]>();
  private nextAction = 0;
  private current: Node | undefined;
  /** The critical section the orchestrator is in: a release sends one message per entity of it. */
  private lock: { readonly lockset: readonly string[]; readonly lockRequestId: string } | undefined;
  private resuming = false;

  constructor(
    readonly options: ReplayOptions,
    private readonly actions: readonly OrchestratorAction[],
  ) {}

  allocate(node: Atomic): number {
    const id = this.sequence++;
    this.allocated.set(id, node);
    const waiting = this.deferred.get(id);
    const first = waiting?.shift();
    if (waiting?.length === 0) this.deferred.delete(id);
    if (first) this.complete(first);
    return id;
  }

  waitForEvent(node: EventWait): void {
    const deferred = this.deferredEvents.get(node.name);
    const outcome = deferred?.shift();
    if (deferred?.length === 0) this.deferredEvents.delete(node.name);
    if (outcome) {
      node.settle(outcome);
      return;
    }
    const list = this.openEvents.get(node.name) ?? [];
    list.push(node);
    this.openEvents.set(node.name, list);
  }

  raise(name: string): void {
    // The library hands an event to the most recently opened wait of that name, or keeps it for the next one.
    const list = this.openEvents.get(name);
    const node = list?.pop();
    if (list?.length === 0) this.openEvents.delete(name);
    if (node) node.settle({ ok: true });
    else this.deferredEvents.set(name, [...(this.deferredEvents.get(name) ?? []), { ok: true }]);
  }

  complete(event: Completion): void {
    const id = event.EventType === 'TimerFired' ? event.TimerId : event.TaskScheduledId;
    const node = this.allocated.get(id);
    if (!node) {
      this.deferred.set(id, [...(this.deferred.get(id) ?? []), event]);
      return;
    }
    if (node.outcome) return;
    if (event.EventType === 'TaskFailed' || event.EventType === 'SubOrchestrationInstanceFailed') {
      node.settle({
        ok: false,
        reason: event.Reason ?? event.FailureDetails?.ErrorMessage ?? 'failed',
        ...(event.Details !== undefined ? { details: event.Details } : {}),
      });
    } else {
      const result = event.EventType === 'TimerFired' ? undefined : event.Result;
      node.settle({ ok: true, ...(result !== undefined ? { result } : {}) });
    }
  }

  /** An entity's answer (or lock grant) to the request recorded at sequence number `id`. */
  completeEntity(id: number, event: EventOf<'EventRaised'>): void {
    const node = this.allocated.get(id);
    if (!node || node.outcome) return;
    const response = fromJsonText(event.Input);
    const failed = isRecord(response) && typeof response.exceptionType === 'string';
    const result = isRecord(response) && typeof response.result === 'string' ? response.result : undefined;
    node.settle(
      failed ? { ok: false, reason: result ?? 'The entity operation failed.' } : { ok: true, ...(result !== undefined ? { result } : {}) },
    );
  }

  topSettled(node: Node): void {
    if (node === this.current) this.resume();
  }

  /** The library resumes the generator whenever the task it waits on has settled: start the next top-level actions. */
  resume(): void {
    if (this.resuming) return;
    this.resuming = true;
    try {
      while ((!this.current || this.current.outcome) && this.nextAction < this.actions.length && !this.continueAsNew) {
        const action = this.actions[this.nextAction++] as OrchestratorAction;
        if (action.kind === 'continueAsNew') {
          this.continueAsNew = action.input !== undefined ? { input: action.input } : {};
          break;
        }
        this.current = this.build(action);
        this.current.start();
      }
    } finally {
      this.resuming = false;
    }
  }

  build(action: OrchestratorAction): Node {
    switch (action.kind) {
      case 'callActivity': {
        const task = () => ({
          kind: 'activity' as const,
          name: action.name,
          ...(action.input !== undefined ? { input: action.input } : {}),
        });
        return action.retry ? new Retry(this, task, action.retry) : new Atomic(this, task());
      }
      case 'callSubOrchestrator': {
        const task = () => ({
          kind: 'subOrchestration' as const,
          name: action.name,
          ...(action.instanceId !== undefined ? { instanceId: action.instanceId } : {}),
          ...(action.version !== undefined ? { version: action.version } : {}),
          ...(action.input !== undefined ? { input: action.input } : {}),
        });
        return action.retry ? new Retry(this, task, action.retry) : new Atomic(this, task());
      }
      case 'createTimer':
        if (this.options.longTimers && action.fireAt - this.now > this.options.maximumShortTimerMs)
          return new LongTimer(this, action.fireAt, action.isCanceled);
        return new Atomic(this, { kind: 'timer', fireAt: action.fireAt, canceled: action.isCanceled });
      case 'waitForExternalEvent':
        return new EventWait(this, action.name);
      case 'callHttp':
        return action.request.asynchronousPatternEnabled ? new HttpPoll(this, action.request) : new Atomic(this, httpTask(action.request));
      case 'whenAll':
        return new WhenAll(
          this,
          action.children.map((child) => this.build(child)),
        );
      case 'whenAny':
        return new WhenAny(
          this,
          action.children.map((child) => this.build(child)),
        );
      case 'callEntity':
        return new Atomic(this, { kind: 'entity', message: { ...action, kind: 'call' } });
      case 'signalEntity':
        return new FireAndForget(this, [{ ...action, kind: 'signal' }]);
      case 'lockEntities': {
        this.lock = { lockset: action.lockset, lockRequestId: action.lockRequestId };
        const first = action.lockset[0];
        if (first === undefined) return new Unsupported(this, 'a lock on no entity');
        return new Atomic(this, { kind: 'entity', message: { kind: 'lock', target: first, ...this.lock } });
      }
      case 'releaseEntities': {
        const lock = this.lock;
        this.lock = undefined;
        return new FireAndForget(
          this,
          (lock?.lockset ?? []).map((target) => ({ kind: 'release' as const, target, lockRequestId: lock?.lockRequestId ?? '' })),
        );
      }
      case 'continueAsNew':
        // Only meaningful at the top level, where resume() handles it; nested it cannot be yielded.
        return new Unsupported(this, 'continueAsNew inside Task.all/Task.any');
      case 'unsupported':
        return new Unsupported(this, action.description);
    }
  }

  tasks(): Map<number, Atomic> {
    return this.allocated;
  }

  pendingActions(): number {
    return this.actions.length - this.nextAction;
  }

  blockedOnRunningTask(): boolean {
    return this.current !== undefined && this.current.outcome === undefined;
  }

  waitingForEvents(): string[] {
    return [...this.openEvents.keys()];
  }
}

type Scheduling = Extract<HistoryEvent, { EventType: 'TaskScheduled' | 'TimerCreated' | 'SubOrchestrationInstanceCreated' | 'EventSent' }>;

/**
 * Replays `history` (the events the orchestrator just saw, in order) against the actions it returned.
 * `failed`: the orchestrator threw, so its actions may stop short of the history; only contradictions count then.
 */
export function replayActions(
  history: readonly HistoryEvent[],
  actions: readonly OrchestratorAction[],
  options: ReplayOptions,
  failed = false,
): ReplayResult {
  const replay = new Replay(options, actions);
  const scheduled = new Map<number, Scheduling>();
  /** Sequence numbers of entity requests that await an answer, by request id (the answer's event name). */
  const entityRequests = new Map<string, number>();
  const firstStart = history.find((event) => event.EventType === 'OrchestratorStarted');
  replay.now = firstStart ? Date.parse(firstStart.Timestamp) : 0;
  for (const event of history) {
    switch (event.EventType) {
      case 'OrchestratorStarted': {
        const at = Date.parse(event.Timestamp);
        if (at > replay.now) replay.now = at;
        break;
      }
      case 'ExecutionStarted':
        replay.resume();
        break;
      case 'TaskScheduled':
      case 'TimerCreated':
      case 'SubOrchestrationInstanceCreated':
        scheduled.set(event.EventId, event);
        break;
      case 'EventSent': {
        scheduled.set(event.EventId, event);
        const request = fromJsonText(event.Input);
        if (event.Name === 'op' && isRecord(request) && typeof request.id === 'string' && request.signal !== true)
          entityRequests.set(request.id, event.EventId);
        break;
      }
      case 'TaskCompleted':
      case 'TaskFailed':
      case 'TimerFired':
      case 'SubOrchestrationInstanceCompleted':
      case 'SubOrchestrationInstanceFailed':
        replay.complete(event);
        break;
      case 'EventRaised': {
        const id = entityRequests.get(event.Name);
        if (id !== undefined) replay.completeEntity(id, event);
        else replay.raise(event.Name);
        break;
      }
      case 'OrchestratorCompleted':
      case 'ExecutionCompleted':
      case 'ExecutionTerminated':
        break;
    }
  }

  const tasks = replay.tasks();
  let nonDeterminism: string | undefined;
  for (const [id, event] of [...scheduled].sort((a, b) => a[0] - b[0])) {
    const node = tasks.get(id);
    const recorded = describeScheduled(event);
    if (!node) {
      if (!failed) {
        nonDeterminism ??= `the history records ${recorded} at sequence number ${id}, but the orchestrator no longer schedules anything there`;
      }
      continue;
    }
    const now = describeTask(node.task);
    if (!sameTask(event, node.task))
      nonDeterminism ??= `the history records ${recorded} at sequence number ${id}, but the orchestrator now schedules ${now} there`;
  }
  if (!nonDeterminism && !failed && replay.blockedOnRunningTask() && replay.pendingActions() > 0) {
    nonDeterminism = 'the orchestrator went on to new actions while, by its history, it should still be waiting for the previous one';
  }

  const newTasks: ScheduledTask[] = [];
  const canceledTimers: number[] = [];
  for (const [id, node] of tasks) {
    const task = { ...node.task, id } as ScheduledTask;
    if (scheduled.has(id)) {
      if (task.kind === 'timer' && task.canceled && !node.outcome) canceledTimers.push(id);
      continue;
    }
    if (task.kind === 'timer' && task.canceled) continue;
    newTasks.push(task);
  }
  newTasks.sort((a, b) => a.id - b.id);
  return {
    ...(nonDeterminism
      ? {
          nonDeterminism: `Non-deterministic orchestrator: ${nonDeterminism}. An orchestrator must make the same calls in the same order on every replay (no Date.now(), random values, I/O or changed code while instances run).`,
        }
      : {}),
    ...(replay.unsupported ? { unsupported: replay.unsupported } : {}),
    newTasks,
    canceledTimers,
    ...(replay.continueAsNew ? { continueAsNew: replay.continueAsNew } : {}),
    waitingForEvents: replay.waitingForEvents(),
    waiting: replay.blockedOnRunningTask(),
  };
}

function sameTask(event: Scheduling, task: DistributiveOmit<ScheduledTask, 'id'>): boolean {
  switch (event.EventType) {
    case 'TaskScheduled':
      return task.kind === 'activity' && task.name.toLowerCase() === event.Name.toLowerCase();
    case 'SubOrchestrationInstanceCreated':
      return task.kind === 'subOrchestration' && task.name.toLowerCase() === event.Name.toLowerCase();
    case 'TimerCreated':
      return task.kind === 'timer';
    case 'EventSent':
      return task.kind === 'entity' && task.message.target === event.InstanceId && task.message.kind === sentKind(event);
  }
}

/** What an EventSent recorded: a call, a signal, a lock request or a release. */
function sentKind(event: EventOf<'EventSent'>): EntityOutbound['kind'] {
  if (event.Name === 'release') return 'release';
  const request = fromJsonText(event.Input);
  if (isRecord(request) && Array.isArray(request.lockset)) return 'lock';
  return isRecord(request) && request.signal === true ? 'signal' : 'call';
}

function describeScheduled(event: Scheduling): string {
  switch (event.EventType) {
    case 'TaskScheduled':
      return `activity '${event.Name}'`;
    case 'SubOrchestrationInstanceCreated':
      return `sub-orchestration '${event.Name}'`;
    case 'TimerCreated':
      return 'a timer';
    case 'EventSent':
      return `a message to entity '${event.InstanceId}'`;
  }
}

function describeTask(task: DistributiveOmit<ScheduledTask, 'id'>): string {
  switch (task.kind) {
    case 'activity':
      return `activity '${task.name}'`;
    case 'subOrchestration':
      return `sub-orchestration '${task.name}'`;
    case 'timer':
      return 'a timer';
    case 'entity':
      return `a message to entity '${task.message.target}'`;
  }
}
