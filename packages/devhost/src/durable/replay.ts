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
import {
  HTTP_ACTIVITY_NAME,
  httpActivityInput,
  locationPollRequest,
  parseHttpResponse,
  responseHeader,
  retryAfterMs,
  type DurableHttpRequest,
} from './httpTask';
import { DEFAULT_HTTP_ASYNC_SLEEP_MS, type HistoryEvent, type OrchestratorAction, type RetryPolicy } from './protocol';

export interface ReplayOptions {
  /** Whether timers longer than `maximumShortTimerMs` are split (schema V3+). */
  readonly longTimers: boolean;
  readonly maximumShortTimerMs: number;
  readonly longRunningTimerIntervalMs: number;
}

/** A task with a sequence number: what the host has to do for it (once). */
export type ScheduledTask =
  | { readonly kind: 'activity'; readonly id: number; readonly name: string; readonly input?: string; readonly expiredRetry?: ExpiredRetry }
  | {
      readonly kind: 'subOrchestration';
      readonly id: number;
      readonly name: string;
      readonly instanceId?: string;
      readonly version?: string;
      readonly input?: string;
      readonly expiredRetry?: ExpiredRetry;
    }
  | { readonly kind: 'timer'; readonly id: number; readonly fireAt: number; readonly canceled: boolean };

/**
 * An attempt the library schedules after the retry timeout elapsed. DurableTask.Core stops retrying
 * there, but the library keeps waiting (durable-js #629: the instance stops silently), so the host
 * answers such attempts with the last failure instead of running them.
 */
export interface ExpiredRetry {
  readonly reason: string;
  readonly details?: string;
}

export interface ReplayResult {
  /** Why the actions do not match the history (non-deterministic orchestrator); undefined when they do. */
  readonly nonDeterminism?: string;
  /** An action the devhost does not run (entities). */
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

type Outcome = { ok: true; result?: string } | { ok: false; reason: string; details?: string };

abstract class Node {
  outcome: Outcome | undefined;
  parent: Compound | undefined;
  constructor(protected readonly replay: Replay) {}
  abstract start(): void;
  settle(outcome: Outcome): void {
    if (this.outcome) return;
    this.outcome = outcome;
    if (this.parent) this.parent.childSettled(this);
    else this.replay.topSettled(this);
  }
}

/** A task with a sequence number, settled by a completion event. */
class Atomic extends Node {
  id = -1;
  constructor(
    replay: Replay,
    readonly task: DistributiveOmit<ScheduledTask, 'id'>,
  ) {
    super(replay);
  }
  start(): void {
    this.id = this.replay.allocate(this);
  }
}

class EventWait extends Node {
  constructor(
    replay: Replay,
    readonly name: string,
  ) {
    super(replay);
  }
  start(): void {
    this.replay.waitForEvent(this);
  }
}

abstract class Compound extends Node {
  abstract childSettled(child: Node): void;
  protected adopt<T extends Node>(child: T): T {
    child.parent = this;
    return child;
  }
}

/** A task over a fixed set of children (Task.all, Task.any). */
abstract class Group extends Compound {
  constructor(
    replay: Replay,
    readonly children: readonly Node[],
  ) {
    super(replay);
    for (const child of children) this.adopt(child);
  }
}

class WhenAll extends Group {
  start(): void {
    for (const child of this.children) child.start();
    this.check();
  }
  childSettled(child: Node): void {
    if (child.outcome && !child.outcome.ok) this.settle(child.outcome);
    else this.check();
  }
  private check(): void {
    // The library settles a WhenAll when its last child completes, or at the first failure.
    if (this.children.every((child) => child.outcome?.ok === true)) this.settle({ ok: true });
  }
}

class WhenAny extends Group {
  start(): void {
    for (const child of this.children) child.start();
    if (this.children.some((child) => child.outcome)) this.settle({ ok: true });
  }
  childSettled(): void {
    this.settle({ ok: true });
  }
}

/** durable-functions' RetryableTask: attempt, back-off timer, attempt, … (one sequence number each). */
class Retry extends Compound {
  private attemptNumber = 1;
  private waitingOnTimer = false;
  /** DurableTask.Core stopped retrying (the retry timeout had elapsed at a failure). */
  private gaveUp = false;
  private firstAttemptAt = 0;
  private lastFailure: { reason: string; details?: string } | undefined;
  constructor(
    replay: Replay,
    private readonly attempt: () => DistributiveOmit<ScheduledTask, 'id'>,
    private readonly policy: RetryPolicy,
  ) {
    super(replay);
  }
  start(): void {
    this.firstAttemptAt = this.replay.now;
    this.adopt(new Atomic(this.replay, this.attempt())).start();
  }
  childSettled(child: Node): void {
    const outcome = child.outcome;
    if (!outcome || this.outcome) return;
    if (this.waitingOnTimer) {
      this.waitingOnTimer = false;
      if (this.attemptNumber > this.policy.maxNumberOfAttempts) {
        this.settle(this.lastFailure ? { ok: false, ...this.lastFailure } : { ok: false, reason: 'Retries exhausted' });
        return;
      }
      const next = this.attempt();
      this.adopt(
        new Atomic(
          this.replay,
          this.gaveUp && next.kind !== 'timer' ? { ...next, expiredRetry: this.lastFailure ?? { reason: 'Retry timeout elapsed' } } : next,
        ),
      ).start();
    } else if (outcome.ok) {
      this.settle(outcome);
    } else {
      this.lastFailure = { reason: outcome.reason, ...(outcome.details !== undefined ? { details: outcome.details } : {}) };
      // DurableTask.Core's RetryInterceptor, after a failure: delay = first × coefficient^(attempt-1), capped;
      // none — and no more attempts — once the retry timeout has elapsed.
      if (this.replay.now >= this.firstAttemptAt + this.policy.retryTimeoutMs) this.gaveUp = true;
      const delay = this.gaveUp
        ? 0
        : Math.min(
            this.policy.firstRetryIntervalMs * this.policy.backoffCoefficient ** (this.attemptNumber - 1),
            this.policy.maxRetryIntervalMs,
          );
      this.waitingOnTimer = true;
      this.attemptNumber++;
      this.adopt(new Atomic(this.replay, { kind: 'timer', fireAt: this.replay.now + Math.max(0, delay), canceled: false })).start();
    }
  }
}

/** durable-functions' LongTimerTask: sub-timers no longer than the maximum until the fire time is reached. */
class LongTimer extends Compound {
  constructor(
    replay: Replay,
    private readonly fireAt: number,
    private readonly canceled: boolean,
  ) {
    super(replay);
  }
  start(): void {
    this.next();
  }
  childSettled(): void {
    if (this.fireAt > this.replay.now) this.next();
    else this.settle({ ok: true });
  }
  private next(): void {
    const now = this.replay.now;
    const fireAt =
      this.fireAt - now > this.replay.options.maximumShortTimerMs ? now + this.replay.options.longRunningTimerIntervalMs : this.fireAt;
    this.adopt(new Atomic(this.replay, { kind: 'timer', fireAt, canceled: this.canceled })).start();
  }
}

/**
 * callHttp with the asynchronous pattern (durable-functions' CallHttpWithPollingTask, the extension's
 * CallHttpAsync): the request; while the answer is 202 with a Location, a timer (Retry-After, else the
 * default sleep) and a GET of the Location; settled by the first other answer or failure.
 */
class HttpPoll extends Compound {
  private waitingOnTimer = false;
  private location = '';
  constructor(
    replay: Replay,
    private readonly request: DurableHttpRequest,
  ) {
    super(replay);
  }
  start(): void {
    this.adopt(new Atomic(this.replay, httpTask(this.request))).start();
  }
  childSettled(child: Node): void {
    const outcome = child.outcome;
    if (!outcome || this.outcome) return;
    if (!outcome.ok) {
      this.settle(outcome);
    } else if (this.waitingOnTimer) {
      this.waitingOnTimer = false;
      this.adopt(new Atomic(this.replay, httpTask(locationPollRequest(this.request, this.location)))).start();
    } else {
      const response = parseHttpResponse(outcome.result);
      const location = response?.statusCode === 202 ? responseHeader(response, 'Location') : undefined;
      if (!response || !location) {
        this.settle(outcome);
        return;
      }
      this.location = location;
      this.waitingOnTimer = true;
      const fireAt = this.replay.now + (retryAfterMs(response) ?? DEFAULT_HTTP_ASYNC_SLEEP_MS);
      this.adopt(this.replay.build({ kind: 'createTimer', fireAt, isCanceled: false })).start();
    }
  }
}

function httpTask(request: DurableHttpRequest): DistributiveOmit<ScheduledTask, 'id'> {
  return { kind: 'activity', name: HTTP_ACTIVITY_NAME, input: httpActivityInput(request) };
}

class Unsupported extends Node {
  constructor(
    replay: Replay,
    readonly description: string,
  ) {
    super(replay);
  }
  start(): void {
    this.replay.unsupported ??= this.description;
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

type Completion = Extract<
  HistoryEvent,
  { EventType: 'TaskCompleted' | 'TaskFailed' | 'TimerFired' | 'SubOrchestrationInstanceCompleted' | 'SubOrchestrationInstanceFailed' }
>;

class Replay {
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

type Scheduling = Extract<HistoryEvent, { EventType: 'TaskScheduled' | 'TimerCreated' | 'SubOrchestrationInstanceCreated' }>;

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
      case 'TaskCompleted':
      case 'TaskFailed':
      case 'TimerFired':
      case 'SubOrchestrationInstanceCompleted':
      case 'SubOrchestrationInstanceFailed':
        replay.complete(event);
        break;
      case 'EventRaised':
        replay.raise(event.Name);
        break;
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
  }
}

function describeScheduled(event: Scheduling): string {
  switch (event.EventType) {
    case 'TaskScheduled':
      return `activity '${event.Name}'`;
    case 'SubOrchestrationInstanceCreated':
      return `sub-orchestration '${event.Name}'`;
    case 'TimerCreated':
      return 'a timer';
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
  }
}
