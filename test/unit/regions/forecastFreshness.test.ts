import { InMemoryViewStore } from '../../../shared/platform/views/adapters/inMemoryViewStore';
import { forecastFreshness, forecastFreshnessSchema } from '../../../shared/regions/application/forecastFreshness';
import { emptyRegionForecastView } from '../../../shared/regions/projection/regionForecastView';

const now = new Date('2026-11-27T12:00:00.000Z');
const minutesAgo = (minutes: number) => new Date(now.getTime() - minutes * 60_000).toISOString();

async function views(ages: Record<string, number | null>, searched: readonly string[]) {
  const store = new InMemoryViewStore();
  for (const [region, age] of Object.entries(ages))
    await store.write(
      { ...emptyRegionForecastView(region), centre: { latitude: 53.4, longitude: -2.2 }, updatedAt: age === null ? null : minutesAgo(age) },
      'any',
    );
  await store.addSearches(
    searched.map((region) => ({ region, hours: { '2026-11-27T11': 1 }, lastSearchedAt: minutesAgo(30) })),
    now,
  );
  return store;
}

describe('forecast freshness by demand (GET /api/ops/forecast-refresh)', () => {
  it('reports the ages of searched regions against the hour and of the rest against the cap, and the day’s calls', async () => {
    const store = await views({ hot1: 10, hot2: 61, hot3: 30, cold1: 100, cold2: 370, cold3: null, idle: 5 }, [
      'hot1',
      'hot2',
      'hot3',
      'unknown',
    ]);
    await store.reserveCalls('2026-11-27', 4200, 10_000);
    const answer = await forecastFreshness({
      views: store,
      clock: () => now,
      forecast: { refreshMinutes: 360, cycleMinutes: 2, searchedMaxAgeMinutes: 60, dailyCallBudget: 10_000, parallelism: 4 },
    });
    expect(forecastFreshnessSchema.parse(answer)).toEqual(answer);
    expect(answer).toEqual({
      at: now.toISOString(),
      staleness: {
        searchedLast6h: { regions: 3, withoutForecast: 0, targetMinutes: 60, overTarget: 1, maxMinutes: 61, p95Minutes: 61 },
        others: { regions: 4, withoutForecast: 1, targetMinutes: 360, overTarget: 1, maxMinutes: 370, p95Minutes: 370 },
      },
      calls: { day: '2026-11-27', counted: 4200, allowedByNow: 7500, dailyBudget: 10_000 },
    });
  });

  it('says so when there is nothing to measure', async () => {
    const answer = await forecastFreshness({
      views: new InMemoryViewStore(),
      clock: () => now,
      forecast: { refreshMinutes: 60, dailyCallBudget: 5000, parallelism: 4 },
    });
    expect(answer.staleness.searchedLast6h).toEqual({
      regions: 0,
      withoutForecast: 0,
      targetMinutes: 60,
      overTarget: 0,
      maxMinutes: null,
      p95Minutes: null,
    });
  });
});
