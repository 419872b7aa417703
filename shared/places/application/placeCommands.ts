import { v5 as uuidV5 } from 'uuid';
import type { EventStore } from '../../platform/eventSourcing/eventStore';
import { placeDecider, sameValue, type Acting, type PlaceCommand } from '../domain/decide';
import { actorOf, isAdmin, type Caller } from '../../kernel/caller';
import { isPlaceEvent, toPlaceStreamId, type PlaceStatus } from '../domain/place';
import type { DetailsChanges, PlaceProposal } from '../domain/proposal';
import { handleCommand, type CommandContext } from '../../platform/eventSourcing/handleCommand';
import type { RequestOrigin } from '../../kernel/event';
import { ForbiddenError, IdempotencyKeyReuseError, IllegalStateError } from '../../kernel/errors';

/** Whether a person is an approved editor just now (the editors' feature answers: adapters/editorAccessCheck.ts). */
export interface EditorAccess {
  isApprovedEditor(userId: string): Promise<boolean>;
}

/** What the command side needs from the outside world. */
export interface PlaceCommandDeps {
  readonly eventStore: EventStore;
  readonly clock: () => Date;
  readonly newId: () => string;
}

/** What commands on behalf of callers need besides: whether a person is an approved editor. */
export interface EditingDeps extends PlaceCommandDeps {
  readonly editorAccess: EditorAccess;
}

export interface PlaceCommandOutcome {
  readonly placeId: string;
  readonly status: PlaceStatus;
  readonly version: number;
  /** The revision of the approved place waiting for an admin, if any. */
  readonly pendingRevision?: number;
}

declare const mayEdit: unique symbol;
/** A caller who may propose and change places: only {@link asEditor} makes one, so the check is made once per request. */
export type Editor = Caller & { readonly [mayEdit]: true };

/**
 * Proposing and changing places is for approved editors, admins and machines with a key; a
 * suspended editor can do neither. Which place a caller may change is the decider's rule (mayChange).
 */
export async function asEditor(deps: EditingDeps, caller: Caller): Promise<Editor> {
  if (caller.kind === 'person' && !isAdmin(caller) && !(await deps.editorAccess.isApprovedEditor(caller.userId))) {
    throw new ForbiddenError('Only approved editors may propose or change places: ask for editor access first.');
  }
  return caller as Editor;
}

/** Who a change comes from, as the decider needs it. */
function actingAs(editor: Editor, now: Date): Acting {
  return { by: actorOf(editor), byAdmin: isAdmin(editor), now: now.toISOString() };
}

/**
 * Changes a place's details at the version the editor read. An owner's change to an approved place
 * becomes a revision that waits for an admin (`waitsForAdmin`); a change that changes nothing does
 * not, even while an older revision waits.
 */
export async function changePlaceDetails(
  deps: PlaceCommandDeps,
  editor: Editor,
  placeId: string,
  changes: DetailsChanges,
  expectedVersion: number,
  origin: RequestOrigin,
): Promise<{ outcome: PlaceCommandOutcome; waitsForAdmin: boolean }> {
  const command: PlaceCommand = { type: 'UpdatePlaceDetails', data: { placeId, changes, ...actingAs(editor, deps.clock()) } };
  const outcome = await executePlaceCommand(deps, command, origin, expectedVersion);
  // For its owner, only a revision moves an approved place's version.
  const waitsForAdmin =
    !isAdmin(editor) && outcome.status === 'approved' && outcome.pendingRevision !== undefined && outcome.version > expectedVersion;
  return { outcome, waitsForAdmin };
}

/** Takes an approved place off the map, for its owner or an admin. */
export function withdrawPlace(
  deps: PlaceCommandDeps,
  editor: Editor,
  placeId: string,
  reason: string,
  origin: RequestOrigin,
): Promise<PlaceCommandOutcome> {
  return executePlaceCommand(deps, { type: 'WithdrawPlace', data: { placeId, reason, ...actingAs(editor, deps.clock()) } }, origin);
}

/** Namespace for ids derived from names (UUID v5), so that one Idempotency-Key always names one place. */
const VISIT_PLANNR_NAMESPACE = '6f1b3f0e-2f6d-5a43-9c1e-7a2d0c9b8e41';

/**
 * An Idempotency-Key is the caller's own: the same key from two people names two places. Machines
 * share one scope, the one every key had before people signed in, so a script re-run with another
 * (or a rotated) key still finds the places it proposed.
 */
export function placeIdForIdempotencyKey(idempotencyKey: string, personId?: string): string {
  const scoped = personId === undefined ? idempotencyKey : `${personId}\n${idempotencyKey}`;
  return uuidV5(`idempotency-key:${scoped}`, VISIT_PLANNR_NAMESPACE);
}

/**
 * Proposes a place. With an Idempotency-Key the place id derives from the caller and the key, so a
 * retried request finds its own place and gets the original answer instead of creating a second one.
 * The event ids derive from the body too: two requests with one key and different bodies, even at the
 * same moment, append different events at one place, so one wins and the other is refused (422).
 */
export async function proposePlace(
  deps: PlaceCommandDeps,
  proposal: PlaceProposal,
  caller: Editor,
  origin: RequestOrigin,
  idempotencyKey?: string,
): Promise<PlaceCommandOutcome> {
  const owner = actorOf(caller);
  const placeId =
    idempotencyKey === undefined
      ? deps.newId()
      : placeIdForIdempotencyKey(idempotencyKey, caller.kind === 'person' ? caller.userId : undefined);
  // One reading of the clock per command: the decision and the events' occurredAt agree.
  const now = deps.clock();
  const command: PlaceCommand = { type: 'ProposePlace', data: { placeId, proposal, owner, now: now.toISOString() } };
  const commandId =
    idempotencyKey === undefined ? deps.newId() : `idempotency-key:${placeId}:${uuidV5(canonicalJson(proposal), VISIT_PLANNR_NAMESPACE)}`;
  try {
    return await run(deps, command, now, { ...origin, actor: owner }, commandId);
  } catch (error) {
    if (idempotencyKey === undefined || !(error instanceof IllegalStateError)) throw error;
    return originalProposalOutcome(deps, placeId, proposal, idempotencyKey);
  }
}

/** Runs any other place command for a request (the caller's authority is checked by the handler and the decider). */
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
    ...(origin.actor && { actor: origin.actor }),
  };
  const { state, version } = await handleCommand(
    deps.eventStore,
    toPlaceStreamId(command.data.placeId),
    placeDecider,
    isPlaceEvent,
    command,
    context,
    // A proposal starts its place's stream: it is appended without reading it first.
    expectedVersion === undefined ? { newStream: command.type === 'ProposePlace' } : { expectedVersion },
  );
  if (state.status === 'absent') throw new Error(`Place ${command.data.placeId} is absent after ${command.type}.`);
  const pending = state.status === 'approved' ? state.revisions.pending?.revision : undefined;
  return { placeId: command.data.placeId, status: state.status, version, ...(pending !== undefined && { pendingRevision: pending }) };
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

/** JSON with object keys sorted, so that equal values (in any key order) hash alike. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) =>
    inner !== null && typeof inner === 'object' && !Array.isArray(inner)
      ? Object.fromEntries(Object.entries(inner).sort(([a], [b]) => a.localeCompare(b)))
      : inner,
  );
}
