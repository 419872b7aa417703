/**
 * The row layout of the task hub's tables (described in store.ts): row keys, and how instances,
 * history events and inbox messages become table properties and back.
 */
import type { TableEntity } from '@azure/data-tables';
import {
  isHistoryEventType,
  isRecord,
  parseFailureDetails,
  RUNTIME_STATUSES,
  type HistoryEvent,
  type ParentInstance,
  type RuntimeStatus,
} from './protocol';

/** A string property holds at most 64 KiB (32 K UTF-16 characters); longer values are split across properties. */
const CHUNK_CHARS = 30_000;
/** An entity holds at most 1 MiB; keep every value well below it. */
export const MAX_VALUE_CHARS = 400_000;
export const SENTINEL_ROW = 'sentinel';
const INBOX_PREFIX = 'inbox-';

export interface InstanceRow {
  readonly instanceId: string;
  readonly name: string;
  readonly version?: string;
  readonly executionId: string;
  readonly input?: string;
  readonly output?: string;
  readonly customStatus?: string;
  readonly runtimeStatus: RuntimeStatus;
  readonly createdTime: number;
  readonly lastUpdatedTime: number;
  readonly completedTime?: number;
  readonly parent?: ParentInstance;
}

/** A durable message waiting to become history. `event.Timestamp` is when it arrived. */
export interface InboxMessage {
  readonly rowKey: string;
  /** Orders messages by arrival (zero-padded, so it sorts as text). */
  readonly arrival: string;
  /** The execution it is meant for (completions of an earlier execution are stale); none for raised events and terminations. */
  readonly executionId?: string;
  readonly event: HistoryEvent;
}

export function historyRowKey(sequence: number): string {
  return sequence.toString(16).toUpperCase().padStart(16, '0');
}

export function isInboxRow(rowKey: string): boolean {
  return rowKey.startsWith(INBOX_PREFIX);
}

/** Characters Azure Storage refuses in keys (instance ids and entity ids are partition keys). */
export const FORBIDDEN_KEY_CHARACTERS = /[/\\#?\p{Cc}]/u;

/** The first string after every string that starts with `prefix` (the end of a key range). */
export function prefixEnd(prefix: string): string {
  return prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
}

export function inboxRowKey(key: string): string {
  return `${INBOX_PREFIX}${key}`;
}

const OBJECT_FIELDS = new Set(['ParentInstance', 'FailureDetails', 'OrchestrationInstance']);

export function encodeEvent(event: HistoryEvent): Record<string, unknown> {
  const properties: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(event)) {
    if (value === undefined) continue;
    if (key === 'Timestamp') properties._Timestamp = value;
    else if (OBJECT_FIELDS.has(key)) putString(properties, key, JSON.stringify(value));
    else if (typeof value === 'string') putString(properties, key, value);
    else properties[key] = value;
  }
  return properties;
}

export function decodeEvent(entity: Record<string, unknown>): HistoryEvent {
  const type = entity.EventType;
  if (!isHistoryEventType(type)) throw new Error(`Unknown history event type ${String(type)} in row ${String(entity.rowKey)}.`);
  const event: Record<string, unknown> = {
    EventType: type,
    EventId: typeof entity.EventId === 'number' ? entity.EventId : -1,
    Timestamp: dateText(entity._Timestamp),
  };
  for (const key of [
    'Name',
    'Version',
    'Input',
    'Result',
    'FireAt',
    'InstanceId',
    'Reason',
    'Details',
    'OrchestrationStatus',
    'SourceMessage',
  ]) {
    const value = getString(entity, key);
    if (value !== undefined) event[key] = value;
  }
  for (const key of ['TaskScheduledId', 'TimerId']) if (typeof entity[key] === 'number') event[key] = entity[key];
  for (const key of OBJECT_FIELDS) {
    const text = getString(entity, key);
    if (text === undefined) continue;
    const value = JSON.parse(text) as unknown;
    event[key] = key === 'FailureDetails' ? parseFailureDetails(value) : value;
  }
  // The row was written from a HistoryEvent by encodeEvent; the type tag was checked above.
  return event as unknown as HistoryEvent;
}

export function encodeInboxMessage(instanceId: string, message: InboxMessage): TableEntity {
  return {
    partitionKey: instanceId,
    rowKey: message.rowKey,
    Arrival: message.arrival,
    ...(message.executionId !== undefined ? { ExecutionId: message.executionId } : {}),
    ...encodeEvent(message.event),
  };
}

export function encodeInstance(row: InstanceRow): TableEntity {
  const properties: Record<string, unknown> = {
    Name: row.name,
    ExecutionId: row.executionId,
    RuntimeStatus: row.runtimeStatus,
    CreatedTime: new Date(row.createdTime),
    LastUpdatedTime: new Date(row.lastUpdatedTime),
  };
  if (row.version !== undefined) properties.Version = row.version;
  if (row.completedTime !== undefined) properties.CompletedTime = new Date(row.completedTime);
  if (row.input !== undefined) putString(properties, 'Input', row.input);
  if (row.output !== undefined) putString(properties, 'Output', row.output);
  if (row.customStatus !== undefined) putString(properties, 'CustomStatus', row.customStatus);
  if (row.parent) {
    properties.ParentInstanceId = row.parent.OrchestrationInstance.InstanceId;
    putString(properties, 'ParentInstance', JSON.stringify(row.parent));
  }
  return { partitionKey: row.instanceId, rowKey: '', ...properties };
}

export function decodeInstance(entity: Record<string, unknown>): InstanceRow {
  const status = entity.RuntimeStatus;
  const parentText = getString(entity, 'ParentInstance');
  const parent = parentText === undefined ? undefined : (JSON.parse(parentText) as unknown);
  const optional = (key: string) => {
    const value = getString(entity, key);
    return value === undefined ? {} : { [key.charAt(0).toLowerCase() + key.slice(1)]: value };
  };
  return {
    instanceId: typeof entity.partitionKey === 'string' ? entity.partitionKey : '',
    name: getString(entity, 'Name') ?? '',
    executionId: getString(entity, 'ExecutionId') ?? '',
    runtimeStatus:
      typeof status === 'string' && (RUNTIME_STATUSES as readonly string[]).includes(status) ? (status as RuntimeStatus) : 'Pending',
    createdTime: dateMs(entity.CreatedTime),
    lastUpdatedTime: dateMs(entity.LastUpdatedTime),
    ...(entity.CompletedTime !== undefined ? { completedTime: dateMs(entity.CompletedTime) } : {}),
    ...optional('Version'),
    ...optional('Input'),
    ...optional('Output'),
    ...optional('CustomStatus'),
    ...(isParentInstance(parent) ? { parent } : {}),
  };
}

function isParentInstance(value: unknown): value is ParentInstance {
  return (
    isRecord(value) && typeof value.Name === 'string' && typeof value.TaskScheduleId === 'number' && isRecord(value.OrchestrationInstance)
  );
}

export function putString(properties: Record<string, unknown>, key: string, value: string): void {
  if (value.length > MAX_VALUE_CHARS)
    throw new Error(
      `${key} is ${value.length} characters: the devhost keeps values up to ${MAX_VALUE_CHARS} (the Azure Storage provider would move it to a blob).`,
    );
  if (value.length <= CHUNK_CHARS) {
    properties[key] = value;
    return;
  }
  const parts = Math.ceil(value.length / CHUNK_CHARS);
  properties[key] = value.slice(0, CHUNK_CHARS);
  for (let part = 1; part < parts; part++) properties[`${key}__${part}`] = value.slice(part * CHUNK_CHARS, (part + 1) * CHUNK_CHARS);
  properties[`${key}__parts`] = parts;
}

export function getString(entity: Record<string, unknown>, key: string): string | undefined {
  const first = entity[key];
  if (typeof first !== 'string') return undefined;
  const parts = entity[`${key}__parts`];
  if (typeof parts !== 'number') return first;
  let value = first;
  for (let part = 1; part < parts; part++) {
    const piece = entity[`${key}__${part}`];
    if (typeof piece === 'string') value += piece;
  }
  return value;
}

function dateText(value: unknown): string {
  if (value instanceof Date) return value.toISOString();
  return typeof value === 'string' ? value : new Date(0).toISOString();
}

export function dateMs(value: unknown): number {
  if (value instanceof Date) return value.getTime();
  if (typeof value === 'string') return Date.parse(value);
  return 0;
}
