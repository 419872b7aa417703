import type { RecordedEvent } from '../../../shared/kernel/event';
import { evolveRegionForecastView } from '../../../shared/regions/projection/regionForecastView';
import { type HourlyForecast } from '../../../shared/kernel/forecast';
import { PoisonEventError } from '../../../shared/kernel/errors';
import { type RegionForecastView } from '../../../shared/regions/projection/regionForecastDocument';

const region = 'gcw2h';
const hour = (time: string, temperatureC: number): HourlyForecast => ({
  time,
  temperatureC,
  precipitationProbability: 10,
  precipitationMm: 0,
  weather: 'clear',
  windKph: 5,
  gustKph: 9,
  uvIndex: 0,
});

function event(version: number, type: string, data: unknown, occurredAt: string): RecordedEvent {
  return {
    streamId: `region-${region}`,
    version,
    type,
    data,
    metadata: { eventId: `e${version}-${occurredAt}`, correlationId: 'c', causationId: 'c', occurredAt },
  };
}
const activated = event(1, 'RegionActivated', { region, centre: { latitude: 53.48, longitude: -2.24 } }, '2026-11-27T08:00:00Z');
const forecast = (version: number, issuedAt: string, temperatureC: number, occurredAt = issuedAt) =>
  event(
    version,
    'ForecastUpdated',
    { region, source: 'open-meteo', issuedAt, cycleId: `cycle-${version}`, hourly: [hour('2026-11-27T12:00:00.000Z', temperatureC)] },
    occurredAt,
  );
const failure = (version: number, at: string, reason: string) =>
  event(version, 'ForecastFetchFailed', { region, cycleId: `cycle-${version}`, reason }, at);

const fold = (events: readonly RecordedEvent[], from: RegionForecastView | null = null) =>
  events.reduce<RegionForecastView | null>((view, next) => evolveRegionForecastView(view, next, region), from);

describe('region forecast view: given/when/then', () => {
  it('given an active region, when a forecast arrives, then the view shows it with when it was recorded', () => {
    expect(fold([activated, forecast(2, '2026-11-27T09:00:00Z', 7, '2026-11-27T09:00:05Z')])).toMatchObject({
      region,
      centre: { latitude: 53.48, longitude: -2.24 },
      version: 2,
      issuedAt: '2026-11-27T09:00:00Z',
      updatedAt: '2026-11-27T09:00:05Z',
      hourly: [{ temperatureC: 7 }],
    });
  });

  it('given a newer forecast, when an older one comes late or again, then nothing changes (the same object)', () => {
    const view = fold([activated, forecast(2, '2026-11-27T09:00:00Z', 7), forecast(3, '2026-11-27T10:00:00Z', 9)]);
    expect(evolveRegionForecastView(view, forecast(2, '2026-11-27T09:00:00Z', 7), region)).toBe(view);
    expect(evolveRegionForecastView(view, forecast(3, '2026-11-27T10:00:00Z', 9), region)).toBe(view);
  });

  it('given any order of delivery with duplicates, then the same view as in order', () => {
    const events = [
      activated,
      forecast(2, '2026-11-27T09:00:00Z', 7),
      failure(3, '2026-11-27T10:00:00Z', 'HTTP 503'),
      forecast(4, '2026-11-27T11:00:00Z', 10),
    ];
    const inOrder = fold(events);
    for (const order of [
      [3, 2, 1, 0],
      [1, 3, 0, 2, 2, 3],
      [2, 0, 3, 1, 0],
    ])
      expect(fold(order.map((i) => events[i]!))).toEqual(inOrder);
  });

  it('given a view at version 40, when forecast versions restart after every forecast event expired (TTL), then the newer forecast still applies', () => {
    const view = fold([activated, forecast(40, '2026-11-20T09:00:00Z', 3)]);
    const after = evolveRegionForecastView(view, forecast(2, '2026-11-27T09:00:00Z', 8), region);
    expect(after).toMatchObject({ version: 40, issuedAt: '2026-11-27T09:00:00Z', hourly: [{ temperatureC: 8 }] });
  });

  it('given a failure, then the last forecast is kept and the failure shown; an older failure does not replace a newer one', () => {
    const view = fold([
      activated,
      forecast(2, '2026-11-27T09:00:00Z', 7),
      failure(4, '2026-11-27T11:00:00Z', 'newer'),
      failure(3, '2026-11-27T10:00:00Z', 'older'),
    ]);
    expect(view).toMatchObject({
      hourly: [{ temperatureC: 7 }],
      lastFailure: { reason: 'newer', cycleId: 'cycle-4', at: '2026-11-27T11:00:00Z' },
    });
  });

  it('given nothing, when a forecast comes before the activation, then the view has it and the centre follows', () => {
    const early = fold([forecast(2, '2026-11-27T09:00:00Z', 7)]);
    expect(early).toMatchObject({ centre: null, hourly: [{ temperatureC: 7 }] });
    expect(fold([activated], early)).toMatchObject({ centre: { latitude: 53.48 }, hourly: [{ temperatureC: 7 }] });
  });

  it('ignores events it does not know, and refuses malformed forecast events as poison', () => {
    expect(fold([event(5, 'RegionRenamed', {}, '2026-11-27T09:00:00Z')])).toBeNull();
    expect(() => fold([activated, event(2, 'ForecastUpdated', { region }, '2026-11-27T09:00:00Z')])).toThrow(PoisonEventError);
  });
});
