/**
 * Sub-orchestrations: a child a checkpoint scheduled is started (or, after a restart, found running or
 * finished), and when it finishes its outcome goes to the parent as a message.
 */
import type { Deliver } from './inbox';
import type { Live } from './live';
import { fromJsonText, isTerminal, type EventOf, type ParentInstance } from './protocol';
import type { EngineRuntime } from './runtime';
import { inboxRowKey, type InboxMessage, type InstanceRow } from './tableRows';

/** Starts an orchestration as the child of `parent` (the engine's startNew). */
export type StartChild = (request: {
  readonly name: string;
  readonly instanceId: string;
  readonly input?: string;
  readonly version?: string;
  readonly parent: ParentInstance;
}) => Promise<unknown>;

export class SubOrchestrations {
  constructor(
    private readonly runtime: EngineRuntime,
    private readonly deliver: Deliver,
    private readonly startChild: StartChild,
  ) {}

  /** Makes sure a scheduled child exists, in the background (idle() waits for it). */
  start(parent: Live, created: EventOf<'SubOrchestrationInstanceCreated'>): void {
    void this.runtime.track(parent.root, this.ensure(parent, created));
  }

  /** Hands a finished child's outcome to its parent: in memory if it is loaded, else to its inbox. */
  async notifyParent(parent: ParentInstance, child: Pick<InstanceRow, 'name' | 'runtimeStatus' | 'output'>): Promise<void> {
    const { InstanceId, ExecutionId } = parent.OrchestrationInstance;
    const message: InboxMessage =
      child.runtimeStatus === 'Completed'
        ? {
            rowKey: inboxRowKey(`sub-${ExecutionId}-${parent.TaskScheduleId}`),
            arrival: this.runtime.arrival(),
            executionId: ExecutionId,
            event: {
              EventType: 'SubOrchestrationInstanceCompleted',
              EventId: -1,
              Timestamp: this.runtime.isoNow(),
              TaskScheduledId: parent.TaskScheduleId,
              ...(child.output !== undefined ? { Result: child.output } : {}),
            },
          }
        : this.childFailed(parent, outputText(child.output) ?? `Sub-orchestration '${child.name}' ended ${child.runtimeStatus}.`);
    const target = this.runtime.live.get(InstanceId);
    if (target) await this.deliver(target, message);
    else if (!this.runtime.stopping) await this.runtime.store.appendInbox(InstanceId, [message]);
  }

  /** Makes sure a scheduled sub-orchestration exists; if it already finished, collects its result. */
  private async ensure(parent: Live, created: EventOf<'SubOrchestrationInstanceCreated'>): Promise<void> {
    const parentRef: ParentInstance = {
      Name: parent.name,
      TaskScheduleId: created.EventId,
      OrchestrationInstance: { InstanceId: parent.id, ExecutionId: parent.executionId },
    };
    const existing = this.runtime.live.get(created.InstanceId);
    if (existing) {
      if (existing.parent?.OrchestrationInstance.InstanceId === parent.id) return;
      await this.deliver(
        parent,
        this.childFailed(parentRef, `An orchestration with instance ID '${created.InstanceId}' already exists and is ${existing.status}.`),
      );
      return;
    }
    const row = await this.runtime.store.readInstance(created.InstanceId);
    const ours = row?.parent?.OrchestrationInstance.ExecutionId === parent.executionId && row.parent.TaskScheduleId === created.EventId;
    if (row && ours && isTerminal(row.runtimeStatus)) {
      await this.notifyParent(parentRef, row);
      return;
    }
    try {
      await this.startChild({
        name: created.Name,
        instanceId: created.InstanceId,
        ...(created.Input !== undefined ? { input: created.Input } : {}),
        ...(created.Version !== undefined ? { version: created.Version } : {}),
        parent: parentRef,
      });
    } catch (error) {
      await this.deliver(parent, this.childFailed(parentRef, error instanceof Error ? error.message : String(error)));
    }
  }

  private childFailed(parent: ParentInstance, reason: string): InboxMessage {
    return {
      rowKey: inboxRowKey(`sub-${parent.OrchestrationInstance.ExecutionId}-${parent.TaskScheduleId}`),
      arrival: this.runtime.arrival(),
      executionId: parent.OrchestrationInstance.ExecutionId,
      event: {
        EventType: 'SubOrchestrationInstanceFailed',
        EventId: -1,
        Timestamp: this.runtime.isoNow(),
        TaskScheduledId: parent.TaskScheduleId,
        Reason: reason,
        Details: '',
      },
    };
  }
}

function outputText(output: string | undefined): string | undefined {
  const value = fromJsonText(output);
  return typeof value === 'string' ? value : output;
}
