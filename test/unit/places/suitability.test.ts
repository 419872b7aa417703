import type { HourlyForecast } from '../../../shared/kernel/forecast';
import { bySuitability, suitability, type Suitability } from '../../../shared/places/domain/suitability';

const hour = (overrides: Partial<HourlyForecast> = {}): HourlyForecast => ({
  time: '2026-12-12T12:00:00Z',
  temperatureC: 14,
  precipitationProbability: 5,
  precipitationMm: 0,
  weather: 'clear',
  windKph: 10,
  gustKph: 15,
  uvIndex: 1,
  ...overrides,
});
const rainy = hour({ precipitationProbability: 80, weather: 'rain' });

describe('suitability: how well a place suits the visit', () => {
  it('given good weather outdoors, then it is ideal', () => {
    expect(suitability({ kind: 'outdoor', ageRange: undefined, forecast: hour() })).toEqual({ score: 1, reason: 'Good weather for it' });
  });

  it('given rain, then outdoors suffers most, mixed places half as much, indoors hardly', () => {
    expect(suitability({ kind: 'outdoor', ageRange: undefined, forecast: rainy })).toEqual({ score: 0.36, reason: '80% chance of rain' });
    expect(suitability({ kind: 'mixed', ageRange: undefined, forecast: rainy })).toEqual({ score: 0.68, reason: '80% chance of rain' });
    expect(suitability({ kind: 'indoor', ageRange: undefined, forecast: rainy })).toEqual({
      score: 0.94,
      reason: '80% chance of rain',
    });
  });

  it('given no forecast, then the score is unknown, never a perfect one', () => {
    for (const kind of ['outdoor', 'mixed', 'indoor', undefined] as const) {
      expect(suitability({ kind, ageRange: undefined, forecast: null })).toEqual({ score: null, reason: 'No forecast yet' });
    }
  });

  it('given a place closed at that time, then it is unsuitable with that reason, forecast or not', () => {
    expect(suitability({ kind: 'indoor', ageRange: undefined, forecast: hour(), open: false })).toEqual({
      score: 0,
      reason: 'Closed at that time',
    });
    expect(suitability({ kind: 'outdoor', ageRange: undefined, forecast: null, open: false })).toEqual({
      score: 0,
      reason: 'Closed at that time',
    });
    expect(suitability({ kind: 'outdoor', ageRange: undefined, forecast: hour(), open: null }).score).toBe(1);
  });

  it('given an outdoor place after dark, then it is unsuitable whatever the weather; a mixed place loses half; indoors it does not matter', () => {
    expect(suitability({ kind: 'outdoor', ageRange: undefined, forecast: hour(), dark: true })).toEqual({ score: 0, reason: 'After dark' });
    expect(suitability({ kind: 'outdoor', ageRange: undefined, forecast: null, dark: true })).toEqual({ score: 0, reason: 'After dark' });
    expect(suitability({ kind: 'mixed', ageRange: undefined, forecast: hour(), dark: true })).toEqual({ score: 0.5, reason: 'After dark' });
    expect(suitability({ kind: 'indoor', ageRange: undefined, forecast: hour(), dark: true })).toEqual({
      score: 1,
      reason: 'Indoors: fine whatever the weather',
    });
  });

  it('given a child outside the age range, then it is a poor choice, and the reason says why', () => {
    expect(suitability({ kind: 'indoor', ageRange: { min: 5, max: 12 }, forecast: hour(), childAge: 3 })).toEqual({
      score: 0.3,
      reason: 'Best for ages 5–12',
    });
  });

  it('sorts best first, unknown scores after every known one, keeping the order of equals', () => {
    const list: (Suitability & { name: string })[] = [
      { name: 'unknown', score: null, reason: '' },
      { name: 'closed', score: 0, reason: '' },
      { name: 'good', score: 0.9, reason: '' },
      { name: 'unknown too', score: null, reason: '' },
      { name: 'also good', score: 0.9, reason: '' },
    ];
    expect(list.sort(bySuitability).map(({ name }) => name)).toEqual(['good', 'also good', 'closed', 'unknown', 'unknown too']);
  });
});
