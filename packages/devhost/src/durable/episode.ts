/**
 * Running one episode: the orchestrator replays its history plus the new messages through the library's
 * own code (an ordinary invocation of the registered function), replay.ts works out which of the
 * returned actions are new, one checkpoint records them, and only then is their work started.
 */
import type { Registration } from '../functionsCore';
import { triggerOf, type InvocationResult } from '../invoke';
import type { TriggerHostContext } from '../triggers/triggerHost';
import type { Checkpoints } from './checkpoint';
import { byArrival, countEpisodes } from './history';
import type { Live } from './live';
import {
  DEFAULT_HTTP_ASYNC_SLEEP_MS,
  fromJsonText,
  LONG_RUNNING_TIMER_INTERVAL_DURATION,
  LONG_RUNNING_TIMER_INTERVAL_MS,
  MAXIMUM_SHORT_TIMER_DURATION,
  MAXIMUM_SHORT_TIMER_MS,
  toWireEvent,
  UPPER_SCHEMA_VERSION,
  type EventOf,
  type FailureDetails,
  type HistoryEvent,
  type OrchestratorResult,
} from './protocol';
import { parseOrchestratorFailure, parseOrchestratorState } from './orchestratorState';
import { replayActions, type ReplayOptions, type ReplayResult } from './replay';
import type { EngineRuntime } from './runtime';
import { MAX_VALUE_CHARS, type InboxMessage } from './tableRows';
import { outboundMessage } from './orchestrationEntities';
import { scheduleTask, type TaskWorkers } from './tasks';
import { typedDataJson } from './workerData';

/** The extension's timer settings, as the worker is told them (upperSchemaVersion 3). */
export const REPLAY_OPTIONS: ReplayOptions = {
  longTimers: true,
  maximumShortTimerMs: MAXIMUM_SHORT_TIMER_MS,
  longRunningTimerIntervalMs: LONG_RUNNING_TIMER_INTERVAL_MS,
};

/** Messages delivered to one episode at most (each becomes a history row). */
const MAX_DELIVERED_PER_EPISODE = 1000;

/** An episode once the orchestrator has answered: the events its checkpoint records, the inbox rows it consumes. */
interface Answered {
  readonly live: Live;
  readonly events: HistoryEvent[];
  readonly consumed: string[];
  readonly now: number;
  readonly result: OrchestratorResult;
}

export class EpisodeRunner {
  constructor(
    private readonly runtime: EngineRuntime,
    /** The app's orchestrator functions, by lower-case name. */
    private readonly orchestrators: ReadonlyMap<string, Registration>,
    private readonly invoke: TriggerHostContext['invoke'],
    private readonly checkpoints: Checkpoints,
    private readonly workers: TaskWorkers,
  ) {}

  /** Runs an episode over the pending messages and `inline` (results no inbox row holds, which its checkpoint records). */
  async run(live: Live, inline: readonly InboxMessage[]): Promise<void> {
    const messages = [...live.pending.values()].sort(byArrival);
    const consumed: string[] = [];
    const terminate = messages.find((message) => message.event.EventType === 'ExecutionTerminated');
    if (terminate) {
      await this.checkpoints.terminate(
        live,
        terminate,
        messages.map((message) => message.rowKey),
      );
      return;
    }
    const start = messages.find((message) => message.event.EventType === 'ExecutionStarted' && !live.isStale(message));
    const delivered: InboxMessage[] = [];
    for (const message of messages) {
      if (message === start) continue;
      if (live.isStale(message)) consumed.push(message.rowKey);
      else if (live.history.length > 0 && delivered.length < MAX_DELIVERED_PER_EPISODE) delivered.push(message);
    }
    const durableCount = delivered.length;
    if (live.history.length > 0) delivered.push(...inline.filter((message) => !live.isStale(message)));
    if (!start && delivered.length === 0) {
      // Nothing for the orchestrator: only leftovers to clear.
      if (consumed.length > 0) await this.runtime.store.deleteRows(live.id, consumed);
      for (const key of consumed) live.pending.delete(key);
      return;
    }
    const now = this.runtime.episodeTime(live);
    const events: HistoryEvent[] = [{ EventType: 'OrchestratorStarted', EventId: -1, Timestamp: new Date(now).toISOString() }];
    for (const [index, message] of (start ? [start, ...delivered] : delivered).entries()) {
      events.push({ ...message.event, SourceMessage: message.rowKey });
      // Inline messages have no inbox row to delete.
      if (index < durableCount + (start ? 1 : 0)) consumed.push(message.rowKey);
    }
    const seen = [...live.history, ...events];
    const registration = this.orchestrators.get(live.name.toLowerCase());
    const result: OrchestratorResult = registration
      ? await this.invokeOrchestrator(registration, live, seen)
      : {
          isDone: false,
          actions: [],
          error: { message: `The function '${live.name}' doesn't exist, is disabled, or is not an orchestrator function.` },
        };
    const replay = replayActions(seen, result.actions, REPLAY_OPTIONS, result.error !== undefined);
    const answered: Answered = { live, events, consumed, now, result };

    const failed = result.error?.message !== undefined || replay.nonDeterminism !== undefined || replay.unsupported !== undefined;
    if (!failed && !replay.continueAsNew && !result.isDone) {
      await this.carryOn(answered, replay);
      return;
    }
    // The last episode of an execution: its messages to entities (a signal, the release of a lock) go
    // before the checkpoint that ends it, which keeps no record of them. Sent again if this episode runs
    // again, they are taken once (their ids and numbers derive from the execution and the sequence).
    if (replay.nonDeterminism === undefined) await this.sendToEntities(live, replay.newTasks);
    if (failed) await this.fail(answered, replay);
    else if (replay.continueAsNew)
      await this.checkpoints.continueAsNew(live, replay.continueAsNew.input, consumed, now, result.customStatus);
    else await this.complete(answered);
  }

  private async sendToEntities(live: Live, tasks: ReplayResult['newTasks']): Promise<void> {
    for (const task of tasks)
      if (task.kind === 'entity') await this.workers.sendToEntity(task.message.target, outboundMessage(live, task.id, task.message));
  }

  /** The orchestrator threw, or its actions contradict its history, or it asks for what the devhost does not run. */
  private async fail({ live, events, consumed, now, result }: Answered, replay: ReplayResult): Promise<void> {
    const message =
      replay.nonDeterminism ?? result.error?.message ?? `The devhost's durable engine does not run ${replay.unsupported ?? 'this action'}.`;
    const output = JSON.stringify(`Orchestrator function '${live.name}' failed: ${message}`);
    const failureDetails: FailureDetails = result.error?.failureDetails ?? {
      ErrorType: replay.nonDeterminism ? 'NonDeterministicOrchestrationException' : 'OrchestrationFailureException',
      ErrorMessage: message,
    };
    events.push({
      EventType: 'ExecutionCompleted',
      EventId: -1,
      Timestamp: new Date(now).toISOString(),
      OrchestrationStatus: 'Failed',
      Result: output,
      FailureDetails: failureDetails,
    });
    events.push({ EventType: 'OrchestratorCompleted', EventId: -1, Timestamp: new Date(now).toISOString() });
    await this.checkpoints.commit(live, events, consumed);
    live.status = 'Failed';
    live.output = output;
    if (result.customStatus !== undefined) live.customStatus = result.customStatus;
    live.lastUpdatedTime = now;
    this.runtime.logger.warn(`Durable: orchestration ${live.name} (${live.id}) failed: ${message}`);
    await this.checkpoints.finish(live);
  }

  private async complete({ live, events, consumed, now, result }: Answered): Promise<void> {
    const output = result.output ?? 'null';
    const tooLarge = output.length > MAX_VALUE_CHARS;
    const finalOutput = tooLarge
      ? JSON.stringify(
          `Orchestrator function '${live.name}' failed: its output is ${output.length} characters; the devhost keeps up to ${MAX_VALUE_CHARS}.`,
        )
      : output;
    events.push({
      EventType: 'ExecutionCompleted',
      EventId: -1,
      Timestamp: new Date(now).toISOString(),
      OrchestrationStatus: tooLarge ? 'Failed' : 'Completed',
      Result: finalOutput,
    });
    events.push({ EventType: 'OrchestratorCompleted', EventId: -1, Timestamp: new Date(now).toISOString() });
    await this.checkpoints.commit(live, events, consumed);
    live.status = tooLarge ? 'Failed' : 'Completed';
    live.output = finalOutput;
    if (result.customStatus !== undefined) live.customStatus = result.customStatus;
    live.lastUpdatedTime = now;
    await this.checkpoints.finish(live);
  }

  /** The orchestrator waits: record the tasks it scheduled, and start them once that record is durable. */
  private async carryOn({ live, events, consumed, now, result }: Answered, replay: ReplayResult): Promise<void> {
    const at = new Date(now).toISOString();
    const scheduled = replay.newTasks.map((task) => scheduleTask(live, task, at, this.workers));
    events.push(...scheduled.map((task) => task.event));
    events.push({ EventType: 'OrchestratorCompleted', EventId: -1, Timestamp: at });
    await this.checkpoints.commit(live, events, consumed);

    live.lastActions = result.actions;
    const wasPending = live.status === 'Pending';
    const customStatusChanged = result.customStatus !== live.customStatus;
    live.status = 'Running';
    live.customStatus = result.customStatus;
    live.lastUpdatedTime = now;
    for (const id of replay.canceledTimers) {
      live.alarms.get(id)?.();
      live.alarms.delete(id);
    }
    // Only now that the checkpoint is durable: start what it scheduled.
    // In order: messages from one execution to one entity must arrive in the order it sent them.
    for (const task of scheduled) await task.start();
    // Running must be on record before a later episode can continue-as-new (load() relies on it).
    if (wasPending) await this.checkpoints.saveRow(live);
    else if (customStatusChanged) void this.checkpoints.saveRow(live);
    else this.checkpoints.touchRow(live);
  }

  private async invokeOrchestrator(registration: Registration, live: Live, seen: readonly HistoryEvent[]): Promise<OrchestratorResult> {
    const committed = live.history.length;
    const started = seen.find((event): event is EventOf<'ExecutionStarted'> => event.EventType === 'ExecutionStarted');
    const rest = {
      input: fromJsonText(started?.Input) ?? null,
      instanceId: live.id,
      isReplaying: committed > 0,
      ...(live.parent ? { parentInstanceId: live.parent.OrchestrationInstance.InstanceId } : {}),
      upperSchemaVersion: UPPER_SCHEMA_VERSION,
      longRunningTimerIntervalDuration: LONG_RUNNING_TIMER_INTERVAL_DURATION,
      maximumShortTimerDuration: MAXIMUM_SHORT_TIMER_DURATION,
      defaultHttpAsyncRequestSleepTimeMillseconds: DEFAULT_HTTP_ASYNC_SLEEP_MS,
    };
    // {"history":[…committed (cached)…, …new…], …rest}
    const history = [...live.wire, ...seen.slice(committed).map((event) => JSON.stringify(toWireEvent(event, false)))].join(',');
    const payload = `{"history":[${history}],${JSON.stringify(rest).slice(1)}`;
    let response: InvocationResult;
    try {
      response = await this.invoke(
        registration,
        { inputData: [{ name: triggerOf(registration).name, data: { json: payload } }], triggerMetadata: {} },
        `Orchestration ${live.id} (episode ${countEpisodes(seen)})`,
      );
    } catch (error) {
      return parseOrchestratorFailure(error);
    }
    try {
      return parseOrchestratorState(fromJsonText(typedDataJson(response.returnValue)));
    } catch (error) {
      return { isDone: false, actions: [], error: { message: error instanceof Error ? error.message : String(error) } };
    }
  }
}
