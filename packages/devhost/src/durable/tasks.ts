/**
 * The work an orchestrator schedules, by kind of task: the history event that records a new task, how
 * its work starts once the checkpoint holding that event has committed, and how it starts again when
 * a loaded instance still waits for its result. A new kind of task adds a case to each.
 */
import type { EntityMessage } from './entityScheduler';
import type { Live } from './live';
import { outboundMessage, sentEvent } from './orchestrationEntities';
import type { EventOf, HistoryEvent } from './protocol';
import type { ScheduledTask } from './replay';

export type ActivityTask = Extract<ScheduledTask, { kind: 'activity' }>;

/** A history event that schedules work whose result the orchestrator awaits. */
export type SchedulingEvent = EventOf<'TaskScheduled' | 'TimerCreated' | 'SubOrchestrationInstanceCreated'>;

/** Who starts each kind of work (activities.ts, timers.ts, subOrchestrations.ts). Each ignores work already started or done. */
export interface TaskWorkers {
  runActivity(live: Live, task: ActivityTask): void;
  armTimer(live: Live, id: number, fireAt: number): void;
  startChild(parent: Live, created: EventOf<'SubOrchestrationInstanceCreated'>): void;
  /** Resolves once the message is durable in the entity's inbox. */
  sendToEntity(target: string, message: EntityMessage): Promise<void>;
}

/** A task an episode scheduled: the event its checkpoint records, and what to do once that is committed. */
export interface NewTask {
  readonly event: HistoryEvent;
  /** Resolves once the work is handed over (an entity message is durable); the next episode waits for that. */
  readonly start: () => void | Promise<void>;
}

export function scheduleTask(live: Live, task: ScheduledTask, at: string, workers: TaskWorkers): NewTask {
  switch (task.kind) {
    case 'activity':
      return {
        event: {
          EventType: 'TaskScheduled',
          EventId: task.id,
          Timestamp: at,
          Name: task.name,
          ...(task.input !== undefined ? { Input: task.input } : {}),
        },
        start: () => workers.runActivity(live, task),
      };
    case 'timer':
      return {
        event: { EventType: 'TimerCreated', EventId: task.id, Timestamp: at, FireAt: new Date(task.fireAt).toISOString() },
        start: () => workers.armTimer(live, task.id, task.fireAt),
      };
    case 'subOrchestration': {
      const event: EventOf<'SubOrchestrationInstanceCreated'> = {
        EventType: 'SubOrchestrationInstanceCreated',
        EventId: task.id,
        Timestamp: at,
        Name: task.name,
        InstanceId: task.instanceId ?? `${live.id}:${task.id.toString(16).padStart(4, '0')}`,
        ...(task.version !== undefined ? { Version: task.version } : {}),
        ...(task.input !== undefined ? { Input: task.input } : {}),
      };
      return { event, start: () => workers.startChild(live, event) };
    }
    case 'entity': {
      const message = outboundMessage(live, task.id, task.message);
      return {
        event: sentEvent(task.message.target, message, task.id, at),
        start: () => workers.sendToEntity(task.message.target, message),
      };
    }
  }
}

/** Scheduling events without a completion (in the history or pending). */
export function openTasks(history: readonly HistoryEvent[], completions: ReadonlySet<number>): SchedulingEvent[] {
  return history.filter(
    (event): event is SchedulingEvent =>
      (event.EventType === 'TaskScheduled' ||
        event.EventType === 'TimerCreated' ||
        event.EventType === 'SubOrchestrationInstanceCreated') &&
      !completions.has(event.EventId),
  );
}

/** Starts again the work of an open task of a loaded instance (its result was never recorded). */
export function restartTask(live: Live, event: SchedulingEvent, workers: TaskWorkers): void {
  switch (event.EventType) {
    case 'TaskScheduled':
      workers.runActivity(live, {
        kind: 'activity',
        id: event.EventId,
        name: event.Name,
        ...(event.Input !== undefined ? { input: event.Input } : {}),
      });
      break;
    case 'TimerCreated':
      workers.armTimer(live, event.EventId, Date.parse(event.FireAt));
      break;
    case 'SubOrchestrationInstanceCreated':
      workers.startChild(live, event);
      break;
  }
}
