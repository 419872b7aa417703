import { z } from 'zod';
import { forecastFreshnessSchema } from './forecastFreshness';

const timestamp = z.iso.datetime({ offset: true });

/** The refresh orchestration's customStatus: where its current cycle is, as ops see it. */
export const forecastRefreshCycleSchema = z.strictObject({
  cycle: z.int().min(1),
  cycleId: z.string(),
  phase: z.enum(['planning', 'fetching', 'waiting']),
  startedAt: timestamp,
  source: z.string().nullable().meta({ description: 'The weather provider' }),
  due: z.int().min(0).meta({ description: 'Regions whose forecast was missing or would get older than its target before the next cycle' }),
  planned: z.int().min(0).meta({ description: 'Due regions this cycle fetches (the rest wait for the budget)' }),
  deferred: z.int().min(0),
  searchedDue: z
    .int()
    .min(0)
    .optional()
    .meta({ description: 'Of the due, regions searched in the last 6 hours (held to the searched target, fetched first)' }),
  searchedDeferred: z.int().min(0).optional().meta({ description: 'Of those, the ones the budget left for a later cycle' }),
  retryLater: z
    .int()
    .min(0)
    .optional()
    .meta({ description: 'Due regions whose last fetch failed less than 4 minutes ago (tried again after that)' }),
  callsToday: z.int().min(0).optional().meta({ description: 'Region fetches counted today (UTC) before this cycle' }),
  callLimit: z.int().min(0).optional().meta({ description: "Region fetches the day's budget, paced over the day, allows by this cycle" }),
  requests: z.int().min(0),
  updated: z.int().min(0),
  failed: z.int().min(0),
  alreadyRecorded: z.int().min(0),
  failedRegions: z
    .array(z.strictObject({ region: z.string(), reason: z.string() }))
    .meta({ description: 'The first failed regions (the count is always complete)' }),
  providerMs: z.number().min(0).meta({ description: 'Summed time the provider took to answer, over every request of the cycle' }),
  nextRunAt: timestamp.nullable(),
  planError: z.string().optional().meta({ description: 'Why the cycle could not be planned (the next try is at nextRunAt)' }),
});

/** The answer of `GET /api/ops/forecast-refresh`: built field by field, so no management URL or key is in it. */
export const forecastRefreshStatusSchema = z.strictObject({
  instanceId: z.string(),
  runtimeStatus: z.string().meta({
    description: "Durable Functions' runtime status: Running, Pending, ContinuedAsNew, Suspended, Completed, Failed, Terminated…",
  }),
  createdTime: timestamp.nullable(),
  lastUpdatedTime: timestamp.nullable(),
  cycle: forecastRefreshCycleSchema.nullable(),
  freshness: forecastFreshnessSchema.nullable().meta({
    description:
      "How old the active regions' forecasts are now, searched in the last 6 hours or not, and today's calls against the budget; null when the views cannot be read (freshnessError says why)",
  }),
  freshnessError: z.string().optional().meta({ description: 'Why freshness is null: the orchestration status is answered without it' }),
});
export type ForecastRefreshStatusAnswer = z.output<typeof forecastRefreshStatusSchema>;
