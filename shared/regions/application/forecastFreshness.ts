import { z } from 'zod';
import { dailyCallLimit, utcDay } from '../domain/callBudget';
import { type RegionRefreshState } from '../domain/refreshPlan';
import { SEARCHED_WINDOW_HOURS, searchedRecently } from '../domain/searchDemand';
import type { RegionViews } from './regionViews';
import { freshnessTargetsOf, type ForecastSettings } from './forecastSettings';

export interface FreshnessDeps {
  readonly views: Pick<RegionViews, 'regionRefreshStates' | 'callsOn'>;
  readonly clock: () => Date;
  readonly forecast: ForecastSettings;
}

const staleness = z.strictObject({
  regions: z.int().min(0),
  withoutForecast: z.int().min(0).meta({ description: 'Of them, regions that never had a forecast (left out of the ages)' }),
  targetMinutes: z.int().min(0).meta({ description: 'How old their forecasts may get' }),
  overTarget: z.int().min(0).meta({ description: 'Regions whose forecast is older than the target now' }),
  maxMinutes: z.int().min(0).nullable().meta({ description: 'The oldest forecast, in whole minutes (null without any)' }),
  p95Minutes: z.int().min(0).nullable().meta({ description: '95th percentile (nearest rank) of the ages' }),
});

/** How fresh the active regions' forecasts are now, by demand, and the day's calls against the budget. */
export const forecastFreshnessSchema = z.strictObject({
  at: z.iso.datetime({ offset: true }),
  staleness: z.strictObject({
    searchedLast6h: staleness.meta({ description: `Regions searched in the last ${SEARCHED_WINDOW_HOURS} hours` }),
    others: staleness.meta({ description: 'Every other active region' }),
  }),
  calls: z.strictObject({
    day: z.iso.date().meta({ description: 'The UTC day the budget is counted on' }),
    counted: z.int().min(0).meta({ description: 'Region fetches counted today: refresh cycles and fetch-now requests together' }),
    allowedByNow: z.int().min(0).meta({ description: 'What the budget, paced over the day, allows by now' }),
    dailyBudget: z.int().min(1),
  }),
});
export type ForecastFreshness = z.output<typeof forecastFreshnessSchema>;

/** Reads every active region's refresh state (one partition-scoped query) and the day's count (one point read). */
export async function forecastFreshness(deps: FreshnessDeps): Promise<ForecastFreshness> {
  const now = deps.clock();
  const day = utcDay(now);
  const [states, counted] = await Promise.all([deps.views.regionRefreshStates(), deps.views.callsOn(day)]);
  const targets = freshnessTargetsOf(deps.forecast);
  const searched = states.filter((state) => searchedRecently(state.demand, now));
  const others = states.filter((state) => !searchedRecently(state.demand, now));
  return {
    at: now.toISOString(),
    staleness: {
      searchedLast6h: stalenessOf(searched, now, targets.searchedMaxAgeMinutes),
      others: stalenessOf(others, now, targets.maxAgeMinutes),
    },
    calls: { day, counted, allowedByNow: dailyCallLimit(now, deps.forecast.dailyCallBudget), dailyBudget: deps.forecast.dailyCallBudget },
  };
}

function stalenessOf(states: readonly RegionRefreshState[], now: Date, targetMinutes: number): z.output<typeof staleness> {
  const ages = states
    .flatMap((state) => (state.updatedAt === null ? [] : [Math.max(0, Math.floor((now.getTime() - Date.parse(state.updatedAt)) / 60_000))]))
    .filter((age) => !Number.isNaN(age))
    .sort((a, b) => a - b);
  return {
    regions: states.length,
    withoutForecast: states.length - ages.length,
    targetMinutes,
    overTarget: ages.filter((age) => age > targetMinutes).length,
    maxMinutes: ages.at(-1) ?? null,
    p95Minutes: ages.length === 0 ? null : (ages[Math.ceil(ages.length * 0.95) - 1] ?? null),
  };
}

/**
 * Freshness as the ops status answers it: the status is what ops need most when the views' store is
 * down (a plan failing shows there), so freshness is left out, with a reason, when it cannot be read.
 */
export async function freshnessForStatus(
  freshness: () => Promise<ForecastFreshness>,
): Promise<{ freshness: ForecastFreshness | null; freshnessError?: string }> {
  return freshness().then(
    (value) => ({ freshness: value }),
    () => ({ freshness: null, freshnessError: 'The forecast views could not be read just now; try again in a minute.' }),
  );
}
