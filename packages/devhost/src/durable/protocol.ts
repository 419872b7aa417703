/**
 * The out-of-process protocol between the Durable Task extension (the host side, played here by the
 * devhost) and durable-functions' replay code in the worker, as durable-functions 3.x speaks it:
 *
 * - The orchestrator is invoked with `{history, input, instanceId, isReplaying, parentInstanceId,
 *   upperSchemaVersion, longRunningTimerIntervalDuration, maximumShortTimerDuration, …}`; history
 *   events are PascalCase with a numeric `EventType`.
 * - It returns `{isDone, actions, output, error, customStatus, schemaVersion}`, or throws an error whose
 *   message carries the same state after `$OutOfProcData$:`. With schema V2+ `actions` is `[[…]]`: every
 *   action of the execution so far, in the order the orchestrator yielded them, compound actions
 *   (WhenAll/WhenAny) nesting their children.
 *
 * Payload values travel as JSON text inside history (`Input`, `Result`), as the extension keeps them.
 */

import type { DurableHttpRequest } from './httpTask';

/** History event types (DurableTask.Core `EventType`). */
export const EVENT_TYPE = {
  ExecutionStarted: 0,
  ExecutionCompleted: 1,
  ExecutionFailed: 2,
  ExecutionTerminated: 3,
  TaskScheduled: 4,
  TaskCompleted: 5,
  TaskFailed: 6,
  SubOrchestrationInstanceCreated: 7,
  SubOrchestrationInstanceCompleted: 8,
  SubOrchestrationInstanceFailed: 9,
  TimerCreated: 10,
  TimerFired: 11,
  OrchestratorStarted: 12,
  OrchestratorCompleted: 13,
  EventSent: 14,
  EventRaised: 15,
  ContinueAsNew: 16,
  GenericEvent: 17,
  HistoryState: 18,
  ExecutionSuspended: 19,
  ExecutionResumed: 20,
} as const;

/** Action types (durable-functions `ActionType`). */
export const ACTION_TYPE = {
  CallActivity: 0,
  CallActivityWithRetry: 1,
  CallSubOrchestrator: 2,
  CallSubOrchestratorWithRetry: 3,
  ContinueAsNew: 4,
  CreateTimer: 5,
  WaitForExternalEvent: 6,
  CallEntity: 7,
  CallHttp: 8,
  SignalEntity: 9,
  WhenAny: 11,
  WhenAll: 12,
  LockEntities: 13,
  ReleaseEntities: 14,
} as const;

/** Replay schema the devhost announces (durable-functions `ReplaySchema.V4`): long timers, flat actions. */
export const UPPER_SCHEMA_VERSION = 3;
/** The Azure Storage provider's timer limits, as the extension hands them to the library. */
export const MAXIMUM_SHORT_TIMER_DURATION = '6.00:00:00';
export const LONG_RUNNING_TIMER_INTERVAL_DURATION = '3.00:00:00';
export const MAXIMUM_SHORT_TIMER_MS = 6 * 86_400_000;
export const LONG_RUNNING_TIMER_INTERVAL_MS = 3 * 86_400_000;
export const DEFAULT_HTTP_ASYNC_SLEEP_MS = 30_000;

export type RuntimeStatus = 'Pending' | 'Running' | 'Completed' | 'ContinuedAsNew' | 'Failed' | 'Canceled' | 'Terminated' | 'Suspended';
export type TerminalStatus = 'Completed' | 'Failed' | 'Terminated' | 'Canceled';
export const TERMINAL_STATUSES: readonly RuntimeStatus[] = ['Completed', 'Failed', 'Terminated', 'Canceled'];
export const RUNTIME_STATUSES: readonly RuntimeStatus[] = [
  'Pending',
  'Running',
  'Completed',
  'ContinuedAsNew',
  'Failed',
  'Canceled',
  'Terminated',
  'Suspended',
];

export function isTerminal(status: RuntimeStatus): status is TerminalStatus {
  return TERMINAL_STATUSES.includes(status);
}

/** FailureDetails as the extension and the library exchange them. */
export interface FailureDetails {
  readonly ErrorType: string;
  readonly ErrorMessage: string;
  readonly StackTrace?: string;
  readonly IsNonRetriable?: boolean;
  readonly Properties?: Record<string, unknown>;
  readonly InnerFailure?: FailureDetails;
}

export interface ParentInstance {
  readonly Name: string;
  readonly TaskScheduleId: number;
  readonly OrchestrationInstance: { readonly InstanceId: string; readonly ExecutionId: string };
}

interface EventBase {
  /** The sequence number for scheduling events (TaskScheduled, TimerCreated, SubOrchestrationInstanceCreated), else -1. */
  readonly EventId: number;
  /** ISO 8601. */
  readonly Timestamp: string;
  /** Devhost bookkeeping: the inbox row this event was delivered from (never sent to the worker). */
  readonly SourceMessage?: string;
}

/** One history event, as the devhost keeps it (EventType by name; payloads as JSON text). */
export type HistoryEvent =
  | (EventBase & { readonly EventType: 'OrchestratorStarted' })
  | (EventBase & { readonly EventType: 'OrchestratorCompleted' })
  | (EventBase & {
      readonly EventType: 'ExecutionStarted';
      readonly Name: string;
      readonly Version?: string;
      readonly Input?: string;
      readonly ParentInstance?: ParentInstance;
      readonly OrchestrationInstance: { readonly InstanceId: string; readonly ExecutionId: string };
    })
  | (EventBase & {
      readonly EventType: 'ExecutionCompleted';
      readonly OrchestrationStatus: 'Completed' | 'Failed' | 'Terminated' | 'ContinuedAsNew';
      readonly Result?: string;
      readonly FailureDetails?: FailureDetails;
    })
  | (EventBase & { readonly EventType: 'ExecutionTerminated'; readonly Input?: string })
  | (EventBase & { readonly EventType: 'TaskScheduled'; readonly Name: string; readonly Version?: string; readonly Input?: string })
  | (EventBase & { readonly EventType: 'TaskCompleted'; readonly TaskScheduledId: number; readonly Result?: string })
  | (EventBase & {
      readonly EventType: 'TaskFailed';
      readonly TaskScheduledId: number;
      readonly Reason?: string;
      readonly Details?: string;
      readonly FailureDetails?: FailureDetails;
    })
  | (EventBase & {
      readonly EventType: 'SubOrchestrationInstanceCreated';
      readonly Name: string;
      readonly InstanceId: string;
      readonly Version?: string;
      readonly Input?: string;
    })
  | (EventBase & { readonly EventType: 'SubOrchestrationInstanceCompleted'; readonly TaskScheduledId: number; readonly Result?: string })
  | (EventBase & {
      readonly EventType: 'SubOrchestrationInstanceFailed';
      readonly TaskScheduledId: number;
      readonly Reason?: string;
      readonly Details?: string;
      readonly FailureDetails?: FailureDetails;
    })
  | (EventBase & { readonly EventType: 'TimerCreated'; readonly FireAt: string })
  | (EventBase & { readonly EventType: 'TimerFired'; readonly TimerId: number; readonly FireAt: string })
  | (EventBase & { readonly EventType: 'EventRaised'; readonly Name: string; readonly Input?: string })
  /** A message to an entity (Name `op` or `release`; Input the request as JSON text), sequence-numbered like a task. */
  | (EventBase & { readonly EventType: 'EventSent'; readonly InstanceId: string; readonly Name: string; readonly Input?: string });

export type HistoryEventType = HistoryEvent['EventType'];
export type EventOf<T extends HistoryEventType> = Extract<HistoryEvent, { EventType: T }>;

const HISTORY_EVENT_TYPES: readonly HistoryEventType[] = [
  'OrchestratorStarted',
  'OrchestratorCompleted',
  'ExecutionStarted',
  'ExecutionCompleted',
  'ExecutionTerminated',
  'TaskScheduled',
  'TaskCompleted',
  'TaskFailed',
  'SubOrchestrationInstanceCreated',
  'SubOrchestrationInstanceCompleted',
  'SubOrchestrationInstanceFailed',
  'TimerCreated',
  'TimerFired',
  'EventRaised',
  'EventSent',
];

export function isHistoryEventType(value: unknown): value is HistoryEventType {
  return typeof value === 'string' && (HISTORY_EVENT_TYPES as readonly string[]).includes(value);
}

/** The event as the worker receives it: numeric EventType, IsPlayed, no devhost bookkeeping. */
export function toWireEvent(event: HistoryEvent, isPlayed: boolean): Record<string, unknown> {
  const { SourceMessage: _source, ...fields } = event;
  return { ...fields, EventType: EVENT_TYPE[event.EventType], IsPlayed: isPlayed };
}

/** Retry policy of a *WithRetry action (durable-functions RetryOptions, milliseconds). */
export interface RetryPolicy {
  readonly firstRetryIntervalMs: number;
  readonly maxNumberOfAttempts: number;
  readonly backoffCoefficient: number;
  readonly maxRetryIntervalMs: number;
  readonly retryTimeoutMs: number;
}

/** An action the orchestrator returned, parsed. Inputs are JSON text (undefined when absent). */
export type OrchestratorAction =
  | { readonly kind: 'callActivity'; readonly name: string; readonly input?: string; readonly retry?: RetryPolicy }
  | {
      readonly kind: 'callSubOrchestrator';
      readonly name: string;
      readonly instanceId?: string;
      readonly version?: string;
      readonly input?: string;
      readonly retry?: RetryPolicy;
    }
  | { readonly kind: 'createTimer'; readonly fireAt: number; readonly isCanceled: boolean }
  | { readonly kind: 'waitForExternalEvent'; readonly name: string }
  | { readonly kind: 'continueAsNew'; readonly input?: string }
  | { readonly kind: 'callHttp'; readonly request: DurableHttpRequest }
  /** An entity operation; `target` is the entity's instance id (`@name@key`). */
  | { readonly kind: 'callEntity' | 'signalEntity'; readonly target: string; readonly operation: string; readonly input?: string }
  /** A critical section: the entities' instance ids, sorted; the library's request id. */
  | { readonly kind: 'lockEntities'; readonly lockset: readonly string[]; readonly lockRequestId: string }
  | { readonly kind: 'releaseEntities' }
  | { readonly kind: 'whenAll'; readonly children: readonly OrchestratorAction[] }
  | { readonly kind: 'whenAny'; readonly children: readonly OrchestratorAction[] }
  | { readonly kind: 'unsupported'; readonly description: string };

/** What one orchestrator invocation returned (or the state it threw with). */
export interface OrchestratorResult {
  readonly isDone: boolean;
  readonly actions: readonly OrchestratorAction[];
  /** JSON text of the return value. */
  readonly output?: string;
  /** JSON text of the custom status. */
  readonly customStatus?: string;
  /** Set when the orchestrator threw. */
  readonly error?: { readonly message: string; readonly failureDetails?: FailureDetails };
}

export function parseFailureDetails(raw: unknown): FailureDetails | undefined {
  if (!isRecord(raw)) return undefined;
  const type = raw.ErrorType ?? raw.errorType;
  const message = raw.ErrorMessage ?? raw.errorMessage;
  if (typeof type !== 'string' || typeof message !== 'string') return undefined;
  const stack = raw.StackTrace ?? raw.stackTrace;
  const properties = raw.Properties ?? raw.properties;
  const inner = parseFailureDetails(raw.InnerFailure ?? raw.innerFailure);
  return {
    ErrorType: type,
    ErrorMessage: message,
    ...(typeof stack === 'string' ? { StackTrace: stack } : {}),
    IsNonRetriable: (raw.IsNonRetriable ?? raw.isNonRetriable) === true,
    ...(isRecord(properties) ? { Properties: properties } : {}),
    ...(inner ? { InnerFailure: inner } : {}),
  };
}

/** JSON text of a value; undefined stays undefined. */
export function toJsonText(value: unknown): string | undefined {
  return value === undefined ? undefined : JSON.stringify(value);
}

/** The value of JSON text; undefined (no value) stays undefined. Text that is not JSON is returned as a string. */
export function fromJsonText(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
