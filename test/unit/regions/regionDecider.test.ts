import { IllegalStateError } from '../../../shared/kernel/errors';
import { regionDecider, type RegionEvent } from '../../../shared/regions/domain/region';
import { DeciderSpecification } from '../../support/deciderSpecification';
import { type HourlyForecast } from '../../../shared/kernel/forecast';
import { toStoredHourly } from '../../../shared/regions/domain/forecastColumns';

const spec = DeciderSpecification.for(regionDecider);
const hourly: HourlyForecast[] = [
  {
    time: '2026-11-27T10:00:00.000Z',
    temperatureC: 7,
    precipitationProbability: 20,
    precipitationMm: 0,
    weather: 'cloudy',
    windKph: 12,
    gustKph: 20,
    uvIndex: 1,
  },
];
const activated: RegionEvent = { type: 'RegionActivated', data: { region: 'gcw2h', centre: { latitude: 53.48, longitude: -2.24 } } };
const updated = (cycleId: string): RegionEvent => ({
  type: 'ForecastUpdated',
  // The event holds the forecast as columns (forecastColumns.test.ts reads them back).
  data: { region: 'gcw2h', source: 'open-meteo', issuedAt: '2026-11-27T09:00:00.000Z', cycleId, hourly: toStoredHourly(hourly) },
});
const failed = (cycleId: string): RegionEvent => ({
  type: 'ForecastFetchFailed',
  data: { region: 'gcw2h', cycleId, reason: 'HTTP 503 (4 attempts)' },
});
const record = (cycleId: string) => ({
  type: 'RecordForecast' as const,
  data: { region: 'gcw2h', cycleId, source: 'open-meteo', issuedAt: '2026-11-27T09:00:00.000Z', hourly },
});
const recordFailure = (cycleId: string) => ({
  type: 'RecordForecastFailure' as const,
  data: { region: 'gcw2h', cycleId, reason: 'HTTP 503 (4 attempts)' },
});

describe('activating a region: given/when/then', () => {
  const activate = { type: 'ActivateRegion' as const, data: { region: 'gcw2h', centre: { latitude: 53.48, longitude: -2.24 } } };

  it('given nothing, when the first validated place activates it, then RegionActivated', () => {
    spec.given([]).when(activate).then([activated]);
  });

  it('given an active region (with forecasts since), when another place activates it, then nothing happens', () => {
    spec
      .given([activated, updated('c1')])
      .when(activate)
      .thenNothingHappens();
  });
});

describe('recording forecasts: given/when/then', () => {
  it('given an active region, when a cycle records a forecast, then ForecastUpdated', () => {
    spec
      .given([activated])
      .when(record('c1'))
      .then([updated('c1')]);
  });

  it('given an active region, when a cycle records a failure, then ForecastFetchFailed', () => {
    spec
      .given([activated])
      .when(recordFailure('c1'))
      .then([failed('c1')]);
  });

  it('given the cycle already recorded a forecast, when it records again (a replayed activity), then nothing happens', () => {
    spec
      .given([activated, updated('c1')])
      .when(record('c1'))
      .thenNothingHappens();
    spec
      .given([activated, updated('c1')])
      .when(recordFailure('c1'))
      .thenNothingHappens();
  });

  it('given the cycle recorded a failure, when a retry of that cycle succeeds, then the first outcome stands (one per cycle)', () => {
    spec
      .given([activated, failed('c1')])
      .when(record('c1'))
      .thenNothingHappens();
  });

  it('given an earlier cycle, when the next cycle records, then it is recorded', () => {
    spec
      .given([activated, failed('c1'), updated('c2')])
      .when(record('c3'))
      .then([updated('c3')]);
  });

  it('given no activation, when a forecast is recorded, then it is refused', () => {
    spec
      .given([])
      .when(record('c1'))
      .thenThrows(IllegalStateError, /not active/);
  });
});
