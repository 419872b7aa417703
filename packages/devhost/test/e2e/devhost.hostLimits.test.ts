import type { DevhostProcess } from '../support/devhostProcess';
import { startFixtureApp, type RunningFixtureApp } from '../support/fixtureApps';

/**
 * host.json functionTimeout and logging.logLevel in an app run with `devhost --app DIR` (test/fixtures/apps/limits,
 * which has no local.settings.json), copied into test-artifacts/ first.
 */
describe('the devhost applies host.json functionTimeout and logging.logLevel', () => {
  let app: RunningFixtureApp;
  let devhost: DevhostProcess;

  beforeAll(async () => {
    app = await startFixtureApp('limits');
    ({ devhost } = app);
  });
  afterAll(() => app.stop());

  it('fails an invocation that outlives functionTimeout with the host message, and serves the next', async () => {
    const started = Date.now();
    const slow = await fetch(`${devhost.url}/api/slow`);
    expect(slow.status).toBe(500);
    expect(Date.now() - started).toBeLessThan(2500);
    expect(devhost.output()).toMatch(/Timeout value of 00:00:01 exceeded by function 'Functions\.slow'/);
    expect(await (await fetch(`${devhost.url}/api/quick`)).text()).toBe('on time');
  });

  it("writes a function's own lines by its category's level", async () => {
    await fetch(`${devhost.url}/api/quiet`);
    await fetch(`${devhost.url}/api/loud`);
    const output = devhost.output();
    expect(output).toContain('chatter-warning');
    expect(output).not.toContain('chatter-info');
    expect(output).toContain('loud-info');
  });
});
