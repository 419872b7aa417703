import { z } from 'zod';
import type { Event } from '../../kernel/event';
import type { PlaceDetails } from './placeDetails';
import type { DetailsChanges } from './proposal';
import { isMachineId, type Actor } from '../../kernel/caller';
import { type Geolocation } from '../../kernel/geolocation';

/** Events of a place stream (`place-<placeId>`); their names and fields are the public contract. */
export type PlaceProposed = Event<
  'PlaceProposed',
  {
    placeId: string;
    name: string;
    geolocation?: Geolocation;
    address?: string;
    details: PlaceDetails;
    proposedAt: string;
    /** Who proposed it and owns it (absent on places proposed before people signed in: any machine key may change those). */
    owner?: Actor;
  }
>;
export type PlaceLocationValidated = Event<'PlaceLocationValidated', { geolocation: Geolocation; region: string }>;
export type PlaceLocationRejected = Event<'PlaceLocationRejected', { reason: string }>;
export type PlaceApproved = Event<'PlaceApproved', { approvedAt: string }>;
export type PlaceRejected = Event<'PlaceRejected', { reason: string; rejectedAt: string }>;
export type PlaceDetailsUpdated = Event<'PlaceDetailsUpdated', DetailsChanges>;
export type PlaceWithdrawn = Event<'PlaceWithdrawn', { reason: string; withdrawnAt: string }>;
/** A change to an approved place waits for an admin; parents keep the approved details meanwhile. A newer revision supersedes a pending one. */
export type PlaceRevisionProposed = Event<
  'PlaceRevisionProposed',
  { revision: number; changes: DetailsChanges; proposedBy: Actor; proposedAt: string }
>;
export type PlaceRevisionApproved = Event<'PlaceRevisionApproved', { revision: number; approvedAt: string }>;
export type PlaceRevisionRejected = Event<'PlaceRevisionRejected', { revision: number; reason: string; rejectedAt: string }>;

export type PlaceEvent =
  | PlaceProposed
  | PlaceLocationValidated
  | PlaceLocationRejected
  | PlaceApproved
  | PlaceRejected
  | PlaceDetailsUpdated
  | PlaceWithdrawn
  | PlaceRevisionProposed
  | PlaceRevisionApproved
  | PlaceRevisionRejected;

export const PLACE_EVENT_TYPES = [
  'PlaceProposed',
  'PlaceLocationValidated',
  'PlaceLocationRejected',
  'PlaceApproved',
  'PlaceRejected',
  'PlaceDetailsUpdated',
  'PlaceWithdrawn',
  'PlaceRevisionProposed',
  'PlaceRevisionApproved',
  'PlaceRevisionRejected',
] as const satisfies readonly PlaceEvent['type'][];

export function isPlaceEvent(event: Event): event is PlaceEvent {
  return (PLACE_EVENT_TYPES as readonly string[]).includes(event.type);
}

/** A place's id: a UUID (any version; upper or lower case is the same id). */
export const placeIdSchema = z
  .string()
  .regex(/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/)
  .meta({ description: "The place's id (a UUID)", examples: ['0b6f2d4c-1a3e-4f5b-8c7d-9e0f1a2b3c4d'] });

export const PLACE_STREAM_PREFIX = 'place-';
export function toPlaceStreamId(placeId: string): string {
  return `${PLACE_STREAM_PREFIX}${placeId}`;
}

/** What is known of a place whatever its status. */
export interface PlaceFacts {
  readonly placeId: string;
  readonly name: string;
  readonly geolocation?: Geolocation;
  readonly address?: string;
  readonly details: PlaceDetails;
  readonly proposedAt: string;
  readonly owner?: Actor;
}

/** A change to an approved place awaiting an admin. */
export interface PendingRevision {
  readonly revision: number;
  readonly changes: DetailsChanges;
  readonly proposedBy: Actor;
  readonly proposedAt: string;
}

export type RevisionOutcome = 'approved' | 'rejected' | 'superseded';

/** An approved place's revisions: the one pending, if any, and how each earlier one ended. */
export interface Revisions {
  readonly pending?: PendingRevision;
  readonly last: number;
  readonly outcomes: Readonly<Record<number, RevisionOutcome>>;
}

const NO_REVISIONS: Revisions = { last: 0, outcomes: {} };

/** A place whose location has been validated: it has coordinates and a region. */
export interface LocatedPlace extends PlaceFacts {
  readonly geolocation: Geolocation;
  readonly region: string;
}

export type PlaceState =
  | { readonly status: 'absent' }
  | { readonly status: 'proposed'; readonly place: PlaceFacts }
  | { readonly status: 'locationValidated'; readonly place: LocatedPlace }
  | { readonly status: 'locationRejected'; readonly place: PlaceFacts; readonly reason: string }
  | { readonly status: 'approved'; readonly place: LocatedPlace; readonly approvedAt: string; readonly revisions: Revisions }
  | { readonly status: 'rejected'; readonly place: LocatedPlace; readonly reason: string; readonly rejectedAt: string }
  | { readonly status: 'withdrawn'; readonly place: LocatedPlace; readonly reason: string; readonly withdrawnAt: string };

export type PlaceStatus = Exclude<PlaceState['status'], 'absent'>;
export type ExistingPlaceState = Exclude<PlaceState, { status: 'absent' }>;

/** Statuses from which no command changes the place any more. */
export const FINAL_STATUSES: readonly PlaceStatus[] = ['locationRejected', 'rejected', 'withdrawn'];

export const initialPlaceState = (): PlaceState => ({ status: 'absent' });

/**
 * Folds one event into the state. Events are facts the decider already checked, so a transition the
 * decider would never produce leaves the state unchanged rather than failing a replay.
 */
export function evolvePlace(state: PlaceState, event: PlaceEvent): PlaceState {
  switch (event.type) {
    case 'PlaceProposed': {
      if (state.status !== 'absent') return state;
      const { placeId, name, geolocation, address, details, proposedAt, owner } = event.data;
      return {
        status: 'proposed',
        place: {
          placeId,
          name,
          details,
          proposedAt,
          ...(geolocation && { geolocation }),
          ...(address !== undefined && { address }),
          ...(owner && { owner }),
        },
      };
    }
    case 'PlaceLocationValidated':
      if (state.status !== 'proposed') return state;
      return { status: 'locationValidated', place: { ...state.place, geolocation: event.data.geolocation, region: event.data.region } };
    case 'PlaceLocationRejected':
      if (state.status !== 'proposed') return state;
      return { status: 'locationRejected', place: state.place, reason: event.data.reason };
    case 'PlaceApproved':
      if (state.status !== 'locationValidated') return state;
      return { status: 'approved', place: state.place, approvedAt: event.data.approvedAt, revisions: NO_REVISIONS };
    case 'PlaceRejected':
      if (state.status !== 'locationValidated') return state;
      return { status: 'rejected', place: state.place, reason: event.data.reason, rejectedAt: event.data.rejectedAt };
    case 'PlaceWithdrawn':
      if (state.status !== 'approved') return state;
      return { status: 'withdrawn', place: state.place, reason: event.data.reason, withdrawnAt: event.data.withdrawnAt };
    case 'PlaceDetailsUpdated':
      if (state.status === 'absent') return state;
      return { ...state, place: applyDetailsChanges(state.place, event.data) } as PlaceState;
    case 'PlaceRevisionProposed': {
      if (state.status !== 'approved') return state;
      const { revisions } = state;
      const outcomes = revisions.pending
        ? { ...revisions.outcomes, [revisions.pending.revision]: 'superseded' as const }
        : revisions.outcomes;
      return { ...state, revisions: { pending: event.data, last: event.data.revision, outcomes } };
    }
    case 'PlaceRevisionApproved':
    case 'PlaceRevisionRejected': {
      if (state.status !== 'approved' || state.revisions.pending?.revision !== event.data.revision) return state;
      const approved = event.type === 'PlaceRevisionApproved';
      return {
        ...state,
        place: approved ? applyDetailsChanges(state.place, state.revisions.pending.changes) : state.place,
        revisions: {
          last: state.revisions.last,
          outcomes: { ...state.revisions.outcomes, [event.data.revision]: approved ? 'approved' : 'rejected' },
        },
      };
    }
    default:
      return assertNever(event);
  }
}

/**
 * Who may change a place: an admin; the person who owns it; and, for a place a machine proposed (or
 * one from before places had owners), any machine key: scripts act as one automation account, told
 * apart in the history but not in what they may do, so a rotated key keeps its places.
 */
export function mayChange(place: PlaceFacts, by: Actor, byAdmin: boolean): boolean {
  if (byAdmin) return true;
  if (!place.owner || isMachineId(place.owner.id)) return isMachineId(by.id);
  return place.owner.id === by.id;
}

/** Applies changes to a place's name and details; `null` removes a detail. */
export function applyDetailsChanges<P extends PlaceFacts>(place: P, changes: DetailsChanges): P {
  const { name, ...detailChanges } = changes;
  const merged: Record<string, unknown> = { ...place.details, ...detailChanges };
  const details = Object.fromEntries(Object.entries(merged).filter(([, value]) => value !== null)) as PlaceDetails;
  return { ...place, ...(name !== undefined && { name }), details };
}

export function assertNever(value: never): never {
  throw new Error(`Unhandled case: ${JSON.stringify(value)}`);
}
