import { DUE_FRACTION, nextCycleAt, planRefresh, type RegionRefreshState } from '../../../shared/regions/domain/refreshPlan';

const now = new Date('2026-11-27T12:00:00Z');
const minutesAgo = (minutes: number) => new Date(now.getTime() - minutes * 60_000).toISOString();
const region = (name: string, updatedAt: string | null): RegionRefreshState => ({
  region: name,
  centre: { latitude: 53.4, longitude: -2.2 },
  updatedAt,
});
const settings = { refreshMinutes: 60, dailyCallBudget: 5000, batchSize: 2 };

describe('refresh plan', () => {
  it('given regions of every age, plans the never-fetched first, then the oldest, and leaves the fresh alone', () => {
    const plan = planRefresh(
      [region('gcw2j', minutesAgo(50)), region('gcw2h', minutesAgo(200)), region('gcw2k', null), region('gcw2m', minutesAgo(5))],
      now,
      settings,
    );
    expect(plan.due).toBe(3);
    expect(plan.batches.flat().map((planned) => planned.region)).toEqual(['gcw2k', 'gcw2h', 'gcw2j']);
    expect(plan.batches.map((batch) => batch.length)).toEqual([2, 1]);
  });

  it('counts a forecast as due from DUE_FRACTION of the refresh interval, so one fetched late in a cycle is due at the next', () => {
    const edge = 60 * DUE_FRACTION;
    expect(planRefresh([region('a', minutesAgo(edge))], now, settings).due).toBe(1);
    expect(planRefresh([region('a', minutesAgo(edge - 1))], now, settings).due).toBe(0);
  });

  it('spreads the daily budget over the day’s cycles and defers the rest, oldest first', () => {
    // 240 fetches a day over 24 one-hour cycles: 10 a cycle.
    const regions = Array.from({ length: 25 }, (_, i) => region(`r${String(i).padStart(2, '0')}`, minutesAgo(1000 - i)));
    const plan = planRefresh(regions, now, { refreshMinutes: 60, dailyCallBudget: 240, batchSize: 50 });
    expect(plan).toMatchObject({ due: 25, allowance: 10, deferred: 15 });
    expect(plan.batches.flat().map((planned) => planned.region)).toEqual(regions.slice(0, 10).map((state) => state.region));
  });

  it('a day of cycles never exceeds the budget, and every region is eventually fetched', () => {
    const regions = new Map(Array.from({ length: 500 }, (_, i) => [`r${i}`, region(`r${i}`, null)]));
    const budget = 2000;
    let fetched = 0;
    const seen = new Set<string>();
    for (let cycle = 0; cycle < 24 * 4; cycle++) {
      const at = new Date(now.getTime() + cycle * 15 * 60_000);
      const plan = planRefresh([...regions.values()], at, { refreshMinutes: 15, dailyCallBudget: budget, batchSize: 50 });
      for (const { region: name } of plan.batches.flat()) {
        regions.set(name, region(name, at.toISOString()));
        seen.add(name);
        fetched++;
      }
    }
    expect(fetched).toBeLessThanOrEqual(budget);
    expect(seen.size).toBe(500);
  });

  it('always allows at least one fetch per cycle, and unreadable times count as never fetched', () => {
    const plan = planRefresh([region('a', 'not a time'), region('b', minutesAgo(100))], now, {
      refreshMinutes: 5,
      dailyCallBudget: 1,
      batchSize: 10,
    });
    expect(plan).toMatchObject({ due: 2, allowance: 1, deferred: 1 });
    expect(plan.batches).toEqual([[{ region: 'a', latitude: 53.4, longitude: -2.2 }]]);
  });

  it('the next cycle starts refreshMinutes after this one started', () => {
    expect(nextCycleAt(now, 60).toISOString()).toBe('2026-11-27T13:00:00.000Z');
  });
});
