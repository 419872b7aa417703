import {
  DEFAULT_CALLS_PER_MINUTE,
  DEFAULT_SEARCHED_MAX_AGE_MINUTES,
  demandNoticeMinutes,
  type FreshnessTargets,
} from '../domain/refreshPlan';
import type { DemandFetchRule } from '../domain/searchDemand';

/** The refresh's settings (shared/platform/config.ts `forecast`). */
export interface ForecastSettings {
  /** How old any active region's forecast may get (FORECAST_REFRESH_MINUTES). */
  readonly refreshMinutes: number;
  /** Minutes between the starts of two cycles (FORECAST_CYCLE_MINUTES); without it, `refreshMinutes`. */
  readonly cycleMinutes?: number;
  /** FORECAST_SEARCHED_MAX_AGE_MINUTES; without it, {@link DEFAULT_SEARCHED_MAX_AGE_MINUTES}. */
  readonly searchedMaxAgeMinutes?: number;
  readonly dailyCallBudget: number;
  /** FORECAST_CALLS_PER_MINUTE, the most one cycle fetches; without it, {@link DEFAULT_CALLS_PER_MINUTE}. */
  readonly callsPerMinute?: number;
  readonly parallelism: number;
}

export function freshnessTargetsOf(forecast: ForecastSettings): FreshnessTargets {
  const maxAgeMinutes = forecast.refreshMinutes;
  return {
    maxAgeMinutes,
    searchedMaxAgeMinutes: Math.min(forecast.searchedMaxAgeMinutes ?? DEFAULT_SEARCHED_MAX_AGE_MINUTES, maxAgeMinutes),
  };
}

export function cycleMinutesOf(forecast: ForecastSettings): number {
  return forecast.cycleMinutes ?? forecast.refreshMinutes;
}

export function callsPerMinuteOf(forecast: ForecastSettings): number {
  return forecast.callsPerMinute ?? DEFAULT_CALLS_PER_MINUTE;
}

/**
 * When a search asks for a fetch now (the recorder) and when such a request is still wanted (the
 * consumer): one rule for both. The refresh needs notice of a search only when searched regions are
 * held to less than the rest; otherwise it keeps every region to the target anyway, and a search asks
 * only for a forecast already past it.
 */
export function demandFetchRuleOf(forecast: ForecastSettings): DemandFetchRule {
  const { searchedMaxAgeMinutes, maxAgeMinutes } = freshnessTargetsOf(forecast);
  return {
    searchedMaxAgeMinutes,
    noticeMinutes: searchedMaxAgeMinutes < maxAgeMinutes ? demandNoticeMinutes(cycleMinutesOf(forecast)) : 0,
  };
}
