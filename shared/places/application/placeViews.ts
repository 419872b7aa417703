import type { ViewReader } from '../../platform/views/viewStore';
import type { RegionForecastView } from '../../regions/projection/regionForecastDocument';
import type { ManagedList, NewestEntry, StatusEntry } from '../projection/placeDocuments';
import type { Geolocation } from '../../kernel/geolocation';
import type { NearbyFilter, RankedEntry } from './nearbySearch';

/** What the parents' and editors' queries read: the place views, and the forecasts of the places' regions. */
export interface PlaceViews extends ViewReader {
  /**
   * Approved places within `radiusKm` of `centre` that pass the filter, nearest first (ties by name,
   * then id). Read lazily, without awaiting between places: a search stops taking them once it has enough.
   */
  nearby(centre: Geolocation, radiusKm: number, filter: NearbyFilter): Promise<Iterable<RankedEntry>>;
  /** The most recently approved places, newest first. */
  newest(limit: number): Promise<NewestEntry[]>;
  /** Places in one status (or with a revision pending), earliest proposed first, up to `limit` (one partition per list). */
  withStatus(status: ManagedList, limit: number): Promise<StatusEntry[]>;
  /** One owner's places in every status, latest proposed first, up to `limit` (one query per status list). */
  ownedBy(ownerId: string, limit: number): Promise<StatusEntry[]>;
  /** The forecast views of these regions (missing ones are left out). */
  regionForecasts(regions: readonly string[]): Promise<RegionForecastView[]>;
}
