import type { AgeRange, PlaceKind } from './placeDetails';
import { type HourlyForecast } from '../../kernel/forecast';

export interface Suitability {
  /** 0 (a poor idea) to 1 (ideal), rounded to two decimals. */
  readonly score: number;
  /** The main reason for the score, short enough for a phone screen. */
  readonly reason: string;
}

export interface SuitabilityQuestion {
  readonly kind: PlaceKind | undefined;
  readonly ageRange: AgeRange | undefined;
  readonly forecast: HourlyForecast | null;
  /** The child's age in years, when the parent gave it. */
  readonly childAge?: number;
}

/**
 * How well a place suits the trip: the weather matters outdoors, less for mixed places, hardly
 * indoors; a child outside the place's age range makes it a poor choice. Each factor multiplies the
 * score; the reason names the factor that cost the most.
 */
export function suitability({ kind, ageRange, forecast, childAge }: SuitabilityQuestion): Suitability {
  const factors: { factor: number; reason: string }[] = [];
  if (childAge !== undefined && ageRange && (childAge < ageRange.min || childAge > ageRange.max)) {
    factors.push({ factor: 0.3, reason: `Best for ages ${ageRange.min}–${ageRange.max}` });
  }
  const exposure = kind === 'outdoor' ? 1 : kind === 'mixed' || kind === undefined ? 0.5 : 0.1;
  if (forecast) {
    const rain = forecast.precipitationProbability ?? (['rain', 'drizzle', 'thunder', 'snow'].includes(forecast.weather) ? 70 : 10);
    if (rain >= 30) factors.push({ factor: 1 - exposure * 0.8 * (rain / 100), reason: `${Math.round(rain)}% chance of rain` });
    if (forecast.weather === 'thunder') factors.push({ factor: 1 - exposure * 0.7, reason: 'Thunderstorms likely' });
    if (forecast.windKph >= 40) factors.push({ factor: 1 - exposure * 0.5, reason: `Windy (${Math.round(forecast.windKph)} km/h)` });
    if (forecast.temperatureC <= 3) factors.push({ factor: 1 - exposure * 0.4, reason: `Cold (${Math.round(forecast.temperatureC)}°C)` });
    if (forecast.temperatureC >= 30) factors.push({ factor: 1 - exposure * 0.4, reason: `Hot (${Math.round(forecast.temperatureC)}°C)` });
  }
  const score = Math.round(factors.reduce((product, { factor }) => product * factor, 1) * 100) / 100;
  const worst = factors.reduce<{ factor: number; reason: string } | undefined>(
    (min, next) => (min === undefined || next.factor < min.factor ? next : min),
    undefined,
  );
  if (worst && worst.factor < 0.95) return { score, reason: worst.reason };
  if (!forecast) return { score, reason: kind === 'indoor' ? 'Indoors: fine whatever the weather' : 'No forecast yet' };
  if (kind === 'indoor') return { score, reason: 'Indoors: fine whatever the weather' };
  return { score, reason: forecast.weather === 'clear' || forecast.weather === 'partlyCloudy' ? 'Good weather for it' : 'Dry enough' };
}
