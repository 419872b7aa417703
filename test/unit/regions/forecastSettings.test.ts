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
});
