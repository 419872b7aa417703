import { dailyCallLimit, minuteOfUtcDay, utcDay } from '../../../shared/regions/domain/callBudget';
import {
  demandFetchCycleId,
  demandFetchStillWanted,
  demandFetchWanted,
  expiredHourKeys,
  hourKey,
  searchedRecently,
  searchesSince,
} from '../../../shared/regions/domain/searchDemand';
import { demandNoticeMinutes } from '../../../shared/regions/domain/refreshPlan';

const now = new Date('2026-11-27T12:30:00Z');
const rule = { searchedMaxAgeMinutes: 60, noticeMinutes: demandNoticeMinutes(2) };

describe('search demand', () => {
  it('counts per UTC hour, and what overlaps a window counts in it', () => {
    expect(hourKey(now)).toBe('2026-11-27T12');
    const demand = { lastSearchedAt: now.toISOString(), hours: { '2026-11-27T06': 4, '2026-11-27T07': 2, '2026-11-27T12': 1 } };
    // 06:30 → the 06:00 hour may hold searches after it.
    expect(searchesSince(demand, new Date('2026-11-27T06:30:00Z'))).toBe(7);
    expect(searchesSince(demand, new Date('2026-11-27T07:00:00Z'))).toBe(3);
    expect(searchesSince(undefined, now)).toBe(0);
  });

  it('a region is searched for 6 hours after its last search', () => {
    expect(searchedRecently({ lastSearchedAt: '2026-11-27T06:31:00Z', hours: {} }, now)).toBe(true);
    expect(searchedRecently({ lastSearchedAt: '2026-11-27T06:30:00Z', hours: {} }, now)).toBe(false);
    expect(searchedRecently(undefined, now)).toBe(false);
  });

  it('prunes hour counts older than a day and an hour', () => {
    expect(expiredHourKeys({ '2026-11-26T11': 1, '2026-11-26T12': 1, '2026-11-27T12': 1 }, now)).toEqual(['2026-11-26T11']);
  });

  it('given a region this instance has not seen searched, when its forecast is within the notice of the target, then a fetch is asked for now', () => {
    expect(rule.noticeMinutes).toBe(5);
    expect(demandFetchWanted({ ageMinutes: 55, knownSearched: false }, rule)).toBe(true);
    expect(demandFetchWanted({ ageMinutes: 54, knownSearched: false }, rule)).toBe(false);
  });

  it('given a region the refresh already holds to the target, then only a late forecast asks for a fetch', () => {
    expect(demandFetchWanted({ ageMinutes: 58, knownSearched: true }, rule)).toBe(false);
    expect(demandFetchWanted({ ageMinutes: 60, knownSearched: true }, rule)).toBe(true);
    expect(demandFetchWanted({ ageMinutes: null, knownSearched: false }, rule)).toBe(false);
  });

  it('a fetch-now is moot once a forecast younger than the one the search saw was recorded', () => {
    const requestedAt = '2026-11-27T12:00:00.000Z';
    expect(demandFetchStillWanted('2026-11-27T10:00:00.000Z', requestedAt, rule)).toBe(true);
    expect(demandFetchStillWanted('2026-11-27T11:05:00.000Z', requestedAt, rule)).toBe(true);
    expect(demandFetchStillWanted('2026-11-27T11:10:00.000Z', requestedAt, rule)).toBe(false);
    expect(demandFetchStillWanted(null, requestedAt, rule)).toBe(true);
  });

  it('requests for a region within one 10-minute slot share a cycle id', () => {
    expect(demandFetchCycleId('2026-11-27T12:09:59.999Z')).toBe('searched:2026-11-27T12:00:00.000Z');
    expect(demandFetchCycleId('2026-11-27T12:10:00.000Z')).toBe('searched:2026-11-27T12:10:00.000Z');
  });
});

describe('daily call budget', () => {
  it('counts per UTC day, paced over the day with 6 hours of it ahead, never more than the budget', () => {
    const midnight = new Date('2026-11-27T00:00:00Z');
    expect(utcDay(new Date('2026-11-27T23:59:59Z'))).toBe('2026-11-27');
    expect(minuteOfUtcDay(now)).toBe(750);
    expect(dailyCallLimit(midnight, 10_000)).toBe(2500);
    expect(dailyCallLimit(new Date('2026-11-27T12:00:00Z'), 10_000)).toBe(7500);
    expect(dailyCallLimit(new Date('2026-11-27T18:00:00Z'), 10_000)).toBe(10_000);
    expect(dailyCallLimit(new Date('2026-11-27T23:59:00Z'), 10_000)).toBe(10_000);
    expect(dailyCallLimit(midnight, 1)).toBe(0);
  });
});
