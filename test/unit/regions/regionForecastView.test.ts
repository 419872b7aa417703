import type { RecordedEvent } from '../../../shared/kernel/event';
import { evolveRegionForecastView } from '../../../shared/regions/projection/regionForecastView';
import { type HourlyForecast } from '../../../shared/kernel/forecast';
import { PoisonEventError } from '../../../shared/kernel/errors';
import { hourlyOf, type RegionForecastView } from '../../../shared/regions/projection/regionForecastDocument';

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
    const view = fold([activated, forecast(2, '2026-11-27T09:00:00Z', 7, '2026-11-27T09:00:05Z')]);
    expect(view).toMatchObject({
      region,
      centre: { latitude: 53.48, longitude: -2.24 },
      version: 2,
      issuedAt: '2026-11-27T09:00:00Z',
      updatedAt: '2026-11-27T09:00:05Z',
    });
    expect(hourlyOf(view!)).toEqual([hour('2026-11-27T12:00:00.000Z', 7)]);
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
    expect(after).toMatchObject({ version: 40, issuedAt: '2026-11-27T09:00:00Z' });
    expect(hourlyOf(after!)).toMatchObject([{ temperatureC: 8 }]);
    // The stream's newest event is version 2 now, whatever the highest version ever seen.
    expect(after!.latestEvent).toEqual({ version: 2, at: '2026-11-27T09:00:00Z' });
  });

  it("given events in any order, redelivered or late, then latestEvent is the stream's newest by when it occurred", () => {
    const newest = failure(4, '2026-11-27T11:00:00Z', 'HTTP 503');
    const events = [activated, forecast(2, '2026-11-27T09:00:00Z', 7), forecast(3, '2026-11-27T10:00:00Z', 9), newest];
    expect(fold(events)!.latestEvent).toEqual({ version: 4, at: '2026-11-27T11:00:00Z' });
    expect(fold([newest, ...events.slice(0, 3), newest])!.latestEvent).toEqual({ version: 4, at: '2026-11-27T11:00:00Z' });
    // A forecast that changes nothing (issued before the one shown) still moves the stream on.
    const late = forecast(5, '2026-11-27T08:00:00Z', 1, '2026-11-27T12:00:00Z');
    const view = fold(events);
    const after = evolveRegionForecastView(view, late, region);
    expect(after).toMatchObject({ issuedAt: '2026-11-27T10:00:00Z', latestEvent: { version: 5, at: '2026-11-27T12:00:00Z' } });
    expect(evolveRegionForecastView(after, late, region)).toBe(after);
    // Only the activation so far: its version and time.
    expect(fold([activated])!.latestEvent).toEqual({ version: 1, at: '2026-11-27T08:00:00Z' });
  });

  it('given a failure, then the last forecast is kept and the failure shown; an older failure does not replace a newer one', () => {
    const view = fold([
      activated,
      forecast(2, '2026-11-27T09:00:00Z', 7),
      failure(4, '2026-11-27T11:00:00Z', 'newer'),
      failure(3, '2026-11-27T10:00:00Z', 'older'),
    ]);
    expect(view).toMatchObject({ lastFailure: { reason: 'newer', cycleId: 'cycle-4', at: '2026-11-27T11:00:00Z' } });
    expect(hourlyOf(view!)).toMatchObject([{ temperatureC: 7 }]);
  });

  it('given nothing, when a forecast comes before the activation, then the view has it and the centre follows', () => {
    const early = fold([forecast(2, '2026-11-27T09:00:00Z', 7)]);
    expect(early).toMatchObject({ centre: null });
    expect(hourlyOf(early!)).toMatchObject([{ temperatureC: 7 }]);
    const activatedLater = fold([activated], early);
    expect(activatedLater).toMatchObject({ centre: { latitude: 53.48 } });
    expect(hourlyOf(activatedLater!)).toMatchObject([{ temperatureC: 7 }]);
  });

  it('ignores events it does not know, and refuses malformed forecast events as poison', () => {
    expect(fold([event(5, 'RegionRenamed', {}, '2026-11-27T09:00:00Z')])).toBeNull();
    expect(() => fold([activated, event(2, 'ForecastUpdated', { region }, '2026-11-27T09:00:00Z')])).toThrow(PoisonEventError);
  });
});
