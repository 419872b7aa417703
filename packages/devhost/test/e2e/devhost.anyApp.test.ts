import { CosmosClient } from '@azure/cosmos';
import { cpSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { startDevhostProcess, type DevhostProcess, type DevhostProcessOptions } from '../support/devhostProcess';
import { fixtureAppCopy, startFixtureApp, type RunningFixtureApp } from '../support/fixtureApps';

/**
 * `devhost --app DIR` runs a Functions app that is not Visit Plannr: one written for Core Tools, with
 * no set-up hook, whose settings name the local storage and the Cosmos DB emulator by their
 * well-known values under names of its own (test/fixtures/apps/plain). Copied inside the repository
 * (test-artifacts/), where it writes its files, so that its `require('@azure/functions')` finds the
 * repository's node_modules, as an app finds its own.
 */
/** The real (not local) Cosmos DB account the fixture's local.settings.json names as `Real`. */
const REAL = 'AccountEndpoint=https://real.documents.azure.com:443/;AccountKey=a2V5;';

describe('the devhost runs any Functions app (--app DIR)', () => {
  let app: RunningFixtureApp;
  let devhost: DevhostProcess;
  let appDir: string;

  beforeAll(async () => {
    app = await startFixtureApp('plain');
    ({ devhost, appDir } = app);
  });
  afterAll(() => app.stop());

  it('serves its functions under its own routePrefix, with no set-up of its own and nothing of Visit Plannr', async () => {
    const answer = await fetch(`${devhost.url}/api/settings`);
    expect(answer.status).toBe(200);
    const output = devhost.output();
    expect(output).toMatch(/The Functions app is running at http:\/\/\S+/);
    expect(output).toMatch(/Functions: settings, echo, cookies, keyed, hooked\n/);
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
    // A client as apps make one, endpoint discovery on (the SDK's default): the locations the local
    // endpoint advertises are ones it serves (http://), so discovery keeps it there.
    const client = new CosmosClient(seen.catalogue ?? '');
    try {
      const { resources } = await client.databases.readAll().fetchAll();
      expect(Array.isArray(resources)).toBe(true);
      expect(await client.getWriteEndpoint()).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    } finally {
      client.dispose();
    }
    expect(seen.real).toBe(REAL);
  });

  it('prints the function key for scripts but never the master key (it opens the admin API and the durable webhooks)', () => {
    expect(devhost.output()).toContain(devhost.keys.functionKey);
    expect(devhost.output()).not.toContain(devhost.keys.masterKey);
  });

  it('gives the app WEBSITE_HOSTNAME, its own localhost:<port>, as Core Tools does', async () => {
    const seen = (await (await fetch(`${devhost.url}/api/settings`)).json()) as Record<string, string>;
    expect(seen.hostname).toBe(`localhost:${new URL(devhost.url).port}`);
  });

  it('emulates App Service Authentication by default, its secret kept beside the keys; --no-easy-auth leaves it out', async () => {
    expect(devhost.output()).toContain(`Sign-in: ${devhost.url}/.auth/login/aad`);
    expect((await fetch(`${devhost.url}/.auth/login/aad`)).status).toBe(200);
    expect(statSync(join(devhost.dataDir, 'auth.json')).mode & 0o777).toBe(0o600);
    // As App Service says to the app when its authentication is on (and says nothing when it is off).
    const settings = async (url: string) => (await (await fetch(`${url}/api/settings`)).json()) as Record<string, string | undefined>;
    expect((await settings(devhost.url)).authEnabled).toBe('True');
    const bare = await startDevhostProcess({ args: ['--app', appDir, '--no-easy-auth', '--quiet'] });
    try {
      expect((await fetch(`${bare.url}/.auth/login/aad`)).status).toBe(404);
      expect((await settings(bare.url)).authEnabled).toBeUndefined();
      expect(bare.output()).toMatch(/Sign-in: off \(--no-easy-auth\)/);
    } finally {
      await bare.stop();
    }
  });

  it('refuses --no-easy-auth while the settings say WEBSITE_AUTH_ENABLED=True: nothing would strip a forged principal', async () => {
    const refusal = (where: string) =>
      `WEBSITE_AUTH_ENABLED=True (set in ${where}) tells the app a platform strips client-sent x-ms-client-principal headers, ` +
      'but with --no-easy-auth nothing does; remove the setting or drop --no-easy-auth.';
    const bare = ['--no-easy-auth', '--quiet'];
    /** What start-up failed with; a devhost that starts after all is stopped, so that nothing is left running. */
    const failure = (options: DevhostProcessOptions) =>
      startDevhostProcess(options).then(
        async (started) => {
          await started.stop();
          return 'started';
        },
        (error: unknown) => (error instanceof Error ? error.message : String(error)),
      );
    expect(await failure({ args: ['--app', appDir, ...bare], env: { WEBSITE_AUTH_ENABLED: 'True' } })).toContain(
      refusal('the environment'),
    );

    const claimed = fixtureAppCopy('plain', 'plain-auth-enabled');
    cpSync(join(__dirname, '..', 'fixtures', 'apps', 'plain'), claimed, { recursive: true });
    try {
      const settingsFile = join(claimed, 'local.settings.json');
      const settings = JSON.parse(readFileSync(settingsFile, 'utf8')) as { Values: Record<string, string> };
      writeFileSync(settingsFile, JSON.stringify({ ...settings, Values: { ...settings.Values, WEBSITE_AUTH_ENABLED: 'True' } }));
      expect(await failure({ args: ['--app', claimed, ...bare] })).toContain(refusal('local.settings.json'));
      // The environment wins over local.settings.json, as for every setting: False there is a bare host the app knows for one.
      const told = await startDevhostProcess({ args: ['--app', claimed, ...bare], env: { WEBSITE_AUTH_ENABLED: 'False' } });
      try {
        expect(((await (await fetch(`${told.url}/api/settings`)).json()) as Record<string, string>).authEnabled).toBe('False');
      } finally {
        await told.stop();
      }
    } finally {
      rmSync(claimed, { recursive: true, force: true });
    }
  });

  it('gives a repeated query parameter as the host does (values joined by commas), and a GET no body', async () => {
    const seen = (await (await fetch(`${devhost.url}/api/echo?tag=a&tag=b&one=1`)).json()) as { query: Record<string, string> };
    expect(seen.query).toEqual({ tag: 'a,b', one: '1' });
    // A GET that carries a body anyway: the host does not pass it on (the library would refuse or discard it).
    const answer = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const call = request(`${devhost.url}/api/echo`, { method: 'GET', headers: { 'content-length': '5' } }, (response) => {
        let text = '';
        response.on('data', (chunk: Buffer) => (text += chunk.toString()));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, text }));
      });
      call.on('error', reject);
      call.end('hello');
    });
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.text)).toMatchObject({ method: 'GET', body: '' });
    expect(devhost.output()).not.toMatch(/Discarding the body/);
  });

  it("writes a function's response cookies as the host does (ASP.NET Core's Set-Cookie)", async () => {
    const answer = await fetch(`${devhost.url}/api/cookies`);
    expect(answer.headers.getSetCookie()).toEqual([
      'session%20id=a%20b%21; max-age=60; path=/; samesite=lax; httponly',
      'theme=dark; expires=Fri, 02 Jan 1970 00:00:00 GMT; path=/pages; secure; samesite=none',
      'plain=1; path=/',
    ]);
  });

  it('refuses a body over FUNCTIONS_REQUEST_BODY_SIZE_LIMIT with 413, and takes one within it', async () => {
    expect((await fetch(`${devhost.url}/api/echo`, { method: 'POST', body: 'x'.repeat(1001) })).status).toBe(413);
    const within = await fetch(`${devhost.url}/api/echo`, { method: 'POST', body: 'x'.repeat(1000) });
    expect(within.status).toBe(200);
    expect(((await within.json()) as { body: string }).body).toHaveLength(1000);
  });

  it('leaves a function that AzureWebJobs.<name>.Disabled turns off unserved, and says so', async () => {
    expect((await fetch(`${devhost.url}/api/hidden`)).status).toBe(404);
    expect(devhost.output()).toMatch(/Function 'hidden' is disabled \(AzureWebJobs\.hidden\.Disabled\)/);
    expect(devhost.output()).toMatch(/5 functions loaded, 1 disabled/);
  });

  it('checks function keys by default, as in Azure; --skip-key-checks serves every function as Core Tools does', async () => {
    expect((await fetch(`${devhost.url}/api/keyed`)).status).toBe(401);
    expect((await fetch(`${devhost.url}/api/keyed`, { headers: { 'x-functions-key': devhost.keys.functionKey } })).status).toBe(200);
    const open = await startDevhostProcess({ args: ['--app', appDir, '--skip-key-checks', '--quiet'] });
    try {
      expect((await fetch(`${open.url}/api/keyed`)).status).toBe(200);
    } finally {
      await open.stop();
    }
  });

  it('runs appStart, preInvocation, postInvocation and appTerminate hooks as the worker does', async () => {
    const seen = (await (await fetch(`${devhost.url}/api/hooked`)).json()) as Record<string, unknown>;
    // The handler got its own arguments through the hook's wrapper; post saw pre's hookData; appStart ran first.
    expect(seen).toEqual({ url: true, invocation: 'string', wrapped: true, pre: 'ran', started: true });
    // The hook logged through the function's context after it had returned: as under the worker, without the
    // library's warning about a log after the function completed.
    const hookLine = /hooked \([0-9a-f]{8}\) information: postInvocation hook ran/;
    for (const deadline = Date.now() + 5000; !hookLine.test(devhost.output()) && Date.now() < deadline;)
      await new Promise((resolve) => setTimeout(resolve, 20));
    expect(devhost.output()).toMatch(hookLine);
    expect(devhost.output()).not.toMatch(/Unexpected call to 'log'/);
    const terminated = join(appDir, 'terminated.json');
    const own = await startDevhostProcess({ args: ['--app', appDir, '--quiet'] });
    rmSync(terminated, { force: true });
    expect(await own.stop()).toBe(0);
    expect(JSON.parse(readFileSync(terminated, 'utf8'))).toEqual({ fromStart: 'kept for appTerminate' });
  });
});
