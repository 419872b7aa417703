import type { RecordedEvent } from '../../kernel/event';
import { applyDetailsChanges, assertNever, type PlaceEvent, type PlaceStatus } from '../domain/place';
import type { DetailsChanges } from '../domain/proposal';
import type { Geohasher } from './geohasher';
import { openingHoursAsSyntax } from '../domain/legacyOpeningHours';
import {
  nearbyEntryKey,
  newestEntryKey,
  revisionPendingEntryKey,
  placeViewKey,
  statusEntryKey,
  type NearbyEntry,
  type NewestEntry,
  type PlaceView,
  type StatusEntry,
  type Listing,
  type RemovedListing,
} from './placeDocuments';

/**
 * Folds one place event into the place's view. Pure; `null` means no view yet. An event at or below
 * the view's version was applied already and changes nothing, so redelivery is harmless. The caller
 * applies a stream's events in version order (it fills gaps from the event store).
 */
export function evolvePlaceView(view: PlaceView | null, event: RecordedEvent<PlaceEvent>): PlaceView | null {
  if (view && event.version <= view.version) return view;
  const at = event.metadata.occurredAt;
  if (event.type === 'PlaceProposed') {
    if (view) return view;
    const { placeId, name, geolocation, address, details, proposedAt, owner } = event.data;
    return {
      ...placeViewKey(placeId),
      type: 'place',
      placeId,
      name,
      status: 'proposed',
      version: event.version,
      geolocation: geolocation ?? null,
      region: null,
      ...(address !== undefined && { address }),
      ...details,
      proposedAt,
      updatedAt: at,
      ...(owner && { owner }),
    };
  }
  if (!view) return null;
  const next = { ...view, version: event.version, updatedAt: at };
  switch (event.type) {
    case 'PlaceLocationValidated':
      return { ...next, status: 'locationValidated', geolocation: event.data.geolocation, region: event.data.region };
    case 'PlaceLocationRejected':
      return { ...next, status: 'locationRejected', statusReason: event.data.reason };
    case 'PlaceApproved':
      return { ...next, status: 'approved', approvedAt: event.data.approvedAt };
    case 'PlaceRejected':
      return { ...next, status: 'rejected', statusReason: event.data.reason };
    case 'PlaceWithdrawn': {
      // A revision still waiting when the place is withdrawn is dropped with it.
      const { pendingRevision: _dropped, ...rest } = next;
      return { ...rest, status: 'withdrawn', statusReason: event.data.reason };
    }
    case 'PlaceDetailsUpdated':
      return withChanges(next, event.data);
    case 'PlaceRevisionProposed': {
      if (next.status !== 'approved') return next;
      // A revision still waiting is superseded by the newer one.
      const superseded = next.pendingRevision && {
        lastRevision: { revision: next.pendingRevision.revision, outcome: 'superseded' as const, decidedAt: event.data.proposedAt },
      };
      return { ...next, ...superseded, pendingRevision: event.data, revisionsProposed: event.data.revision };
    }
    case 'PlaceRevisionApproved':
    case 'PlaceRevisionRejected': {
      if (next.pendingRevision?.revision !== event.data.revision) return next;
      const { pendingRevision, ...rest } = next;
      if (event.type === 'PlaceRevisionRejected') {
        const { revision, reason, rejectedAt } = event.data;
        return { ...rest, lastRevision: { revision, outcome: 'rejected', reason, decidedAt: rejectedAt } };
      }
      const decided = { revision: event.data.revision, outcome: 'approved' as const, decidedAt: event.data.approvedAt };
      return { ...withChanges(rest, pendingRevision.changes), lastRevision: decided };
    }
    default:
      return assertNever(event);
  }
}

/** The view with a details change applied (`null` removes a detail); everything else kept. */
function withChanges(view: PlaceView, changes: DetailsChanges): PlaceView {
  const {
    id,
    partitionKey,
    type,
    placeId,
    name,
    status,
    version,
    geolocation,
    region,
    address,
    proposedAt,
    updatedAt,
    approvedAt,
    statusReason,
    owner,
    pendingRevision,
    revisionsProposed,
    lastRevision,
    ...details
  } = view;
  const changed = applyDetailsChanges({ placeId, name, details, proposedAt }, changes);
  return {
    id,
    partitionKey,
    type,
    placeId,
    name: changed.name,
    status,
    version,
    geolocation,
    region,
    ...(address !== undefined && { address }),
    ...changed.details,
    proposedAt,
    updatedAt,
    ...(approvedAt !== undefined && { approvedAt }),
    ...(statusReason !== undefined && { statusReason }),
    ...(owner !== undefined && { owner }),
    ...(pendingRevision !== undefined && { pendingRevision }),
    ...(revisionsProposed !== undefined && { revisionsProposed }),
    ...(lastRevision !== undefined && { lastRevision }),
  };
}

/** The place's entry in the spatial index: only an approved, located place is listed. */
export function nearbyEntryOf(view: PlaceView, geohash: Geohasher): NearbyEntry | null {
  if (view.status !== 'approved' || !view.geolocation || !view.region) return null;
  const { latitude, longitude } = view.geolocation;
  const cell5 = geohash(latitude, longitude, 5);
  return {
    ...nearbyEntryKey(view.placeId, cell5.slice(0, 3)),
    type: 'nearby',
    placeId: view.placeId,
    name: view.name,
    ...(view.kind && { kind: view.kind }),
    ...(view.ageRange && { ageRange: view.ageRange }),
    ...(view.price && { free: view.price.free }),
    ...(view.openingHours !== undefined && { openingHours: openingHoursAsSyntax(view.openingHours) }),
    geolocation: view.geolocation,
    region: view.region,
    cell4: cell5.slice(0, 4),
    cell5,
    sourceVersion: view.version,
  };
}

/** The place's entry in the newest-approved list. */
export function newestEntryOf(view: PlaceView): NewestEntry | null {
  if (view.status !== 'approved' || !view.approvedAt || !view.region) return null;
  return {
    ...newestEntryKey(view.placeId),
    type: 'newest',
    placeId: view.placeId,
    name: view.name,
    ...(view.kind && { kind: view.kind }),
    region: view.region,
    approvedAt: view.approvedAt,
    sourceVersion: view.version,
  };
}

/** The place's entry in the list of its current status (every place has one). */
export function statusEntryOf(view: PlaceView): StatusEntry {
  return { ...view, ...statusEntryKey(view.placeId, view.status), type: 'status' };
}

/** The statuses a place may have passed through on its way to `status`: where an older entry of it may be. */
const EARLIER_STATUSES: Record<PlaceStatus, readonly PlaceStatus[]> = {
  proposed: [],
  locationValidated: ['proposed'],
  locationRejected: ['proposed'],
  approved: ['proposed', 'locationValidated'],
  rejected: ['proposed', 'locationValidated'],
  withdrawn: ['proposed', 'locationValidated', 'approved'],
};

/** Where the place's entries in the lists of earlier statuses would be: each is removed once it moves on. */
export function staleStatusEntryKeys(view: PlaceView): { id: string; partitionKey: string }[] {
  return EARLIER_STATUSES[view.status].map((status) => statusEntryKey(view.placeId, status));
}

/** What replaces the listing at `key` once the place at `version` has left it. */
export function removedListing(key: { id: string; partitionKey: string }, placeId: string, version: number): RemovedListing {
  return { ...key, type: 'removedListing', placeId, sourceVersion: version };
}

/**
 * Every listing the place at this version should have: its entries where they apply, and a removal
 * marker where it had one before (nearby and newest once it was approved, earlier statuses).
 */
export function listingsOf(view: PlaceView, geohash: Geohasher): Listing[] {
  const listings: Listing[] = [
    statusEntryOf(view),
    ...staleStatusEntryKeys(view).map((key) => removedListing(key, view.placeId, view.version)),
  ];
  const nearby = nearbyEntryOf(view, geohash);
  if (nearby) listings.push(nearby);
  else if (view.approvedAt && view.geolocation) {
    const cell3 = geohash(view.geolocation.latitude, view.geolocation.longitude, 3);
    listings.push(removedListing(nearbyEntryKey(view.placeId, cell3), view.placeId, view.version));
  }
  if (view.pendingRevision) listings.push({ ...view, ...revisionPendingEntryKey(view.placeId), type: 'status' });
  else if (view.revisionsProposed !== undefined)
    listings.push(removedListing(revisionPendingEntryKey(view.placeId), view.placeId, view.version));
  const newest = newestEntryOf(view);
  if (newest) listings.push(newest);
  else if (view.approvedAt) listings.push(removedListing(newestEntryKey(view.placeId), view.placeId, view.version));
  return listings;
}
