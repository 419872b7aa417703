/** The client API's view of instances: status documents (with the history as the extension shows it) and instance queries. */
import { fromJsonText, type EventOf, type HistoryEvent, type RuntimeStatus } from './protocol';
import { prefixEnd, type InstanceRow } from './tableRows';

export interface StatusOptions {
  readonly showHistory?: boolean;
  readonly showHistoryOutput?: boolean;
  readonly showInput?: boolean;
}

/** The status document of the extension's HTTP API (and DurableOrchestrationStatus). */
export interface InstanceStatus {
  readonly name: string;
  readonly instanceId: string;
  readonly runtimeStatus: RuntimeStatus;
  readonly input: unknown;
  readonly customStatus: unknown;
  readonly output: unknown;
  readonly createdTime: string;
  readonly lastUpdatedTime: string;
  readonly historyEvents?: unknown[];
  readonly history?: unknown[];
}

export interface InstanceQuery {
  readonly runtimeStatus?: readonly RuntimeStatus[];
  readonly createdTimeFrom?: number;
  readonly createdTimeTo?: number;
  readonly instanceIdPrefix?: string;
  readonly top?: number;
  readonly continuationToken?: string;
  readonly showInput?: boolean;
}

/** Entities (`@name@key`) are instances too, in the same table; orchestration queries leave them out. */
export const NOT_AN_ENTITY = "(PartitionKey lt '@' or PartitionKey ge 'A')";

/** The Instances table's OData filter for a query: its orchestrations (never entities) that match. */
export function instanceFilter(query: InstanceQuery): string {
  const clauses: string[] = [NOT_AN_ENTITY];
  const quote = (text: string) => `'${text.replace(/'/g, "''")}'`;
  if (query.runtimeStatus && query.runtimeStatus.length > 0)
    clauses.push(`(${query.runtimeStatus.map((status) => `RuntimeStatus eq ${quote(status)}`).join(' or ')})`);
  if (query.createdTimeFrom !== undefined) clauses.push(`CreatedTime ge datetime'${new Date(query.createdTimeFrom).toISOString()}'`);
  if (query.createdTimeTo !== undefined) clauses.push(`CreatedTime le datetime'${new Date(query.createdTimeTo).toISOString()}'`);
  if (query.instanceIdPrefix) {
    const prefix = query.instanceIdPrefix;
    clauses.push(`PartitionKey ge ${quote(prefix)} and PartitionKey lt ${quote(prefixEnd(prefix))}`);
  }
  return clauses.join(' and ');
}

/** An Instances row as the status API shows it, with the history when asked for. */
export function toStatus(row: InstanceRow, options: StatusOptions, history?: readonly HistoryEvent[]): InstanceStatus {
  const historyEvents = history ? formatHistory(history, options.showHistoryOutput === true) : undefined;
  return {
    name: row.name,
    instanceId: row.instanceId,
    runtimeStatus: row.runtimeStatus,
    input: options.showInput === false ? null : (fromJsonText(row.input) ?? null),
    customStatus: fromJsonText(row.customStatus) ?? null,
    output: fromJsonText(row.output) ?? null,
    createdTime: new Date(row.createdTime).toISOString(),
    lastUpdatedTime: new Date(row.lastUpdatedTime).toISOString(),
    // The extension names it historyEvents; durable-functions' DurableOrchestrationStatus reads `history`.
    ...(historyEvents ? { historyEvents, history: historyEvents } : {}),
  };
}

/** The history as the extension's status API shows it: completions carry their function name and scheduled time. */
function formatHistory(history: readonly HistoryEvent[], showOutput: boolean): unknown[] {
  const scheduled = new Map<number, EventOf<'TaskScheduled' | 'SubOrchestrationInstanceCreated'>>();
  const shown: unknown[] = [];
  const output = (text: string | undefined) => (showOutput ? { Result: fromJsonText(text) ?? null } : {});
  for (const event of history) {
    switch (event.EventType) {
      case 'TaskScheduled':
      case 'SubOrchestrationInstanceCreated':
        scheduled.set(event.EventId, event);
        break;
      case 'ExecutionStarted':
        shown.push({
          EventType: event.EventType,
          FunctionName: event.Name,
          Timestamp: event.Timestamp,
          ...(event.ParentInstance ? { ParentInstanceId: event.ParentInstance.OrchestrationInstance.InstanceId } : {}),
        });
        break;
      case 'TaskCompleted':
      case 'SubOrchestrationInstanceCompleted':
      case 'TaskFailed':
      case 'SubOrchestrationInstanceFailed': {
        const origin = scheduled.get(event.TaskScheduledId);
        const failed = event.EventType === 'TaskFailed' || event.EventType === 'SubOrchestrationInstanceFailed';
        shown.push({
          EventType: event.EventType,
          ...(origin ? { FunctionName: origin.Name, ScheduledTime: origin.Timestamp } : {}),
          ...(origin?.EventType === 'SubOrchestrationInstanceCreated' ? { InstanceId: origin.InstanceId } : {}),
          Timestamp: event.Timestamp,
          ...(failed ? { Reason: event.Reason, Details: event.Details } : output(event.Result)),
        });
        break;
      }
      case 'TimerFired':
        shown.push({ EventType: event.EventType, FireAt: event.FireAt, Timestamp: event.Timestamp });
        break;
      case 'EventRaised':
        shown.push({
          EventType: event.EventType,
          Name: event.Name,
          Timestamp: event.Timestamp,
          ...(showOutput ? { Input: fromJsonText(event.Input) ?? null } : {}),
        });
        break;
      case 'ExecutionTerminated':
        shown.push({ EventType: event.EventType, Timestamp: event.Timestamp, Input: fromJsonText(event.Input) ?? null });
        break;
      case 'ExecutionCompleted':
        shown.push({
          EventType: event.EventType,
          OrchestrationStatus: event.OrchestrationStatus,
          Timestamp: event.Timestamp,
          ...output(event.Result),
        });
        break;
      case 'OrchestratorStarted':
      case 'OrchestratorCompleted':
      case 'TimerCreated':
        break;
    }
  }
  return shown;
}
