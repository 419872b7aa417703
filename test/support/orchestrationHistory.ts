/**
 * Runs a registered orchestrator function the way the Durable Task extension does, from a history the
 * test builds, with no engine, storage or timers: start events, invoke, learn the new tasks and their
 * sequence numbers (the devhost's replay.ts, which numbers them as DurableTask.Core does — retry
 * back-off timers and new attempts included), record them, then feed the fake activities' results back
 * one completion per episode until the orchestrator continues as new, completes or fails.
 *
 * Every episode's exact history and result is kept, so a test can replay any prefix and check that
 * the orchestrator decides the same way every time.
 */
import { typedDataJson } from 'functions-devhost/durable/engine';
import {
  DEFAULT_HTTP_ASYNC_SLEEP_MS,
  fromJsonText,
  isRecord,
  LONG_RUNNING_TIMER_INTERVAL_DURATION,
  LONG_RUNNING_TIMER_INTERVAL_MS,
  MAXIMUM_SHORT_TIMER_DURATION,
  MAXIMUM_SHORT_TIMER_MS,
  toWireEvent,
  UPPER_SCHEMA_VERSION,
  type HistoryEvent,
  type OrchestratorResult,
} from 'functions-devhost/durable/protocol';
import { parseOrchestratorFailure, parseOrchestratorState } from 'functions-devhost/durable/orchestratorState';
import { replayActions, type ReplayOptions } from 'functions-devhost/durable/replay';
import { getProgrammingModel, registeredFunctions, type Registration } from 'functions-devhost/functionsCore';
import { invokeFunction, triggerOf } from 'functions-devhost/invoke';
import type { Logger } from 'functions-devhost/logger';

/** What a fake activity answers instead of a result: the attempt fails (TaskFailed). */
export interface ActivityFailure {
  readonly fail: string;
  /** TaskFailed.Details (the host puts the exception's stack or serialised cause there). */
  readonly details?: string;
}

/** What a fake activity answers to complete later: its answer (a result or `{fail}`) arrives `afterMs` after it was scheduled. */
export interface DelayedAnswer {
  readonly afterMs: number;
  readonly answer: unknown;
}

/** A fake activity: its result (any JSON value), `{fail}`, or `{afterMs, answer}`. Called once per attempt, in dispatch order. */
export type FakeActivities = (name: string, input: unknown) => unknown;

export interface RunOptions {
  /** The time of the first episode (the orchestrator's currentUtcDateTime at its start). */
  readonly startAt: Date;
  readonly activities: FakeActivities;
  /** Time between episodes (default 1 s). An episode that fires a timer is never earlier than the timer. */
  readonly episodeMs?: number;
  readonly instanceId?: string;
  /** Receives the orchestrator's own log lines (context.log), every episode; default: none kept. */
  readonly logger?: Logger;
}

export interface Episode {
  /** Exactly the history the orchestrator saw in this episode. */
  readonly history: readonly HistoryEvent[];
  readonly result: OrchestratorResult;
}

export interface ActivityCall {
  readonly name: string;
  /** The input as the activity receives it (parsed). */
  readonly input: unknown;
  /** Its sequence number (TaskScheduled.EventId). */
  readonly taskId: number;
  /** Index of the episode whose result scheduled it. */
  readonly episode: number;
}

export type RunOutcome =
  | { readonly status: 'ContinuedAsNew'; readonly input: unknown }
  | { readonly status: 'Completed'; readonly output: unknown }
  | { readonly status: 'Failed'; readonly reason: string };

export interface Run {
  readonly episodes: readonly Episode[];
  readonly outcome: RunOutcome;
  /** The last episode's customStatus, parsed. */
  readonly finalStatus: unknown;
  /** The continueAsNew input (parsed); undefined when the orchestrator did not continue as new. */
  readonly continueAsNewInput: unknown;
  readonly activityCalls: readonly ActivityCall[];
}

/** The Azure Storage provider's timer limits, as the engine hands them to replay.ts. */
const REPLAY_OPTIONS: ReplayOptions = {
  longTimers: true,
  maximumShortTimerMs: MAXIMUM_SHORT_TIMER_MS,
  longRunningTimerIntervalMs: LONG_RUNNING_TIMER_INTERVAL_MS,
};

/**
 * The extension refuses a customStatus over 16 KB of UTF-16 JSON (SetCustomStatus → Serialize(…, 16)),
 * which fails the orchestration; the devhost does not check it, so the driver does.
 */
export const MAX_CUSTOM_STATUS_UTF16_BYTES = 16 * 1024;

/** An orchestration that never settles would loop forever; no test needs nearly this many. */
const MAX_EPISODES = 1_000;

const quiet: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined, functionLog: () => undefined };

export async function runToCompletion(name: string, input: unknown, options: RunOptions): Promise<Run> {
  const episodeMs = options.episodeMs ?? 1_000;
  const instanceId = options.instanceId ?? 'orchestration-history-test';
  let now = options.startAt.getTime();
  const history: HistoryEvent[] = [
    { EventType: 'OrchestratorStarted', EventId: -1, Timestamp: iso(now) },
    {
      EventType: 'ExecutionStarted',
      EventId: -1,
      Timestamp: iso(now),
      Name: name,
      OrchestrationInstance: { InstanceId: instanceId, ExecutionId: 'execution-1' },
      ...(input !== undefined ? { Input: JSON.stringify(input) } : {}),
    },
  ];
  const episodes: Episode[] = [];
  const activityCalls: ActivityCall[] = [];
  /** Completions the fakes and timers have produced, not yet in the history. */
  const pending: { readonly id: number; readonly dueAt: number; readonly event: (at: number) => HistoryEvent }[] = [];
  const finish = (outcome: RunOutcome): Run => {
    const last = episodes.at(-1);
    return {
      episodes,
      outcome,
      finalStatus: fromJsonText(last?.result.customStatus),
      continueAsNewInput: outcome.status === 'ContinuedAsNew' ? outcome.input : undefined,
      activityCalls,
    };
  };

  for (;;) {
    if (episodes.length >= MAX_EPISODES) throw new Error(`${name} ran ${MAX_EPISODES} episodes without settling.`);
    const seen = [...history];
    const result = await invokeOrchestrator(name, seen, instanceId, options.logger);
    episodes.push({ history: seen, result });
    const replay = replayActions(seen, result.actions, REPLAY_OPTIONS, result.error !== undefined);
    const failure =
      result.error?.message ??
      replay.nonDeterminism ??
      (replay.unsupported !== undefined ? `unsupported: ${replay.unsupported}` : undefined) ??
      customStatusTooLarge(result);
    if (failure !== undefined) return finish({ status: 'Failed', reason: failure });
    if (replay.continueAsNew) return finish({ status: 'ContinuedAsNew', input: fromJsonText(replay.continueAsNew.input) });
    if (result.isDone) return finish({ status: 'Completed', output: fromJsonText(result.output) });

    const episode = episodes.length - 1;
    for (const task of replay.newTasks) {
      switch (task.kind) {
        case 'activity': {
          history.push({
            EventType: 'TaskScheduled',
            EventId: task.id,
            Timestamp: iso(now),
            Name: task.name,
            ...(task.input !== undefined ? { Input: task.input } : {}),
          });
          const activityInput = fromJsonText(task.input);
          activityCalls.push({ name: task.name, input: activityInput, taskId: task.id, episode });
          const { completion, afterMs } = runFake(options.activities, task.name, activityInput);
          pending.push({ id: task.id, dueAt: now + afterMs, event: (at) => completionEvent(task.id, task.name, completion, at) });
          break;
        }
        case 'timer':
          history.push({ EventType: 'TimerCreated', EventId: task.id, Timestamp: iso(now), FireAt: iso(task.fireAt) });
          pending.push({
            id: task.id,
            dueAt: task.fireAt,
            event: (at) => ({ EventType: 'TimerFired', EventId: -1, Timestamp: iso(at), TimerId: task.id, FireAt: iso(task.fireAt) }),
          });
          break;
        case 'subOrchestration':
          throw new Error(`${name} scheduled sub-orchestration '${task.name}': the history driver does not run sub-orchestrations.`);
      }
    }
    history.push({ EventType: 'OrchestratorCompleted', EventId: -1, Timestamp: iso(now) });

    pending.sort((a, b) => a.dueAt - b.dueAt || a.id - b.id);
    const next = pending.shift();
    if (!next)
      throw new Error(
        `${name} waits, but on nothing the driver can complete (external events are not supported). Actions: ${JSON.stringify(result.actions)}`,
      );
    now = Math.max(now + episodeMs, next.dueAt);
    history.push({ EventType: 'OrchestratorStarted', EventId: -1, Timestamp: iso(now) }, next.event(next.dueAt));
  }
}

/**
 * The orchestrator's result for exactly this history, as a host replaying it gets it: every event
 * before the last OrchestratorStarted is already played, the last episode's events are new.
 */
export async function replay(
  name: string,
  history: readonly HistoryEvent[],
  instanceId = 'orchestration-history-test',
): Promise<OrchestratorResult> {
  return invokeOrchestrator(name, history, instanceId);
}

async function invokeOrchestrator(
  name: string,
  history: readonly HistoryEvent[],
  instanceId: string,
  logger: Logger = quiet,
): Promise<OrchestratorResult> {
  const registration = orchestratorNamed(name);
  const model = getProgrammingModel();
  if (!model) throw new Error('@azure/functions registered no programming model (import the orchestration module first).');
  const lastStart = history.findLastIndex((event) => event.EventType === 'OrchestratorStarted');
  const started = history.find((event) => event.EventType === 'ExecutionStarted');
  const payload = {
    history: history.map((event, index) => toWireEvent(event, index < lastStart)),
    input: fromJsonText(started?.Input) ?? null,
    instanceId,
    isReplaying: lastStart > 0,
    upperSchemaVersion: UPPER_SCHEMA_VERSION,
    longRunningTimerIntervalDuration: LONG_RUNNING_TIMER_INTERVAL_DURATION,
    maximumShortTimerDuration: MAXIMUM_SHORT_TIMER_DURATION,
    defaultHttpAsyncRequestSleepTimeMillseconds: DEFAULT_HTTP_ASYNC_SLEEP_MS,
  };
  try {
    const response = await invokeFunction(
      model,
      registration,
      { inputData: [{ name: triggerOf(registration).name, data: { json: JSON.stringify(payload) } }], triggerMetadata: {} },
      logger,
      `history replay of ${name}`,
    );
    return parseOrchestratorState(fromJsonText(typedDataJson(response.returnValue)));
  } catch (error) {
    return parseOrchestratorFailure(error);
  }
}

function orchestratorNamed(name: string): Registration {
  const registration = registeredFunctions().find(
    (candidate) =>
      candidate.metadata.name.toLowerCase() === name.toLowerCase() &&
      Object.values(candidate.metadata.bindings).some((binding) => binding.type === 'orchestrationTrigger'),
  );
  if (!registration) throw new Error(`No orchestrator function named '${name}' is registered (import its module first).`);
  return registration;
}

type Completion =
  { readonly ok: true; readonly result: string } | { readonly ok: false; readonly reason: string; readonly details: string };

function runFake(activities: FakeActivities, name: string, input: unknown): { completion: Completion; afterMs: number } {
  let answer: unknown;
  try {
    answer = activities(name, input);
  } catch (error) {
    // As the engine reports an activity that threw.
    const completion: Completion = {
      ok: false,
      reason: error instanceof Error ? error.message : String(error),
      details: error instanceof Error ? (error.stack ?? '') : '',
    };
    return { completion, afterMs: 0 };
  }
  const afterMs = isDelayed(answer) ? answer.afterMs : 0;
  if (isDelayed(answer)) answer = answer.answer;
  if (isFailure(answer)) return { completion: { ok: false, reason: answer.fail, details: answer.details ?? '' }, afterMs };
  return { completion: { ok: true, result: answer === undefined ? 'null' : JSON.stringify(answer) }, afterMs };
}

function isDelayed(value: unknown): value is DelayedAnswer {
  return isRecord(value) && typeof value.afterMs === 'number' && 'answer' in value && Object.keys(value).length === 2;
}

function completionEvent(id: number, name: string, completion: Completion, at: number): HistoryEvent {
  if (completion.ok) return { EventType: 'TaskCompleted', EventId: -1, Timestamp: iso(at), TaskScheduledId: id, Result: completion.result };
  // The library reads a failure only when both Reason and Details are strings; the wording is the engine's.
  return {
    EventType: 'TaskFailed',
    EventId: -1,
    Timestamp: iso(at),
    TaskScheduledId: id,
    Reason: `Activity function '${name}' failed: ${completion.reason}`,
    Details: completion.details,
  };
}

function isFailure(value: unknown): value is ActivityFailure {
  return isRecord(value) && typeof value.fail === 'string' && Object.keys(value).every((key) => key === 'fail' || key === 'details');
}

function customStatusTooLarge(result: OrchestratorResult): string | undefined {
  // JSON text is UTF-16 in .NET: two bytes per JavaScript code unit.
  const bytes = (result.customStatus?.length ?? 0) * 2;
  return bytes > MAX_CUSTOM_STATUS_UTF16_BYTES
    ? `The custom status is ${bytes} bytes of UTF-16 JSON; the extension allows ${MAX_CUSTOM_STATUS_UTF16_BYTES} and fails the orchestration.`
    : undefined;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
