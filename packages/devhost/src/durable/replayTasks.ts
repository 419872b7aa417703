/**
 * The tasks a replay builds from the orchestrator's actions (replay.ts drives them), one class per kind
 * of durable-functions task: how each takes its sequence numbers and when it settles.
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
import { DEFAULT_HTTP_ASYNC_SLEEP_MS, type OrchestratorAction, type RetryPolicy } from './protocol';

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
  | { readonly kind: 'timer'; readonly id: number; readonly fireAt: number; readonly canceled: boolean }
  | { readonly kind: 'entity'; readonly id: number; readonly message: EntityOutbound };

/** A message an orchestrator sends to an entity: an operation (awaited or not), a lock request, or a release. */
export type EntityOutbound =
  | { readonly kind: 'call' | 'signal'; readonly target: string; readonly operation: string; readonly input?: string }
  | { readonly kind: 'lock'; readonly target: string; readonly lockset: readonly string[]; readonly lockRequestId: string }
  | { readonly kind: 'release'; readonly target: string; readonly lockRequestId: string };

/**
 * An attempt the library schedules after the retry timeout elapsed. DurableTask.Core stops retrying
 * there, but the library keeps waiting (durable-js #629: the instance stops silently), so the host
 * answers such attempts with the last failure instead of running them.
 */
export interface ExpiredRetry {
  readonly reason: string;
  readonly details?: string;
}

/** What a task needs from the replay that drives it. */
export interface ReplayScope {
  /** The orchestrator's time: the latest OrchestratorStarted replayed so far. */
  readonly now: number;
  readonly options: ReplayOptions;
  /** The first action the devhost does not run, if any. */
  unsupported: string | undefined;
  /** Gives a task its sequence number (and its completion, if that was replayed first). */
  allocate(node: Atomic): number;
  waitForEvent(node: EventWait): void;
  /** A top-level task settled: the orchestrator may move on. */
  topSettled(node: Node): void;
  build(action: OrchestratorAction): Node;
}

export type Outcome = { ok: true; result?: string } | { ok: false; reason: string; details?: string };

export abstract class Node {
  outcome: Outcome | undefined;
  parent: Compound | undefined;
  constructor(protected readonly replay: ReplayScope) {}
  abstract start(): void;
  settle(outcome: Outcome): void {
    if (this.outcome) return;
    this.outcome = outcome;
    if (this.parent) this.parent.childSettled(this);
    else this.replay.topSettled(this);
  }
}

/** A task with a sequence number, settled by a completion event. */
export class Atomic extends Node {
  id = -1;
  constructor(
    replay: ReplayScope,
    readonly task: DistributiveOmit<ScheduledTask, 'id'>,
  ) {
    super(replay);
  }
  start(): void {
    this.id = this.replay.allocate(this);
  }
}

/**
 * A message sent without waiting (signalEntity, the release of a lock): it takes its sequence numbers
 * (one per message, as the library's recordFireAndForgetAction counts them) and is done at once.
 */
export class FireAndForget extends Node {
  constructor(
    replay: ReplayScope,
    private readonly messages: readonly EntityOutbound[],
  ) {
    super(replay);
  }
  start(): void {
    for (const message of this.messages) {
      const atomic = new Atomic(this.replay, { kind: 'entity', message });
      atomic.start();
      atomic.settle({ ok: true });
    }
    this.settle({ ok: true });
  }
}

export class EventWait extends Node {
  constructor(
    replay: ReplayScope,
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
    replay: ReplayScope,
    readonly children: readonly Node[],
  ) {
    super(replay);
    for (const child of children) this.adopt(child);
  }
}

export class WhenAll extends Group {
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

export class WhenAny extends Group {
  start(): void {
    for (const child of this.children) child.start();
    if (this.children.some((child) => child.outcome)) this.settle({ ok: true });
  }
  childSettled(): void {
    this.settle({ ok: true });
  }
}

/** durable-functions' RetryableTask: attempt, back-off timer, attempt, … (one sequence number each). */
export class Retry extends Compound {
  private attemptNumber = 1;
  private waitingOnTimer = false;
  /** DurableTask.Core stopped retrying (the retry timeout had elapsed at a failure). */
  private gaveUp = false;
  private firstAttemptAt = 0;
  private lastFailure: { reason: string; details?: string } | undefined;
  constructor(
    replay: ReplayScope,
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
          this.gaveUp && (next.kind === 'activity' || next.kind === 'subOrchestration')
            ? { ...next, expiredRetry: this.lastFailure ?? { reason: 'Retry timeout elapsed' } }
            : next,
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
export class LongTimer extends Compound {
  constructor(
    replay: ReplayScope,
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
export class HttpPoll extends Compound {
  private waitingOnTimer = false;
  private location = '';
  constructor(
    replay: ReplayScope,
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

export function httpTask(request: DurableHttpRequest): DistributiveOmit<ScheduledTask, 'id'> {
  return { kind: 'activity', name: HTTP_ACTIVITY_NAME, input: httpActivityInput(request) };
}

export class Unsupported extends Node {
  constructor(
    replay: ReplayScope,
    readonly description: string,
  ) {
    super(replay);
  }
  start(): void {
    this.replay.unsupported ??= this.description;
  }
}

export type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
