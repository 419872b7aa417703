import {
  DEFAULT_CALLS_PER_MINUTE,
  FETCH_LEAD_MINUTES,
  nextCycleAt,
  notDueBeforeMinutes,
  planRefresh,
  RETRY_AFTER_FAILURE_MINUTES,
  type RefreshPlanSettings,
  type RegionRefreshState,
} from '../../../shared/regions/domain/refreshPlan';
import { dailyCallLimit } from '../../../shared/regions/domain/callBudget';
import { hourKey } from '../../../shared/regions/domain/searchDemand';
import { seededRandom } from '../../../local/seededRandom';
import { FORECAST_EVENT_TTL_SECONDS } from '../../../shared/regions/domain/forecastRetention';

const now = new Date('2026-11-27T12:00:00Z');
const minutesAgo = (minutes: number) => new Date(now.getTime() - minutes * 60_000).toISOString();
const region = (name: string, updatedAt: string | null, extra: Partial<RegionRefreshState> = {}): RegionRefreshState => ({
  region: name,
  centre: { latitude: 53.4, longitude: -2.2 },
  updatedAt,
  ...extra,
});
/** Searched `times` times, the latest `minutes` ago. */
const searched = (minutes: number, times = 1) => ({
  demand: { lastSearchedAt: minutesAgo(minutes), hours: { [hourKey(new Date(Date.parse(minutesAgo(minutes))))]: times } },
});
/** Issue #17's settings: searched regions within an hour, every region within 6 hours, cycles every 2 minutes. */
const settings: RefreshPlanSettings = {
  cycleMinutes: 2,
  maxAgeMinutes: 360,
  searchedMaxAgeMinutes: 60,
  dailyCallBudget: 10_000,
  callsPerMinute: DEFAULT_CALLS_PER_MINUTE,
  batchSize: 2,
};
const plannedRegions = (plan: ReturnType<typeof planRefresh>) => plan.batches.flat().map((planned) => planned.region);
/** Forecast ages at which a region is fetched: the last cycle that can still land it within `target`. */
const lastSafeAge = (target: number) => target - settings.cycleMinutes - FETCH_LEAD_MINUTES;

describe('refresh plan', () => {
  it('given regions never fetched, old and fresh, when planned, then fetches the never-fetched and those about to pass 6 h, oldest first', () => {
    const plan = planRefresh(
      [region('gcw2j', minutesAgo(357)), region('gcw2h', minutesAgo(500)), region('gcw2k', null), region('gcw2m', minutesAgo(300))],
      now,
      settings,
      0,
    );
    expect(plan).toMatchObject({ due: 3, deferred: 0, searchedDue: 0 });
    expect(plannedRegions(plan)).toEqual(['gcw2k', 'gcw2h', 'gcw2j']);
    expect(plan.batches.map((batch) => batch.length)).toEqual([2, 1]);
  });

  it("given each view's newest event, then a region carries its version while that event is younger than half the TTL, and none otherwise", () => {
    const halfTtlMinutes = FORECAST_EVENT_TTL_SECONDS / 60 / 2;
    const latest = (version: number, at: string) => ({ latestEvent: { version, at } });
    const plan = planRefresh(
      [
        region('a', null, latest(7, minutesAgo(30))),
        region('b', null, latest(3, minutesAgo(halfTtlMinutes - 1))),
        // Its forecasts may have expired and the versions come round: the stream may be behind 48.
        region('c', null, latest(48, minutesAgo(halfTtlMinutes))),
        // Written by a clock ahead of this one: not to be trusted either.
        region('d', null, latest(5, minutesAgo(-10))),
        region('e', null, latest(5, 'not a time')),
        region('f', null),
      ],
      now,
      { ...settings, batchSize: 10 },
      0,
    );
    expect(plan.batches.flat().find((planned) => planned.region === 'a')).toEqual({
      region: 'a',
      latitude: 53.4,
      longitude: -2.2,
      version: 7,
    });
    expect(Object.fromEntries(plan.batches.flat().map((planned) => [planned.region, planned.version]))).toEqual({
      a: 7,
      b: 3,
      c: undefined,
      d: undefined,
      e: undefined,
      f: undefined,
    });
  });

  it('given a region not searched, then it is due only once waiting a cycle would let it pass the 6 h cap', () => {
    const edge = lastSafeAge(360);
    expect(planRefresh([region('a', minutesAgo(edge + 0.1))], now, settings, 0).due).toBe(1);
    expect(planRefresh([region('a', minutesAgo(edge))], now, settings, 0).due).toBe(0);
  });

  it('given a region searched in the last 6 h, then it is held to the hour, and comes before the rest', () => {
    const edge = lastSafeAge(60);
    const plan = planRefresh(
      [
        region('cold', minutesAgo(400)),
        region('hot', minutesAgo(edge + 0.1), searched(30)),
        region('warm', minutesAgo(edge), searched(30)),
      ],
      now,
      settings,
      0,
    );
    expect(plan).toMatchObject({ due: 2, searchedDue: 1 });
    expect(plannedRegions(plan)).toEqual(['hot', 'cold']);
  });

  it('given a region last searched more than 6 h ago, then it is back under the 6 h cap', () => {
    expect(planRefresh([region('a', minutesAgo(120), searched(361))], now, settings, 0).due).toBe(0);
    expect(planRefresh([region('a', minutesAgo(120), searched(359))], now, settings, 0)).toMatchObject({ due: 1, searchedDue: 1 });
  });

  it('given more due than the budget allows, then the most searched come first, then the rest oldest first, and the 6 h cap gives way', () => {
    const limit = dailyCallLimit(now, settings.dailyCallBudget);
    const plan = planRefresh(
      [
        region('cold-older', minutesAgo(500)),
        region('once', minutesAgo(59), searched(10, 1)),
        region('cold', minutesAgo(400)),
        region('often', minutesAgo(58), searched(10, 40)),
      ],
      now,
      settings,
      limit - 3,
    );
    expect(plan).toMatchObject({
      due: 4,
      allowance: 3,
      deferred: 1,
      searchedDue: 2,
      searchedDeferred: 0,
      callsToday: limit - 3,
      callLimit: limit,
    });
    expect(plannedRegions(plan)).toEqual(['often', 'once', 'cold-older']);
  });

  it('given the budget spent, then nothing is fetched and searched regions are deferred too', () => {
    const limit = dailyCallLimit(now, settings.dailyCallBudget);
    const plan = planRefresh([region('hot', minutesAgo(59), searched(10))], now, settings, limit);
    expect(plan).toMatchObject({ due: 1, allowance: 0, deferred: 1, searchedDeferred: 1, batches: [] });
  });

  it('given a fetch that failed lately, then the region waits before it is tried again', () => {
    const failed = (minutes: number) => region('a', minutesAgo(400), { lastFailedAt: minutesAgo(minutes) });
    expect(planRefresh([failed(RETRY_AFTER_FAILURE_MINUTES - 1)], now, settings, 0)).toMatchObject({ due: 0, retryLater: 1 });
    expect(planRefresh([failed(RETRY_AFTER_FAILURE_MINUTES)], now, settings, 0)).toMatchObject({ due: 1, retryLater: 0 });
    // A failure before the latest forecast is history.
    expect(planRefresh([region('b', minutesAgo(400), { lastFailedAt: minutesAgo(401) })], now, settings, 0).due).toBe(1);
  });

  it('given the settings as before there was demand (the cycle as long as the cap), then every region is fetched every cycle, but not twice within half its target', () => {
    const hourly = { ...settings, cycleMinutes: 60, maxAgeMinutes: 60, searchedMaxAgeMinutes: 60 };
    const floor = notDueBeforeMinutes(60);
    const plan = planRefresh(
      [region('a', minutesAgo(59)), region('b', minutesAgo(floor)), region('c', null), region('fetched-now', minutesAgo(floor - 0.1))],
      now,
      hourly,
      0,
    );
    expect(plan).toMatchObject({ due: 3, deferred: 0 });
    expect(plannedRegions(plan)).toEqual(['c', 'a', 'b']);
    // A region a fetch-now updated seconds before the cycle, searched or not, waits for the next one.
    expect(planRefresh([region('a', minutesAgo(0.2), searched(1))], now, hourly, 0).due).toBe(0);
  });

  it('the floor never makes the rota late: whatever the cycle that can keep the target, a region is fetched within it and never twice within the floor', () => {
    const random = seededRandom(7);
    // A cycle longer than the target less the lead cannot keep it, floor or not.
    for (const target of [5, 60, 360])
      for (let cycleMinutes = 2; cycleMinutes <= target - FETCH_LEAD_MINUTES; cycleMinutes++) {
        const rota = { ...settings, cycleMinutes, maxAgeMinutes: target, searchedMaxAgeMinutes: target };
        let start = now.getTime();
        let landedAt = start;
        let maxAgeAtLanding = 0;
        let minAgeAtPlan = Number.POSITIVE_INFINITY;
        for (let cycle = 0; cycle < 40; cycle++) {
          // The next cycle starts up to 30 s late; its fetch lands within the rest of the lead.
          start += (cycleMinutes + random() * 0.5) * 60_000;
          const at = new Date(start);
          const plan = planRefresh([region('a', new Date(landedAt).toISOString())], at, rota, 0);
          if (plan.due === 0) continue;
          minAgeAtPlan = Math.min(minAgeAtPlan, (start - landedAt) / 60_000);
          const lands = start + random() * (FETCH_LEAD_MINUTES - 0.5) * 60_000;
          maxAgeAtLanding = Math.max(maxAgeAtLanding, (lands - landedAt) / 60_000);
          landedAt = lands;
        }
        expect({ target, cycleMinutes, late: maxAgeAtLanding > target }).toEqual({ target, cycleMinutes, late: false });
        expect(minAgeAtPlan).toBeGreaterThanOrEqual(notDueBeforeMinutes(target));
      }
  });

  it('given more due than a minute of calls, then a cycle fetches no more than the per-minute cap: searched first, then the oldest', () => {
    const plan = planRefresh(
      [
        region('cold-older', minutesAgo(500)),
        region('once', minutesAgo(59), searched(10, 1)),
        region('cold', minutesAgo(400)),
        region('often', minutesAgo(58), searched(10, 40)),
        region('never', null),
      ],
      now,
      { ...settings, callsPerMinute: 3 },
      0,
    );
    expect(plan).toMatchObject({ due: 5, allowance: 3, deferred: 2, searchedDue: 2, searchedDeferred: 0 });
    expect(plannedRegions(plan)).toEqual(['often', 'once', 'never']);
    expect(planRefresh([region('hot', minutesAgo(59), searched(10))], now, { ...settings, callsPerMinute: 0 }, 0)).toMatchObject({
      allowance: 0,
      searchedDeferred: 1,
      batches: [],
    });
  });

  it('given the paced budget shorter than the per-minute cap, then the budget decides; given it longer, the cap does', () => {
    const limit = dailyCallLimit(now, settings.dailyCallBudget);
    const many = Array.from({ length: 700 }, (_, i) => region(`r${String(i).padStart(3, '0')}`, null));
    expect(planRefresh(many, now, settings, limit - 10)).toMatchObject({ due: 700, allowance: 10, deferred: 690 });
    const capped = planRefresh(many, now, settings, 0);
    expect(capped).toMatchObject({ due: 700, allowance: DEFAULT_CALLS_PER_MINUTE, deferred: 700 - DEFAULT_CALLS_PER_MINUTE });
    expect(capped.batches.flat()).toHaveLength(DEFAULT_CALLS_PER_MINUTE);
  });

  it('given a day of cycles, then the calls never exceed the budget and every region is eventually fetched', () => {
    const regions = new Map(Array.from({ length: 500 }, (_, i) => [`r${i}`, region(`r${i}`, null)]));
    const budget = 2000;
    const midnight = Date.parse('2026-11-28T00:00:00Z');
    let fetched = 0;
    const seen = new Set<string>();
    for (let cycle = 0; cycle < 24 * 4; cycle++) {
      const at = new Date(midnight + cycle * 15 * 60_000);
      const plan = planRefresh(
        [...regions.values()],
        at,
        { ...settings, cycleMinutes: 15, dailyCallBudget: budget, batchSize: 50 },
        fetched,
      );
      for (const { region: name } of plan.batches.flat()) {
        regions.set(name, region(name, at.toISOString()));
        seen.add(name);
        fetched++;
      }
      expect(fetched).toBeLessThanOrEqual(dailyCallLimit(at, budget));
    }
    expect(fetched).toBeLessThanOrEqual(budget);
    expect(seen.size).toBe(500);
  });

  it('unreadable times count as never fetched', () => {
    expect(plannedRegions(planRefresh([region('b', minutesAgo(400)), region('a', 'not a time')], now, settings, 0))).toEqual(['a', 'b']);
  });

  it('the next cycle starts a cycle after this one started', () => {
    expect(nextCycleAt(now, 2).toISOString()).toBe('2026-11-27T12:02:00.000Z');
  });
});
