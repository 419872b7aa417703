import type { AgeRange, PlaceKind } from './placeDetails';
import { type HourlyForecast } from '../../kernel/forecast';

export interface Suitability {
  /** 0 (a poor idea) to 1 (ideal), rounded to two decimals; null when it cannot be told (no forecast yet). */
  readonly score: number | null;
  /** The main reason for the score, short enough for a phone screen. */
  readonly reason: string;
}

export interface SuitabilityQuestion {
  readonly kind: PlaceKind | undefined;
  readonly ageRange: AgeRange | undefined;
  readonly forecast: HourlyForecast | null;
  /** The child's age in years, when the parent gave it. */
  readonly childAge?: number;
  /** Whether the place is open at the time of the visit; null or absent when its hours are unknown. */
  readonly open?: boolean | null;
  /** Whether the visit falls between sunset and sunrise at the place. */
  readonly dark?: boolean;
}

export const CLOSED_REASON = 'Closed at that time';
export const DARK_REASON = 'After dark';
export const NO_FORECAST_REASON = 'No forecast yet';

/**
 * How well a place suits the trip: the weather matters outdoors, less for mixed places, hardly
 * indoors; a child outside the place's age range makes it a poor choice. Each factor multiplies the
 * score; the reason names the factor that cost the most. Some things settle it whatever the
 * weather: a closed place, and an outdoor place after dark. Without them and without a forecast
 * the score is unknown, never a perfect one.
 */
export function suitability({ kind, ageRange, forecast, childAge, open, dark }: SuitabilityQuestion): Suitability {
  if (open === false) return { score: 0, reason: CLOSED_REASON };
  if (dark === true && kind === 'outdoor') return { score: 0, reason: DARK_REASON };
  if (!forecast) return { score: null, reason: NO_FORECAST_REASON };
  const factors: { factor: number; reason: string }[] = [];
  if (childAge !== undefined && ageRange && (childAge < ageRange.min || childAge > ageRange.max)) {
    factors.push({ factor: 0.3, reason: `Best for ages ${ageRange.min}–${ageRange.max}` });
  }
  const exposure = kind === 'outdoor' ? 1 : kind === 'mixed' || kind === undefined ? 0.5 : 0.1;
  // The outdoor half of a mixed place (or one of unknown kind) is lost after dark; indoors it does not matter.
  if (dark === true && kind !== 'indoor') factors.push({ factor: 1 - exposure, reason: DARK_REASON });
  const rain = forecast.precipitationProbability ?? (['rain', 'drizzle', 'thunder', 'snow'].includes(forecast.weather) ? 70 : 10);
  if (rain >= 30) factors.push({ factor: 1 - exposure * 0.8 * (rain / 100), reason: `${Math.round(rain)}% chance of rain` });
  if (forecast.weather === 'thunder') factors.push({ factor: 1 - exposure * 0.7, reason: 'Thunderstorms likely' });
  if (forecast.windKph >= 40) factors.push({ factor: 1 - exposure * 0.5, reason: `Windy (${Math.round(forecast.windKph)} km/h)` });
  if (forecast.temperatureC <= 3) factors.push({ factor: 1 - exposure * 0.4, reason: `Cold (${Math.round(forecast.temperatureC)}°C)` });
  if (forecast.temperatureC >= 30) factors.push({ factor: 1 - exposure * 0.4, reason: `Hot (${Math.round(forecast.temperatureC)}°C)` });
  const score = Math.round(factors.reduce((product, { factor }) => product * factor, 1) * 100) / 100;
  const worst = factors.reduce<{ factor: number; reason: string } | undefined>(
    (min, next) => (min === undefined || next.factor < min.factor ? next : min),
    undefined,
  );
  if (worst && worst.factor < 0.95) return { score, reason: worst.reason };
  if (kind === 'indoor') return { score, reason: 'Indoors: fine whatever the weather' };
  return { score, reason: forecast.weather === 'clear' || forecast.weather === 'partlyCloudy' ? 'Good weather for it' : 'Dry enough' };
}

/** Best first; unknown scores after every known one (ties keep their order: the sort is stable). */
export function bySuitability(a: Suitability, b: Suitability): number {
  if (a.score === null || b.score === null) return a.score === null ? (b.score === null ? 0 : 1) : -1;
  return b.score - a.score;
}
