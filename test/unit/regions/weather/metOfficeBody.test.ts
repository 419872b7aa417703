import { metresPerSecondToKph, readMetOfficeBody } from '../../../../shared/regions/adapters/weather/metOfficeProvider';

function body(timeSeries: Record<string, unknown>[], modelRunDate: string | null = '2025-11-17T09:00Z') {
  return {
    type: 'FeatureCollection',
    features: [
      {
        type: 'Feature',
        geometry: { type: 'Point', coordinates: [-2.2426, 53.4808, 40] },
        properties: { requestPointDistance: 312.5, ...(modelRunDate !== null && { modelRunDate }), timeSeries },
      },
    ],
    parameters: [],
  };
}

const step = (time: string, overrides: Record<string, unknown> = {}) => ({
  time,
  screenTemperature: 8.4,
  windSpeed10m: 5,
  windGustSpeed10m: 10.25,
  significantWeatherCode: 7,
  totalPrecipAmount: 0.2,
  probOfPrecipitation: 35,
  uvIndex: 1,
  ...overrides,
});

describe('Met Office units', () => {
  it.each([
    [0, 0],
    [1, 3.6],
    [5, 18],
    [10.25, 36.9],
    [4.63, 16.7],
  ])('%f m/s is %f km/h', (metresPerSecond, kph) => {
    expect(metresPerSecondToKph(metresPerSecond)).toBe(kph);
  });
});

describe('reading a Met Office point/hourly body', () => {
  it('normalises times, wind and codes, takes the model run date, and keeps missing values null', () => {
    const read = readMetOfficeBody(
      body([
        step('2025-11-17T09:00Z', {
          totalPrecipAmount: undefined,
          probOfPrecipitation: undefined,
          windGustSpeed10m: undefined,
          uvIndex: undefined,
        }),
        step('2025-11-17T10:00Z', { significantWeatherCode: 28 }),
      ]),
    );
    expect(read).toEqual({
      ok: true,
      modelRunDate: '2025-11-17T09:00:00.000Z',
      hourly: [
        {
          time: '2025-11-17T09:00:00.000Z',
          temperatureC: 8.4,
          precipitationProbability: null,
          precipitationMm: null,
          weather: 'cloudy',
          windKph: 18,
          gustKph: null,
          uvIndex: null,
        },
        {
          time: '2025-11-17T10:00:00.000Z',
          temperatureC: 8.4,
          precipitationProbability: 35,
          precipitationMm: 0.2,
          weather: 'thunder',
          windKph: 18,
          gustKph: 36.9,
          uvIndex: 1,
        },
      ],
    });
  });

  it('has no model run date when the answer has none', () => {
    const read = readMetOfficeBody(body([step('2025-11-17T10:00Z')], null));
    expect(read.ok && 'modelRunDate' in read).toBe(false);
  });

  it('skips steps without a temperature, a wind speed or a known code, or off the hour, and sorts the rest', () => {
    const read = readMetOfficeBody(
      body([
        step('2025-11-17T12:00Z'),
        step('2025-11-17T10:00Z'),
        step('2025-11-17T11:00Z', { screenTemperature: null }),
        step('2025-11-17T13:00Z', { windSpeed10m: undefined }),
        step('2025-11-17T14:00Z', { significantWeatherCode: 4 }),
        step('2025-11-17T15:30Z'),
      ]),
    );
    expect(read.ok && read.hourly.map((hour) => hour.time)).toEqual(['2025-11-17T10:00:00.000Z', '2025-11-17T12:00:00.000Z']);
  });

  it.each([
    ['no features', { type: 'FeatureCollection', features: [] }, /features/],
    ['a different GeoJSON type', { ...body([]), type: 'Feature' }, /type/],
    ['a time without a zone', body([step('2025-11-17T10:00')]), /timeSeries\.0\.time/],
    ['a negative wind speed', body([step('2025-11-17T10:00Z', { windSpeed10m: -3 })]), /windSpeed10m/],
    ['a probability above 100', body([step('2025-11-17T10:00Z', { probOfPrecipitation: 120 })]), /probOfPrecipitation/],
    ['a gateway error', { httpCode: '401', httpMessage: 'Unauthorized' }, /unexpected body/],
  ])('fails with a readable reason on %s', (_label, answer, reason) => {
    const read = readMetOfficeBody(answer);
    expect(read.ok).toBe(false);
    expect(!read.ok && read.reason).toMatch(reason);
  });
});
