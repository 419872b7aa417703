import type { HourlyForecast } from '../../kernel/forecast';
import type { Geolocation } from '../../kernel/geolocation';
import type { ViewDocumentBase } from '../../kernel/viewDocument';

/** The latest forecast of a region: `GET /api/regions/{region}/forecast` and forecasts in results. */
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
  readonly hourly: readonly HourlyForecast[];
  readonly lastFailure: { readonly cycleId: string; readonly reason: string; readonly at: string } | null;
}

/** Region forecasts share one partition, so the forecasts of every region in a result list are one query. */
export const REGION_FORECASTS_PARTITION = 'regionForecasts';
export const regionForecastKey = (region: string) => ({ id: `region-${region}`, partitionKey: REGION_FORECASTS_PARTITION });

/** How old the region's forecast is, in whole minutes (null before the first one). */
export function forecastAgeMinutes(view: RegionForecastView, now: number): number | null {
  const since = view.updatedAt ?? view.issuedAt;
  return since === null ? null : Math.max(0, Math.floor((now - Date.parse(since)) / 60_000));
}
