import { simulateDemandRefresh, type SimulationReport, type SimulationSettings } from './simulation/simulatedRefresh';

/*
 * Issue #17's goal, tried on two simulated days (the first starts with the warm-up: 2,000 active
 * regions that never had a forecast) through the same code the functions run. Parents search mostly
 * between 07:00 and 21:00, most of them about 100 popular regions (Zipf weights), a few (1 %) about
 * any other; each search notes the region of its first result, as the nearby search does. Open-Meteo's
 * free tier allows 10,000 calls a day, 5,000 an hour and 600 a minute. The goal: a region searched in
 * the previous 6 hours is at most 1 hour old when searched again, every active region at most 6 hours
 * old, within those limits.
 *
 * Why one region per search: the 100 popular regions held to the hour and the other 1,900 to 6 hours
 * cost about 9,600 calls a day on their own; every region a search holds to the hour for 6 hours adds
 * about 5 more. Noting the first three results' regions (tried: up to three different ones per search)
 * needs about 10,340 a day at 3,000 searches, more than the free tier; the first result's region is
 * where the parent is looking, and it is what the budget pays for.
 *
 * What the model assumes, so what it cannot show:
 * - one instance answers every search (one demand buffer, flushed a minute after its first search);
 * - a recorded forecast is in the views at once (the change feed takes a second or two);
 * - every fetch succeeds at the first try (no failures, retries, open circuit or 429s), and a batch
 *   lands 10 s after its cycle starts, each further wave of `parallelism` batches 8 s later;
 * - a cycle starts up to 30 s after its timer; a fetch-now lands 30 s after the search that asked;
 * - the health check's probes (up to 48 calls a day per instance) are not simulated: they come on
 *   top of the figures, from the margin the per-minute setting and the budget leave;
 * - every day's demand has the same shape, with no event (a sunny bank holiday) drawing parents to
 *   regions never searched before.
 */
const settings: SimulationSettings = {
  start: new Date('2026-11-27T06:00:00.000Z'),
  end: new Date('2026-11-29T00:00:00.000Z'),
  regions: 2000,
  demand: { searchesPerDay: 3000, popularRegions: 100, zipfExponent: 1, townRegions: 5, tailShare: 0.01, seed: 17 },
  forecast: {
    refreshMinutes: 360,
    cycleMinutes: 2,
    searchedMaxAgeMinutes: 60,
    dailyCallBudget: 10_000,
    // The recommended setting: a cycle's fetches leave room under the provider's 600 a minute for a
    // fetch-now or a health probe landing in the same minute.
    callsPerMinute: 550,
    parallelism: 4,
  },
  batchSize: 50,
  cycleLateMs: 30_000,
  firstWaveMs: 10_000,
  perWaveMs: 8_000,
  fetchNowLatencyMs: 30_000,
};
/** Open-Meteo's free tier. */
const PROVIDER_CALLS_PER_MINUTE = 600;
const PROVIDER_CALLS_PER_HOUR = 5000;

const round = (minutes: number) => Math.round(minutes * 10) / 10;

/** The figures of a run, as printed. Each maximum is over a list the test first checks is not empty. */
function figures(report: SimulationReport, run: SimulationSettings) {
  const promised = report.repeatSearches.filter((search) => !search.fetchInFlight);
  const inFlight = report.repeatSearches.filter((search) => search.fetchInFlight);
  const maxPromised = Math.max(...promised.map((search) => search.ageMinutes));
  const calls = [...report.ledgerCalls].map(([day, counted]) => `${day}: ${counted.toLocaleString('en-GB')}`).join(', ');
  const warmUp = report.warmUp ? `${report.warmUp.at.toISOString().slice(11, 19)} (cycle ${report.warmUp.cycle})` : 'never';
  const text = [
    `Simulated ${run.start.toISOString()} → ${run.end.toISOString()}: ${run.regions} regions, ` +
      `${report.cycles} cycles every ${run.forecast.cycleMinutes ?? run.forecast.refreshMinutes} min, budget ${run.forecast.dailyCallBudget.toLocaleString('en-GB')} calls a day, ` +
      `at most ${run.forecast.callsPerMinute ?? 'the default'} a cycle; every region had a forecast by ${warmUp}`,
    `searches: ${report.searches} (${report.tailSearches} on the tail), noting ${report.searchedRegions} regions; ` +
      `${report.repeatSearches.length} of those were of regions searched in the previous 6 h`,
    `max staleness seen by those: ${round(maxPromised)} min (${promised.length} region searches)` +
      `; ${inFlight.length} more came while the fetch their region's first search asked for was in flight` +
      (inFlight.length > 0 ? ` (max ${round(Math.max(...inFlight.map((search) => search.ageMinutes)))} min)` : ''),
    `first searches of a region (none in the 6 h before): ${report.firstSearchAges.length}, max staleness ${round(Math.max(...report.firstSearchAges))} min`,
    `max staleness of any active region after the warm-up: ${round(report.maxAgeMinutes)} min (over ${report.ageChecks} replaced forecasts and the end)`,
    `calls per UTC day (ledger): ${calls}; peak calls in any minute: ${report.peakCallsPerMinute}, in any hour: ${report.peakCallsPerHour.toLocaleString('en-GB')}; ` +
      `fetch-now outcomes: ${JSON.stringify(Object.fromEntries(report.fetchNow))}; due regions deferred (summed over cycles) by the budget: ${report.deferredByBudget}, by the per-minute cap alone: ${report.deferredByCap}`,
  ].join('\n');
  return { promised, inFlight, maxPromised, text };
}

/** What every run must show, whatever the demand: it measured something, and the provider's limits held. */
function expectMeasuredWithinProviderLimits(report: SimulationReport, run: SimulationSettings, promised: readonly unknown[]): void {
  // An empty list would make its maximum -Infinity, and any bound on it pass.
  expect(report.warmUp).not.toBeNull();
  expect(promised.length).toBeGreaterThan(1000);
  expect(report.firstSearchAges.length).toBeGreaterThan(100);
  expect(report.ageChecks).toBeGreaterThan(run.regions);
  for (const counted of report.ledgerCalls.values()) expect(counted).toBeLessThanOrEqual(run.forecast.dailyCallBudget);
  // The ledger counts what the provider was asked for, no more, no less.
  expect(report.ledgerCalls).toEqual(report.providerCalls);
  expect(report.peakCallsPerMinute).toBeLessThanOrEqual(PROVIDER_CALLS_PER_MINUTE);
  expect(report.peakCallsPerHour).toBeLessThanOrEqual(PROVIDER_CALLS_PER_HOUR);
  expect(report.warnings).toEqual([]);
}

interface Run {
  readonly report: SimulationReport;
  readonly figures: ReturnType<typeof figures>;
}

/** Simulates once for the tests of a scenario, and prints its figures. */
function simulated(title: string, run: SimulationSettings): () => Run {
  let result: Run | undefined;
  beforeAll(async () => {
    const report = await simulateDemandRefresh(run);
    result = { report, figures: figures(report, run) };
    console.log(`${title}:\n${result.figures.text}`);
  }, 60_000);
  return () => {
    if (!result) throw new Error('The simulation did not run.');
    return result;
  };
}

/** Issue #17's goal, asserted as it stands. */
function expectGoalMet({ report, figures: { inFlight, maxPromised } }: Run): void {
  expect(maxPromised).toBeLessThanOrEqual(60);
  expect(report.maxAgeMinutes).toBeLessThanOrEqual(360);
  expect(report.deferredByBudget).toBe(0);
  // A search within seconds of its region's first search can come before the fetch it asked for:
  // those are the only exceptions, and rare.
  expect(inFlight.length).toBeLessThanOrEqual(report.repeatSearches.length / 1000);
}

describe('demand-driven forecast refresh, simulated', () => {
  describe("at the issue's 3,000 searches a day and the free tier's 10,000 calls", () => {
    const run = simulated('3,000 searches a day', settings);

    it('keeps searched regions within an hour and every region within 6 hours, within 10,000 calls a day, 5,000 an hour and 600 a minute', () => {
      expectMeasuredWithinProviderLimits(run().report, settings, run().figures.promised);
      expectGoalMet(run());
    });
  });

  describe('when demand outgrows the budget: 5,000 searches a day, 2 % of them off the beaten track', () => {
    const busier: SimulationSettings = { ...settings, demand: { ...settings.demand, searchesPerDay: 5000, tailShare: 0.02 } };
    const run = simulated('When demand outgrows the budget', busier);

    it('the budget holds and the 6 h cap gives way, the oldest still fetched first', () => {
      expectMeasuredWithinProviderLimits(run().report, busier, run().figures.promised);
      expect(run().report.deferredByBudget).toBeGreaterThan(0);
      expect(run().report.maxAgeMinutes).toBeGreaterThan(360);
    });

    it('searched regions keep their hour: they come first in every cycle', () => {
      expect(run().figures.maxPromised).toBeLessThanOrEqual(60);
    });
  });
});
