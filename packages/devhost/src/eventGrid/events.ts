/**
 * The two event schemas an Event Grid topic accepts, validated as the service validates them, and
 * the fields the service adds on the way in.
 */

export type EventSchema = 'EventGridSchema' | 'CloudEventSchemaV1_0';

/** An Event Grid schema event as subscribers receive it (the service stamps `topic` and `metadataVersion`). */
export interface EventGridEvent {
  readonly id: string;
  readonly topic: string;
  readonly subject: string;
  readonly eventType: string;
  readonly eventTime: string;
  readonly data?: unknown;
  readonly dataVersion: string;
  readonly metadataVersion: '1';
}

/** A CloudEvents 1.0 event (structured JSON), delivered as published. */
export interface CloudEvent {
  readonly specversion: '1.0';
  readonly id: string;
  readonly source: string;
  readonly type: string;
  readonly subject?: string;
  readonly time?: string;
  readonly datacontenttype?: string;
  readonly dataschema?: string;
  readonly data?: unknown;
  readonly data_base64?: string;
  /** Extension attributes. */
  readonly [extension: string]: unknown;
}

export type TopicEvent =
  | { readonly schema: 'EventGridSchema'; readonly event: EventGridEvent }
  | { readonly schema: 'CloudEventSchemaV1_0'; readonly event: CloudEvent };

/** The service's limits: an event and the whole publish request are at most 1 MB. */
export const MAX_EVENT_BYTES = 1024 * 1024;
export const MAX_PUBLISH_BYTES = 1024 * 1024;

export const EVENT_GRID_CONTENT_TYPE = 'application/json';
export const CLOUD_EVENT_CONTENT_TYPE = 'application/cloudevents+json';
export const CLOUD_EVENT_BATCH_CONTENT_TYPE = 'application/cloudevents-batch+json';

export type PublishProblem = { readonly status: 400 | 413; readonly code: string; readonly message: string };
export type ParsedEvents = { readonly ok: true; readonly events: readonly TopicEvent[] } | ({ readonly ok: false } & PublishProblem);

type JsonObject = Readonly<Record<string, unknown>>;

/** The event type and subject a subscription filters on, whatever the schema. */
export function typeAndSubject(topicEvent: TopicEvent): { eventType: string; subject: string } {
  return topicEvent.schema === 'EventGridSchema'
    ? { eventType: topicEvent.event.eventType, subject: topicEvent.event.subject }
    : { eventType: topicEvent.event.type, subject: topicEvent.event.subject ?? '' };
}

/** The media type of a Content-Type header, lower case, without parameters. */
export function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

/**
 * Parses and validates a publish request as a topic does: `application/json` is an array of Event Grid
 * schema events; `application/cloudevents-batch+json` an array of CloudEvents, `application/cloudevents+json`
 * one CloudEvent. Event Grid schema events get the service's `topic`, `metadataVersion` and `dataVersion`.
 */
export function parsePublishRequest(contentType: string | undefined, body: Buffer, topicId: string): ParsedEvents {
  const type = mediaType(contentType);
  if (type !== EVENT_GRID_CONTENT_TYPE && type !== CLOUD_EVENT_CONTENT_TYPE && type !== CLOUD_EVENT_BATCH_CONTENT_TYPE) {
    return badRequest(
      `Unsupported Content-Type '${contentType ?? ''}': use ${EVENT_GRID_CONTENT_TYPE} (Event Grid schema array), ${CLOUD_EVENT_BATCH_CONTENT_TYPE} (CloudEvents array) or ${CLOUD_EVENT_CONTENT_TYPE} (one CloudEvent).`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch (error) {
    return badRequest(`The request body is not valid JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  const raw: readonly unknown[] | undefined = type === CLOUD_EVENT_CONTENT_TYPE ? [parsed] : Array.isArray(parsed) ? parsed : undefined;
  if (raw === undefined) return badRequest(`A ${type} request body must be a JSON array of events.`);
  const events: TopicEvent[] = [];
  for (const [index, item] of raw.entries()) {
    if (Buffer.byteLength(JSON.stringify(item)) > MAX_EVENT_BYTES) {
      return {
        ok: false,
        status: 413,
        code: 'PayloadTooLarge',
        message: `Event ${index} is larger than the ${MAX_EVENT_BYTES} bytes an event may be.`,
      };
    }
    const result = type === EVENT_GRID_CONTENT_TYPE ? toEventGridEvent(item, topicId) : toCloudEvent(item);
    if (typeof result === 'string') return badRequest(`Event ${index}${idOf(item)}: ${result}`);
    events.push(result);
  }
  return { ok: true, events };
}

/** Reads one event of a webhook delivery: a CloudEvent when it says `specversion`, else Event Grid schema (taken as delivered). */
export function deliveredEvent(item: unknown): TopicEvent | string {
  if (!isObject(item)) return 'an event must be a JSON object';
  if ('specversion' in item) return toCloudEvent(item);
  return { schema: 'EventGridSchema', event: item as unknown as EventGridEvent };
}

function toEventGridEvent(item: unknown, topicId: string): TopicEvent | string {
  if (!isObject(item)) return 'an event must be a JSON object';
  for (const name of ['id', 'subject', 'eventType', 'eventTime'] as const) {
    const problem = requiredText(item, name);
    if (problem) return problem;
  }
  const eventTime = item.eventTime as string;
  if (Number.isNaN(Date.parse(eventTime))) return `eventTime '${eventTime}' is not a date-time`;
  if (item.dataVersion !== undefined && typeof item.dataVersion !== 'string') return 'dataVersion must be a string';
  if (item.metadataVersion !== undefined && item.metadataVersion !== '1')
    return `metadataVersion must be "1" when present (was ${JSON.stringify(item.metadataVersion)})`;
  if (
    item.topic !== undefined &&
    item.topic !== null &&
    (typeof item.topic !== 'string' || item.topic.toLowerCase() !== topicId.toLowerCase())
  ) {
    return `topic, when present, must be this topic's resource id '${topicId}' (was ${JSON.stringify(item.topic)})`;
  }
  const event: EventGridEvent = {
    id: item.id as string,
    topic: topicId,
    subject: item.subject as string,
    eventType: item.eventType as string,
    eventTime,
    ...(item.data !== undefined && { data: item.data }),
    dataVersion: typeof item.dataVersion === 'string' ? item.dataVersion : '',
    metadataVersion: '1',
  };
  return { schema: 'EventGridSchema', event };
}

const CLOUD_EVENT_ATTRIBUTES = new Set([
  'specversion',
  'id',
  'source',
  'type',
  'subject',
  'time',
  'datacontenttype',
  'dataschema',
  'data',
  'data_base64',
]);

function toCloudEvent(item: unknown): TopicEvent | string {
  if (!isObject(item)) return 'an event must be a JSON object';
  if (item.specversion !== '1.0') return `specversion must be "1.0" (was ${JSON.stringify(item.specversion)})`;
  for (const name of ['id', 'source', 'type'] as const) {
    const problem = requiredText(item, name);
    if (problem) return problem;
  }
  for (const name of ['subject', 'time', 'datacontenttype', 'dataschema', 'data_base64'] as const) {
    if (item[name] !== undefined && typeof item[name] !== 'string') return `${name} must be a string`;
  }
  if (typeof item.time === 'string' && Number.isNaN(Date.parse(item.time))) return `time '${item.time}' is not an RFC 3339 date-time`;
  if (item.data !== undefined && item.data_base64 !== undefined) return 'an event carries data or data_base64, not both';
  for (const [name, value] of Object.entries(item)) {
    if (CLOUD_EVENT_ATTRIBUTES.has(name)) continue;
    if (!/^[a-z0-9]{1,20}$/.test(name)) return `extension attribute '${name}' must be 1 to 20 lower-case letters or digits`;
    if (value !== null && typeof value !== 'string' && typeof value !== 'boolean' && !Number.isInteger(value)) {
      return `extension attribute '${name}' must be a string, an integer or a boolean`;
    }
  }
  return { schema: 'CloudEventSchemaV1_0', event: item as unknown as CloudEvent };
}

function requiredText(item: JsonObject, name: string): string | undefined {
  const value = item[name];
  if (value === undefined || value === null) return `required property '${name}' is missing`;
  if (typeof value !== 'string' || value.trim() === '') return `'${name}' must be a non-empty string`;
  return undefined;
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function idOf(item: unknown): string {
  return isObject(item) && typeof item.id === 'string' ? ` (id '${item.id}')` : '';
}

function badRequest(message: string): ParsedEvents {
  return { ok: false, status: 400, code: 'BadRequest', message };
}
