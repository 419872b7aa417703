import type { HourlyForecast } from '../../kernel/forecast';
import { hourCount, hourlyFromColumns, hourNear, type StoredHourly } from '../domain/forecastColumns';
import type { Geolocation } from '../../kernel/geolocation';
import type { ViewDocumentBase } from '../../kernel/viewDocument';
import type { StreamPosition } from '../domain/refreshPlan';

/**
 * The latest forecast of a region: `GET /api/regions/{region}/forecast` and forecasts in results.
 * Read its hours with {@link hourlyOf}, {@link hoursFrom} and {@link regionForecastAt}: how they are
 * stored is this module's business (columns now, hourly objects in views written before).
 */
export interface RegionForecastView extends ViewDocumentBase {
  readonly type: 'regionForecast';
  readonly region: string;
  readonly centre: Geolocation | null;
  readonly version: number;
  readonly source: string | null;
  readonly issuedAt: string | null;
  /** When the latest forecast was recorded (its event's occurredAt): what the refresh plan ages by. */
  readonly updatedAt: string | null;
  readonly cycleId: string | null;
  readonly hourly: StoredHourly;
  readonly lastFailure: { readonly cycleId: string; readonly reason: string; readonly at: string } | null;
  /**
   * The stream's newest event this view has seen, by when it occurred. Unlike `version` (the highest
   * seen, which stays ahead once expired forecasts let the versions come round), the stream has
   * reached this version while that event has not expired: recording appends at it first. Absent in
   * views written before it existed.
   */
  readonly latestEvent?: StreamPosition;
}

/** Region forecasts share one partition, so the forecasts of every region in a result list are one query. */
export const REGION_FORECASTS_PARTITION = 'regionForecasts';
export const regionForecastKey = (region: string) => ({ id: `region-${region}`, partitionKey: REGION_FORECASTS_PARTITION });

/** How old the region's forecast is, in whole minutes (null before the first one). */
export function forecastAgeMinutes(view: RegionForecastView, now: number): number | null {
  const since = view.updatedAt ?? view.issuedAt;
  return since === null ? null : Math.max(0, Math.floor((now - Date.parse(since)) / 60_000));
}

/** Decoded hours by stored forecast: an in-memory index asks the same views again and again. */
const decoded = new WeakMap<object, readonly HourlyForecast[]>();

/** Every hour of the region's forecast, in order. */
export function hourlyOf(view: RegionForecastView): readonly HourlyForecast[] {
  const stored = view.hourly;
  let hours = decoded.get(stored);
  if (!hours) {
    hours = hourlyFromColumns(stored);
    decoded.set(stored, hours);
  }
  return hours;
}

/** The hours from `since` (epoch ms) on: what answers show. */
export function hoursFrom(view: RegionForecastView, since: number): HourlyForecast[] {
  return hourlyOf(view).filter((hour) => Date.parse(hour.time) >= since);
}

/** Whether the region has a forecast at all. */
export function hasForecast(view: RegionForecastView): boolean {
  return hourCount(view.hourly) > 0;
}

/** The forecast hour nearest to `at`, if the forecast covers it (as kernel `forecastAt`). */
export function regionForecastAt(view: RegionForecastView, at: Date): HourlyForecast | undefined {
  return hourNear(view.hourly, hourlyOf(view), at);
}
