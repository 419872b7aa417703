import { readOpenMeteoBody } from '../../../../shared/regions/adapters/weather/openMeteoProvider';

/** One location's answer as Open-Meteo gives it with timezone=UTC. */
function location(overrides: Record<string, (number | null)[]> = {}, time = ['2025-11-17T00:00', '2025-11-17T01:00', '2025-11-17T02:00']) {
  return {
    latitude: 53.48,
    longitude: -2.24,
    generationtime_ms: 0.1,
    utc_offset_seconds: 0,
    timezone: 'GMT',
    timezone_abbreviation: 'GMT',
    elevation: 40,
    hourly_units: { time: 'iso8601', temperature_2m: '°C' },
    hourly: {
      time,
      temperature_2m: [7.2, 6.9, 6.5],
      precipitation_probability: [10, null, 80],
      precipitation: [0, 0.1, 1.4],
      weather_code: [0, 3, 63],
      wind_speed_10m: [12.4, 10.1, 0],
      wind_gusts_10m: [25.2, null, 14],
      uv_index: [0, 0, null],
      ...overrides,
    },
  };
}

describe('reading an Open-Meteo forecast body', () => {
  it('reads one location from a single object, with times as UTC ISO instants and nulls kept', () => {
    expect(readOpenMeteoBody(location(), 1)).toEqual({
      ok: true,
      hourly: [
        [
          {
            time: '2025-11-17T00:00:00.000Z',
            temperatureC: 7.2,
            precipitationProbability: 10,
            precipitationMm: 0,
            weather: 'clear',
            windKph: 12.4,
            gustKph: 25.2,
            uvIndex: 0,
          },
          {
            time: '2025-11-17T01:00:00.000Z',
            temperatureC: 6.9,
            precipitationProbability: null,
            precipitationMm: 0.1,
            weather: 'cloudy',
            windKph: 10.1,
            gustKph: null,
            uvIndex: 0,
          },
          {
            time: '2025-11-17T02:00:00.000Z',
            temperatureC: 6.5,
            precipitationProbability: 80,
            precipitationMm: 1.4,
            weather: 'rain',
            windKph: 0,
            gustKph: 14,
            uvIndex: null,
          },
        ],
      ],
    });
  });

  it('reads several locations from an array, in order', () => {
    const read = readOpenMeteoBody([location(), location({ temperature_2m: [1, 2, 3] })], 2);
    expect(read.ok && read.hourly.map((hours) => hours.map((hour) => hour.temperatureC))).toEqual([
      [7.2, 6.9, 6.5],
      [1, 2, 3],
    ]);
    expect(readOpenMeteoBody([location()], 1).ok).toBe(true);
  });

  it('fails when the number of locations differs from the number asked for', () => {
    expect(readOpenMeteoBody(location(), 2)).toEqual({ ok: false, reason: 'open-meteo answered for 1 location(s) when asked for 2' });
    expect(readOpenMeteoBody([location(), location()], 3)).toMatchObject({ ok: false });
  });

  it('skips hours without a temperature, a wind speed or a known weather code', () => {
    const read = readOpenMeteoBody(
      location({ temperature_2m: [null, 6.9, 6.5], weather_code: [0, null, 63], wind_speed_10m: [1, 2, null] }),
      1,
    );
    expect(read).toEqual({ ok: true, hourly: [[]] });
    const unknown = readOpenMeteoBody(location({ weather_code: [0, 42, 63] }), 1);
    expect(unknown.ok && unknown.hourly[0]?.map((hour) => hour.time)).toEqual(['2025-11-17T00:00:00.000Z', '2025-11-17T02:00:00.000Z']);
  });

  it.each([
    ['series of the wrong length', location({ uv_index: [0, 0] }), /hourly\.uv_index: has 2 values for 3 times/],
    ['a time with an offset', location({}, ['2025-11-17T00:00+01:00', '2025-11-17T01:00', '2025-11-17T02:00']), /hourly\.time\.0/],
    ['a time off the hour', location({}, ['2025-11-17T00:30', '2025-11-17T01:00', '2025-11-17T02:00']), /hourly\.time\.0/],
    ['times out of order', location({}, ['2025-11-17T01:00', '2025-11-17T00:00', '2025-11-17T02:00']), /times must ascend/],
    ['a probability above 100', location({ precipitation_probability: [101, 0, 0] }), /precipitation_probability/],
    ['a negative wind speed', location({ wind_speed_10m: [-1, 0, 0] }), /wind_speed_10m/],
    ['a local-time answer', { ...location(), utc_offset_seconds: 3600 }, /utc_offset_seconds/],
    ['no hourly block', { latitude: 1, longitude: 2 }, /hourly/],
    ['an error object', { error: true, reason: 'Bad' }, /unexpected body/],
    ['text', 'Service unavailable', /unexpected body/],
  ])('fails with a readable reason on %s', (_label, body, reason) => {
    const read = readOpenMeteoBody(body, 1);
    expect(read.ok).toBe(false);
    expect(!read.ok && read.reason).toMatch(reason);
  });
});
