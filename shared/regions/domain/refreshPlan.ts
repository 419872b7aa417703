/** What the planner knows of one active region (from its forecast view). */
export interface RegionRefreshState {
  readonly region: string;
  readonly centre: { readonly latitude: number; readonly longitude: number };
  /** When its latest forecast was recorded; null when it never had one. */
  readonly updatedAt: string | null;
}

export interface RefreshPlanSettings {
  /** A forecast older than this is due; also the time between cycles. */
  readonly refreshMinutes: number;
  /** Region fetches allowed per day (a location in a multi-location request counts as one call). */
  readonly dailyCallBudget: number;
  /** Locations per request. */
  readonly batchSize: number;
}

export interface PlannedRegion {
  readonly region: string;
  readonly latitude: number;
  readonly longitude: number;
}

export interface RefreshPlan {
  /** Regions whose forecast is missing or old. */
  readonly due: number;
  /** Due regions left for a later cycle because of the budget. */
  readonly deferred: number;
  /** Region fetches this cycle may make: the daily budget spread evenly over the day's cycles. */
  readonly allowance: number;
  /** The regions to fetch now, most overdue first, in requests of at most `batchSize`. */
  readonly batches: readonly (readonly PlannedRegion[])[];
}

const MINUTES_PER_DAY = 24 * 60;

/**
 * A forecast counts as due a little before it is `refreshMinutes` old: a cycle starts every
 * `refreshMinutes`, and a region fetched late in one cycle must still be due at the next.
 */
export const DUE_FRACTION = 0.75;

/**
 * Plans one refresh cycle (pure). Due regions are those never fetched or fetched at least
 * `DUE_FRACTION × refreshMinutes` ago; never-fetched ones first, then the oldest. A cycle fetches at
 * most `dailyCallBudget × refreshMinutes / 1440` regions (at least one), so a day of cycles stays
 * within the budget and the rest wait, oldest first, for the next cycle.
 */
export function planRefresh(regions: readonly RegionRefreshState[], now: Date, settings: RefreshPlanSettings): RefreshPlan {
  const dueBefore = now.getTime() - settings.refreshMinutes * DUE_FRACTION * 60_000;
  const due = regions
    .map((state) => ({ state, fetchedAt: fetchedAtOf(state) }))
    .filter(({ fetchedAt }) => fetchedAt <= dueBefore)
    .sort((a, b) => (a.fetchedAt === b.fetchedAt ? a.state.region.localeCompare(b.state.region) : a.fetchedAt < b.fetchedAt ? -1 : 1));
  const allowance = Math.max(1, Math.floor((settings.dailyCallBudget * settings.refreshMinutes) / MINUTES_PER_DAY));
  const selected = due
    .slice(0, allowance)
    .map(({ state }) => ({ region: state.region, latitude: state.centre.latitude, longitude: state.centre.longitude }));
  const batchSize = Math.max(1, settings.batchSize);
  const batches: PlannedRegion[][] = [];
  for (let i = 0; i < selected.length; i += batchSize) batches.push(selected.slice(i, i + batchSize));
  return { due: due.length, deferred: due.length - selected.length, allowance, batches };
}

/** Never fetched (or an unreadable time) sorts as the oldest of all. */
function fetchedAtOf(state: RegionRefreshState): number {
  const at = state.updatedAt === null ? Number.NaN : Date.parse(state.updatedAt);
  return Number.isNaN(at) ? Number.NEGATIVE_INFINITY : at;
}

/** When the cycle that started at `startedAt` is followed by the next one (pure, so orchestrators may use it). */
export function nextCycleAt(startedAt: Date, refreshMinutes: number): Date {
  return new Date(startedAt.getTime() + refreshMinutes * 60_000);
}
