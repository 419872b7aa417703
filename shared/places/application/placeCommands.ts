import { v5 as uuidV5 } from 'uuid';
import { IllegalStateError } from '../../kernel/errors';
import type { EventStore } from '../../platform/eventSourcing/eventStore';
import { placeDecider, sameValue, type PlaceCommand } from '../domain/decide';
import { isPlaceEvent, toPlaceStreamId, type PlaceStatus } from '../domain/place';
import type { PlaceProposal } from '../domain/proposal';
import { handleCommand, type CommandContext } from '../../platform/eventSourcing/handleCommand';
import type { RequestOrigin } from '../../kernel/event';
import { IdempotencyKeyReuseError } from '../../kernel/errors';

/** What the command side needs from the outside world. */
export interface PlaceCommandDeps {
  readonly eventStore: EventStore;
  readonly clock: () => Date;
  readonly newId: () => string;
}

export interface PlaceCommandOutcome {
  readonly placeId: string;
  readonly status: PlaceStatus;
  readonly version: number;
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
  // One reading of the clock per command: the decision and the events' occurredAt agree.
  const now = deps.clock();
  const command: PlaceCommand = { type: 'ProposePlace', data: { placeId, proposal, now: now.toISOString() } };
  const commandId = idempotencyKey === undefined ? deps.newId() : `idempotency-key:${idempotencyKey}`;
  try {
    return await run(deps, command, now, origin, commandId);
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
  // A command that carries its time (the caller read the clock) records its events at that time too.
  const now = 'now' in command.data ? new Date(command.data.now) : deps.clock();
  return run(deps, command, now, origin, origin.commandId ?? deps.newId(), expectedVersion);
}

async function run(
  deps: PlaceCommandDeps,
  command: PlaceCommand,
  now: Date,
  origin: RequestOrigin,
  commandId: string,
  expectedVersion?: number,
): Promise<PlaceCommandOutcome> {
  const context: CommandContext = {
    correlationId: origin.correlationId,
    causationId: origin.requestId,
    now,
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
