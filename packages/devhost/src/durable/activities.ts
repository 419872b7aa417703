/**
 * Activity running: an activity a checkpoint scheduled runs in one of a limited number of slots — the
 * app's function, or the extension's built-in HTTP activity, which the devhost runs itself — and its
 * result or failure goes to the instance as a message.
 */
import type { Registration } from '../functionsCore';
import { triggerOf } from '../invoke';
import type { TriggerHostContext } from '../triggers/triggerHost';
import { HTTP_ACTIVITY_NAME, runHttpActivity } from './httpTask';
import type { Deliver } from './inbox';
import type { Limiter } from './limiter';
import type { Live } from './live';
import { parseFailureDetails, type FailureDetails } from './protocol';
import type { EngineRuntime } from './runtime';
import { inboxRowKey, MAX_VALUE_CHARS, type InboxMessage } from './tableRows';
import type { ActivityTask } from './tasks';
import { errorText, tryJson, typedDataJson } from './workerData';

export class ActivityRunner {
  /** Activities running, by instance, execution and task. */
  private readonly running = new Set<string>();

  constructor(
    private readonly runtime: EngineRuntime,
    /** The app's activity functions, by lower-case name. */
    private readonly activities: ReadonlyMap<string, Registration>,
    private readonly invoke: TriggerHostContext['invoke'],
    private readonly slots: Limiter,
    private readonly deliver: Deliver,
  ) {}

  /** Runs an activity in the background, unless it is running or has a result already. */
  dispatch(live: Live, task: ActivityTask): void {
    const key = `${live.id}\n${live.executionId}\n${task.id}`;
    if (this.running.has(key) || live.completions.has(task.id)) return;
    if (task.expiredRetry) {
      void this.deliver(live, this.taskFailed(live, task.id, task.expiredRetry.reason, task.expiredRetry.details));
      return;
    }
    this.running.add(key);
    void this.runtime.track(
      live.root,
      this.slots.run(() => this.run(live.id, live.executionId, task)).finally(() => this.running.delete(key)),
    );
  }

  /**
   * Runs an activity for an execution of an instance. The result goes to whichever in-memory state the
   * instance has by then (it may have been reloaded meanwhile), if it is still that execution.
   */
  private async run(instanceId: string, executionId: string, task: ActivityTask): Promise<void> {
    const current = () => {
      const live = this.runtime.live.get(instanceId);
      return live?.executionId === executionId ? live : undefined;
    };
    const live = current();
    if (this.runtime.stopping || !live) return;
    let message: InboxMessage;
    if (task.name === HTTP_ACTIVITY_NAME) {
      // callHttp: the extension's built-in activity, run by the devhost itself.
      const outcome = await runHttpActivity(task.input);
      message =
        'result' in outcome
          ? this.taskCompleted(live, task.id, outcome.result)
          : this.taskFailed(live, task.id, outcome.reason, outcome.details);
    } else {
      const registration = this.activities.get(task.name.toLowerCase());
      if (!registration) {
        await this.deliver(
          live,
          this.taskFailed(
            live,
            task.id,
            `The function '${task.name}' doesn't exist, is disabled, or is not an activity function.`,
            undefined,
          ),
        );
        return;
      }
      message = await this.invokeActivity(live, task, registration);
    }
    // Not awaited: the activity's slot is free as soon as it returned; recording the result is the instance's business.
    const target = current();
    if (target) void this.deliver(target, message);
  }

  /** Invokes an app's activity function and turns its result or failure into the history's message. */
  private async invokeActivity(live: Live, task: ActivityTask, registration: Registration): Promise<InboxMessage> {
    try {
      const response = await this.invoke(
        registration,
        {
          inputData: [{ name: triggerOf(registration).name, data: task.input === undefined ? {} : { json: task.input } }],
          triggerMetadata: {},
        },
        `Activity of orchestration ${live.id} (task ${task.id})`,
      );
      const result = typedDataJson(response.returnValue) ?? 'null';
      if (result.length > MAX_VALUE_CHARS) {
        return this.taskFailed(
          live,
          task.id,
          `Activity function '${task.name}' failed: its result is ${result.length} characters; the devhost keeps up to ${MAX_VALUE_CHARS}.`,
          undefined,
        );
      }
      return this.taskCompleted(live, task.id, result);
    } catch (error) {
      const { text, stack } = errorText(error);
      const details = parseFailureDetails(tryJson(text));
      return this.taskFailed(
        live,
        task.id,
        `Activity function '${task.name}' failed: ${details ? `${details.ErrorType}: ${details.ErrorMessage}` : text}`,
        details?.StackTrace ?? stack,
        details,
      );
    }
  }

  private taskCompleted(live: Live, id: number, result: string): InboxMessage {
    const event = {
      EventType: 'TaskCompleted',
      EventId: -1,
      Timestamp: this.runtime.isoNow(),
      TaskScheduledId: id,
      Result: result,
    } as const;
    return { rowKey: inboxRowKey(`task-${live.executionId}-${id}`), arrival: this.runtime.arrival(), executionId: live.executionId, event };
  }

  private taskFailed(live: Live, id: number, reason: string, details: string | undefined, failureDetails?: FailureDetails): InboxMessage {
    return {
      rowKey: inboxRowKey(`task-${live.executionId}-${id}`),
      arrival: this.runtime.arrival(),
      executionId: live.executionId,
      event: {
        EventType: 'TaskFailed',
        EventId: -1,
        Timestamp: this.runtime.isoNow(),
        TaskScheduledId: id,
        Reason: reason,
        // The library reads a failure only when both Reason and Details are strings.
        Details: details ?? '',
        ...(failureDetails ? { FailureDetails: failureDetails } : {}),
      },
    };
  }
}
