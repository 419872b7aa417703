import type { Decider } from '../../kernel/decider';
import { ForbiddenError, IllegalStateError, NotFoundError } from '../../kernel/errors';
import type { Actor } from '../../kernel/caller';
import type { DetailsChanges, PlaceProposal } from './proposal';
import {
  assertNever,
  evolvePlace,
  FINAL_STATUSES,
  initialPlaceState,
  mayChange,
  type ExistingPlaceState,
  type PlaceEvent,
  type PlaceState,
} from './place';
import { type Geolocation } from '../../kernel/geolocation';

/** Commands on one place. Time (`now`, ISO 8601 UTC) and ids arrive in the command: the domain has no clock. */
export type PlaceCommand =
  | { type: 'ProposePlace'; data: { placeId: string; proposal: PlaceProposal; owner: Actor; now: string } }
  | { type: 'UpdatePlaceDetails'; data: { placeId: string; changes: DetailsChanges } & Acting }
  | { type: 'RecordLocationValidated'; data: { placeId: string; geolocation: Geolocation; region: string } }
  | { type: 'RecordLocationRejected'; data: { placeId: string; reason: string } }
  | { type: 'ApprovePlace'; data: { placeId: string; now: string } }
  | { type: 'RejectPlace'; data: { placeId: string; reason: string; now: string } }
  | { type: 'WithdrawPlace'; data: { placeId: string; reason: string } & Acting }
  | { type: 'ApproveRevision'; data: { placeId: string; revision: number; now: string } }
  | { type: 'RejectRevision'; data: { placeId: string; revision: number; reason: string; now: string } };

/** Who asks for a change, whether they are an admin, and when: an owner's change to an approved place waits for an admin. */
export interface Acting {
  readonly by: Actor;
  readonly byAdmin: boolean;
  readonly now: string;
}

/**
 * Decides what a command means for a place. A command whose effect already holds yields no event,
 * so retried and redelivered commands are harmless.
 */
export function decidePlace(command: PlaceCommand, state: PlaceState): PlaceEvent[] {
  switch (command.type) {
    case 'ProposePlace':
      return proposePlace(command.data, state);
    case 'UpdatePlaceDetails':
      return updateDetails(command.data, existing(state, command.data.placeId));
    case 'RecordLocationValidated':
      return recordLocationValidated(command.data, existing(state, command.data.placeId));
    case 'RecordLocationRejected':
      return recordLocationRejected(command.data.reason, existing(state, command.data.placeId));
    case 'ApprovePlace':
      return approve(command.data.now, existing(state, command.data.placeId));
    case 'RejectPlace':
      return reject(command.data, existing(state, command.data.placeId));
    case 'WithdrawPlace':
      return withdraw(command.data, existing(state, command.data.placeId));
    case 'ApproveRevision':
    case 'RejectRevision':
      return decideRevision(command, existing(state, command.data.placeId));
    default:
      return assertNever(command);
  }
}

export const placeDecider: Decider<PlaceCommand, PlaceState, PlaceEvent> = {
  decide: decidePlace,
  evolve: evolvePlace,
  initialState: initialPlaceState,
};

function proposePlace(
  { placeId, proposal, owner, now }: { placeId: string; proposal: PlaceProposal; owner: Actor; now: string },
  state: PlaceState,
): PlaceEvent[] {
  if (state.status !== 'absent') {
    throw new IllegalStateError(`Place ${placeId} has already been proposed.`, state.status);
  }
  return [
    {
      type: 'PlaceProposed',
      data: {
        placeId,
        name: proposal.name,
        ...(proposal.geolocation && { geolocation: proposal.geolocation }),
        ...(proposal.address !== undefined && { address: proposal.address }),
        details: proposal.details,
        proposedAt: now,
        owner,
      },
    },
  ];
}

function updateDetails({ changes, by, byAdmin, now }: { changes: DetailsChanges } & Acting, state: ExistingPlaceState): PlaceEvent[] {
  refuseFinal(state, 'have its details changed');
  refuseUnlessMayChange(state, by, byAdmin);
  const changed = Object.fromEntries(
    Object.entries(changes).filter(([field, value]) => {
      const current = field === 'name' ? state.place.name : (state.place.details as Record<string, unknown>)[field];
      return !sameValue(current ?? null, value ?? null);
    }),
  ) as DetailsChanges;
  if (Object.keys(changed).length === 0) return [];
  if (state.status !== 'approved' || byAdmin) return [{ type: 'PlaceDetailsUpdated', data: changed }];
  // Parents keep seeing the approved details until an admin approves the change; sent again, it is the same revision.
  const { pending, last } = state.revisions;
  if (pending && sameValue(pending.changes, changed)) return [];
  return [{ type: 'PlaceRevisionProposed', data: { revision: last + 1, changes: changed, proposedBy: by, proposedAt: now } }];
}

function decideRevision(
  command: Extract<PlaceCommand, { type: 'ApproveRevision' | 'RejectRevision' }>,
  state: ExistingPlaceState,
): PlaceEvent[] {
  const { placeId, revision, now } = command.data;
  const approving = command.type === 'ApproveRevision';
  if (state.status !== 'approved') throw new IllegalStateError(`A ${state.status} place has no revision to decide.`, state.status);
  const { pending, last, outcomes } = state.revisions;
  if (pending?.revision === revision) {
    return approving
      ? [{ type: 'PlaceRevisionApproved', data: { revision, approvedAt: now } }]
      : [{ type: 'PlaceRevisionRejected', data: { revision, reason: command.data.reason, rejectedAt: now } }];
  }
  if (revision > last || revision < 1) throw new NotFoundError(`Place ${placeId} has no revision ${revision}.`);
  const outcome = outcomes[revision];
  if (outcome === (approving ? 'approved' : 'rejected')) return [];
  throw new IllegalStateError(
    `Revision ${revision} of place ${placeId} is no longer pending: it was ${outcome ?? 'decided'}.`,
    state.status,
  );
}

function refuseUnlessMayChange(state: ExistingPlaceState, by: Actor, byAdmin: boolean): void {
  if (!mayChange(state.place, by, byAdmin)) throw new ForbiddenError("Only the place's owner or an administrator may change it.");
}

function recordLocationValidated(
  { geolocation, region }: { geolocation: Geolocation; region: string },
  state: ExistingPlaceState,
): PlaceEvent[] {
  if (state.status === 'proposed') return [{ type: 'PlaceLocationValidated', data: { geolocation, region } }];
  if ('region' in state.place && state.place.region === region && sameValue(state.place.geolocation, geolocation)) return [];
  throw new IllegalStateError(`A ${state.status} place cannot have its location validated.`, state.status);
}

function recordLocationRejected(reason: string, state: ExistingPlaceState): PlaceEvent[] {
  if (state.status === 'proposed') return [{ type: 'PlaceLocationRejected', data: { reason } }];
  if (state.status === 'locationRejected') return [];
  throw new IllegalStateError(`A ${state.status} place cannot have its location rejected.`, state.status);
}

function approve(now: string, state: ExistingPlaceState): PlaceEvent[] {
  if (state.status === 'locationValidated') return [{ type: 'PlaceApproved', data: { approvedAt: now } }];
  if (state.status === 'approved') return [];
  throw new IllegalStateError(`Only a place whose location has been validated can be approved; this one is ${state.status}.`, state.status);
}

function reject({ reason, now }: { reason: string; now: string }, state: ExistingPlaceState): PlaceEvent[] {
  if (state.status === 'locationValidated') return [{ type: 'PlaceRejected', data: { reason, rejectedAt: now } }];
  if (state.status === 'rejected') return [];
  throw new IllegalStateError(`Only a place whose location has been validated can be rejected; this one is ${state.status}.`, state.status);
}

function withdraw({ reason, by, byAdmin, now }: { reason: string } & Acting, state: ExistingPlaceState): PlaceEvent[] {
  if (state.status === 'withdrawn') return [];
  refuseUnlessMayChange(state, by, byAdmin);
  if (state.status === 'approved') return [{ type: 'PlaceWithdrawn', data: { reason, withdrawnAt: now } }];
  throw new IllegalStateError(`Only an approved place can be withdrawn; this one is ${state.status}.`, state.status);
}

function existing(state: PlaceState, placeId: string): ExistingPlaceState {
  if (state.status === 'absent') throw new NotFoundError(`There is no place ${placeId}.`);
  return state;
}

function refuseFinal(state: ExistingPlaceState, what: string): void {
  if (FINAL_STATUSES.includes(state.status)) {
    throw new IllegalStateError(`A ${state.status} place cannot ${what}.`, state.status);
  }
}

/** Structural equality of JSON values, ignoring key order. */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const aKeys = Object.keys(a);
  const bKeys = Object.keys(b);
  if (aKeys.length !== bKeys.length) return false;
  return aKeys.every((key) => sameValue((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]));
}
