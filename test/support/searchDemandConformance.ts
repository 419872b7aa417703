import { randomUUID } from 'node:crypto';
import type { ViewStore } from '../../shared/platform/views/viewStore';
import type { ForecastCallLedger } from '../../shared/regions/application/forecastCallLedger';
import type { RegionViews } from '../../shared/regions/application/regionViews';
import type { SearchDemandStore } from '../../shared/regions/application/searchDemand';
import type { RegionForecastView } from '../../shared/regions/projection/regionForecastDocument';

/** An adapter of the views container also keeps the regions' search demand and call ledger beside the views. */
type RegionState = ViewStore & RegionViews & SearchDemandStore & ForecastCallLedger;

/**
 * The contract of every adapter of the regions' search demand (SearchDemandStore, read through
 * RegionViews.regionRefreshStates) and call ledger (ForecastCallLedger): counts add up however many
 * instances flush at once, old hours are pruned, a reservation is atomic, and a rebuild's clear()
 * keeps them. Region names are unique per test, so suites can share a container.
 */
export function describeSearchDemandConformance(adapterName: string, storeFor: () => RegionState): void {
  describe(`search demand and call ledger conformance: ${adapterName}`, () => {
    let store: RegionState;
    beforeEach(() => {
      store = storeFor();
    });
    const now = new Date('2026-11-27T12:30:00.000Z');
    const unique = () => `t${randomUUID().replace(/-/g, '').slice(0, 10)}`;
    const forecastView = (region: string, lastFailure: RegionForecastView['lastFailure'] = null): RegionForecastView => ({
      id: `region-${region}`,
      partitionKey: 'regionForecasts',
      type: 'regionForecast',
      region,
      centre: { latitude: 53.4, longitude: -2.2 },
      version: 2,
      source: 'open-meteo',
      issuedAt: '2026-11-27T09:00:00.000Z',
      updatedAt: '2026-11-27T09:00:05.000Z',
      cycleId: 'c1',
      hourly: [],
      lastFailure,
    });
    const stateOf = async (region: string) => (await store.regionRefreshStates()).find((state) => state.region === region);

    it('adds up the counts of every flush, concurrent ones included, per region and hour, and reads them with the refresh states', async () => {
      const region = unique();
      await store.write(forecastView(region), 'any');
      await store.addSearches([{ region, hours: { '2026-11-27T11': 3 }, lastSearchedAt: '2026-11-27T11:40:00.000Z' }], now);
      await Promise.all(
        [1, 2, 3].map((searches) =>
          store.addSearches([{ region, hours: { '2026-11-27T12': searches }, lastSearchedAt: '2026-11-27T12:20:00.000Z' }], now),
        ),
      );
      expect(await stateOf(region)).toEqual({
        region,
        centre: { latitude: 53.4, longitude: -2.2 },
        updatedAt: '2026-11-27T09:00:05.000Z',
        demand: { lastSearchedAt: '2026-11-27T12:20:00.000Z', hours: { '2026-11-27T11': 3, '2026-11-27T12': 6 } },
      });
    });

    it('writes many regions in one flush, and lists only active regions (demand for a region without a view is not listed)', async () => {
      const [first, second, inactive] = [unique(), unique(), unique()];
      await store.write(forecastView(first), 'any');
      await store.write(forecastView(second, { cycleId: 'c2', reason: 'HTTP 503', at: '2026-11-27T10:00:00.000Z' }), 'any');
      await store.addSearches(
        [first, second, inactive].map((region) => ({ region, hours: { '2026-11-27T12': 1 }, lastSearchedAt: '2026-11-27T12:01:00.000Z' })),
        now,
      );
      const states = (await store.regionRefreshStates()).filter((state) => [first, second, inactive].includes(state.region));
      expect(states.map((state) => state.region).sort()).toEqual([first, second].sort());
      expect(states.find((state) => state.region === second)).toMatchObject({
        lastFailedAt: '2026-11-27T10:00:00.000Z',
        demand: { hours: { '2026-11-27T12': 1 } },
      });
    });

    it('prunes hour counts older than a day when it adds', async () => {
      const region = unique();
      await store.write(forecastView(region), 'any');
      await store.addSearches(
        [{ region, hours: { '2026-11-26T10': 2 }, lastSearchedAt: '2026-11-26T10:10:00.000Z' }],
        new Date('2026-11-26T10:30:00Z'),
      );
      await store.addSearches([{ region, hours: { '2026-11-27T12': 1 }, lastSearchedAt: '2026-11-27T12:10:00.000Z' }], now);
      expect((await stateOf(region))?.demand?.hours).toEqual({ '2026-11-27T12': 1 });
    });

    it("counts a day's calls, reserving only within the limit, atomically", async () => {
      const day = `2099-${String(Math.floor(Math.random() * 12) + 1).padStart(2, '0')}-${unique().slice(1, 3)}`;
      expect(await store.callsOn(day)).toBe(0);
      expect(await store.reserveCalls(day, 4, 10)).toBe(true);
      expect(await store.reserveCalls(day, 7, 10)).toBe(false);
      expect(await store.callsOn(day)).toBe(4);
      const outcomes = await Promise.all(Array.from({ length: 10 }, () => store.reserveCalls(day, 1, 10)));
      expect(outcomes.filter(Boolean)).toHaveLength(6);
      expect(await store.callsOn(day)).toBe(10);
      await store.releaseCalls(day, 3);
      expect(await store.callsOn(day)).toBe(7);
      // Never below zero, and giving back on a day never counted changes nothing.
      await store.releaseCalls(day, 8);
      expect(await store.callsOn(day)).toBe(7);
      await store.releaseCalls(`${day}x`, 1);
      expect(await store.callsOn(`${day}x`)).toBe(0);
      expect(await store.reserveCalls(`${day}y`, 11, 10)).toBe(false);
    });

    it('the first reservations of a day, made at once, still count exactly', async () => {
      const day = `2098-01-${unique().slice(1, 3)}`;
      const outcomes = await Promise.all(Array.from({ length: 8 }, () => store.reserveCalls(day, 2, 10)));
      expect(outcomes.filter(Boolean)).toHaveLength(5);
      expect(await store.callsOn(day)).toBe(10);
    });

    it('as many reservations at once as a burst of new regions sends (32 fetch-nows), all within the limit: every one is counted', async () => {
      const day = `2096-03-${unique()}`;
      const outcomes = await Promise.all(Array.from({ length: 32 }, () => store.reserveCalls(day, 1, 1000)));
      expect(outcomes.filter(Boolean)).toHaveLength(32);
      expect(await store.callsOn(day)).toBe(32);
    });

    it('a rebuild (clear) removes the views but keeps the demand and the ledger, which no event could rebuild', async () => {
      const region = unique();
      const day = `2097-02-${unique().slice(1, 3)}`;
      await store.write(forecastView(region), 'any');
      await store.addSearches([{ region, hours: { '2026-11-27T12': 2 }, lastSearchedAt: '2026-11-27T12:10:00.000Z' }], now);
      await store.reserveCalls(day, 3, 10);
      await store.clear();
      expect(await stateOf(region)).toBeUndefined();
      expect(await store.callsOn(day)).toBe(3);
      await store.write(forecastView(region), 'any');
      expect((await stateOf(region))?.demand?.hours).toEqual({ '2026-11-27T12': 2 });
    });
  });
}
