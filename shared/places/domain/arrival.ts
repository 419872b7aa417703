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

export const NEXT_OPENING_WITHIN_DAYS = 14;

/**
 * Whether the place is open at `at`; the next opening only when asked, since finding it walks up to
 * 14 days of the schedule and a search needs it only for the places it answers with.
 */
export function openAtArrival(
  openingHours: string | undefined,
  place: Geolocation,
  at: Date,
  { withNextOpening = true }: { withNextOpening?: boolean } = {},
): OpenAtArrival {
  const schedule = openingHours === undefined ? undefined : OpeningSchedule.of(openingHours, jurisdictionOf(place));
  if (!schedule) return { openAt: null };
  const state = schedule.stateAt(at);
  if (state !== 'closed') return { openAt: state === 'open' ? true : null };
  if (!withNextOpening) return { openAt: false };
  const next = schedule.nextOpening(at, NEXT_OPENING_WITHIN_DAYS * 24 * 60 * 60 * 1000);
  return { openAt: false, ...(next && { opensAt: isoInZone(next, schedule.timeZone) }) };
}
