import { randomUUID } from 'node:crypto';
import type { RpcTypedData } from '../invoke';
import { resolveBindingExpression } from '../triggers/triggerHost';

/**
 * The values a binding's `{…}` expressions may name, as the host builds them for one invocation:
 * the trigger's metadata (`{queueTrigger}`, `{name}` from a blob path), the properties of a JSON
 * trigger payload (a queue message, an Event Grid event, an HTTP body), and for HTTP the route
 * parameters, each query parameter but `code` by its own name (route over query over body, as
 * HttpTriggerBinding orders them), `{Query.x}` and `{Headers.x}`. Names match without regard to
 * case. `{rand-guid}` and `{DateTime}` are one value each per invocation, as the host's
 * system binding data, unless the trigger's data has a value of that name.
 */
export interface BindingData {
  readonly values: ReadonlyMap<string, unknown>;
  readonly randGuid: string;
  readonly utcNow: Date;
}

export function bindingDataOf(
  triggerType: string,
  trigger: RpcTypedData | undefined,
  triggerMetadata: Readonly<Record<string, RpcTypedData>> | undefined,
): BindingData {
  const values = new Map<string, unknown>();
  const add = (name: string, value: unknown) => {
    if (!values.has(name.toLowerCase())) values.set(name.toLowerCase(), value);
  };
  for (const [name, typed] of Object.entries(triggerMetadata ?? {})) add(name, typedDataValue(typed));
  if (trigger?.http) {
    for (const [name, value] of Object.entries(trigger.http.params ?? {})) add(name, value);
    for (const [name, value] of Object.entries(trigger.http.query ?? {})) if (name.toLowerCase() !== 'code') add(name, value);
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
  return { values, randGuid: randomUUID(), utcNow: new Date() };
}

function addProperties(add: (name: string, value: unknown) => void, value: unknown): void {
  if (isRecord(value)) for (const [name, property] of Object.entries(value)) add(name, property);
}

/**
 * A binding property with its `%setting%` and `{expression}` parts filled in, as the host fills
 * them when it binds: dotted paths (`{Query.id}`) and `{rand-guid}`/`{DateTime}` (with a format
 * after a colon) included. An expression with no value fails the invocation, as the host's "No
 * value for named parameter". `escape` quotes values where the text is a query (a table filter).
 */
export function resolveBindingPattern(
  pattern: string,
  data: BindingData,
  settings: Readonly<Record<string, string | undefined>>,
  escape: (value: string) => string = (value) => value,
): string {
  return resolveBindingExpression(pattern, settings).replace(/\{([^{}]+)\}/g, (_, expression: string) => {
    const value = expressionValue(expression, data);
    if (value === undefined || value === null) throw new Error(`No value for named parameter '${expression}'.`);
    return escape(textOf(value));
  });
}

/** A value spliced into an OData filter inside '…': its quotes doubled, as the Tables extension's filter resolution does. */
export function odataLiteral(value: string): string {
  return value.replace(/'/g, "''");
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
  const [path, format] = splitFormat(expression.trim());
  const [head = '', ...rest] = path.split('.');
  let value: unknown = data.values.get(head.toLowerCase());
  for (const segment of rest) {
    if (!isRecord(value)) return undefined;
    const key = Object.keys(value).find((name) => name.toLowerCase() === segment.toLowerCase());
    value = key === undefined ? undefined : value[key];
  }
  if (value !== undefined || rest.length > 0) return value;
  if (head.toLowerCase() === 'rand-guid') return formatGuid(data.randGuid, format);
  if (head.toLowerCase() === 'datetime') return formatDateTime(data.utcNow, format ?? 'yyyy-MM-ddTHH-mm-ssK');
  return undefined;
}

function splitFormat(expression: string): [string, string | undefined] {
  const colon = expression.indexOf(':');
  return colon < 0 ? [expression, undefined] : [expression.slice(0, colon), expression.slice(colon + 1)];
}

/** .NET's Guid formats: D (the default), N, B, P. */
function formatGuid(guid: string, format: string | undefined): string {
  switch ((format ?? 'D').toUpperCase()) {
    case 'D':
      return guid;
    case 'N':
      return guid.replace(/-/g, '');
    case 'B':
      return `{${guid}}`;
    case 'P':
      return `(${guid})`;
    default:
      throw new Error(`The devhost knows the Guid formats D, N, B and P, not '${format ?? ''}'.`);
  }
}

/** The .NET custom date format specifiers bindings use, in UTC: yyyy, yy, MM, dd, HH, mm, ss, fff and K (Z). */
function formatDateTime(date: Date, format: string): string {
  const pad = (n: number, width = 2) => String(n).padStart(width, '0');
  const parts: Record<string, string> = {
    yyyy: String(date.getUTCFullYear()),
    yy: pad(date.getUTCFullYear() % 100),
    MM: pad(date.getUTCMonth() + 1),
    dd: pad(date.getUTCDate()),
    HH: pad(date.getUTCHours()),
    mm: pad(date.getUTCMinutes()),
    ss: pad(date.getUTCSeconds()),
    fff: pad(date.getUTCMilliseconds(), 3),
    K: 'Z',
  };
  // Letters that are no .NET format specifier (the T between date and time) are written as they are.
  return format.replace(/yyyy|yy|MM|dd|HH|mm|ss|fff|K|[yMdHhmsfFztgK]+/g, (token) => {
    const part = parts[token];
    if (part === undefined)
      throw new Error(
        `The devhost knows the date format specifiers yyyy, yy, MM, dd, HH, mm, ss, fff and K, not '${token}' (in '${format}').`,
      );
    return part;
  });
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
