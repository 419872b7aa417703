import type { Container, PatchOperation } from '@azure/cosmos';
import { setTimeout as delay } from 'node:timers/promises';
import { forEachBounded } from '../../forEachBounded';
import { forecastCallsKey, type ForecastCallsDocument } from '../../../regions/application/forecastCallLedger';
import { regionDemandKey, type RegionDemandDocument, type RegionSearchCounts } from '../../../regions/application/searchDemand';
import { expiredHourKeys } from '../../../regions/domain/searchDemand';
import { containerOf, type ContainerSource } from '../../adapters/cosmosClient';

/** Cosmos DB takes at most 10 operations in one patch. */
const MAX_PATCH_OPERATIONS = 10;
/** Tries at the day's count before giving up: each lost race means another writer counted meanwhile. */
const MAX_LEDGER_ATTEMPTS = 20;
/** Cap of the random wait after a lost race (ms): it grows 10, 20, 40… up to this. */
const MAX_LEDGER_BACKOFF_MS = 200;
/** Demand documents written at once by one flush. */
const WRITES_IN_PARALLEL = 8;

/**
 * The regions' search demand and call ledger in the `views` container, in the region forecasts'
 * partition: counters kept with Cosmos DB's partial updates (patch `incr`), so a flush is one
 * request per region however many searches it carries, and two instances flushing at once both
 * count; the ledger's reservations are ETag-checked replacements, so they are atomic.
 */
export class CosmosRegionState {
  private readonly container: () => Promise<Container>;

  constructor(
    container: ContainerSource,
    /** Told of every request sent, for the view store's request count. */
    private readonly onRequest: () => void,
  ) {
    this.container = containerOf(container);
  }

  async addSearches(counts: readonly RegionSearchCounts[], now: Date): Promise<void> {
    await forEachBounded(counts, WRITES_IN_PARALLEL, (regionCounts) => this.addRegionSearches(regionCounts, now));
  }

  async callsOn(day: string): Promise<number> {
    const key = forecastCallsKey(day);
    this.onRequest();
    const { resource } = await (await this.container()).item(key.id, key.partitionKey).read<ForecastCallsDocument>();
    return resource?.calls ?? 0;
  }

  async reserveCalls(day: string, calls: number, limit: number): Promise<boolean> {
    if (calls > limit) return false;
    return this.updateCalls(day, (counted) => (counted + calls <= limit ? counted + calls : undefined));
  }

  async releaseCalls(day: string, calls: number): Promise<void> {
    if (calls <= 0) return;
    // Fewer counted than given back (a retried batch): nothing to give back.
    await this.updateCalls(day, (counted) => (counted >= calls ? counted - calls : undefined), { createIfAbsent: false });
  }

  /**
   * Reads the day's count and writes the new one only if nobody wrote in between (the ETag), again
   * until it holds: the check and the count are one step, as with a conditional patch, but every
   * request is a point operation (a conditional patch is a query, which the local emulator runs over
   * the whole container). Writers are the cycles and the fetch-nows, which a burst of new regions
   * makes dozens at once: only one of them wins each round, so a loser waits a random while (full
   * jitter, growing) before it reads again, instead of all of them retrying in lockstep.
   * `next` answers the new count, or undefined to leave it (and answer false).
   */
  private async updateCalls(
    day: string,
    next: (counted: number) => number | undefined,
    { createIfAbsent = true }: { createIfAbsent?: boolean } = {},
  ): Promise<boolean> {
    const key = forecastCallsKey(day);
    const item = (await this.container()).item(key.id, key.partitionKey);
    for (let attempt = 1; ; attempt++) {
      this.onRequest();
      const { resource, etag } = await item.read<ForecastCallsDocument>();
      const calls = next(resource?.calls ?? 0);
      if (calls === undefined) return false;
      if (!resource) {
        if (!createIfAbsent) return false;
        if (await this.createUnlessPresent({ ...key, type: 'forecastCalls', day, calls })) return true;
        continue;
      }
      try {
        this.onRequest();
        await item.replace<ForecastCallsDocument>({ ...resource, calls }, { accessCondition: { type: 'IfMatch', condition: etag } });
        return true;
      } catch (error) {
        if (statusOf(error) !== 412 || attempt >= MAX_LEDGER_ATTEMPTS) throw error;
      }
      await delay(Math.random() * Math.min(MAX_LEDGER_BACKOFF_MS, 5 * 2 ** attempt));
    }
  }

  private async addRegionSearches({ region, hours, lastSearchedAt }: RegionSearchCounts, now: Date): Promise<void> {
    const key = regionDemandKey(region);
    const increments: PatchOperation[] = Object.entries(hours).map(([hour, searches]) => ({
      op: 'incr',
      path: `/hours/${hour}`,
      value: searches,
    }));
    const first = [
      { op: 'set', path: '/lastSearchedAt', value: lastSearchedAt } as const,
      ...increments.slice(0, MAX_PATCH_OPERATIONS - 1),
    ];
    let kept: RegionDemandDocument | undefined;
    for (;;) {
      try {
        kept = await this.patch(key, first);
        break;
      } catch (error) {
        if (statusOf(error) !== 404) throw error;
      }
      // Its first search: create it empty and patch again (a 409 means another instance just did).
      await this.createUnlessPresent({ ...key, type: 'regionDemand', region, lastSearchedAt, hours: {} });
    }
    // A flush carries an hour or two; more (a store that was down for hours) takes further patches.
    for (let i = MAX_PATCH_OPERATIONS - 1; i < increments.length; i += MAX_PATCH_OPERATIONS)
      kept = await this.patch(key, increments.slice(i, i + MAX_PATCH_OPERATIONS));
    const expired = expiredHourKeys(kept?.hours ?? {}, now).map((hour): PatchOperation => ({ op: 'remove', path: `/hours/${hour}` }));
    for (let i = 0; i < expired.length; i += MAX_PATCH_OPERATIONS) {
      try {
        await this.patch(key, expired.slice(i, i + MAX_PATCH_OPERATIONS));
      } catch (error) {
        // Another instance pruned them first (removing an absent path is a 400): already done.
        if (statusOf(error) !== 400) throw error;
      }
    }
  }

  private async patch(key: { id: string; partitionKey: string }, operations: PatchOperation[]): Promise<RegionDemandDocument | undefined> {
    this.onRequest();
    const { resource } = await (await this.container()).item(key.id, key.partitionKey).patch<RegionDemandDocument>(operations);
    return resource;
  }

  /** Creates the document; false when another writer created it first. */
  private async createUnlessPresent(document: ForecastCallsDocument | RegionDemandDocument): Promise<boolean> {
    try {
      this.onRequest();
      await (await this.container()).items.create(document);
      return true;
    } catch (error) {
      if (statusOf(error) === 409) return false;
      throw error;
    }
  }
}

function statusOf(error: unknown): unknown {
  return (error as { code?: unknown }).code;
}
