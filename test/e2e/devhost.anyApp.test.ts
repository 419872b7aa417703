import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startDevhostProcess, type DevhostProcess } from '../support/devhostProcess';

/**
 * `devhost --app DIR` runs a Functions app that is not Visit Plannr: one written for Core Tools, with
 * no set-up hook, whose settings name the local storage and the Cosmos DB emulator by their
 * well-known values under names of its own. Written inside the repository (test-artifacts/) so that
 * its `require('@azure/functions')` finds the repository's node_modules, as an app finds its own.
 */
const EMULATOR =
  'AccountEndpoint=https://localhost:8081/;AccountKey=C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU5DE2nQ9nDuVTqobD4b8mGGyPMbIZnqyMsEcaGQy67XIw/Jw==;';
const REAL = 'AccountEndpoint=https://real.documents.azure.com:443/;AccountKey=a2V5;';

describe('the devhost runs any Functions app (--app DIR)', () => {
  const appDir = join(__dirname, '..', '..', 'test-artifacts', 'apps', `plain-${process.pid}`);
  let devhost: DevhostProcess;

  beforeAll(async () => {
    mkdirSync(appDir, { recursive: true });
    writeFileSync(join(appDir, 'package.json'), JSON.stringify({ name: 'plain-functions-app', main: 'index.js' }));
    writeFileSync(join(appDir, 'host.json'), JSON.stringify({ version: '2.0' }));
    writeFileSync(
      join(appDir, 'local.settings.json'),
      JSON.stringify({
        IsEncrypted: false,
        Values: {
          FUNCTIONS_WORKER_RUNTIME: 'node',
          AzureWebJobsStorage: 'UseDevelopmentStorage=true',
          Orders: 'UseDevelopmentStorage=true',
          Catalogue: EMULATOR,
          Real: REAL,
        },
      }),
    );
    writeFileSync(
      join(appDir, 'index.js'),
      [
        "const { app } = require('@azure/functions');",
        "app.http('settings', {",
        "  methods: ['GET'],",
        "  authLevel: 'anonymous',",
        '  handler: async () => ({',
        '    jsonBody: { web: process.env.AzureWebJobsStorage, orders: process.env.Orders, catalogue: process.env.Catalogue, real: process.env.Real },',
        '  }),',
        '});',
        '',
      ].join('\n'),
    );
    devhost = await startDevhostProcess({ args: ['--app', appDir] });
  });
  afterAll(async () => {
    await devhost.stop();
    rmSync(appDir, { recursive: true, force: true });
  });

  it('serves its functions under its own routePrefix, with no set-up of its own and nothing of Visit Plannr', async () => {
    const answer = await fetch(`${devhost.url}/api/settings`);
    expect(answer.status).toBe(200);
    const output = devhost.output();
    expect(output).toMatch(/The Functions app is running at http:\/\/\S+/);
    expect(output).toMatch(/Functions: settings\n/);
    expect(output).not.toMatch(/^\s+app\s/m);
    expect(output).not.toMatch(/parents|Forecasts|Geocoding|visitplannr/i);
  });

  it("points the settings that name the local storage and the Cosmos DB emulator at the devhost's, and leaves a real account alone", async () => {
    const seen = (await (await fetch(`${devhost.url}/api/settings`)).json()) as Record<string, string>;
    expect(seen.web).toMatch(/^DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;.*127\.0\.0\.1/);
    expect(seen.orders).toBe(seen.web);
    const local = /Cosmos DB\s+local endpoint (http:\/\/\S+)/.exec(devhost.output())?.[1];
    expect(local).toBeDefined();
    expect(seen.catalogue).toContain(`AccountEndpoint=${local ?? ''}`);
    expect(seen.catalogue).not.toContain(':8081');
    expect(seen.real).toBe(REAL);
  });
});
