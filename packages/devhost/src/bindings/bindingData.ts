import { randomUUID } from 'node:crypto';
import type { RpcTypedData } from '../invoke';
import { resolveBindingExpression } from '../triggers/triggerHost';

/**
 * The values a binding's `{…}` expressions may name, as the host builds them for one invocation:
 * the trigger's metadata (`{queueTrigger}`, `{name}` from a blob path, `{id}` from a route), the
 * properties of a JSON trigger payload (a queue message, an Event Grid event, an HTTP body), and
 * for HTTP `{Query.x}` and `{Headers.x}`. Names match without regard to case, as in the host.
 */
export type BindingData = ReadonlyMap<string, unknown>;

export function bindingDataOf(
  triggerType: string,
  trigger: RpcTypedData | undefined,
  triggerMetadata: Readonly<Record<string, RpcTypedData>> | undefined,
): BindingData {
  const data = new Map<string, unknown>();
  const add = (name: string, value: unknown) => {
    if (!data.has(name.toLowerCase())) data.set(name.toLowerCase(), value);
  };
  for (const [name, typed] of Object.entries(triggerMetadata ?? {})) add(name, typedDataValue(typed));
  if (trigger?.http) {
    for (const [name, value] of Object.entries(trigger.http.params ?? {})) add(name, value);
    add('query', trigger.http.query ?? {});
    add('headers', trigger.http.headers ?? {});
    const body = trigger.http.body ? typedDataValue(trigger.http.body) : undefined;
    addProperties(add, typeof body === 'string' || Buffer.isBuffer(body) ? parseJson(body.toString()) : body);
  } else if (trigger) {
    const value = typedDataValue(trigger);
    addProperties(add, typeof value === 'string' ? parseJson(value) : value);
  }
  // The queue trigger's message text is also `{queueTrigger}`, whatever the binding's name.
  if (triggerType === 'queueTrigger' && trigger?.string !== undefined) add('queueTrigger', trigger.string);
  return data;
}

function addProperties(add: (name: string, value: unknown) => void, value: unknown): void {
  if (isRecord(value)) for (const [name, property] of Object.entries(value)) add(name, property);
}

/**
 * A binding property with its `%setting%` and `{expression}` parts filled in, as the host fills
 * them when it binds: `{rand-guid}`, `{DateTime}` and dotted paths (`{Query.id}`) included. An
 * expression with no value fails the invocation, as the host's "No value for named parameter".
 */
export function resolveBindingPattern(pattern: string, data: BindingData, settings: Readonly<Record<string, string | undefined>>): string {
  return resolveBindingExpression(pattern, settings).replace(/\{([^{}]+)\}/g, (_, expression: string) => {
    const value = expressionValue(expression, data);
    if (value === undefined || value === null) throw new Error(`No value for named parameter '${expression}'.`);
    return textOf(value);
  });
}

/** A Cosmos DB query's `{expressions}` become `@parameters` (never spliced into the text), as the extension does. */
export function parameterizedQuery(
  query: string,
  data: BindingData,
  settings: Readonly<Record<string, string | undefined>>,
): { query: string; parameters: { name: string; value: string }[] } {
  const parameters = new Map<string, string>();
  const text = resolveBindingExpression(query, settings).replace(/\{([^{}]+)\}/g, (_, expression: string) => {
    const value = expressionValue(expression, data);
    if (value === undefined || value === null) throw new Error(`No value for named parameter '${expression}'.`);
    const name = `@${expression.replace(/[^A-Za-z0-9_]/g, '_')}`;
    parameters.set(name, textOf(value));
    return name;
  });
  return { query: text, parameters: [...parameters].map(([name, value]) => ({ name, value })) };
}

function expressionValue(expression: string, data: BindingData): unknown {
  const trimmed = expression.trim();
  const lower = trimmed.toLowerCase();
  if (lower === 'rand-guid') return randomUUID();
  if (lower === 'datetime') return new Date().toISOString();
  const [head = '', ...path] = trimmed.split('.');
  let value: unknown = data.get(head.toLowerCase());
  for (const segment of path) {
    if (!isRecord(value)) return undefined;
    const key = Object.keys(value).find((name) => name.toLowerCase() === segment.toLowerCase());
    value = key === undefined ? undefined : value[key];
  }
  return value;
}

/** What a function's output (or the host's trigger metadata) holds, as a JavaScript value. */
export function typedDataValue(data: RpcTypedData | null | undefined): unknown {
  if (!data) return undefined;
  if (data.string !== undefined) return data.string;
  if (data.json !== undefined) return JSON.parse(data.json) as unknown;
  if (data.bytes !== undefined) return Buffer.from(data.bytes);
  if (data.int !== undefined) return Number(data.int);
  if (data.double !== undefined) return data.double;
  return undefined;
}

/** A value as a message, blob or path segment carries it: text as is, bytes as UTF-8, objects as JSON. */
export function textOf(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return value.toString();
  if (value === undefined || typeof value === 'function' || typeof value === 'symbol') return '';
  return JSON.stringify(value);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !Buffer.isBuffer(value);
}
