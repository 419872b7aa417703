import { findNearby } from '../../../shared/places/application/placeQueries';
import { parseNearbyQuery } from '../../../shared/places/http/placeRequests';
import { InMemoryViewStore } from '../../../shared/platform/views/adapters/inMemoryViewStore';
import { regionForecastKey, type RegionForecastView } from '../../../shared/regions/projection/regionForecastDocument';
import { nearbyEntry } from '../../support/nearbyEntries';
import { hourly } from '../../support/placeScenario';

/**
 * The search answers parents' questions: is it open when we arrive (and if not, when), only the open
 * ones, best suited first, and how much a score can be trusted. Manchester, Saturday 12 December 2026.
 */
const now = new Date('2026-12-12T09:00:00Z');
const saturdayNoon = '2026-12-12T12:00:00Z';
const saturdayEvening = '2026-12-12T18:30:00Z';

async function manchester(options: { forecastFor?: 'all' | 'none' } = {}): Promise<InMemoryViewStore> {
  const views = new InMemoryViewStore();
  const places = [
    nearbyEntry(53.4771, -2.2547, { placeId: 'farm', name: 'Weekday Farm', kind: 'outdoor', openingHours: 'Mo-Fr 10:00-17:00' }),
    nearbyEntry(53.478, -2.255, { placeId: 'museum', name: 'Every Day Museum', kind: 'indoor', openingHours: 'Mo-Su 10:00-17:00' }),
    nearbyEntry(53.479, -2.256, { placeId: 'park', name: 'Unknown Hours Park', kind: 'outdoor' }),
    nearbyEntry(53.49, -2.26, { placeId: 'garden', name: 'Far Garden', kind: 'outdoor', openingHours: 'Mo-Su 08:00-20:00' }),
  ];
  for (const place of places) await views.write(place, 'any');
  if (options.forecastFor !== 'none') {
    for (const region of new Set(places.map((place) => place.region))) {
      const view: RegionForecastView = {
        ...regionForecastKey(region),
        type: 'regionForecast',
        region,
        centre: null,
        version: 2,
        source: 'open-meteo',
        issuedAt: now.toISOString(),
        updatedAt: now.toISOString(),
        cycleId: 'cycle-1',
        hourly: hourly('2026-12-12T00:00:00Z', 72, 10),
        lastFailure: null,
      };
      await views.write(view, 'any');
    }
  }
  return views;
}

const search = async (views: InMemoryViewStore, query: Record<string, string>) =>
  (
    await findNearby(
      { views, clock: () => now },
      parseNearbyQuery(new URLSearchParams({ lat: '53.4771', lon: '-2.2547', radiusKm: '5', ...query }), now),
    )
  ).results;

describe('nearby: open at arrival, best suited first', () => {
  it('given a weekday-only place searched for Saturday noon, then it is closed with its next opening on Monday at 10:00', async () => {
    const results = await search(await manchester(), { at: saturdayNoon });
    expect(results.find((r) => r.placeId === 'farm')).toMatchObject({
      openingHours: 'Mo-Fr 10:00-17:00',
      openAt: false,
      opensAt: '2026-12-14T10:00:00+00:00',
      suitability: { score: 0, reason: 'Closed at that time' },
    });
    expect(results.find((r) => r.placeId === 'museum')).toMatchObject({ openAt: true, suitability: { score: 1 } });
    expect(results.find((r) => r.placeId === 'park')).toMatchObject({ openingHours: null, openAt: null });
    expect(results.find((r) => r.placeId === 'park')).not.toHaveProperty('opensAt');
  });

  it('given open=true, then places closed at arrival and places whose hours are unknown are left out', async () => {
    const results = await search(await manchester(), { at: saturdayNoon, open: 'true' });
    expect(results.map((r) => r.placeId)).toEqual(['museum', 'garden']);
  });

  it('given open=true and a limit, then it still finds the open places beyond the nearest closed ones', async () => {
    const results = await search(await manchester(), { at: saturdayNoon, open: 'true', limit: '1' });
    expect(results.map((r) => r.placeId)).toEqual(['museum']);
  });

  it('given sort=suitability, then the best suited come first, nearest first among equals', async () => {
    const results = await search(await manchester(), { at: saturdayNoon, sort: 'suitability' });
    expect(results.map((r) => [r.placeId, r.suitability.score])).toEqual([
      ['museum', 1],
      ['park', 1],
      ['garden', 1],
      ['farm', 0],
    ]);
  });

  it('given a December evening after sunset, then outdoor places are unsuitable after dark whatever the weather', async () => {
    const results = await search(await manchester(), { at: saturdayEvening });
    expect(results.find((r) => r.placeId === 'garden')).toMatchObject({ openAt: true, suitability: { score: 0, reason: 'After dark' } });
    expect(results.find((r) => r.placeId === 'park')).toMatchObject({ suitability: { score: 0, reason: 'After dark' } });
  });

  it('given no forecast, then suitability is unknown (never a perfect score) and sorts after every known score', async () => {
    const results = await search(await manchester({ forecastFor: 'none' }), { at: saturdayNoon, sort: 'suitability' });
    expect(results.map((r) => [r.placeId, r.suitability])).toEqual([
      ['farm', { score: 0, reason: 'Closed at that time' }],
      ['museum', { score: null, reason: 'No forecast yet' }],
      ['park', { score: null, reason: 'No forecast yet' }],
      ['garden', { score: null, reason: 'No forecast yet' }],
    ]);
  });

  it('refuses open=false and an unknown sort, naming the parameter', () => {
    expect(() => parseNearbyQuery(new URLSearchParams({ lat: '53', lon: '-2', open: 'false' }), now)).toThrow('The search is not valid.');
    expect(() => parseNearbyQuery(new URLSearchParams({ lat: '53', lon: '-2', sort: 'price' }), now)).toThrow('The search is not valid.');
  });
});
