import { REGION_FORECASTS_PARTITION } from '../projection/regionForecastDocument';

/**
 * The count of region fetches per UTC day that every fetch is checked against before it is made:
 * the refresh cycles and the fetch-now requests (new regions, searches) share it, so together they
 * never go over the daily budget. Kept beside the region forecast views (the same partition), but
 * not derived from events, so a rebuild of the views keeps it. Every adapter honours
 * test/support/searchDemandConformance.ts.
 */
export interface ForecastCallLedger {
  /** Region fetches counted on `day` (`YYYY-MM-DD`, UTC); 0 before the first. */
  callsOn(day: string): Promise<number>;
  /**
   * Counts `calls` more fetches on `day` if the count then stays within `limit`, atomically (a
   * concurrent reservation cannot slip in between the check and the count); false, counting
   * nothing, otherwise.
   */
  reserveCalls(day: string, calls: number, limit: number): Promise<boolean>;
  /** Takes back reserved fetches that were not made (the provider was never reached); never below zero. */
  releaseCalls(day: string, calls: number): Promise<void>;
}

/** The ledger's document for one day. */
export interface ForecastCallsDocument {
  readonly id: string;
  readonly partitionKey: string;
  readonly type: 'forecastCalls';
  readonly day: string;
  readonly calls: number;
}

export const forecastCallsKey = (day: string) => ({ id: `forecast-calls-${day}`, partitionKey: REGION_FORECASTS_PARTITION });
