import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../shared/platform/config';

const root = join(__dirname, '..', '..');
const example = JSON.parse(readFileSync(join(root, 'local.settings.example.json'), 'utf8')) as { Values: Record<string, string> };
const architecture = [
  'AzureWebJobsStorage',
  'FUNCTIONS_WORKER_RUNTIME',
  'COSMOS_CONNECTION',
  'COSMOS_DATABASE',
  'EVENTGRID_TOPIC_ENDPOINT',
  'EVENTGRID_TOPIC_KEY',
  'WEATHER_PROVIDER',
  'WEATHER_BASE_URL',
  'MET_OFFICE_API_KEY',
  'FORECAST_REFRESH_MINUTES',
  'FORECAST_DAILY_CALL_BUDGET',
  'REGION_PRECISION',
  'GEOCODER_BASE_URL',
];

describe('local.settings.example.json', () => {
  it('lists every setting named in the architecture', () => {
    expect(Object.keys(example.Values)).toEqual(expect.arrayContaining(architecture));
  });

  it('is a valid configuration as it stands', () => {
    expect(() => loadConfig(example.Values)).not.toThrow();
  });

  it('names the durable task hub setting host.json refers to', () => {
    const host = JSON.parse(readFileSync(join(root, 'host.json'), 'utf8')) as { extensions: { durableTask: { hubName: string } } };
    const setting = /^%(\w+)%$/.exec(host.extensions.durableTask.hubName)?.[1];
    expect(setting && example.Values[setting]).toBeTruthy();
  });
});
