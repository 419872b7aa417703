import { conditionFromMetOfficeCode, conditionFromWmoCode } from '../../../../shared/regions/adapters/weather/weatherCodes';
import { WEATHER_CONDITIONS, type WeatherCondition } from '../../../../shared/kernel/forecast';

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('WMO weather codes (Open-Meteo)', () => {
  const expected: [WeatherCondition, number[]][] = [
    ['clear', [0, 1]],
    ['partlyCloudy', [2]],
    ['cloudy', [3]],
    ['fog', [45, 48]],
    ['drizzle', range(51, 57)],
    ['rain', [...range(61, 67), 80, 81, 82]],
    ['snow', [...range(71, 77), 85, 86]],
    ['thunder', range(95, 99)],
  ];

  it.each(expected.flatMap(([condition, codes]) => codes.map((code) => [code, condition] as const)))('maps %i to %s', (code, condition) => {
    expect(conditionFromWmoCode(code)).toBe(condition);
  });

  it('leaves every other code, and non-integers, unmapped', () => {
    const listed = new Set(expected.flatMap(([, codes]) => codes));
    for (const code of range(-5, 120).filter((candidate) => !listed.has(candidate))) expect(conditionFromWmoCode(code)).toBeUndefined();
    expect(conditionFromWmoCode(61.5)).toBeUndefined();
    expect(conditionFromWmoCode(Number.NaN)).toBeUndefined();
  });
});

describe('Met Office significant weather codes', () => {
  const expected: [number, WeatherCondition][] = [
    [-1, 'drizzle'],
    [0, 'clear'],
    [1, 'clear'],
    [2, 'partlyCloudy'],
    [3, 'partlyCloudy'],
    [5, 'fog'],
    [6, 'fog'],
    [7, 'cloudy'],
    [8, 'cloudy'],
    [9, 'rain'],
    [10, 'rain'],
    [11, 'drizzle'],
    [12, 'rain'],
    [13, 'rain'],
    [14, 'rain'],
    [15, 'rain'],
    [16, 'snow'],
    [17, 'snow'],
    [18, 'snow'],
    [19, 'rain'],
    [20, 'rain'],
    [21, 'rain'],
    ...range(22, 27).map((code): [number, WeatherCondition] => [code, 'snow']),
    [28, 'thunder'],
    [29, 'thunder'],
    [30, 'thunder'],
  ];

  it.each(expected)('maps %i to %s', (code, condition) => {
    expect(conditionFromMetOfficeCode(code)).toBe(condition);
  });

  it('leaves 4 (unused), codes outside -1…30 and non-integers unmapped', () => {
    for (const code of [4, -2, 31, 99, 7.5]) expect(conditionFromMetOfficeCode(code)).toBeUndefined();
  });

  it('only ever answers one of the conditions parents see', () => {
    for (const code of range(-10, 120)) {
      for (const condition of [conditionFromWmoCode(code), conditionFromMetOfficeCode(code)]) {
        if (condition !== undefined) expect(WEATHER_CONDITIONS).toContain(condition);
      }
    }
  });
});
