import { type WeatherCondition } from '../../../kernel/forecast';

/*
 * Providers describe the sky with codes; parents see eight conditions. The choices that are not
 * obvious, made for what a day out needs to know rather than for meteorological purity:
 *
 * - WMO 1 "mainly clear" is `clear`: at most a few clouds, nothing that changes a plan.
 * - Freezing drizzle and freezing rain (WMO 56–57, 66–67) stay `drizzle` and `rain`: what falls is
 *   liquid; icy paths are a temperature question the hour's temperature already answers.
 * - Sleet (Met Office 16–18) is `snow`: it only falls near freezing and is cold, wet and slippery,
 *   which `snow` conveys and `rain` understates.
 * - Hail (Met Office 19–21) is `rain`: hail comes in short convective showers, does not settle, and
 *   the advice ("have cover nearby") is the advice for rain showers. WMO's thunderstorm-with-hail
 *   codes (96, 99) stay `thunder`, the graver of the two.
 * - Mist (Met Office 5) is `fog`: both mean poor visibility, which is what matters on a road trip.
 *
 * A code not listed maps to `undefined` and the adapters drop that hour rather than guess: a gap
 * reads as "no forecast", whereas a guessed `cloudy` for what might be a storm would mislead.
 */

/** WMO 4677 codes as Open-Meteo's `weather_code` uses them. */
export function conditionFromWmoCode(code: number): WeatherCondition | undefined {
  if (!Number.isInteger(code)) return undefined;
  if (code === 0 || code === 1) return 'clear';
  if (code === 2) return 'partlyCloudy';
  if (code === 3) return 'cloudy';
  if (code === 45 || code === 48) return 'fog';
  if (code >= 51 && code <= 57) return 'drizzle';
  if ((code >= 61 && code <= 67) || (code >= 80 && code <= 82)) return 'rain';
  if ((code >= 71 && code <= 77) || code === 85 || code === 86) return 'snow';
  if (code >= 95 && code <= 99) return 'thunder';
  return undefined;
}

/** Met Office DataHub `significantWeatherCode` (-1 to 30; 4 is unused; night and day variants alike). */
export function conditionFromMetOfficeCode(code: number): WeatherCondition | undefined {
  if (!Number.isInteger(code)) return undefined;
  if (code === -1) return 'drizzle'; // "trace rain": wet enough to notice, not enough to call rain
  if (code === 0 || code === 1) return 'clear';
  if (code === 2 || code === 3) return 'partlyCloudy';
  if (code === 5 || code === 6) return 'fog';
  if (code === 7 || code === 8) return 'cloudy';
  if (code === 11) return 'drizzle';
  if ((code >= 9 && code <= 10) || (code >= 12 && code <= 15)) return 'rain';
  if (code >= 16 && code <= 18) return 'snow';
  if (code >= 19 && code <= 21) return 'rain';
  if (code >= 22 && code <= 27) return 'snow';
  if (code >= 28 && code <= 30) return 'thunder';
  return undefined;
}
