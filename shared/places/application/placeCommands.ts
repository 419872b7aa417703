import { v5 as uuidV5 } from 'uuid';
import { IllegalStateError } from '../../kernel/errors';
import type { EventStore } from '../../platform/eventSourcing/eventStore';
import { placeDecider, sameValue, type PlaceCommand } from '../domain/decide';
import { isPlaceEvent, toPlaceStreamId, type PlaceStatus } from '../domain/place';
import type { PlaceProposal } from '../domain/placeInput';
import { handleCommand, type CommandContext } from '../../platform/eventSourcing/handleCommand';

/** What the command side needs from the outside world. */
export interface PlaceCommandDeps {
  readonly eventStore: EventStore;
  readonly clock: () => Date;
  readonly newId: () => string;
}

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
}

export interface PlaceCommandOutcome {
  readonly placeId: string;
  readonly status: PlaceStatus;
  readonly version: number;
}

/** Thrown when an Idempotency-Key is sent again with a different request. */
export class IdempotencyKeyReuseError extends Error {
  constructor(readonly idempotencyKey: string) {
    super('This Idempotency-Key was already used with a different request.');
    this.name = 'IdempotencyKeyReuseError';
  }
}

/** Namespace for ids derived from names (UUID v5), so that one Idempotency-Key always names one place. */
const VISIT_PLANNR_NAMESPACE = '6f1b3f0e-2f6d-5a43-9c1e-7a2d0c9b8e41';

export function placeIdForIdempotencyKey(idempotencyKey: string): string {
  return uuidV5(`idempotency-key:${idempotencyKey}`, VISIT_PLANNR_NAMESPACE);
}

/**
 * Proposes a place. With an Idempotency-Key the place id and event ids derive from the key, so a
 * retried request finds its own place and gets the original answer instead of creating a second one.
 */
export async function proposePlace(
  deps: PlaceCommandDeps,
  proposal: PlaceProposal,
  origin: RequestOrigin,
  idempotencyKey?: string,
): Promise<PlaceCommandOutcome> {
  const placeId = idempotencyKey === undefined ? deps.newId() : placeIdForIdempotencyKey(idempotencyKey);
  const command: PlaceCommand = { type: 'ProposePlace', data: { placeId, proposal, now: deps.clock().toISOString() } };
  const commandId = idempotencyKey === undefined ? deps.newId() : `idempotency-key:${idempotencyKey}`;
  try {
    return await run(deps, command, origin, commandId);
  } catch (error) {
    if (idempotencyKey === undefined || !(error instanceof IllegalStateError)) throw error;
    return originalProposalOutcome(deps, placeId, proposal, idempotencyKey);
  }
}

/** Runs any other place command for a request. */
export function executePlaceCommand(
  deps: PlaceCommandDeps,
  command: Exclude<PlaceCommand, { type: 'ProposePlace' }>,
  origin: RequestOrigin,
  expectedVersion?: number,
): Promise<PlaceCommandOutcome> {
  return run(deps, command, origin, origin.commandId ?? deps.newId(), expectedVersion);
}

async function run(
  deps: PlaceCommandDeps,
  command: PlaceCommand,
  origin: RequestOrigin,
  commandId: string,
  expectedVersion?: number,
): Promise<PlaceCommandOutcome> {
  const context: CommandContext = {
    correlationId: origin.correlationId,
    causationId: origin.requestId,
    now: deps.clock(),
    eventId: (index) => uuidV5(`${commandId}/${index}`, VISIT_PLANNR_NAMESPACE),
  };
  const { state, version } = await handleCommand(
    deps.eventStore,
    toPlaceStreamId(command.data.placeId),
    placeDecider,
    isPlaceEvent,
    command,
    context,
    expectedVersion === undefined ? {} : { expectedVersion },
  );
  if (state.status === 'absent') throw new Error(`Place ${command.data.placeId} is absent after ${command.type}.`);
  return { placeId: command.data.placeId, status: state.status, version };
}

/** The answer the first request with this key got, provided this request is the same one. */
async function originalProposalOutcome(
  deps: PlaceCommandDeps,
  placeId: string,
  proposal: PlaceProposal,
  idempotencyKey: string,
): Promise<PlaceCommandOutcome> {
  const [first] = await deps.eventStore.read(toPlaceStreamId(placeId), 1);
  if (!first || !isPlaceEvent(first) || first.type !== 'PlaceProposed') throw new IdempotencyKeyReuseError(idempotencyKey);
  const { name, geolocation, address, details } = first.data;
  const stored: PlaceProposal = { name, details, ...(geolocation && { geolocation }), ...(address !== undefined && { address }) };
  if (!sameValue(stored, proposal)) throw new IdempotencyKeyReuseError(idempotencyKey);
  return { placeId, status: 'proposed', version: 1 };
}
