import type { ViewReader } from '../../platform/views/viewStore';
import type { RegionRefreshState } from '../domain/refreshPlan';
import type { ForecastCallLedger } from './forecastCallLedger';

/**
 * What the forecast refresh reads, and the call ledger it counts against, all in the region
 * forecasts' partition: each region's forecast view, its search demand, the day's fetches.
 */
export interface RegionViews extends ViewReader, ForecastCallLedger {
  /**
   * Every active region (centre known): when its forecast was recorded, when a fetch last failed,
   * and its search demand — without the forecasts, in one partition-scoped query.
   */
  regionRefreshStates(): Promise<RegionRefreshState[]>;
}
