import { join } from 'node:path';
import { startDevhostProcess, type DevhostProcess } from '../support/devhostProcess';

// The devhost package's sample orchestrations, compiled beside the app's fixtures (tsconfig.build.json).
const orchestrations = join(__dirname, '..', '..', 'dist', 'packages', 'devhost', 'test', 'fixtures', 'orchestrations.js');

describe('the devhost runs Durable Functions through the real durable client', () => {
  let devhost: DevhostProcess;
  beforeAll(async () => {
    devhost = await startDevhostProcess({ extraModules: [orchestrations] });
  });
  afterAll(async () => {
    await devhost.stop();
  });

  it('starts a fan-out/fan-in orchestration from an HTTP function and reports it completed, without leaking the master key', async () => {
    const started = await fetch(`${devhost.url}/api/durable/start/fanOutFanIn/e2e-fan-out`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ count: 10 }),
    });
    expect(started.status).toBe(202);
    const links = await started.text();
    expect(links).not.toContain(devhost.keys.masterKey);
    let status: { runtimeStatus?: string; output?: unknown } = {};
    for (let tries = 0; tries < 100 && status.runtimeStatus !== 'Completed'; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      status = (await (await fetch(`${devhost.url}/api/durable/status/e2e-fan-out`)).json()) as typeof status;
    }
    expect(status.runtimeStatus).toBe('Completed');
    expect(status.output).toBe(90);
  });
});
