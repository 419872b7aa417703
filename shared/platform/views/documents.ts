import type { PlaceDetails, PlaceKind, AgeRange } from '../../places/domain/placeDetails';
import type { PlaceStatus } from '../../places/domain/place';
import { type HourlyForecast } from "../../kernel/forecast";
import { type Geolocation } from "../../kernel/geolocation";

/**
 * Read-model documents in the `views` container (partition key `/partitionKey`). Each records the
 * stream version it reflects, so a redelivered or stale event is recognised and ignored.
 */
export interface ViewDocumentBase {
  readonly id: string;
  readonly partitionKey: string;
  readonly type: string;
}

/** Everything about one place, in any status: `GET /api/places/{id}`. */
export interface PlaceView extends ViewDocumentBase, PlaceDetails {
  readonly type: 'place';
  readonly placeId: string;
  readonly name: string;
  readonly status: PlaceStatus;
  /** The place stream's version this view reflects. */
  readonly version: number;
  readonly geolocation: Geolocation | null;
  readonly region: string | null;
  readonly address?: string;
  readonly proposedAt: string;
  readonly updatedAt: string;
  readonly approvedAt?: string;
  readonly statusReason?: string;
}

/** One approved place in the spatial index, partitioned by a coarse geohash cell (precision 3). */
export interface NearbyEntry extends ViewDocumentBase {
  readonly type: 'nearby';
  readonly placeId: string;
  readonly name: string;
  readonly kind?: PlaceKind;
  readonly ageRange?: AgeRange;
  readonly free?: boolean;
  readonly geolocation: Geolocation;
  readonly region: string;
  /** Geohash cells at precisions 4 and 5, matched by the covering cells of a search circle. */
  readonly cell4: string;
  readonly cell5: string;
  readonly sourceVersion: number;
}

/** One approved place in the newest-first list (one partition: approvals are few, reads many). */
export interface NewestEntry extends ViewDocumentBase {
  readonly type: 'newest';
  readonly placeId: string;
  readonly name: string;
  readonly kind?: PlaceKind;
  readonly region: string;
  readonly approvedAt: string;
  readonly sourceVersion: number;
}

/**
 * A place in the list of its current status, for editors and admins (`GET /api/manage/places?status=`):
 * the place view's fields, in a partition per status, so "awaiting moderation" is one partition-scoped
 * query. It moves partition when the status changes.
 */
export interface StatusEntry extends Omit<PlaceView, 'type'> {
  readonly type: 'status';
}

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

export type ViewDocument = PlaceView | NearbyEntry | NewestEntry | StatusEntry | RegionForecastView;

export const NEAREST_PARTITION_PRECISION = 3;
export const NEWEST_PARTITION = 'newest';

export const placeViewKey = (placeId: string) => ({ id: `place-${placeId}`, partitionKey: `place-${placeId}` });
export const nearbyEntryKey = (placeId: string, cell3: string) => ({ id: `nearby-${placeId}`, partitionKey: `nearby-${cell3}` });
export const newestEntryKey = (placeId: string) => ({ id: `newest-${placeId}`, partitionKey: NEWEST_PARTITION });
export const statusPartition = (status: PlaceStatus) => `status-${status}`;
export const statusEntryKey = (placeId: string, status: PlaceStatus) => ({ id: `status-${placeId}`, partitionKey: statusPartition(status) });
/** Region forecasts share one partition, so the forecasts of every region in a result list are one query. */
export const REGION_FORECASTS_PARTITION = 'regionForecasts';
export const regionForecastKey = (region: string) => ({ id: `region-${region}`, partitionKey: REGION_FORECASTS_PARTITION });
