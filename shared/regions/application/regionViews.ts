import type { ViewReader } from '../../platform/views/viewStore';
import type { RegionRefreshState } from '../domain/refreshPlan';

/** What the forecast refresh reads: each region's forecast view, and what it plans by. */
export interface RegionViews extends ViewReader {
  /** Every active region (centre known) and when its forecast was recorded, without the forecasts. */
  regionRefreshStates(): Promise<RegionRefreshState[]>;
}
