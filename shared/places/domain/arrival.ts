import { type Geolocation } from '../../kernel/geolocation';
import { jurisdictionOf, type Jurisdiction } from './jurisdiction';
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
  return openingHours === undefined ? undefined : OpeningSchedule.of(openingHours, jurisdictionAt(place));
}

/** Jurisdictions by location object: the search index hands out the same places search after search, and finding one walks outlines. */
const jurisdictions = new WeakMap<Geolocation, Jurisdiction>();

function jurisdictionAt(place: Geolocation): Jurisdiction {
  let found = jurisdictions.get(place);
  if (!found) {
    found = jurisdictionOf(place);
    jurisdictions.set(place, found);
  }
  return found;
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
  // Asked only when closed at `at`, so the answer holds for the whole minute (hours have no seconds).
  const minute = Math.floor(at.getTime() / 60_000);
  const known = nextOpenings.get(schedule);
  if (known?.minute === minute) return known.opensAt;
  const next = schedule.nextOpening(at, NEXT_OPENING_WITHIN_DAYS * 24 * 60 * 60 * 1000);
  const opensAt = next && isoInZone(next, schedule.timeZone);
  nextOpenings.set(schedule, { minute, opensAt });
  return opensAt;
}

const nextOpenings = new WeakMap<OpeningSchedule, { readonly minute: number; readonly opensAt: string | undefined }>();

export function openAtArrival(openingHours: string | undefined, place: Geolocation, at: Date): OpenAtArrival {
  const schedule = scheduleOf(openingHours, place);
  const openAt = openStateAt(schedule, at);
  const opensAt = schedule && openAt === false ? nextOpeningAfter(schedule, at) : undefined;
  return { openAt, ...(opensAt !== undefined && { opensAt }) };
}
