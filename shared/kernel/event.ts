import type { Actor } from './caller';

/**
 * An event as the domain sees it: a past-tense type name and its data. Streams, versions and
 * metadata belong to storage, not to the domain.
 */
export interface Event<Type extends string = string, Data = unknown> {
  readonly type: Type;
  readonly data: Data;
}

/** Who caused an event, when and why: carried on every stored event so flows can be traced end to end. */
export interface EventMetadata {
  /** Unique per event; the key for idempotent re-appends and duplicate detection downstream. */
  readonly eventId: string;
  /** Shared by everything that one outside request set in motion. */
  readonly correlationId: string;
  /** The id of the request or event that directly caused this one. */
  readonly causationId: string;
  /** ISO 8601 UTC instant at which the event happened. */
  readonly occurredAt: string;
  /** Who caused it, when a person or a machine asked for it (absent on events written before callers were known, and on the app's own reactions). */
  readonly actor?: Actor;
}

/** An event ready to append. (An intersection, so that a union of events stays a union.) */
export type NewEvent<E extends Event = Event> = E & {
  readonly metadata: EventMetadata;
  /** Seconds before storage may drop the event (bounded storage for high-volume streams such as forecasts). */
  readonly ttlSeconds?: number;
};

/** An event as read back from a stream. */
export type RecordedEvent<E extends Event = Event> = NewEvent<E> & {
  readonly streamId: string;
  /** 1-based position in its stream; gapless. */
  readonly version: number;
};

/** Where a request came from: carried into every event it causes. */
export interface RequestOrigin {
  readonly correlationId: string;
  /** The id of the request (e.g. the function invocation id), or of the event that caused the command. */
  readonly requestId: string;
  /**
   * A stable id for the command when its cause can arrive again (an event redelivered): the new
   * events' ids derive from it, so a repeated append is recognised as the same one. Default: a new id.
   */
  readonly commandId?: string;
  /** Who asked, when a caller did: recorded on every event the request causes. */
  readonly actor?: Actor;
}

/** The event that caused a command: its id makes the command's own events recognisable when it arrives again. */
export interface EventCause {
  readonly eventId: string;
  readonly correlationId: string;
}
