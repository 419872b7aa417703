import { type Geolocation } from '../../kernel/geolocation';
import { jurisdictionOf } from './jurisdiction';
import { isoInZone, OpeningSchedule } from './openingHours';

/** Whether a place is open when the family arrives, and if not, when it next opens. */
export interface OpenAtArrival {
  /** null: the hours are unknown (not given, or they say "unknown" or only a comment for that time). */
  readonly openAt: boolean | null;
  /** The next opening within {@link NEXT_OPENING_WITHIN_DAYS} days when closed, ISO 8601 with the place's offset. */
  readonly opensAt?: string;
}

const NEXT_OPENING_WITHIN_DAYS = 14;

/** A place's hours as a schedule in its own jurisdiction; undefined when it has none (or they do not parse). */
export function scheduleOf(openingHours: string | undefined, place: Geolocation): OpeningSchedule | undefined {
  return openingHours === undefined ? undefined : OpeningSchedule.of(openingHours, jurisdictionOf(place));
}

/** Whether the schedule is open at `at`: null when unknown. */
export function openStateAt(schedule: OpeningSchedule | undefined, at: Date): boolean | null {
  const state = schedule?.stateAt(at) ?? 'unknown';
  return state === 'unknown' ? null : state === 'open';
}

/**
 * The next opening after `at`, as an answer gives it. Separate from {@link openStateAt}: finding it
 * walks up to 14 days of the schedule, and a search needs it only for the closed places it answers with.
 */
export function nextOpeningAfter(schedule: OpeningSchedule, at: Date): string | undefined {
  const next = schedule.nextOpening(at, NEXT_OPENING_WITHIN_DAYS * 24 * 60 * 60 * 1000);
  return next && isoInZone(next, schedule.timeZone);
}

export function openAtArrival(openingHours: string | undefined, place: Geolocation, at: Date): OpenAtArrival {
  const schedule = scheduleOf(openingHours, place);
  const openAt = openStateAt(schedule, at);
  const opensAt = schedule && openAt === false ? nextOpeningAfter(schedule, at) : undefined;
  return { openAt, ...(opensAt !== undefined && { opensAt }) };
}
