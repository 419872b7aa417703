import fc from 'fast-check';
import { getTimes } from 'suncalc';
import { daylightAt } from '../../../shared/places/domain/daylight';
import { nextOpeningAfter, openStateAt, scheduleOf } from '../../../shared/places/domain/arrival';
import { OpeningSchedule, isoInZone } from '../../../shared/places/domain/openingHours';
import { jurisdictionOf } from '../../../shared/places/domain/jurisdiction';

/**
 * Searches remember per place what they work out (daylight per solar day, opening state and next
 * opening per minute): the answers must be exactly those worked out afresh, whatever the order of
 * the instants asked about.
 */
const HOURS = [
  'Mo-Su 10:00-17:00',
  'Tu-Su 09:30-16:30; PH off',
  'Mo-Fr 09:00-17:00; Sa,Su 10:00-16:00',
  'Apr-Oct: Mo-Su 10:00-18:00; Nov-Mar: Sa,Su 10:00-15:00',
  'Mo-Su sunrise-sunset',
];
const place = fc.record({
  latitude: fc.double({ min: 49.9, max: 60.8, noNaN: true }),
  longitude: fc.double({ min: -10.5, max: 1.8, noNaN: true }),
});
// Runs of instants, each bunched so that many share a minute, an hour or a solar day and some
// straddle an opening time or a solar midnight (where a wrong key would reuse a wrong answer).
const within = (from: string, spanMs: number) => fc.integer({ min: 0, max: spanMs }).map((ms) => Date.parse(from) + ms);
const instants = fc.oneof(
  fc.array(fc.integer({ min: Date.parse('2026-01-01T00:00:00Z'), max: Date.parse('2027-12-31T00:00:00Z') }), {
    minLength: 1,
    maxLength: 20,
  }),
  fc.array(within('2026-12-12T08:55:00Z', 2 * 3_600_000), { minLength: 5, maxLength: 30 }),
  fc.array(within('2026-12-12T09:59:00Z', 3 * 60_000), { minLength: 5, maxLength: 30 }),
  fc.array(within('2026-06-20T21:00:00Z', 6 * 3_600_000), { minLength: 5, maxLength: 30 }),
  fc.array(within('2026-03-28T22:00:00Z', 48 * 3_600_000), { minLength: 5, maxLength: 30 }),
);

it('daylight remembered per place and solar day is what suncalc says for every instant', () => {
  fc.assert(
    fc.property(place, instants, (where, runOf) => {
      for (const ms of runOf) {
        const at = new Date(ms);
        const times = getTimes(at, where.latitude, where.longitude);
        expect(daylightAt(at, where)).toEqual({ sunrise: times.sunrise, sunset: times.sunset, alwaysUp: times.alwaysUp === true });
      }
    }),
    { numRuns: 300 },
  );
});

it('opening states and next openings remembered per minute are those of a schedule parsed afresh', () => {
  fc.assert(
    fc.property(place, fc.constantFrom(...HOURS), instants, (where, hours, runOf) => {
      const schedule = scheduleOf(hours, where)!;
      const jurisdiction = jurisdictionOf(where);
      for (const ms of runOf) {
        const at = new Date(ms);
        const fresh = OpeningSchedule.parsedOnce(hours, jurisdiction)!;
        const open = openStateAt(schedule, at);
        expect(open).toBe(openStateAt(fresh, at));
        if (open === false) {
          const next = fresh.nextOpening(at, 14 * 24 * 3_600_000);
          expect(nextOpeningAfter(schedule, at)).toBe(next && isoInZone(next, fresh.timeZone));
        }
      }
    }),
    { numRuns: 300 },
  );
});
