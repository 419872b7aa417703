import KDBush from 'kdbush';
import { around } from 'geokdbush';
import type { Geolocation } from '../../kernel/geolocation';
import type { ViewDocument } from '../../platform/views/documents';
import type { RegionForecastView } from '../../regions/projection/regionForecastDocument';
import { NEWEST_PARTITION, type NearbyEntry, type NewestEntry } from '../projection/placeDocuments';
import { byDistance, distanceKm, passesFilter, rankNearby, type NearbyFilter, type RankedEntry } from '../application/nearbySearch';

/** The view documents a search reads: what the index loads and follows. */
export const SEARCH_DOCUMENT_TYPES = ['nearby', 'newest', 'regionForecast', 'removedListing', 'rebuildMarker'] as const;

/**
 * Changes kept beside the k-d tree before it is built again: a tree cannot change, so a changed
 * place is searched in a short list until then. Rebuilding 100,000 points takes tens of milliseconds.
 */
const REBUILD_AFTER_CHANGES = 1_024;
/** Nearest places asked of the tree at first; a search that needs more (filters, opening hours) asks for four times as many. */
const FIRST_TAKE = 32;
/** Distances closer than this (km) may come out of the tree in either order: a take stops short of them. */
const TIE_KM = 1e-7;

/**
 * The approved places, newest list and region forecasts in memory, as the views container holds
 * them: the nearby search is a k-d tree (kdbush, with geokdbush's great-circle k-nearest search),
 * the rest maps. Documents are applied in any order and more than once: each keeps its highest
 * version, and a listing's tombstone removes it.
 */
export class SearchState {
  private tree = new KDBush(0).finish();
  /** The entry at each point of the tree, or undefined once it changed or went. */
  private treeEntries: (NearbyEntry | undefined)[] = [];
  private readonly treeSlots = new Map<string, number>();
  /** Entries changed since the tree was built, searched one by one. */
  private readonly recent = new Map<string, NearbyEntry>();
  private removedFromTree = 0;
  private readonly versions = new Map<string, number>();
  private readonly newestEntries = new Map<string, NewestEntry>();
  private newestSorted: NewestEntry[] | undefined;
  private readonly forecasts = new Map<string, RegionForecastView>();
  /** The latest rebuild of the views this state has read of (another means loading again). */
  rebuildId: string | undefined;

  /** Places searchable now. */
  get places(): number {
    return this.treeSlots.size + this.recent.size;
  }

  apply(documents: readonly ViewDocument[]): void {
    for (const document of documents) this.applyOne(document);
    if (this.recent.size + this.removedFromTree > REBUILD_AFTER_CHANGES) this.rebuild();
  }

  /** Approved places in the circle passing the filter, nearest first (ties by name, then id); each place once. */
  *nearby(centre: Geolocation, radiusKm: number, filter: NearbyFilter): Generator<RankedEntry> {
    const fromRecent = rankNearby([...this.recent.values()], centre, radiusKm, filter);
    const seen = new Set<string>();
    let next = 0;
    for (const ranked of this.fromTree(centre, radiusKm, filter)) {
      for (let recent = fromRecent[next]; recent && byDistance(recent, ranked) < 0; recent = fromRecent[++next]) yield* once(recent, seen);
      yield* once(ranked, seen);
    }
    for (const recent of fromRecent.slice(next)) yield* once(recent, seen);
  }

  /** The most recently approved places, newest first (ties by id). */
  newest(limit: number): NewestEntry[] {
    this.newestSorted ??= [...this.newestEntries.values()].sort((a, b) =>
      a.approvedAt < b.approvedAt ? 1 : a.approvedAt > b.approvedAt ? -1 : a.placeId < b.placeId ? -1 : 1,
    );
    return this.newestSorted.slice(0, limit);
  }

  regionForecasts(regions: readonly string[]): RegionForecastView[] {
    return regions.flatMap((region) => this.forecasts.get(region) ?? []);
  }

  private applyOne(document: ViewDocument): void {
    if (document.type === 'rebuildMarker') {
      this.rebuildId = document.rebuildId;
      return;
    }
    if (document.type === 'regionForecast') {
      const held = this.forecasts.get(document.region);
      if (!held || held.version <= document.version) this.forecasts.set(document.region, document);
      return;
    }
    if (document.type !== 'nearby' && document.type !== 'newest' && document.type !== 'removedListing') return;
    const isNewest = document.partitionKey === NEWEST_PARTITION;
    if (!isNewest && !document.partitionKey.startsWith('nearby-')) return; // other lists' tombstones
    const key = `${document.partitionKey}/${document.id}`;
    // The same version again (a feed read overlapping the load, a redelivery) changes nothing.
    if ((this.versions.get(key) ?? 0) >= document.sourceVersion) return;
    if (document.type === 'nearby' && !isPoint(document.geolocation)) return; // not a place the tree can hold
    this.versions.set(key, document.sourceVersion);
    if (isNewest) {
      if (document.type === 'newest') this.newestEntries.set(key, document);
      else this.newestEntries.delete(key);
      this.newestSorted = undefined;
      return;
    }
    const slot = this.treeSlots.get(key);
    if (slot !== undefined) {
      this.treeEntries[slot] = undefined;
      this.treeSlots.delete(key);
      this.removedFromTree++;
    }
    if (document.type === 'nearby') this.recent.set(key, document);
    else this.recent.delete(key);
  }

  private rebuild(): void {
    const entries: [string, NearbyEntry][] = [];
    for (const [key, slot] of this.treeSlots) {
      const entry = this.treeEntries[slot];
      if (entry) entries.push([key, entry]);
    }
    entries.push(...this.recent);
    const tree = new KDBush(entries.length);
    for (const [, entry] of entries) tree.add(entry.geolocation.longitude, entry.geolocation.latitude);
    this.tree = tree.finish();
    this.treeEntries = entries.map(([, entry]) => entry);
    this.treeSlots.clear();
    entries.forEach(([key], slot) => this.treeSlots.set(key, slot));
    this.recent.clear();
    this.removedFromTree = 0;
  }

  /**
   * The tree's places in the circle, nearest first: the k nearest, then four times as many when the
   * search wants more. Only places strictly nearer than the k-th are given from a take, so places at
   * the same distance are ordered by name and id together, whichever the tree returned first.
   */
  private *fromTree(centre: Geolocation, radiusKm: number, filter: NearbyFilter): Generator<RankedEntry> {
    // The tree of this moment: a rebuild swaps it, and the caller reads places without awaiting between them.
    const { tree, treeEntries } = this;
    const wanted = (slot: number) => {
      const entry = treeEntries[slot];
      return entry !== undefined && passesFilter(entry, filter);
    };
    // geokdbush measures on a sphere of 6,371 km, ours is 6,371.0088: reach a hair further, then measure ours.
    const reach = radiusKm * (1 + 1e-5) + 1e-6;
    let given = 0;
    for (let take = FIRST_TAKE; ; take *= 4) {
      const slots = around(tree, centre.longitude, centre.latitude, take, reach, wanted);
      const ranked: RankedEntry[] = [];
      for (const slot of slots) {
        const entry = treeEntries[slot];
        if (!entry) continue; // the predicate let only live entries through
        const distance = distanceKm(centre, entry.geolocation);
        if (distance <= radiusKm) ranked.push({ entry, distanceKm: distance });
      }
      ranked.sort(byDistance);
      // Fewer than asked, or some beyond the circle: nothing further is left in it.
      const complete = slots.length < take || ranked.length < slots.length;
      const edge = ranked.at(-1)?.distanceKm ?? 0;
      const sure = complete ? ranked.length : ranked.findIndex((r) => r.distanceKm >= edge - TIE_KM);
      yield* ranked.slice(given, Math.max(given, sure));
      given = Math.max(given, sure);
      if (complete) return;
    }
  }
}

function isPoint(geolocation: Geolocation | undefined): boolean {
  return Number.isFinite(geolocation?.latitude) && Number.isFinite(geolocation?.longitude);
}

function* once(ranked: RankedEntry, seen: Set<string>): Generator<RankedEntry> {
  // A place moving partition is briefly two documents (the new entry, the old one's tombstone not yet read).
  if (seen.has(ranked.entry.placeId)) return;
  seen.add(ranked.entry.placeId);
  yield ranked;
}
