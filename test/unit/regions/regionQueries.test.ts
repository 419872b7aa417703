import { InMemoryViewStore } from '../../../shared/platform/views/adapters/inMemoryViewStore';
import { PUBLIC_FAILURE_REASON, regionForecast } from '../../../shared/regions/application/regionQueries';
import { regionForecastKey, type RegionForecastView } from '../../../shared/regions/projection/regionForecastDocument';

describe('the public region forecast', () => {
  it("tells of a failed refresh without the provider's own error text", async () => {
    const views = new InMemoryViewStore();
    const rawError = 'open-meteo unavailable: GET https://api.open-meteo.com/v1/forecast failed: ENOTFOUND (4 attempts in 20 s)';
    const view: RegionForecastView = {
      ...regionForecastKey('gcw2h'),
      type: 'regionForecast',
      region: 'gcw2h',
      centre: { latitude: 53.48, longitude: -2.24 },
      version: 2,
      source: null,
      issuedAt: null,
      updatedAt: null,
      cycleId: null,
      hourly: [],
      lastFailure: { cycleId: 'c1', reason: rawError, at: '2026-12-06T10:00:00.000Z' },
    };
    await views.write(view, 'ifAbsent');
    const answer = await regionForecast({ views, clock: () => new Date('2026-12-06T10:30:00.000Z') }, 'gcw2h');
    expect(answer.lastFailure).toEqual({ cycleId: 'c1', reason: PUBLIC_FAILURE_REASON, at: '2026-12-06T10:00:00.000Z' });
    expect(JSON.stringify(answer)).not.toContain('open-meteo.com');
  });
});
