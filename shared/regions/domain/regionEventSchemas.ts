import { z } from 'zod';
import { hourlyForecastSchema } from '../../kernel/forecast';
import { forecastColumnsSchema } from './forecastColumns';

const centre = z.object({ latitude: z.number().min(-90).max(90), longitude: z.number().min(-180).max(180) });

/** Events of a region stream (`region-<geohash>`) that the read side uses. */
export const regionEventSchemas = {
  RegionActivated: z.object({ region: z.string(), centre }),
  ForecastUpdated: z.object({
    region: z.string(),
    source: z.string(),
    issuedAt: z.iso.datetime({ offset: true }),
    cycleId: z.string(),
    // Hourly objects in events recorded before forecasts were stored as columns.
    hourly: z.union([forecastColumnsSchema, z.array(hourlyForecastSchema)]),
  }),
  ForecastFetchFailed: z.object({ region: z.string(), cycleId: z.string(), reason: z.string() }),
};
