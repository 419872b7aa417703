/**
 * Search demand: how often parents' searches returned places of a region, counted per region and
 * UTC hour (not a log of requests), and what the refresh makes of it.
 */

/** A region searched within this many hours counts as searched: its forecast is kept to the tighter target. */
export const SEARCHED_WINDOW_HOURS = 6;

/**
 * An instance reports the searches it saw at least this often (the demand recorder's flush), so the
 * refresh hears of a search within this plus one cycle.
 */
export const DEMAND_FLUSH_SECONDS = 60;

/** Hour counts older than this are pruned: a day of them, and the hour in progress. */
export const DEMAND_HOURS_KEPT = 25;

/**
 * Fetch-now requests for one region within one such slot are one request, whichever instance sent
 * them: they share the recorded cycle id, so the consumer's probe of the event store drops the rest.
 */
export const DEMAND_FETCH_SLOT_MINUTES = 10;

/** A region's recent searches. */
export interface RegionDemand {
  /** The latest search a flush reported (to within the flush interval when several instances flush at once). */
  readonly lastSearchedAt: string | null;
  /** Searches per UTC hour, keyed by {@link hourKey}. */
  readonly hours: Readonly<Record<string, number>>;
}

/** The hour a search is counted in: `YYYY-MM-DDTHH` (UTC), a plain JSON key and a Cosmos patch path segment. */
export function hourKey(at: Date): string {
  return at.toISOString().slice(0, 13);
}

function hourStart(key: string): number {
  return Date.parse(`${key}:00:00.000Z`);
}

/** Searches counted in hours that overlap the time since `since` (so an hour's searches count while any of them may be inside). */
export function searchesSince(demand: RegionDemand | undefined, since: Date): number {
  if (!demand) return 0;
  let searches = 0;
  for (const [key, count] of Object.entries(demand.hours)) if (hourStart(key) + 3_600_000 > since.getTime()) searches += count;
  return searches;
}

/** Whether the region was searched within {@link SEARCHED_WINDOW_HOURS} before `now`. */
export function searchedRecently(demand: RegionDemand | undefined, now: Date): boolean {
  const last = demand?.lastSearchedAt ? Date.parse(demand.lastSearchedAt) : Number.NaN;
  return !Number.isNaN(last) && last > now.getTime() - SEARCHED_WINDOW_HOURS * 3_600_000;
}

/** Hour keys older than {@link DEMAND_HOURS_KEPT} hours before `now`: the ones to prune. */
export function expiredHourKeys(hours: Readonly<Record<string, number>>, now: Date): string[] {
  const oldest = now.getTime() - DEMAND_HOURS_KEPT * 3_600_000;
  return Object.keys(hours).filter((key) => !(hourStart(key) >= oldest));
}

/** When a search asks for a region's forecast to be fetched now. */
export interface DemandFetchRule {
  /** How old a searched region's forecast may get. */
  readonly searchedMaxAgeMinutes: number;
  /**
   * How long the refresh may take to hear of a search and act on it (the demand flush, the next
   * cycle, its fetch: refreshPlan.ts `demandNoticeMinutes`). A region's first search that finds its
   * forecast within this of the target asks for it now: the rota could not keep it fresh in time.
   */
  readonly noticeMinutes: number;
}

/** Whether a search that found a region's forecast `ageMinutes` old should ask for a fetch now. */
export function demandFetchWanted(
  input: {
    /** The forecast's age as the search answered it; null when it showed none (a new region's own fetch is on its way). */
    readonly ageMinutes: number | null;
    /** This instance had already seen the region searched within the window, so the refresh knows of it. */
    readonly knownSearched: boolean;
  },
  rule: DemandFetchRule,
): boolean {
  if (input.ageMinutes === null) return false;
  // A region the refresh already holds to the target is asked for only when it is late anyway (a failed or unaffordable fetch).
  const threshold = input.knownSearched ? rule.searchedMaxAgeMinutes : rule.searchedMaxAgeMinutes - rule.noticeMinutes;
  return input.ageMinutes >= Math.max(0, threshold);
}

/**
 * Whether a fetch-now request made at `requestedAt` after a search is still wanted, given when the
 * region's latest forecast was recorded: not when one recorded since then was young enough not to
 * have been asked for.
 */
export function demandFetchStillWanted(updatedAt: string | null, requestedAt: string, rule: DemandFetchRule): boolean {
  if (updatedAt === null) return true;
  const ageAtRequest = (Date.parse(requestedAt) - Date.parse(updatedAt)) / 60_000;
  return !(ageAtRequest < rule.searchedMaxAgeMinutes - rule.noticeMinutes);
}

/** The cycle id a search's fetch-now is recorded under: one per region and {@link DEMAND_FETCH_SLOT_MINUTES}. */
export function demandFetchCycleId(requestedAt: string): string {
  const slot = DEMAND_FETCH_SLOT_MINUTES * 60_000;
  return `searched:${new Date(Math.floor(Date.parse(requestedAt) / slot) * slot).toISOString()}`;
}
