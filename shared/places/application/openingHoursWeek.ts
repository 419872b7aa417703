import { TZDate } from '@date-fns/tz';
import { z } from 'zod';
import { ValidationError } from '../../kernel/errors';
import { type Geolocation } from '../../kernel/geolocation';
import { ENGLAND, jurisdictionOf } from '../domain/jurisdiction';
import { openingHoursProblem, OPENING_HOURS_MAX, OpeningSchedule, unsupportedTimesProblem } from '../domain/openingHours';

export interface OpeningWeekQuery {
  readonly value: string;
  /** Where the place is, for its time zone and holidays; England's when not given. */
  readonly geolocation?: Geolocation;
  readonly from: Date;
}

const clock = z.string().regex(/^([01]\d|2[0-4]):[0-5]\d$/);

export const openingWeekAnswerSchema = z.strictObject({
  value: z.string(),
  normalized: z.string().meta({ description: "The value as the parser writes it (e.g. 'mo-fr 10-17' becomes 'Mo-Fr 10:00-17:00')" }),
  timeZone: z.string(),
  warnings: z.array(z.string()).meta({ description: "The parser's warnings: the value works, but may not say what was meant" }),
  days: z.array(
    z.strictObject({
      date: z.iso.date(),
      weekday: z.string().meta({ description: 'Mon … Sun' }),
      intervals: z
        .array(
          z.strictObject({
            opens: clock,
            closes: clock.meta({ description: 'HH:MM; 24:00 when open until midnight' }),
            unknown: z.literal(true).optional().meta({ description: 'The hours say "unknown" or only a comment for this stretch' }),
            comment: z.string().optional(),
          }),
        )
        .meta({ description: 'Empty: closed all day' }),
      holiday: z.string().optional().meta({ description: 'Present on a public holiday of the place' }),
    }),
  ),
});
export type OpeningWeekAnswer = z.output<typeof openingWeekAnswerSchema>;

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'] as const;

/** The next seven days of opening as the editor's hours say, from the local date of `from`: what the editor's form previews. */
export function openingWeek(query: OpeningWeekQuery): OpeningWeekAnswer {
  const value = query.value.trim();
  const jurisdiction = query.geolocation ? jurisdictionOf(query.geolocation) : ENGLAND;
  const schedule =
    value.length > 0 && value.length <= OPENING_HOURS_MAX && unsupportedTimesProblem(value) === undefined
      ? OpeningSchedule.parsedOnce(value, jurisdiction)
      : undefined;
  // Only a value that does not parse is parsed again, for the parser's message.
  const problem = schedule
    ? undefined
    : value.length === 0
      ? 'the value is empty'
      : value.length > OPENING_HOURS_MAX
        ? `longer than ${OPENING_HOURS_MAX} characters`
        : openingHoursProblem(value, jurisdiction);
  if (!schedule)
    throw new ValidationError(
      [{ field: 'value', message: `is not valid opening_hours: ${problem ?? 'it cannot be read'}` }],
      'The opening hours cannot be read.',
    );
  const zone = jurisdiction.timeZone;
  const start = new TZDate(query.from.getTime(), zone);
  const days = Array.from({ length: 7 }, (_, i) => {
    const dayStart = TZDate.tz(zone, start.getFullYear(), start.getMonth(), start.getDate() + i);
    const dayEnd = TZDate.tz(zone, start.getFullYear(), start.getMonth(), start.getDate() + i + 1);
    const intervals = schedule.intervals(new Date(dayStart.getTime()), new Date(dayEnd.getTime())).map((interval) => ({
      opens: wallClock(interval.start, zone, false),
      closes: wallClock(interval.end, zone, interval.end.getTime() >= dayEnd.getTime()),
      ...(interval.unknown && { unknown: true as const }),
      ...(interval.comment !== undefined && { comment: interval.comment }),
    }));
    return {
      date: `${dayStart.getFullYear()}-${pad(dayStart.getMonth() + 1)}-${pad(dayStart.getDate())}`,
      weekday: WEEKDAYS[dayStart.getDay()] ?? '',
      intervals,
      ...(schedule.isHoliday(new Date(dayStart.getTime() + 12 * 60 * 60 * 1000)) && { holiday: 'Public holiday' }),
    };
  });
  return { value, normalized: schedule.normalized, timeZone: zone, warnings: schedule.warnings, days };
}

function wallClock(at: Date, zone: string, endOfDay: boolean): string {
  if (endOfDay) return '24:00';
  const zoned = new TZDate(at.getTime(), zone);
  return `${pad(zoned.getHours())}:${pad(zoned.getMinutes())}`;
}

const pad = (n: number) => String(n).padStart(2, '0');
