import { cpSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { startDevhostProcess, type DevhostProcess } from '../support/devhostProcess';

/**
 * host.json functionTimeout and logging.logLevel in an app run with `devhost --app DIR` (test/fixtures/apps/limits,
 * which has no local.settings.json), copied into test-artifacts/ first.
 */
describe('the devhost applies host.json functionTimeout and logging.logLevel', () => {
  const fixture = join(__dirname, '..', 'fixtures', 'apps', 'limits');
  const appDir = join(__dirname, '..', '..', 'test-artifacts', 'apps', `limits-${process.pid}`);
  let devhost: DevhostProcess;

  beforeAll(async () => {
    cpSync(fixture, appDir, { recursive: true });
    devhost = await startDevhostProcess({ args: ['--app', appDir] });
  });

  afterAll(async () => {
    await devhost.stop();
    rmSync(appDir, { recursive: true, force: true });
  });

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
