import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startDevhostProcess, type DevhostProcess } from '../support/devhostProcess';

/** host.json functionTimeout and logging.logLevel in an app run with `devhost --app DIR`. */
describe('the devhost applies host.json functionTimeout and logging.logLevel', () => {
  const appDir = join(__dirname, '..', '..', 'test-artifacts', 'apps', `limits-${process.pid}`);
  let devhost: DevhostProcess;

  beforeAll(async () => {
    mkdirSync(appDir, { recursive: true });
    writeFileSync(join(appDir, 'package.json'), JSON.stringify({ name: 'limits-app', main: 'index.js' }));
    writeFileSync(
      join(appDir, 'host.json'),
      JSON.stringify({
        version: '2.0',
        functionTimeout: '00:00:01',
        logging: { logLevel: { default: 'Information', 'Function.quiet.User': 'Warning' } },
      }),
    );
    writeFileSync(
      join(appDir, 'index.js'),
      [
        "const { app } = require('@azure/functions');",
        "app.http('slow', { methods: ['GET'], authLevel: 'anonymous', handler: async () => { await new Promise((r) => setTimeout(r, 3000)); return { body: 'late' }; } });",
        "app.http('quick', { methods: ['GET'], authLevel: 'anonymous', handler: async () => ({ body: 'on time' }) });",
        "app.http('quiet', { methods: ['GET'], authLevel: 'anonymous', handler: async (request, context) => { context.log('chatter-info'); context.warn('chatter-warning'); return { body: 'ok' }; } });",
        "app.http('loud', { methods: ['GET'], authLevel: 'anonymous', handler: async (request, context) => { context.log('loud-info'); return { body: 'ok' }; } });",
      ].join('\n'),
    );
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
