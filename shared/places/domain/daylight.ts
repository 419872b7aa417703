import { getTimes } from 'suncalc';
import { type Geolocation } from '../../kernel/geolocation';

/** Sunrise and sunset at a place on the solar day of an instant (`suncalc`, the standard formulas). */
export interface Daylight {
  /** null when the sun does not rise or set that day (never this far south, but the library allows it). */
  readonly sunrise: Date | null;
  readonly sunset: Date | null;
  readonly alwaysUp: boolean;
}

export function daylightAt(at: Date, { latitude, longitude }: Geolocation): Daylight {
  const times = getTimes(at, latitude, longitude);
  return { sunrise: times.sunrise, sunset: times.sunset, alwaysUp: times.alwaysUp === true };
}

/** Between sunset and sunrise at the place. */
export function isDark(at: Date, place: Geolocation): boolean {
  const { sunrise, sunset, alwaysUp } = daylightAt(at, place);
  if (sunrise === null || sunset === null) return !alwaysUp;
  return at.getTime() < sunrise.getTime() || at.getTime() >= sunset.getTime();
}
