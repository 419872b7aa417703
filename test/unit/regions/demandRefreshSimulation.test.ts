import { simulateDemandRefresh, type SimulationSettings } from './simulation/simulatedRefresh';

/*
 * Issue #17's goal, shown on two simulated days (the first starts with the warm-up: 2,000 active
 * regions that never had a forecast) through the same code the functions run. Parents search mostly
 * between 07:00 and 21:00, most of them about 100 popular regions (Zipf weights), a few about any
 * other; the provider's free tier allows 10,000 calls a day. Freshness is held to 1 hour for a region
 * searched in the previous 6 hours and to 6 hours for every active region.
 */
const settings: SimulationSettings = {
  start: new Date('2026-11-27T06:00:00.000Z'),
  end: new Date('2026-11-29T00:00:00.000Z'),
  regions: 2000,
  demand: { searchesPerDay: 3000, popularRegions: 100, zipfExponent: 1, tailShare: 0.01, seed: 17 },
  forecast: { refreshMinutes: 360, cycleMinutes: 2, searchedMaxAgeMinutes: 60, dailyCallBudget: 10_000, parallelism: 4 },
  batchSize: 50,
  cycleLateMs: 30_000,
  firstWaveMs: 10_000,
  perWaveMs: 8_000,
  fetchNowLatencyMs: 30_000,
};

const round = (minutes: number) => Math.round(minutes * 10) / 10;

/** The figures of a run, as printed. */
function figures(report: Awaited<ReturnType<typeof simulateDemandRefresh>>, run: SimulationSettings) {
  const promised = report.repeatSearches.filter((search) => !search.fetchInFlight);
  const inFlight = report.repeatSearches.filter((search) => search.fetchInFlight);
  const maxPromised = Math.max(...promised.map((search) => search.ageMinutes));
  const calls = [...report.ledgerCalls].map(([day, counted]) => `${day}: ${counted.toLocaleString('en-GB')}`).join(', ');
  const text = [
    `Simulated ${run.start.toISOString()} → ${run.end.toISOString()}: ${run.regions} regions, ` +
      `${report.cycles} cycles every ${run.forecast.cycleMinutes ?? run.forecast.refreshMinutes} min, budget ${run.forecast.dailyCallBudget.toLocaleString('en-GB')} calls a day`,
    `searches: ${report.searches} (${report.tailSearches} on the tail), ${report.repeatSearches.length} of regions searched in the previous 6 h`,
    `max staleness seen by those: ${round(maxPromised)} min (${promised.length} searches)` +
      `; ${inFlight.length} more came while the fetch their region's first search asked for was in flight` +
      (inFlight.length > 0 ? ` (max ${round(Math.max(...inFlight.map((search) => search.ageMinutes)))} min)` : ''),
    `first searches (none in the 6 h before): ${report.firstSearchAges.length}, max staleness ${round(Math.max(...report.firstSearchAges))} min`,
    `max staleness of any active region after the warm-up: ${round(report.maxAgeMinutes)} min`,
    `calls per UTC day (ledger): ${calls}; fetch-now outcomes: ${JSON.stringify(Object.fromEntries(report.fetchNow))}; ` +
      `due regions deferred by the budget (summed over cycles): ${report.deferred}`,
  ].join('\n');
  return { promised, inFlight, maxPromised, text };
}

describe('demand-driven forecast refresh, simulated', () => {
  it('keeps searched regions within an hour and every region within 6 hours, within 10,000 calls a day', async () => {
    const report = await simulateDemandRefresh(settings);
    const { inFlight, maxPromised, text } = figures(report, settings);
    console.log(text);

    expect(maxPromised).toBeLessThanOrEqual(60);
    expect(report.maxAgeMinutes).toBeLessThanOrEqual(360);
    for (const counted of report.ledgerCalls.values()) expect(counted).toBeLessThanOrEqual(settings.forecast.dailyCallBudget);
    // The ledger counts what the provider was asked for, no more, no less.
    expect(report.ledgerCalls).toEqual(report.providerCalls);
    expect(report.deferred).toBe(0);
    // A search within seconds of its region's first search can come before the fetch it asked for:
    // those are the only exceptions, and rare.
    expect(inFlight.length).toBeLessThanOrEqual(report.repeatSearches.length / 1000);
    expect(report.warnings).toEqual([]);
  }, 60_000);

  it('when demand outgrows the budget, the budget holds and the 6 h cap gives way (the oldest still fetched first) while searched regions keep their hour', async () => {
    const busier: SimulationSettings = { ...settings, demand: { ...settings.demand, searchesPerDay: 5000, tailShare: 0.02 } };
    const report = await simulateDemandRefresh(busier);
    const { maxPromised, text } = figures(report, busier);
    console.log(`When demand outgrows the budget:\n${text}`);

    for (const counted of report.ledgerCalls.values()) expect(counted).toBeLessThanOrEqual(busier.forecast.dailyCallBudget);
    expect(report.deferred).toBeGreaterThan(0);
    expect(maxPromised).toBeLessThanOrEqual(60);
    expect(report.maxAgeMinutes).toBeGreaterThan(360);
  }, 60_000);
});
