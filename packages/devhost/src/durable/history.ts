/**
 * What the engine reads off an instance's history events: which task a result closes, and when the
 * episodes started (the orchestrator's time never goes back).
 */
import type { HistoryEvent } from './protocol';

/** The sequence number of the task whose result the event is; undefined for any other event. */
export function completionId(event: HistoryEvent): number | undefined {
  switch (event.EventType) {
    case 'TaskCompleted':
    case 'TaskFailed':
    case 'SubOrchestrationInstanceCompleted':
    case 'SubOrchestrationInstanceFailed':
      return event.TaskScheduledId;
    case 'TimerFired':
      return event.TimerId;
    default:
      return undefined;
  }
}

export function lastStarted(history: readonly HistoryEvent[]): number {
  for (let index = history.length - 1; index >= 0; index--) {
    const event = history[index] as HistoryEvent;
    if (event.EventType === 'OrchestratorStarted') return Date.parse(event.Timestamp);
  }
  return 0;
}

export function countEpisodes(history: readonly HistoryEvent[]): number {
  return history.filter((event) => event.EventType === 'OrchestratorStarted').length;
}

/** Orders messages as they arrived (the order the orchestrator sees them in). */
export function byArrival(a: { readonly arrival: string }, b: { readonly arrival: string }): number {
  return a.arrival < b.arrival ? -1 : a.arrival > b.arrival ? 1 : 0;
}
