import type { ViewDocument } from './documents';

/**
 * The views container read as a stream, for a copy of some views held in memory: the documents as
 * they stand, then every change after them. Changes come as documents' latest versions (a change
 * feed's latest-version mode): a reader keeps each document's highest version and sees removals as
 * the tombstones the projections write, never as deletions.
 */
export interface ViewFeed {
  /**
   * The search documents as stored now (nearby and newest entries and their removal markers, region
   * forecasts, the rebuild marker), with the feed opened before this read began, so no change is
   * missed between the two (a change may come twice: readers keep versions).
   */
  load(): Promise<ViewDocument[]>;
  /**
   * The documents changed since the last call that returned (or since `load`): their latest versions,
   * in no order across partitions. A read that fails keeps what it had read for the next call.
   */
  changes(): Promise<ViewChanges>;
}

export interface ViewChanges {
  readonly documents: ViewDocument[];
  /** Whether the feed was read to its end; false when a busy feed had more than one call reads. */
  readonly caughtUp: boolean;
}
