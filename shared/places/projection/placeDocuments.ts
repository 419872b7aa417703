import type { Geolocation } from '../../kernel/geolocation';
import type { ViewDocumentBase } from '../../kernel/viewDocument';
import type { PendingRevision, PlaceStatus, RevisionOutcome } from '../domain/place';
import type { Actor } from '../../kernel/caller';
import type { AgeRange, PlaceDetails, PlaceKind } from '../domain/placeDetails';

/** Everything about one place, in any status: `GET /api/places/{id}`. */
export interface PlaceView extends ViewDocumentBase, PlaceDetails {
  readonly type: 'place';
  readonly placeId: string;
  readonly name: string;
  readonly status: PlaceStatus;
  /** The place stream's version this view reflects. */
  readonly version: number;
  readonly geolocation: Geolocation | null;
  readonly region: string | null;
  readonly address?: string;
  readonly proposedAt: string;
  readonly updatedAt: string;
  readonly approvedAt?: string;
  readonly statusReason?: string;
  /** Who proposed and owns it (absent for places proposed before people signed in). */
  readonly owner?: Actor;
  /** A change to the approved place awaiting an admin: not yet in the details above, nor shown to parents. */
  readonly pendingRevision?: PendingRevision;
  /** The number of the latest revision ever proposed (so its listing's removal is written only for places that had one). */
  readonly revisionsProposed?: number;
  /** How the latest decided revision ended, with the admin's reason when rejected: what its owner is told. */
  readonly lastRevision?: DecidedRevision;
}

export interface DecidedRevision {
  readonly revision: number;
  readonly outcome: RevisionOutcome;
  readonly reason?: string;
  readonly decidedAt: string;
}

/** One approved place in the spatial index, partitioned by a coarse geohash cell (precision 3). */
export interface NearbyEntry extends ViewDocumentBase {
  readonly type: 'nearby';
  readonly placeId: string;
  readonly name: string;
  readonly kind?: PlaceKind;
  readonly ageRange?: AgeRange;
  readonly free?: boolean;
  /** OpenStreetMap opening_hours syntax; absent when unknown (and in entries written before hours were kept here). */
  readonly openingHours?: string;
  readonly geolocation: Geolocation;
  readonly region: string;
  /** Geohash cells at precisions 4 and 5, matched by the covering cells of a search circle. */
  readonly cell4: string;
  readonly cell5: string;
  readonly sourceVersion: number;
}

/** One approved place in the newest-first list (one partition: approvals are few, reads many). */
export interface NewestEntry extends ViewDocumentBase {
  readonly type: 'newest';
  readonly placeId: string;
  readonly name: string;
  readonly kind?: PlaceKind;
  readonly region: string;
  readonly approvedAt: string;
  readonly sourceVersion: number;
}

/**
 * A place in the list of its current status, for editors and admins (`GET /api/manage/places?status=`):
 * the place view's fields, in a partition per status, so "awaiting moderation" is one partition-scoped
 * query. It moves partition when the status changes.
 */
export interface StatusEntry extends Omit<PlaceView, 'type'> {
  readonly type: 'status';
}

/**
 * What stays of a listing a place has left (the nearby or newest entry of a withdrawn place, its
 * entry in an earlier status): the place version that removed it, so that a late write of an older
 * listing (a rebuild racing the live projection) is refused instead of bringing the place back.
 */
export interface RemovedListing extends ViewDocumentBase {
  readonly type: 'removedListing';
  readonly placeId: string;
  readonly sourceVersion: number;
}

/** A listing: an entry in a place list, or what stays of a removed one. */
export type Listing = NearbyEntry | NewestEntry | StatusEntry | RemovedListing;

/** The place version a listing reflects. */
export function listingVersion(listing: Listing): number {
  return listing.type === 'status' ? listing.version : listing.sourceVersion;
}

/** Every document the place projection writes. */
export type PlaceDocument = PlaceView | Listing;

export const NEAREST_PARTITION_PRECISION = 3;
export const NEWEST_PARTITION = 'newest';

export const placeViewKey = (placeId: string) => ({ id: `place-${placeId}`, partitionKey: `place-${placeId}` });
export const nearbyEntryKey = (placeId: string, cell3: string) => ({ id: `nearby-${placeId}`, partitionKey: `nearby-${cell3}` });
export const newestEntryKey = (placeId: string) => ({ id: `newest-${placeId}`, partitionKey: NEWEST_PARTITION });
/** The lists editors and admins read besides the statuses: approved places with a revision waiting. */
export const REVISION_PENDING = 'revisionPending';
export type ManagedList = PlaceStatus | typeof REVISION_PENDING;
export const statusPartition = (status: ManagedList) => `status-${status}`;
/**
 * The lists of a place's statuses, one of which holds every place: an owner's places ("my places")
 * are found there by owner, rather than kept in a list of their own that every event would rewrite.
 */
export const STATUS_LISTS: readonly PlaceStatus[] = [
  'proposed',
  'locationValidated',
  'locationRejected',
  'approved',
  'rejected',
  'withdrawn',
];
export const revisionPendingEntryKey = (placeId: string) => ({
  id: `revision-${placeId}`,
  partitionKey: statusPartition(REVISION_PENDING),
});
export const statusEntryKey = (placeId: string, status: PlaceStatus) => ({
  id: `status-${placeId}`,
  partitionKey: statusPartition(status),
});
