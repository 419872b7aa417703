import type { RegionRefreshState } from '../../regions/domain/refreshPlan';
import type { PlaceStatus } from '../../places/domain/place';
import type { NearbyEntry, NewestEntry, RegionForecastView, StatusEntry, ViewDocument } from './documents';

export interface ViewKey {
  readonly id: string;
  readonly partitionKey: string;
}

export interface StoredView<T extends ViewDocument = ViewDocument> {
  readonly document: T;
  /** Opaque version of the stored document, for optimistic concurrency. */
  readonly etag: string;
}

/** `ifMatch`: replace exactly that version; `ifAbsent`: create only; `any`: upsert. */
export type WriteCondition = { readonly ifMatch: string } | 'ifAbsent' | 'any';

/** The document changed (or appeared) since it was read. */
export class ViewWriteConflictError extends Error {
  constructor(readonly key: ViewKey) {
    super(`View ${key.partitionKey}/${key.id} changed since it was read.`);
    this.name = 'ViewWriteConflictError';
  }
}

/**
 * The read models. Every adapter honours one contract (test/support/viewStoreConformance.ts); the
 * query methods are the only reads the API makes, each one partition-scoped.
 */
export interface ViewStore {
  read<T extends ViewDocument>(key: ViewKey): Promise<StoredView<T> | undefined>;
  /** Writes a document under a condition; throws {@link ViewWriteConflictError} when it does not hold. */
  write(document: ViewDocument, condition: WriteCondition): Promise<void>;
  /** Removes a document; removing an absent one is not an error. */
  remove(key: ViewKey): Promise<void>;
  /** Entries of one spatial partition whose cell (at the given precision) is one of `cells`. */
  nearbyInCells(partitionKey: string, field: 'cell4' | 'cell5', cells: readonly string[]): Promise<NearbyEntry[]>;
  /** The most recently approved places, newest first. */
  newest(limit: number): Promise<NewestEntry[]>;
  /** Places in one status, earliest proposed first, up to `limit` (one partition per status). */
  withStatus(status: PlaceStatus, limit: number): Promise<StatusEntry[]>;
  /** The forecast views of these regions (missing ones are left out). */
  regionForecasts(regions: readonly string[]): Promise<RegionForecastView[]>;
  /** What the forecast refresh plans by: every active region (centre known) and when its forecast was recorded, without the forecasts. */
  regionRefreshStates(): Promise<RegionRefreshState[]>;
  /** Removes every document (a rebuild starts from nothing). */
  clear(): Promise<void>;
}
