/**
 * The daily call budget, counted per UTC day. Weather providers count their free quotas per day
 * (Open-Meteo: 10,000 calls; the Met Office's plans: a few hundred), so a day's count is the figure
 * that can be compared with theirs and the one ops can read at a glance; a rolling 24 h would also
 * punish a steady 4-rounds-a-day rota whose rounds drift a few minutes earlier each day.
 */
export const MINUTES_PER_DAY = 24 * 60;

/**
 * How far ahead of an even spread of the budget over the day spending may run. Enough for a whole
 * round of regions kept to a 6 h cap to be fetched at once early in the day (over a few cycles: each
 * fetches at most the provider's calls per minute), while a budget too small for the demand is still
 * spread over the day instead of running out by the afternoon.
 */
export const PACE_AHEAD_MINUTES = 6 * 60;

/** The UTC day a call is counted on, `YYYY-MM-DD`. */
export function utcDay(at: Date): string {
  return at.toISOString().slice(0, 10);
}

/** Minutes since the start of `at`'s UTC day. */
export function minuteOfUtcDay(at: Date): number {
  return (at.getTime() - Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate())) / 60_000;
}

/**
 * How many region fetches may have been made today (UTC) by `at`: the budget spread evenly over the
 * day, plus {@link PACE_AHEAD_MINUTES} of it, and never more than the budget.
 */
export function dailyCallLimit(at: Date, dailyCallBudget: number): number {
  const paced = Math.floor((dailyCallBudget * (minuteOfUtcDay(at) + PACE_AHEAD_MINUTES)) / MINUTES_PER_DAY);
  return Math.max(0, Math.min(dailyCallBudget, paced));
}
