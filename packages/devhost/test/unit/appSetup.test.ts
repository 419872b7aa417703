import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadAppSetup } from '../../src/appSetup';
import { consoleLogger } from '../../src/logger';

describe("the devhost finds an app's set-up hook through package.json", () => {
  const apps: string[] = [];
  const app = (packageJson: unknown, files: Record<string, string> = {}): string => {
    const dir = mkdtempSync(join(tmpdir(), 'devhost-appsetup-'));
    apps.push(dir);
    writeFileSync(join(dir, 'package.json'), JSON.stringify(packageJson));
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
    return dir;
  };
  afterAll(() => {
    for (const dir of apps) rmSync(dir, { recursive: true, force: true });
  });

  it('has none when package.json names none (any Functions app runs without one)', () => {
    expect(loadAppSetup(app({ name: 'plain', main: 'index.js' }))).toBeUndefined();
  });

  it('loads the named module and calls its setup', async () => {
    const dir = app(
      { devhost: { setup: 'setup.js' } },
      { 'setup.js': 'exports.setup = async (context) => ({ settings: { SEEN: String(context.offline) }, summary: "ok" });' },
    );
    const setup = loadAppSetup(dir);
    expect(setup).toBeDefined();
    await expect(
      setup?.({ appRoot: dir, dataDir: dir, offline: true, settings: {}, logger: consoleLogger({ quiet: true }) }),
    ).resolves.toEqual({ settings: { SEEN: 'true' }, summary: 'ok' });
  });

  it('refuses, naming the problem, a setting that is not a module name, a missing module, or one without setup', () => {
    expect(() => loadAppSetup(app({ devhost: { setup: 42 } }))).toThrow(/"devhost.setup" must name a module/);
    expect(() => loadAppSetup(app({ devhost: { setup: 'dist/missing.js' } }))).toThrow(
      /dist\/missing.js, which does not exist \(is the app built\?\)/,
    );
    expect(() => loadAppSetup(app({ devhost: { setup: 'other.js' } }, { 'other.js': 'exports.start = () => {};' }))).toThrow(
      /does not export a function named setup/,
    );
  });
});
