/**
 * Forecast events expire so the store does not grow without bound: two days keeps yesterday's
 * forecasts for support questions; today's is always re-fetched long before. (A module of its own,
 * free of zod, so that the refresh plan, which the orchestrator's entry loads at start, can use it.)
 */
export const FORECAST_EVENT_TTL_SECONDS = 2 * 24 * 60 * 60;
