import type { EventMetadata, RecordedEvent } from '../../kernel/event';
import { PLACE_STREAM_PREFIX } from '../../places/domain/place';
import { REGION_STREAM_PREFIX } from '../../regions/domain/region';

/**
 * How a stored event travels on the Event Grid topic: a CloudEvents 1.0 event (structured JSON).
 *
 * - `id` is the event's `metadata.eventId`, so a subscriber can recognise a duplicate delivery or a
 *   republished event (the publisher is at least once);
 * - `type` is `VisitPlannr.<EventType>` (what subscriptions filter on);
 * - `source` is the aggregate: `/places/<placeId>` or `/regions/<geohash>` (`/streams/<streamId>` for
 *   any other stream), `subject` the stream id;
 * - `time` is when the event occurred (`metadata.occurredAt`), not when it was published;
 * - `correlationid` (an extension attribute) is the correlation id, for tracing and advanced filters;
 * - `data` is the stored event without its type: `{streamId, version, data, metadata}`; the stream
 *   position lets subscribers order and de-duplicate per stream. An event whose CloudEvent would be
 *   larger than the inline limit travels as a reference `{streamId, version, metadata, ref: true}`
 *   and subscribers read it from the event store, so nothing published comes near Event Grid's 1 MB.
 */
export interface OutgoingCloudEvent {
  readonly specversion: '1.0';
  readonly id: string;
  readonly type: string;
  readonly source: string;
  readonly subject: string;
  readonly time: string;
  readonly datacontenttype: 'application/json';
  readonly correlationid: string;
  readonly data: PublishedEventData;
}

export type PublishedEventData = InlineEventData | EventReference;

export interface InlineEventData {
  readonly streamId: string;
  readonly version: number;
  readonly data: unknown;
  readonly metadata: EventMetadata;
}

export interface EventReference {
  readonly streamId: string;
  readonly version: number;
  readonly metadata: EventMetadata;
  readonly ref: true;
}

export const EVENT_TYPE_PREFIX = 'VisitPlannr.';

/**
 * Events whose CloudEvent is larger than this travel as references. Event Grid bills in 64 KB steps
 * and takes at most 1 MB per event; every place event is far smaller, forecasts may not be.
 */
export const DEFAULT_INLINE_LIMIT_BYTES = 64 * 1024;

/** Event Grid's limit per event; an inline limit above it would let an event be refused. */
export const EVENT_GRID_MAX_EVENT_BYTES = 1024 * 1024;

export function toCloudEventType(eventType: string): string {
  return `${EVENT_TYPE_PREFIX}${eventType}`;
}

/** The CloudEvent `source` of a stream: its aggregate as a path. */
export function sourceOf(streamId: string): string {
  if (streamId.startsWith(PLACE_STREAM_PREFIX)) return `/places/${encodeURIComponent(streamId.slice(PLACE_STREAM_PREFIX.length))}`;
  if (streamId.startsWith(REGION_STREAM_PREFIX)) return `/regions/${encodeURIComponent(streamId.slice(REGION_STREAM_PREFIX.length))}`;
  return `/streams/${encodeURIComponent(streamId)}`;
}

/** A stored event as the CloudEvent it is published as (inline, or a reference when too large). */
export function toCloudEvent(event: RecordedEvent, inlineLimitBytes = DEFAULT_INLINE_LIMIT_BYTES): OutgoingCloudEvent {
  if (inlineLimitBytes > EVENT_GRID_MAX_EVENT_BYTES)
    throw new RangeError(`The inline limit may be at most ${EVENT_GRID_MAX_EVENT_BYTES} bytes.`);
  const { streamId, version, metadata } = event;
  const envelope = {
    specversion: '1.0',
    id: metadata.eventId,
    type: toCloudEventType(event.type),
    source: sourceOf(streamId),
    subject: streamId,
    time: metadata.occurredAt,
    datacontenttype: 'application/json',
    correlationid: metadata.correlationId,
  } as const;
  const inline: OutgoingCloudEvent = { ...envelope, data: { streamId, version, data: event.data, metadata } };
  if (cloudEventBytes(inline) <= inlineLimitBytes) return inline;
  return { ...envelope, data: { streamId, version, metadata, ref: true } };
}

/** The size of a CloudEvent as JSON on the wire. */
export function cloudEventBytes(event: OutgoingCloudEvent): number {
  return Buffer.byteLength(JSON.stringify(event), 'utf8');
}
