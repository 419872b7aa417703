import { z } from 'zod';
import type { RecordedEvent } from '../../kernel/event';
import type { EventStore } from '../eventSourcing/eventStore';
import { errorSummary, withCorrelation, type LogSink } from '../logging';
import { EVENT_TYPE_PREFIX } from './cloudEvents';

/** A domain event as a subscriber receives it from Event Grid, before any reference is resolved. */
export interface DeliveredEvent {
  /** The event id (`metadata.eventId`): the same on every delivery of the event. */
  readonly id: string;
  /** The domain event type, without the `VisitPlannr.` prefix. */
  readonly eventType: string;
  readonly streamId: string;
  readonly version: number;
  readonly metadata: RecordedEvent['metadata'];
  /** The event's data, or `reference` when it was too large to travel and must be read from the store. */
  readonly payload: { readonly kind: 'inline'; readonly data: unknown } | { readonly kind: 'reference' };
}

/** The delivery is not a Visit Plannr event at all: retrying cannot help, so it goes to the dead letters. */
export class MalformedDeliveryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MalformedDeliveryError';
  }
}

const metadataSchema = z.object({
  eventId: z.string().min(1),
  correlationId: z.string().min(1),
  causationId: z.string().min(1),
  occurredAt: z.string().min(1),
});
const dataSchema = z.object({
  streamId: z.string().min(1),
  version: z.number().int().positive(),
  metadata: metadataSchema,
  ref: z.literal(true).optional(),
  data: z.unknown().optional(),
});
/** CloudEvents 1.0 as published (what the subscription delivers by default). */
const cloudEventSchema = z.object({ specversion: z.literal('1.0'), id: z.string().min(1), type: z.string().min(1), data: dataSchema });
/** The Event Grid schema, in case a subscription is set to deliver it. */
const eventGridEventSchema = z.object({ id: z.string().min(1), eventType: z.string().min(1), data: dataSchema });

/**
 * Reads what an eventGrid trigger received (a CloudEvent, or an Event Grid schema event) as a
 * Visit Plannr event; throws {@link MalformedDeliveryError} when it is not one.
 */
export function parseDeliveredEvent(raw: unknown): DeliveredEvent {
  const asCloudEvent = cloudEventSchema.safeParse(raw);
  const parsed = asCloudEvent.success
    ? { id: asCloudEvent.data.id, type: asCloudEvent.data.type, data: asCloudEvent.data.data }
    : undefined;
  const asEventGrid = parsed === undefined ? eventGridEventSchema.safeParse(raw) : undefined;
  const event =
    parsed ??
    (asEventGrid?.success ? { id: asEventGrid.data.id, type: asEventGrid.data.eventType, data: asEventGrid.data.data } : undefined);
  if (event === undefined) {
    const issues = (asCloudEvent.error?.issues ?? []).map((issue) => `${issue.path.join('.') || '(event)'}: ${issue.message}`).join('; ');
    throw new MalformedDeliveryError(`The delivery is not a Visit Plannr event: ${issues}`);
  }
  if (!event.type.startsWith(EVENT_TYPE_PREFIX))
    throw new MalformedDeliveryError(`Event ${event.id} has type "${event.type}", not a ${EVENT_TYPE_PREFIX}* type.`);
  if (event.data.metadata.eventId !== event.id)
    throw new MalformedDeliveryError(`Event ${event.id} carries the metadata of event ${event.data.metadata.eventId}.`);
  const { streamId, version, metadata } = event.data;
  const isInline = event.data.ref !== true && raw !== null && typeof raw === 'object' && 'data' in raw && hasData(raw.data);
  if (event.data.ref !== true && !isInline) throw new MalformedDeliveryError(`Event ${event.id} has neither data nor a reference.`);
  return {
    id: event.id,
    eventType: event.type.slice(EVENT_TYPE_PREFIX.length),
    streamId,
    version,
    metadata,
    payload: isInline ? { kind: 'inline', data: event.data.data } : { kind: 'reference' },
  };
}

/**
 * The correlation id a delivery carries, for logging even when it is not a Visit Plannr event: the
 * CloudEvent `correlationid` extension the publisher sets, else the data's metadata.
 */
export function deliveredCorrelationId(raw: unknown): string | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  if ('correlationid' in raw && typeof raw.correlationid === 'string' && raw.correlationid !== '') return raw.correlationid;
  if ('data' in raw && typeof raw.data === 'object' && raw.data !== null && 'metadata' in raw.data) {
    const { metadata } = raw.data;
    if (typeof metadata === 'object' && metadata !== null && 'correlationId' in metadata && typeof metadata.correlationId === 'string')
      return metadata.correlationId;
  }
  return undefined;
}

/**
 * {@link parseDeliveredEvent}, logging a delivery that is not a Visit Plannr event (`EventMalformed`,
 * under the correlation id it carries, if any) before throwing on.
 */
export function parseDeliveredEventOrLog(raw: unknown, context: LogSink & { readonly functionName: string }): DeliveredEvent {
  try {
    return parseDeliveredEvent(raw);
  } catch (error) {
    withCorrelation(context, deliveredCorrelationId(raw) ?? 'unknown').error('EventMalformed', {
      function: context.functionName,
      error: errorSummary(error),
    });
    throw error;
  }
}

/** The delivered event in full: as carried, or read from the store when it travelled as a reference. */
export async function readDeliveredEvent(store: EventStore, delivered: DeliveredEvent): Promise<RecordedEvent> {
  const { streamId, version, metadata, eventType } = delivered;
  if (delivered.payload.kind === 'inline') return { streamId, version, type: eventType, data: delivered.payload.data, metadata };
  const [stored] = await store.read(streamId, version);
  // Published events are stored events: not finding one is a fault (retry), not an answer.
  if (stored?.version !== version || stored.metadata.eventId !== delivered.id) {
    throw new Error(`Event ${delivered.id} (${streamId} version ${version}) is not in the event store.`);
  }
  return stored;
}

function hasData(value: unknown): boolean {
  return typeof value === 'object' && value !== null && 'data' in value;
}
