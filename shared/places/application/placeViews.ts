import type { ViewReader } from '../../platform/views/viewStore';
import type { RegionForecastView } from '../../regions/projection/regionForecastDocument';
import type { ManagedList, NearbyEntry, NewestEntry, StatusEntry } from '../projection/placeDocuments';

/** What the parents' and editors' queries read: the place views, and the forecasts of the places' regions. */
export interface PlaceViews extends ViewReader {
  /** Entries of one spatial partition whose cell (at the given precision) is one of `cells`. */
  nearbyInCells(partitionKey: string, field: 'cell4' | 'cell5', cells: readonly string[]): Promise<NearbyEntry[]>;
  /** The most recently approved places, newest first. */
  newest(limit: number): Promise<NewestEntry[]>;
  /** Places in one status (or with a revision pending), earliest proposed first, up to `limit` (one partition per list). */
  withStatus(status: ManagedList, limit: number): Promise<StatusEntry[]>;
  /** One owner's places in every status, latest proposed first, up to `limit` (one query per status list). */
  ownedBy(ownerId: string, limit: number): Promise<StatusEntry[]>;
  /** The forecast views of these regions (missing ones are left out). */
  regionForecasts(regions: readonly string[]): Promise<RegionForecastView[]>;
}
