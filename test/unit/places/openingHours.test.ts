import { openAtArrival } from '../../../shared/places/domain/arrival';
import { ENGLAND, jurisdictionOf } from '../../../shared/places/domain/jurisdiction';
import { legacyOpeningHoursToSyntax, openingHoursAsSyntax } from '../../../shared/places/domain/legacyOpeningHours';
import { isoInZone, openingHoursProblem, openingHoursSchema, OpeningSchedule } from '../../../shared/places/domain/openingHours';
import { openingWeek } from '../../../shared/places/application/openingHoursWeek';
import { ValidationError } from '../../../shared/kernel/errors';
import samplePlaces from '../../../local/data/uk-places.json';
import ngeohash from 'ngeohash';
import { parsePlaceEvent } from '../../../shared/places/domain/placeEventSchemas';
import type { PlaceView } from '../../../shared/places/projection/placeDocuments';
import { evolvePlaceView, nearbyEntryOf } from '../../../shared/places/projection/placeView';

const manchester = { latitude: 53.4771, longitude: -2.2547 };
const edinburgh = { latitude: 55.9533, longitude: -3.1883 };
const dublin = { latitude: 53.3498, longitude: -6.2603 };

describe('opening hours at the time of arrival', () => {
  it('given Mo-Fr 10:00-17:00, when a family arrives on a Saturday at noon, then it is closed and opens on Monday at 10:00', () => {
    // Saturday 12 December 2026, noon in London (GMT).
    expect(openAtArrival('Mo-Fr 10:00-17:00', manchester, new Date('2026-12-12T12:00:00Z'))).toEqual({
      openAt: false,
      opensAt: '2026-12-14T10:00:00+00:00',
    });
  });

  it('given the same hours, when they arrive on a weekday inside them, then it is open (and no next opening is given)', () => {
    expect(openAtArrival('Mo-Fr 10:00-17:00', manchester, new Date('2026-12-14T10:00:00Z'))).toEqual({ openAt: true });
    expect(openAtArrival('Mo-Fr 10:00-17:00', manchester, new Date('2026-12-14T16:59:00Z'))).toEqual({ openAt: true });
    expect(openAtArrival('Mo-Fr 10:00-17:00', manchester, new Date('2026-12-14T17:00:00Z'))).toMatchObject({ openAt: false });
  });

  it('reads the hours in local time: in British Summer Time 10:00 is 09:00 UTC, and the offset says so', () => {
    // Saturday 11 July 2026.
    expect(openAtArrival('Mo-Fr 10:00-17:00', manchester, new Date('2026-07-11T11:00:00Z'))).toEqual({
      openAt: false,
      opensAt: '2026-07-13T10:00:00+01:00',
    });
    expect(openAtArrival('Mo-Fr 10:00-17:00', manchester, new Date('2026-07-13T09:00:00Z'))).toEqual({ openAt: true });
    expect(openAtArrival('Mo-Fr 10:00-17:00', manchester, new Date('2026-07-13T08:59:00Z'))).toMatchObject({ openAt: false });
  });

  it('given no hours, or hours that say unknown or only a comment, then whether it is open is null', () => {
    const saturdayNoon = new Date('2026-12-12T12:00:00Z');
    expect(openAtArrival(undefined, manchester, saturdayNoon)).toEqual({ openAt: null });
    expect(openAtArrival('Sa 10:00-16:00 unknown', manchester, saturdayNoon)).toEqual({ openAt: null });
    expect(openAtArrival('Mo-Fr 10:00-17:00 || "by appointment"', manchester, saturdayNoon)).toEqual({ openAt: null });
  });

  it('given a place closed on public holidays, then Christmas Day, Boxing Day and Boxing Day’s substitute are closed (England, 2026)', () => {
    const hours = 'Mo-Su 10:00-17:00; PH off';
    // 25 December 2026 is a Friday; the 26th (Boxing Day) a Saturday, so its bank holiday is also on Monday the 28th.
    expect(openAtArrival(hours, manchester, new Date('2026-12-25T12:00:00Z'))).toEqual({
      openAt: false,
      opensAt: '2026-12-27T10:00:00+00:00',
    });
    expect(openAtArrival(hours, manchester, new Date('2026-12-28T12:00:00Z'))).toMatchObject({ openAt: false });
    expect(openAtArrival(hours, manchester, new Date('2026-12-29T12:00:00Z'))).toEqual({ openAt: true });
  });

  it('given a place in Scotland, then its own bank holidays apply: St Andrew’s Day (Monday 30 November 2026) is one, in England it is not', () => {
    const hours = 'Mo-Su 10:00-17:00; PH off';
    const standrews = new Date('2026-11-30T12:00:00Z');
    expect(openAtArrival(hours, edinburgh, standrews)).toMatchObject({ openAt: false });
    expect(openAtArrival(hours, manchester, standrews)).toEqual({ openAt: true });
  });

  it('given a place in Ireland, then it keeps Irish time and holidays: St Patrick’s Day is closed', () => {
    expect(jurisdictionOf(dublin).timeZone).toBe('Europe/Dublin');
    expect(openAtArrival('Mo-Su 10:00-17:00; PH off', dublin, new Date('2027-03-17T12:00:00Z'))).toMatchObject({ openAt: false });
    expect(openAtArrival('Mo-Su 10:00-17:00; PH off', dublin, new Date('2027-07-14T09:30:00Z'))).toEqual({ openAt: true });
  });

  it('gives no next opening when it does not open within 14 days', () => {
    expect(openAtArrival('Jan 10:00-16:00', manchester, new Date('2026-12-12T12:00:00Z'))).toEqual({ openAt: false });
  });

  it('keeps hours that run past midnight on the day they start', () => {
    const friday23 = new Date('2026-12-11T23:00:00Z');
    const saturday01 = new Date('2026-12-12T01:00:00Z');
    expect(openAtArrival('Fr 18:00-02:00', manchester, friday23)).toEqual({ openAt: true });
    expect(openAtArrival('Fr 18:00-02:00', manchester, saturday01)).toEqual({ openAt: true });
  });
});

describe('validating opening hours', () => {
  it('accepts the syntax the maps world uses, and trims it', () => {
    expect(openingHoursSchema.parse('  Mo-Fr 10:00-17:00; Sa,Su 09:30-18:00; Dec 25 off ')).toBe(
      'Mo-Fr 10:00-17:00; Sa,Su 09:30-18:00; Dec 25 off',
    );
    expect(openingHoursProblem('24/7')).toBeUndefined();
    expect(openingHoursProblem('Mo-Fr 08:00-12:00,13:00-17:30; PH off')).toBeUndefined();
  });

  it("refuses what the parser cannot read, with the parser's own message pointing at the place", () => {
    const result = openingHoursSchema.safeParse('Mo-Fx 10:00-17:00');
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message).toMatch(/^is not valid opening_hours: Mo-F <--- \(Unexpected token: "-"/);
    expect(openingHoursProblem('Tu 25:00-26:00')).toMatch(/Time range starts outside of the current day/);
    expect(openingHoursSchema.safeParse('').success).toBe(false);
    expect(openingHoursSchema.safeParse('x'.repeat(256)).error?.issues[0]?.message).toBe('must be at most 255 characters');
    expect(openingHoursSchema.safeParse({ monday: [] }).success).toBe(false);
  });

  it('refuses times that follow the sun, with a message saying what to write instead (comments may still name them)', () => {
    expect(openingHoursProblem('Mo-Su sunrise-sunset')).toBe(
      "sunrise is not supported here yet: give clock times (e.g. 07:00-20:00), as the place's local time",
    );
    expect(openingHoursProblem('Mo-Su 07:00-dusk')).toMatch(/^dusk is not supported/);
    expect(openingHoursProblem('Mo-Su 07:00-20:00 "closes at dusk in winter"')).toBeUndefined();
  });

  it('words a holiday calendar the library lacks as what the editor can change, not as a bug report', () => {
    const problem = openingHoursProblem('Mo-Fr 10:00-17:00; SH off');
    expect(problem).toBe("school holidays (SH) are not known for the place's country or nation: leave them out, or give the dates");
    expect(openingHoursProblem('Mo-Fr 10:00-17:00; SH off', jurisdictionOf(dublin))).toBeUndefined();
  });

  it('reads the hours of every sample place the seed proposes', () => {
    const unreadable = samplePlaces.places.flatMap((place) => {
      const hours = (place as { openingHours?: string }).openingHours;
      const problem = hours === undefined ? undefined : openingHoursProblem(hours);
      return problem === undefined ? [] : [`${place.name}: ${problem}`];
    });
    expect(unreadable).toEqual([]);
  });

  it('parses a value once per jurisdiction (the same schedule again), and answers undefined for one that does not parse, every time', () => {
    const first = OpeningSchedule.of('Mo-Fr 10:00-17:00', ENGLAND);
    expect(OpeningSchedule.of('Mo-Fr 10:00-17:00', ENGLAND)).toBe(first);
    expect(OpeningSchedule.of('Mo-Fx', ENGLAND)).toBeUndefined();
    expect(OpeningSchedule.of('Mo-Fx', ENGLAND)).toBeUndefined();
  });

  it('writes instants with the zone’s offset and without milliseconds', () => {
    expect(isoInZone(new Date('2026-07-13T09:00:00.000Z'), 'Europe/London')).toBe('2026-07-13T10:00:00+01:00');
    expect(isoInZone(new Date('2026-12-14T10:00:00.000Z'), 'Europe/Dublin')).toBe('2026-12-14T10:00:00+00:00');
  });
});

describe("the editor's week preview", () => {
  it('lists the next seven local days with their hours, closed days empty and holidays named', () => {
    const week = openingWeek({ value: 'mo-fr 10-17; Sa 09:30-18:00; PH off', from: new Date('2026-12-21T08:00:00Z') });
    expect(week.normalized).toBe('Mo-Fr 10:00-17:00; Sa 09:30-18:00; PH off');
    expect(week.warnings.length).toBeGreaterThan(0);
    expect(week.timeZone).toBe('Europe/London');
    expect(
      week.days.map((day) => [day.date, day.weekday, day.intervals.map((i) => `${i.opens}-${i.closes}`).join(','), day.holiday ?? '']),
    ).toEqual([
      ['2026-12-21', 'Mon', '10:00-17:00', ''],
      ['2026-12-22', 'Tue', '10:00-17:00', ''],
      ['2026-12-23', 'Wed', '10:00-17:00', ''],
      ['2026-12-24', 'Thu', '10:00-17:00', ''],
      ['2026-12-25', 'Fri', '', 'Public holiday'],
      ['2026-12-26', 'Sat', '', 'Public holiday'],
      ['2026-12-27', 'Sun', '', ''],
    ]);
  });

  it('says 24:00 for a day open to midnight, and marks unknown stretches with their comment', () => {
    const week = openingWeek({ value: 'Mo 00:00-24:00; Tu 10:00-12:00 "ring first"', from: new Date('2026-12-07T08:00:00Z') });
    expect(week.days[0]?.intervals).toEqual([{ opens: '00:00', closes: '24:00' }]);
    expect(week.days[1]?.intervals).toEqual([{ opens: '10:00', closes: '12:00', unknown: true, comment: 'ring first' }]);
  });

  it("refuses an unreadable value as a field error on value, with the parser's message", () => {
    expect(() => openingWeek({ value: 'Mo-Fx', from: new Date() })).toThrow(ValidationError);
    try {
      openingWeek({ value: 'Mo-Fx', from: new Date() });
    } catch (error) {
      expect((error as ValidationError).errors).toEqual([
        { field: 'value', message: expect.stringMatching(/^is not valid opening_hours: Mo-F <---/) },
      ]);
    }
  });
});

describe('opening hours stored before they were OpenStreetMap syntax', () => {
  it('are read as the syntax: days with the same hours share a rule, a day left out is closed', () => {
    expect(
      legacyOpeningHoursToSyntax({
        monday: [{ opens: '10:00', closes: '17:00' }],
        tuesday: [{ opens: '10:00', closes: '17:00' }],
        wednesday: [{ opens: '10:00', closes: '17:00' }],
        friday: [
          { opens: '10:00', closes: '12:00' },
          { opens: '13:00', closes: '17:00' },
        ],
        saturday: [{ opens: '09:30', closes: '18:00' }],
        sunday: [{ opens: '09:30', closes: '18:00' }],
      }),
    ).toBe('Mo-We 10:00-17:00; Fr 10:00-12:00,13:00-17:00; Sa,Su 09:30-18:00');
  });

  it('keep the notes as the fallback comment, so hours outside the listed ones are unknown rather than closed', () => {
    const syntax = legacyOpeningHoursToSyntax({ saturday: [{ opens: '10:00', closes: '16:00' }], notes: 'Closed in "January"' });
    expect(syntax).toBe(`Sa 10:00-16:00 || "Closed in 'January'"`);
    expect(openingHoursProblem(syntax ?? '')).toBeUndefined();
    expect(legacyOpeningHoursToSyntax({ notes: 'Ring first' })).toBe('"Ring first"');
    expect(legacyOpeningHoursToSyntax({})).toBeUndefined();
  });

  it('reach parents as the syntax: an old PlaceProposed is projected into a view and a nearby entry that a search evaluates', () => {
    const at = '2026-12-01T09:00:00.000Z';
    const metadata = { eventId: 'e', correlationId: 'c', causationId: 'c', occurredAt: at };
    const stored = (version: number, type: string, data: Record<string, unknown>) => ({
      type,
      data,
      version,
      streamId: 'place-p1',
      metadata,
    });
    const events = [
      stored(1, 'PlaceProposed', {
        placeId: 'p1',
        name: 'Old Farm',
        geolocation: manchester,
        details: {
          kind: 'outdoor',
          openingHours: { monday: [{ opens: '10:00', closes: '17:00' }], tuesday: [{ opens: '10:00', closes: '17:00' }] },
        },
        proposedAt: at,
      }),
      stored(2, 'PlaceLocationValidated', { geolocation: manchester, region: 'gcw2h' }),
      stored(3, 'PlaceApproved', { approvedAt: at }),
    ];
    let view: PlaceView | null = null;
    for (const event of events) view = evolvePlaceView(view, { ...event, ...parsePlaceEvent(event) });
    expect(view?.openingHours).toBe('Mo,Tu 10:00-17:00');
    const entry = view && nearbyEntryOf(view, ngeohash.encode);
    expect(entry?.openingHours).toBe('Mo,Tu 10:00-17:00');
    // Wednesday 2 December 2026 at noon: a day the old hours left out, so closed until Monday.
    expect(openAtArrival(entry?.openingHours, manchester, new Date('2026-12-02T12:00:00Z'))).toEqual({
      openAt: false,
      opensAt: '2026-12-07T10:00:00+00:00',
    });
  });

  it('leave the syntax as it is, and give up on anything else', () => {
    expect(openingHoursAsSyntax('Mo 10:00-12:00')).toBe('Mo 10:00-12:00');
    expect(openingHoursAsSyntax({ monday: [{ opens: '10:00', closes: '12:00' }] })).toBe('Mo 10:00-12:00');
    expect(openingHoursAsSyntax(42)).toBeUndefined();
    expect(openingHoursAsSyntax(undefined)).toBeUndefined();
  });
});
