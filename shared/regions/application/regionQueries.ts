import { z } from 'zod';
import { NotFoundError } from '../../kernel/errors';
import { attributionSchema, hourlyForecastSchema, WEATHER_ATTRIBUTION } from '../../kernel/forecast';
import { geolocationSchema } from '../../kernel/geolocation';
import { regionSchema } from '../domain/region';
import { forecastAgeMinutes, hoursFrom, regionForecastKey, type RegionForecastView } from '../projection/regionForecastDocument';
import type { RegionViews } from './regionViews';

export interface RegionQueryDeps {
  readonly views: Pick<RegionViews, 'read'>;
  readonly clock: () => Date;
}

const timestamp = z.iso.datetime({ offset: true });

/** What anonymous callers are told of a failed refresh. */
export const PUBLIC_FAILURE_REASON = 'The weather service could not be reached for this refresh; the next one will try again.';

/** The answer of `GET /api/regions/{region}/forecast`. */
export const regionForecastAnswerSchema = z.strictObject({
  region: regionSchema,
  centre: geolocationSchema.nullable().meta({ description: "The centre of the region's cell, where the forecast is for" }),
  source: z.string().nullable().meta({ description: 'The weather provider' }),
  issuedAt: timestamp.nullable(),
  updatedAt: timestamp.nullable().meta({ description: 'When the latest forecast was recorded' }),
  ageMinutes: z.int().min(0).nullable(),
  hourly: z.array(hourlyForecastSchema).meta({ description: 'From an hour ago on' }),
  lastFailure: z
    .strictObject({
      cycleId: z.string(),
      reason: z.string().meta({
        description: "Always the same generic reason: the provider's own error is for operators (GET /api/ops/forecast-refresh, the logs)",
      }),
      at: timestamp,
    })
    .nullable()
    .meta({ description: 'The latest refresh of this region that failed, if any' }),
  attribution: attributionSchema,
});
export type RegionForecastAnswer = z.output<typeof regionForecastAnswerSchema>;

/** A region's forecast from an hour ago on, with how old it is and its latest failure. */
export async function regionForecast(deps: RegionQueryDeps, region: string): Promise<RegionForecastAnswer> {
  const view = (await deps.views.read<RegionForecastView>(regionForecastKey(region)))?.document;
  if (!view) throw new NotFoundError(`There is no region ${region}.`);
  const now = deps.clock().getTime();
  return {
    region: view.region,
    centre: view.centre,
    source: view.source,
    issuedAt: view.issuedAt,
    updatedAt: view.updatedAt,
    ageMinutes: forecastAgeMinutes(view, now),
    hourly: hoursFrom(view, now - 60 * 60 * 1000),
    // A provider's error text can name hosts, keys' shapes or internals: anonymous callers get a generic reason.
    lastFailure: view.lastFailure && { cycleId: view.lastFailure.cycleId, reason: PUBLIC_FAILURE_REASON, at: view.lastFailure.at },
    attribution: WEATHER_ATTRIBUTION,
  };
}
