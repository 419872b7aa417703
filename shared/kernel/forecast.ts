import { z } from 'zod';

/**
 * The hourly forecast as every feature speaks of it: regions record it, places rank by it.
 */

/** The small set of weather conditions parents see, mapped from WMO and Met Office codes. */
export const WEATHER_CONDITIONS = ['clear', 'partlyCloudy', 'cloudy', 'fog', 'drizzle', 'rain', 'snow', 'thunder'] as const;
export type WeatherCondition = (typeof WEATHER_CONDITIONS)[number];

/** One hour of forecast, normalised across providers (all UTC). */
export const hourlyForecastSchema = z.object({
  time: z.iso.datetime({ offset: true }),
  temperatureC: z.number(),
  precipitationProbability: z.number().min(0).max(100).nullable(),
  precipitationMm: z.number().min(0).nullable(),
  weather: z.enum(WEATHER_CONDITIONS),
  windKph: z.number().min(0),
  gustKph: z.number().min(0).nullable(),
  uvIndex: z.number().min(0).nullable(),
});
export type HourlyForecast = z.infer<typeof hourlyForecastSchema>;

/** The forecast hour nearest to `at`, if the forecast covers it (within half an hour of an entry). */
export function forecastAt(hourly: readonly HourlyForecast[], at: Date): HourlyForecast | undefined {
  let best: HourlyForecast | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const hour of hourly) {
    const distance = Math.abs(Date.parse(hour.time) - at.getTime());
    if (distance < bestDistance) {
      best = hour;
      bestDistance = distance;
    }
  }
  return bestDistance <= 30 * 60 * 1000 ? best : undefined;
}

/** Shown with every forecast the app passes on (Open-Meteo's licence asks for it; it is the default provider). */
export const WEATHER_ATTRIBUTION = 'Weather data by Open-Meteo.com (CC BY 4.0)';

/** The attribution field of every answer that carries forecasts. */
export const attributionSchema = z.string().meta({ description: "The weather data's attribution, to show with it" });
