import { getTimes } from 'suncalc';
import { type Geolocation } from '../../kernel/geolocation';

/** Sunrise and sunset at a place on the solar day of an instant (`suncalc`, the standard formulas). */
export interface Daylight {
  /** null when the sun does not rise or set that day (never this far south, but the library allows it). */
  readonly sunrise: Date | null;
  readonly sunset: Date | null;
  readonly alwaysUp: boolean;
}

export function daylightAt(at: Date, place: Geolocation): Daylight {
  const day = solarDayOf(at, place.longitude);
  const known = daylightByPlace.get(place);
  if (known?.day === day) return known.daylight;
  const times = getTimes(at, place.latitude, place.longitude);
  const daylight = { sunrise: times.sunrise, sunset: times.sunset, alwaysUp: times.alwaysUp === true };
  daylightByPlace.set(place, { day, daylight });
  return daylight;
}

/**
 * The one thing of an instant suncalc's getTimes reads: its solar day at the longitude (days since
 * 2000-01-01 12:00 UTC, less J0, shifted by the longitude, rounded). Instants of one solar day get
 * the very same times, so a place keeps its day's (the search index hands out the same places).
 */
function solarDayOf(at: Date, longitude: number): number {
  // suncalc 2's own expression, term for term, so that rounding agrees to the millisecond.
  const dayMs = 864e5;
  const J1970 = 2440588;
  const J2000 = 2451545;
  const J0 = 9e-4;
  const lw = (Math.PI / 180) * -longitude;
  return Math.round(at.valueOf() / dayMs - 0.5 + J1970 - J2000 - J0 - lw / (2 * Math.PI));
}

const daylightByPlace = new WeakMap<Geolocation, { readonly day: number; readonly daylight: Daylight }>();

/** Between sunset and sunrise at the place. */
export function isDark(at: Date, place: Geolocation): boolean {
  const { sunrise, sunset, alwaysUp } = daylightAt(at, place);
  if (sunrise === null || sunset === null) return !alwaysUp;
  return at.getTime() < sunrise.getTime() || at.getTime() >= sunset.getTime();
}
