import type { HourlyForecast } from '../../../shared/kernel/forecast';
import { bestTimes, type BestTimesQuestion } from '../../../shared/places/domain/bestTimes';
import { isDark } from '../../../shared/places/domain/daylight';
import { ENGLAND } from '../../../shared/places/domain/jurisdiction';
import { OpeningSchedule } from '../../../shared/places/domain/openingHours';

const heatonPark = { latitude: 53.5356, longitude: -2.2532 };
const HOUR = 3_600_000;
const saturday = Date.parse('2026-12-12T00:00:00Z');

/** Two days of hourly forecast from Saturday midnight (GMT): rain, except dry from 09:00 to 13:00 on Saturday. */
function forecast(): HourlyForecast[] {
  return Array.from({ length: 48 }, (_, i) => {
    const dry = i >= 9 && i < 13;
    return {
      time: new Date(saturday + i * HOUR).toISOString(),
      temperatureC: 9,
      precipitationProbability: dry ? 5 : 80,
      precipitationMm: dry ? 0 : 1.2,
      weather: dry ? 'partlyCloudy' : 'rain',
      windKph: 12,
      gustKph: 20,
      uvIndex: 0,
    };
  });
}

const ask = (overrides: Partial<BestTimesQuestion>): ReturnType<typeof bestTimes> =>
  bestTimes({
    kind: 'outdoor',
    geolocation: heatonPark,
    schedule: OpeningSchedule.of('Mo-Su 08:00-20:00', ENGLAND),
    hourly: forecast(),
    from: new Date(saturday),
    to: new Date(saturday + 48 * HOUR),
    ...overrides,
  });

const shown = (windows: ReturnType<typeof bestTimes>) =>
  windows.map(
    ({ start, end, score, reason }) => `${start.toISOString().slice(5, 16)}–${end.toISOString().slice(11, 16)} ${score} ${reason}`,
  );

describe('best times to visit', () => {
  it('given an outdoor park, then the dry hours come first, and every window is inside daylight and opening hours', () => {
    const windows = ask({});
    expect(shown(windows)).toEqual([
      '12-12T09:00–13:00 1 Good weather for it',
      '12-12T13:00–15:49 0.36 80% chance of rain',
      '12-13T08:17–15:49 0.36 80% chance of rain',
    ]);
    for (const { start, end } of windows) {
      for (let t = start.getTime(); t < end.getTime(); t += 10 * 60_000) expect(isDark(new Date(t), heatonPark)).toBe(false);
    }
  });

  it('given hours shorter than the daylight, then the windows keep inside them (and a stretch under an hour is left out)', () => {
    expect(shown(ask({ schedule: OpeningSchedule.of('Sa 10:00-12:00; Su 14:30-15:20', ENGLAND) }))).toEqual([
      '12-12T10:00–12:00 1 Good weather for it',
    ]);
  });

  it('given an indoor place, then the weather weighs less: the rainy afternoon joins the dry morning in one good window', () => {
    const windows = ask({ kind: 'indoor', schedule: OpeningSchedule.of('Mo-Su 10:00-17:00', ENGLAND) });
    expect(shown(windows)).toEqual(['12-12T10:00–17:00 0.94 80% chance of rain', '12-13T10:00–17:00 0.94 80% chance of rain']);
  });

  it('given a mixed place open into the evening, then the hours after sunset count half', () => {
    const windows = ask({ kind: 'mixed', schedule: OpeningSchedule.of('Sa 09:00-19:00', ENGLAND) });
    expect(shown(windows)).toEqual([
      '12-12T09:00–13:00 1 Good weather for it',
      '12-12T13:00–15:49 0.68 80% chance of rain',
      '12-12T15:49–19:00 0.34 After dark',
    ]);
  });

  it('given unknown opening hours, then only daylight hours are offered', () => {
    const windows = ask({ kind: 'indoor', schedule: undefined });
    expect(windows.every(({ start, end }) => !isDark(start, heatonPark) && !isDark(new Date(end.getTime() - 1), heatonPark))).toBe(true);
    expect(windows.length).toBeGreaterThan(0);
  });

  it('given no forecast, or a place closed all the time, then there are no windows', () => {
    expect(ask({ hourly: [] })).toEqual([]);
    expect(ask({ schedule: OpeningSchedule.of('off', ENGLAND) })).toEqual([]);
  });

  it('looks only between from and to', () => {
    const windows = ask({ from: new Date(saturday + 11 * HOUR), to: new Date(saturday + 14 * HOUR) });
    expect(shown(windows)).toEqual(['12-12T11:00–13:00 1 Good weather for it', '12-12T13:00–14:00 0.36 80% chance of rain']);
  });
});
