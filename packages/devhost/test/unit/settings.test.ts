import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readLocalSettings, readRoutePrefix, websiteHostname } from '../../src/settings';

describe('the devhost reads host.json as the host does', () => {
  const withHostJson = (host: unknown): string => {
    const dir = mkdtempSync(join(tmpdir(), 'devhost-settings-'));
    writeFileSync(join(dir, 'host.json'), JSON.stringify(host));
    return dir;
  };

  it('keeps an empty routePrefix empty (the site at the root), and defaults a missing one to "api"', () => {
    const empty = withHostJson({ version: '2.0', extensions: { http: { routePrefix: '' } } });
    const missing = withHostJson({ version: '2.0' });
    try {
      expect(readRoutePrefix(empty)).toBe('');
      expect(readRoutePrefix(missing)).toBe('api');
    } finally {
      rmSync(empty, { recursive: true });
      rmSync(missing, { recursive: true });
    }
  });

  it('runs an app with no local.settings.json (nor an example) with no settings, as func start does', () => {
    const dir = withHostJson({ version: '2.0' });
    try {
      expect(readLocalSettings(dir)).toEqual({ file: undefined, values: {}, corsOrigins: [] });
    } finally {
      rmSync(dir, { recursive: true });
    }
  });
});

describe('the devhost gives the app WEBSITE_HOSTNAME as Core Tools does', () => {
  it('is its own localhost:<port>, unless a setting names one', () => {
    expect(websiteHostname({}, 7071)).toBe('localhost:7071');
    expect(websiteHostname({ WEBSITE_HOSTNAME: '' }, 7071)).toBe('localhost:7071');
    expect(websiteHostname({ WEBSITE_HOSTNAME: 'plannr.azurewebsites.net' }, 7071)).toBeUndefined();
  });
});
