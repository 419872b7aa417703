import type { Decider } from '../../kernel/decider';
import { PreconditionFailedError } from '../../kernel/errors';
import type { Event, NewEvent } from '../../kernel/event';
import type { Actor } from '../../kernel/caller';
import { NO_STREAM, readTyped, StreamVersionConflictError, type EventStore } from './eventStore';

/** Where a command came from and when it is handled: becomes every new event's metadata. */
export interface CommandContext {
  readonly correlationId: string;
  readonly causationId: string;
  readonly now: Date;
  /** Id of the i-th event this command appends; stable across retries of one command so a re-append is recognised. */
  readonly eventId: (index: number) => string;
  /** Who asked for the command, recorded on its events. */
  readonly actor?: Actor;
}

export interface HandleOptions {
  /** The version the caller last saw (HTTP If-Match); a different current version fails with 412. */
  readonly expectedVersion?: number;
  /** Attempts before a version conflict is given up on. */
  readonly maxAttempts?: number;
  /**
   * The command starts a stream under a new id (a proposal): it is decided on the initial state and
   * appended as the stream's start without reading first, which saves a query per command. A retry
   * of that very command (its event ids at the stream's start) answers as the first time did, as an
   * Idempotency-Key promises; any other stream under that id is read and the command decided on it.
   */
  readonly newStream?: boolean;
}

export interface CommandResult<State, E extends Event> {
  readonly state: State;
  readonly version: number;
  readonly appended: readonly NewEvent<E>[];
}

/**
 * Read the stream, fold it, decide, and append at the version read. A concurrent writer makes the
 * append conflict; the command is then decided again on the new state, a few times at most.
 */
export async function handleCommand<Command, State, E extends Event>(
  store: EventStore,
  streamId: string,
  decider: Decider<Command, State, E>,
  isEvent: (event: Event) => event is E,
  command: Command,
  context: CommandContext,
  options: HandleOptions = {},
): Promise<CommandResult<State, E>> {
  const maxAttempts = options.maxAttempts ?? 5;
  if (options.newStream && options.expectedVersion === undefined) {
    const started = await startStream(store, streamId, decider, command, context);
    if (started) return started;
  }
  for (let attempt = 1; ; attempt++) {
    const { events, version } = await readTyped(store, streamId, isEvent);
    // An empty stream has no version to be stale against: let the decider say it does not exist.
    if (options.expectedVersion !== undefined && options.expectedVersion !== version && version !== NO_STREAM) {
      throw new PreconditionFailedError(`The place is at version ${version}, not ${options.expectedVersion}.`, version);
    }
    let state = events.reduce<State>(decider.evolve, decider.initialState());
    const decided = decider.decide(command, state);
    if (decided.length === 0) return { state, version, appended: [] };

    const appended = withMetadata(decided, context);
    try {
      const { nextExpectedVersion } = await store.append(streamId, appended, version);
      state = decided.reduce(decider.evolve, state);
      return { state, version: nextExpectedVersion, appended };
    } catch (error) {
      if (!(error instanceof StreamVersionConflictError) || attempt >= maxAttempts) throw error;
    }
  }
}

/**
 * The command decided on the initial state and appended at NO_STREAM; undefined when that is not
 * the answer: the decision on the initial state is empty or refused (the stream's real state may
 * decide otherwise), or the stream exists and does not already hold these very events.
 */
async function startStream<Command, State, E extends Event>(
  store: EventStore,
  streamId: string,
  decider: Decider<Command, State, E>,
  command: Command,
  context: CommandContext,
): Promise<CommandResult<State, E> | undefined> {
  const initial = decider.initialState();
  let decided: readonly E[];
  try {
    decided = decider.decide(command, initial);
  } catch {
    return undefined;
  }
  if (decided.length === 0) return undefined;
  const appended = withMetadata(decided, context);
  try {
    // Already stored (this very command, retried): the stream starts with these events, and the answer is the first one's.
    // The state is folded from the events decided now, not read: equal to the stored ones in all but what the
    // command itself carries (its time), which is why a caller of newStream should answer from status and version only.
    const { nextExpectedVersion } = await store.append(streamId, appended, NO_STREAM);
    return { state: decided.reduce(decider.evolve, initial), version: nextExpectedVersion, appended };
  } catch (error) {
    if (error instanceof StreamVersionConflictError) return undefined;
    throw error;
  }
}

function withMetadata<E extends Event>(decided: readonly E[], context: CommandContext): NewEvent<E>[] {
  return decided.map((event, i): NewEvent<E> => ({
    ...event,
    metadata: {
      eventId: context.eventId(i),
      correlationId: context.correlationId,
      causationId: context.causationId,
      occurredAt: context.now.toISOString(),
      ...(context.actor && { actor: context.actor }),
    },
  }));
}
