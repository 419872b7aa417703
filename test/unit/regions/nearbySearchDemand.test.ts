import { nearbyPlacesHandler } from '../../../handlers/nearbyPlaces.http';
import type { HourlyForecast } from '../../../shared/kernel/forecast';
import { InMemoryViewStore } from '../../../shared/platform/views/adapters/inMemoryViewStore';
import { InMemoryForecastRefreshQueue } from '../../../shared/regions/application/forecastRefreshRequests';
import { demandFetchRuleOf } from '../../../shared/regions/application/forecastSettings';
import { SearchDemandRecorder } from '../../../shared/regions/application/searchDemandRecorder';
import { emptyRegionForecastView } from '../../../shared/regions/projection/regionForecastView';
import { call } from '../../support/http';
import { nearbyEntry } from '../../support/nearbyEntries';

const now = new Date('2026-11-27T10:00:00.000Z');
const minutesAgo = (minutes: number) => new Date(now.getTime() - minutes * 60_000).toISOString();
const hourly: HourlyForecast[] = Array.from({ length: 48 }, (_, i) => ({
  time: new Date(Date.parse('2026-11-27T09:00:00Z') + i * 3_600_000).toISOString(),
  temperatureC: 8,
  precipitationProbability: 20,
  precipitationMm: 0,
  weather: 'cloudy',
  windKph: 10,
  gustKph: 15,
  uvIndex: 1,
}));

/** Two approved places in two regions of Manchester: the nearer one's forecast 5 hours old, the other's fresh. */
async function manchester() {
  const views = new InMemoryViewStore();
  const stale = nearbyEntry(53.4601, -2.2601);
  const fresh = nearbyEntry(53.5201, -2.2601);
  expect(fresh.region).not.toBe(stale.region);
  for (const [entry, age] of [
    [fresh, 5],
    [stale, 300],
  ] as const) {
    await views.write(entry, 'any');
    await views.write(
      {
        ...emptyRegionForecastView(entry.region),
        centre: entry.geolocation,
        source: 'open-meteo',
        issuedAt: minutesAgo(age),
        updatedAt: minutesAgo(age),
        hourly,
      },
      'any',
    );
  }
  return { views, fresh, stale };
}

const search = (handler: ReturnType<typeof nearbyPlacesHandler>) =>
  call(handler, { path: '/api/places/nearby?lat=53.46&lon=-2.26&radiusKm=10', headers: { 'x-correlation-id': 'parent-search-1' } });

describe('GET /api/places/nearby notes the regions it answered with', () => {
  it("counts the first result's region, and asks for its stale forecast to be fetched now", async () => {
    const { views, fresh, stale } = await manchester();
    const queue = new InMemoryForecastRefreshQueue();
    const recorder = new SearchDemandRecorder({
      demand: views,
      forecastRefreshQueue: queue,
      clock: () => now,
      rule: demandFetchRuleOf({ refreshMinutes: 360, cycleMinutes: 2, searchedMaxAgeMinutes: 60, dailyCallBudget: 10_000, parallelism: 4 }),
      schedule: () => undefined,
    });
    const answer = await search(nearbyPlacesHandler({ views, clock: () => now }, recorder));
    expect(answer.status).toBe(200);
    expect((answer.body as { results: unknown[] }).results).toHaveLength(2);

    expect(queue.requests()).toEqual([
      expect.objectContaining({ region: stale.region, reason: 'searched', correlationId: 'parent-search-1' }),
    ]);
    await recorder.flush();
    const demand = new Map((await views.regionRefreshStates()).map((state) => [state.region, state.demand]));
    expect(demand.get(stale.region)).toEqual({ lastSearchedAt: now.toISOString(), hours: { '2026-11-27T10': 1 } });
    expect(demand.get(fresh.region)).toBeUndefined();
  });

  it('answers the search even when noting it fails', async () => {
    const { views } = await manchester();
    const broken = {
      searched: () => {
        throw new Error('recorder broke');
      },
    };
    const answer = await search(nearbyPlacesHandler({ views, clock: () => now }, broken));
    expect(answer.status).toBe(200);
    expect((answer.body as { results: unknown[] }).results).toHaveLength(2);
  });

  it('notes the region of the first result only', async () => {
    const views = new InMemoryViewStore();
    // Five places in four regions, nearest first: a, b (same region as a), c, d, e.
    const a = nearbyEntry(53.4601, -2.2601, { name: 'A' });
    const b = nearbyEntry(53.4602, -2.2602, { name: 'B', region: a.region });
    const c = nearbyEntry(53.53, -2.2601, { name: 'C' });
    const d = nearbyEntry(53.6, -2.2601, { name: 'D' });
    const e = nearbyEntry(53.67, -2.2601, { name: 'E' });
    expect(new Set([a, c, d, e].map((entry) => entry.region)).size).toBe(4);
    for (const entry of [a, b, c, d, e]) await views.write(entry, 'any');
    const searched: string[][] = [];
    const recorder = { searched: (regions: readonly { region: string }[]) => void searched.push(regions.map(({ region }) => region)) };
    const answer = await call(nearbyPlacesHandler({ views, clock: () => now }, recorder), {
      path: '/api/places/nearby?lat=53.46&lon=-2.26&radiusKm=30',
    });
    expect((answer.body as { results: { name: string }[] }).results.map((result) => result.name)).toEqual(['A', 'B', 'C', 'D', 'E']);
    expect(searched).toEqual([[a.region]]);
  });
});
