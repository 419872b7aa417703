import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../../shared/platform/config';
import { demandFetchRuleOf } from '../../../shared/regions/application/forecastSettings';

describe('the fetch-now rule for the settings', () => {
  it('gives notice of a search only when searched regions are held to less than the rest', () => {
    expect(
      demandFetchRuleOf({ refreshMinutes: 360, cycleMinutes: 2, searchedMaxAgeMinutes: 60, dailyCallBudget: 10_000, parallelism: 4 }),
    ).toEqual({
      searchedMaxAgeMinutes: 60,
      noticeMinutes: 5,
    });
    // The defaults: every region every hourly cycle, so a search asks only for a forecast already late.
    expect(demandFetchRuleOf({ refreshMinutes: 60, dailyCallBudget: 5000, parallelism: 4 })).toEqual({
      searchedMaxAgeMinutes: 60,
      noticeMinutes: 0,
    });
    // Searched regions are never held to more than every region is.
    expect(demandFetchRuleOf({ refreshMinutes: 30, searchedMaxAgeMinutes: 60, dailyCallBudget: 5000, parallelism: 4 })).toEqual({
      searchedMaxAgeMinutes: 30,
      noticeMinutes: 0,
    });
  });
});

describe('the refresh settings', () => {
  const local = {
    AzureWebJobsStorage: 'UseDevelopmentStorage=true',
    COSMOS_CONNECTION: 'AccountEndpoint=http://127.0.0.1:8081/;AccountKey=a2V5;',
    COSMOS_DATABASE: 'visitplannr',
    EVENTGRID_TOPIC_ENDPOINT: 'http://127.0.0.1:7071/devhost/eventgrid/api/events',
  };

  it('cycles as long as the cap unless told otherwise, and holds searched regions to an hour', () => {
    expect(loadConfig(local).forecast).toMatchObject({ refreshMinutes: 60, cycleMinutes: 60, searchedMaxAgeMinutes: 60 });
    expect(loadConfig({ ...local, FORECAST_REFRESH_MINUTES: '5', FORECAST_CYCLE_MINUTES: '0' }).forecast).toMatchObject({
      cycleMinutes: 5,
    });
    expect(
      loadConfig({ ...local, FORECAST_REFRESH_MINUTES: '360', FORECAST_CYCLE_MINUTES: '2', FORECAST_SEARCHED_MAX_AGE_MINUTES: '45' })
        .forecast,
    ).toMatchObject({ refreshMinutes: 360, cycleMinutes: 2, searchedMaxAgeMinutes: 45 });
  });

  it('refuses cycles and targets out of range, naming them', () => {
    expect(() => loadConfig({ ...local, FORECAST_CYCLE_MINUTES: '1441', FORECAST_SEARCHED_MAX_AGE_MINUTES: '4' })).toThrow(
      /FORECAST_CYCLE_MINUTES must be at most 1440[\s\S]*FORECAST_SEARCHED_MAX_AGE_MINUTES must be at least 5/,
    );
  });

  it('refuses a 1-minute cycle: its fetches may still be landing when the next one plans', () => {
    expect(() => loadConfig({ ...local, FORECAST_CYCLE_MINUTES: '1' })).toThrow(
      'FORECAST_CYCLE_MINUTES must be 0 (as long as FORECAST_REFRESH_MINUTES) or at least 2',
    );
    expect(loadConfig({ ...local, FORECAST_REFRESH_MINUTES: '360', FORECAST_CYCLE_MINUTES: '2' }).forecast.cycleMinutes).toBe(2);
  });

  it('refuses a cycle longer than the refresh', () => {
    expect(() => loadConfig({ ...local, FORECAST_REFRESH_MINUTES: '60', FORECAST_CYCLE_MINUTES: '61' })).toThrow(
      /do not fit together: FORECAST_CYCLE_MINUTES \(61\) is longer than FORECAST_REFRESH_MINUTES \(60\)/,
    );
    expect(loadConfig({ ...local, FORECAST_REFRESH_MINUTES: '60', FORECAST_CYCLE_MINUTES: '60' }).forecast.cycleMinutes).toBe(60);
  });

  it('refuses a searched target the refresh cannot reach: the demand flush, a cycle and the fetch must fit within it', () => {
    // 1 + 57 + 2 = 60: a search could find the forecast a whole target old before the refresh heard of it.
    expect(() =>
      loadConfig({ ...local, FORECAST_REFRESH_MINUTES: '360', FORECAST_CYCLE_MINUTES: '57', FORECAST_SEARCHED_MAX_AGE_MINUTES: '60' }),
    ).toThrow(
      /FORECAST_SEARCHED_MAX_AGE_MINUTES \(60\) cannot be kept: the refresh needs up to 60 minutes[\s\S]*set FORECAST_CYCLE_MINUTES to at most 56/,
    );
    expect(
      loadConfig({ ...local, FORECAST_REFRESH_MINUTES: '360', FORECAST_CYCLE_MINUTES: '56', FORECAST_SEARCHED_MAX_AGE_MINUTES: '60' })
        .forecast,
    ).toMatchObject({ cycleMinutes: 56 });
    // Unset, the cycle is as long as the refresh: never short enough for a tighter searched target.
    expect(() => loadConfig({ ...local, FORECAST_REFRESH_MINUTES: '360', FORECAST_SEARCHED_MAX_AGE_MINUTES: '60' })).toThrow(
      /FORECAST_SEARCHED_MAX_AGE_MINUTES \(60\) cannot be kept: the refresh needs up to 363 minutes/,
    );
    // A target no cycle can reach says so.
    expect(() =>
      loadConfig({ ...local, FORECAST_REFRESH_MINUTES: '360', FORECAST_CYCLE_MINUTES: '2', FORECAST_SEARCHED_MAX_AGE_MINUTES: '5' }),
    ).toThrow(/FORECAST_SEARCHED_MAX_AGE_MINUTES \(5\) cannot be kept[\s\S]*set the searched target above 5 \(with 2-minute cycles\)/);
    // Held to no less than the rest, searched regions need no notice: any cycle up to the refresh will do.
    expect(() => loadConfig({ ...local, FORECAST_REFRESH_MINUTES: '60', FORECAST_SEARCHED_MAX_AGE_MINUTES: '60' })).not.toThrow();
    expect(() => loadConfig({ ...local, FORECAST_REFRESH_MINUTES: '30', FORECAST_SEARCHED_MAX_AGE_MINUTES: '60' })).not.toThrow();
  });

  it('takes the per-minute cap, 600 unless set, and refuses one out of range', () => {
    expect(loadConfig(local).forecast.callsPerMinute).toBe(600);
    expect(loadConfig({ ...local, FORECAST_CALLS_PER_MINUTE: '100' }).forecast.callsPerMinute).toBe(100);
    expect(() => loadConfig({ ...local, FORECAST_CALLS_PER_MINUTE: '0' })).toThrow('FORECAST_CALLS_PER_MINUTE must be at least 1');
    expect(() => loadConfig({ ...local, FORECAST_CALLS_PER_MINUTE: '10001' })).toThrow('FORECAST_CALLS_PER_MINUTE must be at most 10000');
  });

  it('accepts the recommended free-tier settings (docs/operations.md)', () => {
    expect(
      loadConfig({
        ...local,
        FORECAST_REFRESH_MINUTES: '360',
        FORECAST_CYCLE_MINUTES: '2',
        FORECAST_SEARCHED_MAX_AGE_MINUTES: '60',
        FORECAST_DAILY_CALL_BUDGET: '9500',
        FORECAST_CALLS_PER_MINUTE: '550',
      }).forecast,
    ).toMatchObject({ refreshMinutes: 360, cycleMinutes: 2, searchedMaxAgeMinutes: 60, dailyCallBudget: 9500, callsPerMinute: 550 });
  });

  it('accepts the forecast settings infra/main.bicepparam deploys together (test/unit/infra.test.ts judges each on its own)', () => {
    const bicepparam = readFileSync(join(__dirname, '..', '..', '..', 'infra', 'main.bicepparam'), 'utf8');
    const deployed = Object.fromEntries(
      [...bicepparam.matchAll(/^param (forecast\w+) = (\d+)$/gm)].map(([, param = '', value = '']) => [
        param.replace(/[A-Z]/g, (letter) => `_${letter}`).toUpperCase(),
        value,
      ]),
    );
    expect(Object.keys(deployed)).toEqual(expect.arrayContaining(['FORECAST_REFRESH_MINUTES', 'FORECAST_CYCLE_MINUTES']));
    expect(() => loadConfig({ ...local, ...deployed })).not.toThrow();
  });
});
