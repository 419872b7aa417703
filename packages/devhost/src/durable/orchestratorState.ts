/**
 * What an orchestrator invocation answers, read as the extension reads it: `{isDone, actions, output,
 * error, customStatus, schemaVersion}`, or an error whose message carries the same state after
 * `$OutOfProcData$:` (see protocol.ts for the protocol itself).
 */
import { schedulerId } from './entityScheduler';
import { parseHttpRequest } from './httpTask';
import {
  ACTION_TYPE,
  isRecord,
  parseFailureDetails,
  toJsonText,
  type OrchestratorAction,
  type OrchestratorResult,
  type RetryPolicy,
} from './protocol';

const OUT_OF_PROC_LABEL = '$OutOfProcData$:';

/** Parses the state an orchestrator returned. Throws on a shape that is not the protocol's. */
export function parseOrchestratorState(state: unknown): OrchestratorResult {
  if (!isRecord(state)) throw new Error(`The orchestrator returned ${describe(state)} instead of its state.`);
  const rawActions = state.actions;
  if (!Array.isArray(rawActions)) throw new Error('The orchestrator state has no actions array.');
  // V1 nests one array per yield; V2+ has a single array of every action in order. Either way flatten one level.
  const actions = rawActions.flatMap((group: unknown) => (Array.isArray(group) ? (group as unknown[]) : [group])).map(parseAction);
  const failureDetails = parseFailureDetails(state.failureDetails);
  return {
    isDone: state.isDone === true,
    actions,
    output: toJsonText(state.output),
    customStatus: toJsonText(state.customStatus),
    ...(typeof state.error === 'string' ? { error: { message: state.error, ...(failureDetails ? { failureDetails } : {}) } } : {}),
  };
}

/**
 * The state an orchestrator failed with: durable-functions throws an Error whose message is
 * `<message>\n\n$OutOfProcData$:<state JSON>`.
 */
export function parseOrchestratorFailure(error: unknown): OrchestratorResult {
  const text = error instanceof Error ? error.message : String(error);
  const at = text.indexOf(OUT_OF_PROC_LABEL);
  const message = (at >= 0 ? text.slice(0, at) : text).trim();
  let state: OrchestratorResult = { isDone: false, actions: [] };
  if (at >= 0) {
    try {
      state = parseOrchestratorState(JSON.parse(text.slice(at + OUT_OF_PROC_LABEL.length)) as unknown);
    } catch {
      // The message is what matters; an unreadable state leaves no actions.
    }
  }
  // The state's own error is the orchestrator's exception (durable-functions 3.x puts `false` before the label).
  return {
    ...state,
    isDone: false,
    error: {
      message: state.error?.message ?? (message || 'The orchestrator failed.'),
      ...(state.error?.failureDetails ? { failureDetails: state.error.failureDetails } : {}),
    },
  };
}

function parseAction(raw: unknown): OrchestratorAction {
  if (!isRecord(raw) || typeof raw.actionType !== 'number')
    throw new Error(`The orchestrator returned an action that is not one: ${describe(raw)}.`);
  switch (raw.actionType) {
    case ACTION_TYPE.CallActivity:
      return { kind: 'callActivity', name: stringField(raw, 'functionName'), input: activityInput(raw.input) };
    case ACTION_TYPE.CallActivityWithRetry:
      return {
        kind: 'callActivity',
        name: stringField(raw, 'functionName'),
        input: activityInput(raw.input),
        retry: parseRetry(raw.retryOptions),
      };
    case ACTION_TYPE.CallSubOrchestrator:
    case ACTION_TYPE.CallSubOrchestratorWithRetry:
      return {
        kind: 'callSubOrchestrator',
        name: stringField(raw, 'functionName'),
        ...(typeof raw.instanceId === 'string' && raw.instanceId !== '' ? { instanceId: raw.instanceId } : {}),
        ...(typeof raw.version === 'string' && raw.version !== '' ? { version: raw.version } : {}),
        // Sub-orchestration inputs are not pre-serialised by the library (unlike activity inputs).
        input: toJsonText(raw.input),
        ...(raw.actionType === ACTION_TYPE.CallSubOrchestratorWithRetry ? { retry: parseRetry(raw.retryOptions) } : {}),
      };
    case ACTION_TYPE.ContinueAsNew:
      return { kind: 'continueAsNew', input: activityInput(raw.input) };
    case ACTION_TYPE.CreateTimer: {
      const fireAt = typeof raw.fireAt === 'string' ? Date.parse(raw.fireAt) : Number.NaN;
      if (Number.isNaN(fireAt)) throw new Error(`CreateTimer has no valid fireAt: ${describe(raw.fireAt)}.`);
      return { kind: 'createTimer', fireAt, isCanceled: raw.isCanceled === true };
    }
    case ACTION_TYPE.WaitForExternalEvent:
      return { kind: 'waitForExternalEvent', name: stringField(raw, 'externalEventName') };
    case ACTION_TYPE.WhenAll:
    case ACTION_TYPE.WhenAny: {
      const children = Array.isArray(raw.compoundActions) ? raw.compoundActions.map(parseAction) : [];
      return raw.actionType === ACTION_TYPE.WhenAll ? { kind: 'whenAll', children } : { kind: 'whenAny', children };
    }
    case ACTION_TYPE.CallHttp:
      return { kind: 'callHttp', request: parseHttpRequest(raw.httpRequest) };
    case ACTION_TYPE.CallEntity:
    case ACTION_TYPE.SignalEntity:
      return {
        kind: raw.actionType === ACTION_TYPE.CallEntity ? 'callEntity' : 'signalEntity',
        target: stringField(raw, 'instanceId'),
        operation: typeof raw.operation === 'string' ? raw.operation : '',
        // Entity inputs are not pre-serialised by the library (unlike activity inputs).
        ...(raw.input !== undefined ? { input: toJsonText(raw.input) } : {}),
      };
    case ACTION_TYPE.LockEntities: {
      const lockset = Array.isArray(raw.lockSet) ? raw.lockSet.map(lockTarget) : [];
      return { kind: 'lockEntities', lockset, lockRequestId: stringField(raw, 'lockRequestId') };
    }
    case ACTION_TYPE.ReleaseEntities:
      return { kind: 'releaseEntities' };
    default:
      return { kind: 'unsupported', description: `action type ${String(raw.actionType)}` };
  }
}

/** An entity of a lock set (`{name, key}`), as its instance id. */
function lockTarget(raw: unknown): string {
  if (!isRecord(raw) || typeof raw.name !== 'string' || typeof raw.key !== 'string')
    throw new Error(`A lock set names something that is not an entity: ${describe(raw)}.`);
  return schedulerId({ name: raw.name, key: raw.key });
}

function parseRetry(raw: unknown): RetryPolicy {
  if (!isRecord(raw)) throw new Error('A *WithRetry action has no retryOptions.');
  const number = (key: string, fallback: number) => (typeof raw[key] === 'number' && Number.isFinite(raw[key]) ? raw[key] : fallback);
  return {
    firstRetryIntervalMs: number('firstRetryIntervalInMilliseconds', 1000),
    maxNumberOfAttempts: number('maxNumberOfAttempts', 1),
    backoffCoefficient: number('backoffCoefficient', 1),
    maxRetryIntervalMs: number('maxRetryIntervalInMilliseconds', Number.POSITIVE_INFINITY),
    retryTimeoutMs: number('retryTimeoutInMilliseconds', Number.POSITIVE_INFINITY),
  };
}

/**
 * Activity (and continueAsNew) inputs: durable-functions JSON-encodes string inputs before putting
 * them in the action (`Utils.processInput`), so a string already is JSON text; anything else is a value.
 */
function activityInput(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string') return value;
  return JSON.stringify(value);
}

function stringField(raw: Record<string, unknown>, key: string): string {
  const value = raw[key];
  if (typeof value !== 'string' || value === '') throw new Error(`The action has no ${key}: ${describe(raw)}.`);
  return value;
}

function describe(value: unknown): string {
  try {
    const text = JSON.stringify(value);
    return text.length > 200 ? `${text.slice(0, 200)}…` : text;
  } catch {
    return String(value);
  }
}
