import { TZDate } from '@date-fns/tz';
import OpeningHoursParser from 'opening_hours';
import { z } from 'zod';
import { ENGLAND, type Jurisdiction } from './jurisdiction';

/**
 * Opening hours in OpenStreetMap's `opening_hours` syntax (`Mo-Fr 10:00-17:00; Sa,Su 09:30-18:00;
 * PH off`), read in the place's local time with its public holidays. The `opening_hours` package
 * parses and evaluates them: it is what the OpenStreetMap tools themselves use.
 */

/** OpenStreetMap's own limit for a tag value: hours longer than this could not be written back to the map. */
export const OPENING_HOURS_MAX = 255;

/** The parser's own message for a value it cannot read in a jurisdiction (England's by default), or undefined when it reads it. */
export function openingHoursProblem(value: string, jurisdiction: Jurisdiction = ENGLAND): string | undefined {
  const unsupported = unsupportedTimesProblem(value);
  if (unsupported !== undefined) return unsupported;
  try {
    new OpeningHoursParser(value, nominatimOf(jurisdiction));
    return undefined;
  } catch (error) {
    return parserMessage(error);
  }
}

/**
 * Times that follow the sun. The library computes them from the coordinates only when given as
 * strings, and then in minutes from the process's own midnight, so in a UTC process a summer sunset
 * would come out an hour early on the place's clock. Refused, with a clear message, until they can
 * be evaluated in the place's zone.
 */
const VARIABLE_TIMES = /\b(sunrise|sunset|dawn|dusk)\b/i;

/** Why the value uses times this app does not evaluate yet, or undefined when it does not. */
export function unsupportedTimesProblem(value: string): string | undefined {
  const variable = VARIABLE_TIMES.exec(withoutComments(value));
  return variable ? `${variable[0]} is not supported here yet: give clock times (e.g. 07:00-20:00), as the place's local time` : undefined;
}

function withoutComments(value: string): string {
  return value.replace(/"[^"]*"/g, '""');
}

export const openingHoursSchema = z
  .string({ error: 'must be a string in OpenStreetMap opening_hours syntax, e.g. "Mo-Fr 10:00-17:00; Sa,Su 09:30-18:00"' })
  .trim()
  .min(1, { error: 'must not be empty (send null to remove the opening hours)' })
  .max(OPENING_HOURS_MAX, { error: `must be at most ${OPENING_HOURS_MAX} characters` })
  .superRefine((value, context) => {
    const problem = openingHoursProblem(value);
    if (problem !== undefined) context.addIssue({ code: 'custom', message: `is not valid opening_hours: ${problem}` });
  })
  .meta({
    description:
      "OpenStreetMap opening_hours syntax in the place's local time (Europe/London; Europe/Dublin in Ireland), e.g. `Mo-Fr 10:00-17:00; Sa,Su 09:30-18:00; PH off`",
    example: 'Mo-Fr 10:00-17:00; Sa,Su 09:30-18:00; PH off',
  });

/** One stretch of time in a schedule: open, or "unknown" when the hours say so or carry only a comment. */
export interface OpenInterval {
  readonly start: Date;
  readonly end: Date;
  readonly unknown: boolean;
  readonly comment?: string;
}

export type OpeningState = 'open' | 'closed' | 'unknown';

/**
 * Opening hours evaluated at real instants. The library reads a Date's local fields (getHours(),
 * getDay()), so every instant goes in as a Date whose process-local fields are the place's wall
 * clock, and every answer comes back the same way. In a process whose own zone keeps summer time,
 * a wall time inside that zone's spring-forward hour would shift by an hour; Functions run in UTC
 * unless WEBSITE_TIME_ZONE says otherwise.
 */
export class OpeningSchedule {
  /** States by the minute they were asked for, the latest few: the library reads no seconds, and searches ask about the same times. */
  private readonly statesByMinute = new Map<number, OpeningState>();

  private constructor(
    private readonly parsed: OpeningHoursParser,
    readonly timeZone: string,
  ) {}

  /** The schedule for a value (parsed once per value and jurisdiction: parsing costs ~0.4 ms), or undefined if it does not parse. */
  static of(value: string, jurisdiction: Jurisdiction): OpeningSchedule | undefined {
    const key = `${jurisdiction.countryCode}|${jurisdiction.state}|${value}`;
    const cached = schedules.get(key);
    if (cached !== undefined) {
      // Map keeps insertion order: re-inserting makes this the most recently used.
      schedules.delete(key);
      schedules.set(key, cached);
      return cached ?? undefined;
    }
    const schedule = OpeningSchedule.parsedOnce(value, jurisdiction) ?? null;
    schedules.set(key, schedule);
    if (schedules.size > SCHEDULE_CACHE_SIZE) schedules.delete(schedules.keys().next().value ?? key);
    return schedule ?? undefined;
  }

  /**
   * A schedule parsed for one use and not cached: the editors' preview parses whatever is typed, and
   * must not push the places' schedules out of the cache.
   */
  static parsedOnce(value: string, jurisdiction: Jurisdiction): OpeningSchedule | undefined {
    try {
      return new OpeningSchedule(new OpeningHoursParser(value, nominatimOf(jurisdiction)), jurisdiction.timeZone);
    } catch {
      return undefined;
    }
  }

  /** The value as the parser writes it back (`mo-fr 10-17` becomes `Mo-Fr 10:00-17:00`). */
  get normalized(): string {
    try {
      return this.parsed.prettifyValue();
    } catch {
      return '';
    }
  }

  /** The parser's warnings: the value works, but may not say what the editor meant. */
  get warnings(): string[] {
    try {
      return this.parsed.getWarnings().map((warning) => warning.replace(/\s+/g, ' ').trim());
    } catch {
      return [];
    }
  }

  /** Open, closed or unknown at the instant; unknown too when the library cannot evaluate it (a holiday calendar it lacks). */
  stateAt(at: Date): OpeningState {
    const minute = Math.floor(at.getTime() / 60_000);
    const known = this.statesByMinute.get(minute);
    if (known !== undefined) return known;
    const state = this.evaluate(at);
    this.statesByMinute.set(minute, state);
    if (this.statesByMinute.size > STATES_KEPT) this.statesByMinute.delete(this.statesByMinute.keys().next().value ?? minute);
    return state;
  }

  private evaluate(at: Date): OpeningState {
    try {
      const wall = this.toWall(at);
      if (this.parsed.getUnknown(wall)) return 'unknown';
      return this.parsed.getState(wall) ? 'open' : 'closed';
    } catch {
      return 'unknown';
    }
  }

  /** The next instant after `after` (within `withinMs`) at which it opens, if it does. */
  nextOpening(after: Date, withinMs: number): Date | undefined {
    try {
      const limit = this.toWall(new Date(after.getTime() + withinMs));
      const iterator = this.parsed.getIterator(this.toWall(after));
      while (iterator.advance(limit)) {
        if (iterator.getState() && !iterator.getUnknown()) return this.fromWall(iterator.getDate());
      }
      return undefined;
    } catch {
      return undefined;
    }
  }

  /** The open (and unknown) stretches between two instants, clipped to them. */
  intervals(from: Date, to: Date): OpenInterval[] {
    try {
      return this.parsed.getOpenIntervals(this.toWall(from), this.toWall(to)).map(([start, end, unknown, comment]) => ({
        start: this.fromWall(start),
        end: this.fromWall(end),
        unknown,
        ...(comment !== undefined && { comment }),
      }));
    } catch {
      return [];
    }
  }

  /** Whether the place's date of `at` is a public holiday in its jurisdiction (as far as the library knows). */
  isHoliday(at: Date): boolean {
    try {
      return this.parsed.getPublicHolidayContext(this.toWall(at)).isHoliday;
    } catch {
      return false;
    }
  }

  private toWall(at: Date): Date {
    const zoned = new TZDate(at.getTime(), this.timeZone);
    return new Date(
      zoned.getFullYear(),
      zoned.getMonth(),
      zoned.getDate(),
      zoned.getHours(),
      zoned.getMinutes(),
      zoned.getSeconds(),
      zoned.getMilliseconds(),
    );
  }

  private fromWall(wall: Date): Date {
    const zoned = TZDate.tz(
      this.timeZone,
      wall.getFullYear(),
      wall.getMonth(),
      wall.getDate(),
      wall.getHours(),
      wall.getMinutes(),
      wall.getSeconds(),
      wall.getMilliseconds(),
    );
    return new Date(zoned.getTime());
  }
}

const SCHEDULE_CACHE_SIZE = 2000;
const STATES_KEPT = 8;
/** Parsed schedules by jurisdiction and value; null remembers a value that does not parse. */
const schedules = new Map<string, OpeningSchedule | null>();

/** An instant as ISO 8601 in a zone, with its offset and without milliseconds: `2026-12-14T10:00:00+00:00`. */
export function isoInZone(at: Date, timeZone: string): string {
  return new TZDate(at.getTime(), timeZone).toISOString().replace(/\.\d{3}(?=[+-])/, '');
}

/** The library finds a holiday calendar by country and state; the coordinates are for sunrise and sunset. */
function nominatimOf(jurisdiction: Jurisdiction): { lat: number; lon: number; address: { country_code: string; state: string } } {
  const [lat, lon] = REPRESENTATIVE_POINTS[jurisdiction.countryCode];
  return { lat, lon, address: { country_code: jurisdiction.countryCode, state: jurisdiction.state } };
}

const REPRESENTATIVE_POINTS: Record<Jurisdiction['countryCode'], readonly [number, number]> = {
  gb: [52.5, -1.5],
  ie: [53.3, -7.5],
  im: [54.2, -4.5],
  je: [49.2, -2.1],
  gg: [49.45, -2.55],
};

/**
 * The parser throws strings (and sometimes Errors) such as `Mo-F <--- (Unexpected token: "-" This
 * means that the syntax is not valid at that point or it is currently not supported.)`; the text is
 * the parser's own and points at the place it stopped, which is what an editor needs.
 */
function parserMessage(error: unknown): string {
  const text = (error instanceof Error ? error.message : String(error)).replace(/\s+/g, ' ').trim();
  // The library words a holiday calendar it lacks (school holidays in the UK, say) as a bug of its
  // own, with a link to its repository: an editor needs to know what to change instead.
  if (/no holidays|submit a pull request/i.test(text)) {
    const kind = /\(SH\)|school/i.test(text) ? 'school holidays (SH)' : 'these holidays';
    return `${kind} are not known for the place's country or nation: leave them out, or give the dates`;
  }
  return text.slice(0, 300);
}
