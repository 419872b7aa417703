import { REGION_FORECASTS_PARTITION } from '../projection/regionForecastDocument';

/** Searches of one region that one instance saw since its last flush. */
export interface RegionSearchCounts {
  readonly region: string;
  /** Searches per UTC hour (`YYYY-MM-DDTHH`, see domain/searchDemand.ts `hourKey`). */
  readonly hours: Readonly<Record<string, number>>;
  /** The latest of them. */
  readonly lastSearchedAt: string;
}

/**
 * Where the regions' search demand is kept: a small counter document per region, one count per UTC
 * hour, pruned to the last day — never one write per search (an instance buffers and flushes, see
 * searchDemandRecorder.ts), nor a log of requests. Kept beside the region forecast views, so the
 * refresh plan reads both in one query (RegionViews.regionRefreshStates). Not derived from events,
 * so a rebuild of the views keeps it. Every adapter honours test/support/searchDemandConformance.ts.
 */
export interface SearchDemandStore {
  /**
   * Adds each region's counts to its hour counts and moves its last search on (a flush from another
   * instance may move it back by up to a flush interval: the planner allows for that), and drops
   * hour counts older than a day before `now` (domain/searchDemand.ts `DEMAND_HOURS_KEPT`).
   */
  addSearches(counts: readonly RegionSearchCounts[], now: Date): Promise<void>;
}

/** The demand document of one region. */
export interface RegionDemandDocument {
  readonly id: string;
  readonly partitionKey: string;
  readonly type: 'regionDemand';
  readonly region: string;
  readonly lastSearchedAt: string;
  readonly hours: Readonly<Record<string, number>>;
}

export const regionDemandKey = (region: string) => ({ id: `demand-${region}`, partitionKey: REGION_FORECASTS_PARTITION });

/** Document types the regions keep beside their views that are not projections: a rebuild must not clear them. */
export const REGION_STATE_TYPES = ['regionDemand', 'forecastCalls'] as const;
