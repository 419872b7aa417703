/**
 * Incremental ("latest version") change feed reads, served from the ChangeLog.
 *
 * Wire shape, as the SDK's getChangeFeedIterator sends it:
 *   GET /dbs/{db}/colls/{coll}/docs
 *     a-im: Incremental Feed
 *     if-none-match: <continuation>   absent = from the beginning, "*" = from now,
 *                                     otherwise the etag of an earlier response (an LSN)
 *     if-modified-since: <HTTP date>  optional (ChangeFeedStartFrom.Time)
 *     x-ms-documentdb-partitionkey: ["pk"]      optional: only that partition
 *     x-ms-documentdb-partitionkeyrangeid: 0    ignored: the emulator has one range
 *     x-ms-max-item-count: n          optional page size
 *   200 { _rid, Documents, _count }, etag: <LSN of the last document returned>, x-ms-item-count
 *   304 (no body), etag: <the continuation unchanged>, when nothing changed after it
 * The SDK keeps each range's etag as its continuation and wraps them into its own JSON token, so
 * the etag is the whole server-side contract.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { ChangeRecord, ContainerChanges } from './changeLog';
import { parsePartitionKeyJson, type StoredDocument } from './emulatorInternals';

/** Page size when the client sends none; callers loop until 304 anyway. */
export const DEFAULT_CHANGE_FEED_PAGE_SIZE = 100;

export interface ChangeFeedRequest {
  /** A continuation (changes with lsn > it), or where a fresh iterator starts. */
  readonly start: number | 'beginning' | 'now';
  /** Only this partition key value (undefined value = documents without one); absent = all. */
  readonly partitionKey?: { readonly value: unknown };
  readonly modifiedSinceMs?: number;
  readonly maxItemCount: number;
}

export type ChangeFeedPage =
  { readonly status: 200; readonly etag: string; readonly documents: StoredDocument[] } | { readonly status: 304; readonly etag: string };

/** Whether the request is a change feed read rather than a plain read feed of the documents. */
export function isChangeFeedRequest(headers: IncomingHttpHeaders): boolean {
  return headers['a-im'] !== undefined;
}

/** Parse the headers; returns a message for a 400 response when they make no sense. */
export function parseChangeFeedRequest(headers: IncomingHttpHeaders): ChangeFeedRequest | { readonly error: string } {
  const mode = singleHeader(headers['a-im']);
  if (mode?.toLowerCase() !== 'incremental feed') {
    return { error: `Only the latest-version change feed (A-IM: Incremental Feed) is emulated, not '${mode ?? ''}'.` };
  }

  const continuation = singleHeader(headers['if-none-match']);
  let start: ChangeFeedRequest['start'] = 'beginning';
  if (continuation === '*') start = 'now';
  else if (continuation !== undefined) {
    // Our etags are plain LSNs; accept them quoted too, as HTTP etags often are.
    const match = /^"?(\d+)"?$/.exec(continuation);
    if (!match?.[1]) return { error: `Invalid change feed continuation (if-none-match): ${continuation}` };
    start = Number(match[1]);
  }

  const partitionKeyHeader = singleHeader(headers['x-ms-documentdb-partitionkey']);
  let partitionKey: ChangeFeedRequest['partitionKey'];
  if (partitionKeyHeader !== undefined) {
    try {
      partitionKey = { value: parsePartitionKeyJson(partitionKeyHeader) };
    } catch {
      return { error: `Invalid partition key header: ${partitionKeyHeader}` };
    }
  }

  const modifiedSince = singleHeader(headers['if-modified-since']);
  const modifiedSinceMs = modifiedSince === undefined ? undefined : Date.parse(modifiedSince);
  if (modifiedSinceMs !== undefined && Number.isNaN(modifiedSinceMs)) return { error: `Invalid if-modified-since: ${modifiedSince ?? ''}` };

  const requestedCount = Number(singleHeader(headers['x-ms-max-item-count']));
  const maxItemCount = Number.isInteger(requestedCount) && requestedCount > 0 ? requestedCount : DEFAULT_CHANGE_FEED_PAGE_SIZE;

  return {
    start,
    maxItemCount,
    ...(partitionKey ? { partitionKey } : {}),
    ...(modifiedSinceMs === undefined ? {} : { modifiedSinceMs }),
  };
}

/**
 * The next page after the request's continuation: the latest version of each matching document
 * changed after it, in LSN order. `currentLsn` is the change log's global sequence number.
 */
export function readChangeFeedPage(changes: ContainerChanges, currentLsn: number, request: ChangeFeedRequest): ChangeFeedPage {
  const afterLsn = request.start === 'now' ? currentLsn : request.start === 'beginning' ? 0 : request.start;
  const { partitionKey, modifiedSinceMs } = request;
  const matches = (record: ChangeRecord): boolean =>
    (partitionKey === undefined || record.partitionKey === partitionKey.value) &&
    (modifiedSinceMs === undefined || record.recordedAtMs >= modifiedSinceMs);

  const page = changes.since(afterLsn, request.maxItemCount, matches);
  const last = page.at(-1);
  if (last) return { status: 200, etag: String(last.lsn), documents: page.map((record) => record.document) };
  // Nothing new: hand back the continuation unchanged. A first read (beginning, now or a time) has
  // none, so it gets the current LSN: nothing matching exists up to it, and every later write is above it.
  return { status: 304, etag: String(typeof request.start === 'number' ? request.start : currentLsn) };
}

function singleHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
