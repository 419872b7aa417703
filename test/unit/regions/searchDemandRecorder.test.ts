import ngeohash from 'ngeohash';
import type { CorrelatedLog, LogFields } from '../../../shared/platform/logging';
import { InMemoryForecastRefreshQueue, type ForecastRefreshRequest } from '../../../shared/regions/application/forecastRefreshRequests';
import type { RegionSearchCounts, SearchDemandStore } from '../../../shared/regions/application/searchDemand';
import {
  FLUSH_AT_REGIONS,
  MAX_BUFFERED_REGIONS,
  MAX_FETCH_REQUESTS_PER_SEARCH,
  SearchDemandRecorder,
} from '../../../shared/regions/application/searchDemandRecorder';
import { demandFetchRuleOf } from '../../../shared/regions/application/forecastSettings';
import { DEMAND_FLUSH_SECONDS } from '../../../shared/regions/domain/searchDemand';

class RecordingStore implements SearchDemandStore {
  readonly flushes: RegionSearchCounts[][] = [];
  failing = false;

  addSearches(counts: readonly RegionSearchCounts[]): Promise<void> {
    if (this.failing) return Promise.reject(new Error('Cosmos said 503'));
    this.flushes.push([...counts]);
    return Promise.resolve();
  }
}

function logOf(correlationId = 'search-1') {
  const warnings: { name: string; fields: LogFields | undefined }[] = [];
  const log: CorrelatedLog = {
    correlationId,
    info: () => undefined,
    warn: (name, fields) => warnings.push({ name, fields }),
    error: (name, fields) => warnings.push({ name, fields }),
  };
  return { log, warnings };
}

function setUp() {
  let now = new Date('2026-11-27T09:10:00Z');
  const store = new RecordingStore();
  const queue = new InMemoryForecastRefreshQueue();
  const timers: { flush: () => void; ms: number }[] = [];
  const recorder = new SearchDemandRecorder({
    demand: store,
    forecastRefreshQueue: queue,
    clock: () => now,
    // Issue #17's settings: searched regions within an hour, cycles every 2 minutes.
    rule: demandFetchRuleOf({ refreshMinutes: 360, cycleMinutes: 2, searchedMaxAgeMinutes: 60, dailyCallBudget: 10_000, parallelism: 4 }),
    schedule: (flush, ms) => timers.push({ flush, ms }),
  });
  /** Fires the timers set so far and lets the flushes they start finish. */
  const fireTimers = async () => {
    for (const timer of timers.splice(0)) timer.flush();
    await new Promise((resolve) => setImmediate(resolve));
  };
  return { store, queue, timers, recorder, fireTimers, advance: (minutes: number) => (now = new Date(now.getTime() + minutes * 60_000)) };
}

const manchester = 'gcw2j';
const leeds = 'gcwfh';

describe('search demand recorder', () => {
  it('given many searches, then it writes nothing until its timer, and then one count per region and hour', async () => {
    const { store, timers, recorder, fireTimers, advance } = setUp();
    for (let i = 0; i < 50; i++) recorder.searched([{ region: manchester, forecastAgeMinutes: 5 }], logOf().log);
    recorder.searched(
      [
        { region: leeds, forecastAgeMinutes: 5 },
        { region: leeds, forecastAgeMinutes: 5 },
      ],
      logOf().log,
    );
    advance(55);
    recorder.searched([{ region: manchester, forecastAgeMinutes: 10 }], logOf().log);
    expect(store.flushes).toEqual([]);
    expect(timers.map(({ ms }) => ms)).toEqual([DEMAND_FLUSH_SECONDS * 1000]);

    await fireTimers();
    expect(store.flushes).toEqual([
      [
        { region: manchester, hours: { '2026-11-27T09': 50, '2026-11-27T10': 1 }, lastSearchedAt: '2026-11-27T10:05:00.000Z' },
        // Two places of one region in one answer are one search of it.
        { region: leeds, hours: { '2026-11-27T09': 1 }, lastSearchedAt: '2026-11-27T09:10:00.000Z' },
      ],
    ]);
    await fireTimers();
    expect(store.flushes).toHaveLength(1);
  });

  it('given a buffer of many regions, then it is written at once', async () => {
    const { store, recorder } = setUp();
    for (let i = 0; i < FLUSH_AT_REGIONS; i++) recorder.searched([{ region: `u${i}`, forecastAgeMinutes: 1 }], logOf().log);
    await recorder.flush();
    expect(store.flushes[0]).toHaveLength(FLUSH_AT_REGIONS);
  });

  it('given a store that refuses, then the counts are kept for the next flush and the next search logs the failure; nothing throws', async () => {
    const { store, recorder, fireTimers } = setUp();
    store.failing = true;
    recorder.searched([{ region: manchester, forecastAgeMinutes: 5 }], logOf().log);
    await fireTimers();
    const next = logOf('search-2');
    expect(() => recorder.searched([{ region: manchester, forecastAgeMinutes: 5 }], next.log)).not.toThrow();
    expect(next.warnings).toEqual([
      {
        name: 'SearchDemandFailures',
        fields: { flushFailures: 1, fetchRequestFailures: 0, droppedSearches: 0, lastError: 'Cosmos said 503' },
      },
    ]);
    store.failing = false;
    await fireTimers();
    expect(store.flushes).toEqual([[expect.objectContaining({ region: manchester, hours: { '2026-11-27T09': 2 } })]]);
  });

  it('holds at most MAX_BUFFERED_REGIONS regions while the store refuses, and counts what it drops', async () => {
    const { store, recorder } = setUp();
    store.failing = true;
    const regions = Array.from({ length: MAX_BUFFERED_REGIONS + 5 }, (_, i) => `u${i}`);
    for (const region of regions) recorder.searched([{ region, forecastAgeMinutes: 1 }], logOf().log);
    await recorder.flush();
    const next = logOf();
    recorder.searched([], next.log);
    expect(next.warnings[0]?.fields).toMatchObject({ droppedSearches: 5 });
  });

  it("given a region's first search that finds its forecast near the hour, then it asks for a fetch now, once per slot", () => {
    const { queue, recorder, advance } = setUp();
    recorder.searched([{ region: manchester, forecastAgeMinutes: 56 }], logOf('parent-1').log);
    recorder.searched([{ region: manchester, forecastAgeMinutes: 61 }], logOf('parent-2').log);
    expect(queue.requests()).toEqual<ForecastRefreshRequest[]>([
      {
        region: manchester,
        centre: {
          latitude: expect.closeTo(ngeohash.decode(manchester).latitude, 4),
          longitude: expect.closeTo(ngeohash.decode(manchester).longitude, 4),
        },
        reason: 'searched',
        correlationId: 'parent-1',
        requestedAt: '2026-11-27T09:10:00.000Z',
      },
    ]);
    advance(10);
    recorder.searched([{ region: manchester, forecastAgeMinutes: 70 }], logOf().log);
    expect(queue.requests()).toHaveLength(2);
  });

  it('given a region the refresh already holds to the hour, then only a forecast past it asks for a fetch', () => {
    const { queue, recorder, advance } = setUp();
    recorder.searched([{ region: manchester, forecastAgeMinutes: 10 }], logOf().log);
    advance(47);
    recorder.searched([{ region: manchester, forecastAgeMinutes: 57 }], logOf().log);
    expect(queue.requests()).toEqual([]);
    recorder.searched([{ region: manchester, forecastAgeMinutes: 60 }], logOf().log);
    expect(queue.requests()).toHaveLength(1);
  });

  it('never asks for regions without a forecast in the answer, nor for more than a few regions per search', () => {
    const { queue, recorder } = setUp();
    recorder.searched([{ region: manchester, forecastAgeMinutes: null }], logOf().log);
    expect(queue.requests()).toEqual([]);
    const many = ['gcw2h', 'gcw2k', 'gcw2m', 'gcw2n', 'gcw2p', 'gcw2q', 'gcw2r'].map((region) => ({ region, forecastAgeMinutes: 300 }));
    recorder.searched(many, logOf().log);
    expect(queue.requests().map((request) => request.region)).toEqual(
      many.slice(0, MAX_FETCH_REQUESTS_PER_SEARCH).map(({ region }) => region),
    );
  });

  it('given a queue that refuses, then the search goes on and the next one logs it', async () => {
    const failing = new SearchDemandRecorder({
      demand: new RecordingStore(),
      forecastRefreshQueue: { send: () => Promise.reject(new Error('storage down')) },
      clock: () => new Date('2026-11-27T09:10:00Z'),
      rule: { searchedMaxAgeMinutes: 60, noticeMinutes: 5 },
      schedule: () => undefined,
    });
    failing.searched([{ region: manchester, forecastAgeMinutes: 300 }], logOf().log);
    await new Promise((resolve) => setImmediate(resolve));
    const next = logOf();
    failing.searched([], next.log);
    expect(next.warnings).toEqual([
      { name: 'SearchDemandFailures', fields: expect.objectContaining({ fetchRequestFailures: 1, lastError: 'storage down' }) },
    ]);
  });
});
