import { type HourlyForecast } from '../../kernel/forecast';
import { type Geolocation } from '../../kernel/geolocation';
import { daylightAt } from './daylight';
import { type OpeningSchedule } from './openingHours';
import type { AgeRange, PlaceKind } from './placeDetails';
import { suitability } from './suitability';

export interface BestTimesQuestion {
  readonly kind: PlaceKind | undefined;
  readonly ageRange?: AgeRange;
  readonly geolocation: Geolocation;
  /** The place's opening hours; undefined when unknown, and then only daylight hours are offered. */
  readonly schedule: OpeningSchedule | undefined;
  readonly hourly: readonly HourlyForecast[];
  readonly from: Date;
  readonly to: Date;
}

export interface VisitWindow {
  readonly start: Date;
  readonly end: Date;
  /** The window's worst hour: a visit is as good as its worst part. */
  readonly score: number;
  readonly reason: string;
}

/** A visit needs an hour at least; shorter stretches (the last half hour before closing) are left out. */
export const MIN_WINDOW_MS = 60 * 60 * 1000;
/** Hours whose scores are this close belong to one window. */
const SCORE_BAND = 0.1;
const HOUR_MS = 60 * 60 * 1000;

interface Stretch {
  readonly start: number;
  readonly end: number;
}

/**
 * The best times to visit between two instants (pure): the hours the place is open — and, for an
 * outdoor place or one whose hours are unknown, in daylight — scored hour by hour from the forecast
 * with the same suitability the searches use, then joined into windows of neighbouring hours whose
 * scores differ by at most 0.1. Best score first, earlier first among equals. Hours the forecast
 * does not reach are left out.
 */
export function bestTimes(question: BestTimesQuestion): VisitWindow[] {
  const { kind, ageRange, geolocation, schedule, hourly, from, to } = question;
  let allowed: Stretch[] = schedule
    ? schedule
        .intervals(from, to)
        .filter((interval) => !interval.unknown)
        .map((interval) => ({ start: interval.start.getTime(), end: interval.end.getTime() }))
    : [{ start: from.getTime(), end: to.getTime() }];
  const daylight = daylightStretches(geolocation, from, to);
  if (kind === 'outdoor' || schedule === undefined) allowed = intersect(allowed, daylight);
  // Sunrise and sunset split an hour, so that its dark part counts as dark and its light part as light.
  const twilightEdges = daylight.flatMap(({ start, end }) => [start, end]);

  const scored: (Stretch & { score: number; reason: string })[] = [];
  for (const hour of [...hourly].sort((a, b) => Date.parse(a.time) - Date.parse(b.time))) {
    const slot = { start: Date.parse(hour.time), end: Date.parse(hour.time) + HOUR_MS };
    for (const part of intersect(allowed, [slot]).flatMap((overlap) => splitAt(overlap, twilightEdges))) {
      const middle = (part.start + part.end) / 2;
      const dark = kind !== 'outdoor' && !daylight.some(({ start, end }) => middle >= start && middle < end);
      const { score, reason } = suitability({ kind, ageRange, forecast: hour, open: true, dark });
      if (score !== null) scored.push({ ...part, score, reason });
    }
  }

  const windows: { start: number; end: number; low: number; high: number; reason: string }[] = [];
  for (const part of scored) {
    const last = windows[windows.length - 1];
    if (last && last.end === part.start && Math.max(last.high, part.score) - Math.min(last.low, part.score) <= SCORE_BAND + 1e-9) {
      last.end = part.end;
      if (part.score < last.low) last.reason = part.reason;
      last.low = Math.min(last.low, part.score);
      last.high = Math.max(last.high, part.score);
    } else {
      windows.push({ start: part.start, end: part.end, low: part.score, high: part.score, reason: part.reason });
    }
  }
  return windows
    .filter((window) => window.end - window.start >= MIN_WINDOW_MS)
    .sort((a, b) => b.low - a.low || a.start - b.start)
    .map((window) => ({ start: new Date(window.start), end: new Date(window.end), score: window.low, reason: window.reason }));
}

/** Sunrise to sunset on every day that touches the range. */
function daylightStretches(place: Geolocation, from: Date, to: Date): Stretch[] {
  const stretches: Stretch[] = [];
  const firstNoon = Date.UTC(from.getUTCFullYear(), from.getUTCMonth(), from.getUTCDate(), 12) - 24 * HOUR_MS;
  for (let noon = firstNoon; noon <= to.getTime() + 24 * HOUR_MS; noon += 24 * HOUR_MS) {
    const { sunrise, sunset, alwaysUp } = daylightAt(new Date(noon), place);
    if (sunrise && sunset) stretches.push({ start: sunrise.getTime(), end: sunset.getTime() });
    else if (alwaysUp) stretches.push({ start: noon - 12 * HOUR_MS, end: noon + 12 * HOUR_MS });
  }
  return stretches;
}

function splitAt(stretch: Stretch, edges: readonly number[]): Stretch[] {
  const cuts = edges.filter((edge) => edge > stretch.start && edge < stretch.end).sort((a, b) => a - b);
  const points = [stretch.start, ...cuts, stretch.end];
  return points.slice(1).map((end, i) => ({ start: points[i] ?? stretch.start, end }));
}

/** The overlaps of two lists of stretches, each sorted and without overlaps of its own. */
function intersect(a: readonly Stretch[], b: readonly Stretch[]): Stretch[] {
  const overlaps: Stretch[] = [];
  for (const x of a) {
    for (const y of b) {
      const start = Math.max(x.start, y.start);
      const end = Math.min(x.end, y.end);
      if (start < end) overlaps.push({ start, end });
    }
  }
  return overlaps.sort((p, q) => p.start - q.start);
}
