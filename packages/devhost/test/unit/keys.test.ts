import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isAuthorised, loadOrCreateKeys } from '../../src/http/keys';

describe('devhost keys', () => {
  it('generates keys once, keeps them in keys.json and reuses them', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'keys-')), 'keys.json');
    const first = loadOrCreateKeys(file, {});
    expect(first.functionKey).not.toBe(first.masterKey);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(first);
    expect(loadOrCreateKeys(file, {})).toEqual(first);
  });

  it('takes keys from DEVHOST_FUNCTION_KEY and DEVHOST_MASTER_KEY', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'keys-')), 'keys.json');
    expect(loadOrCreateKeys(file, { DEVHOST_FUNCTION_KEY: 'f', DEVHOST_MASTER_KEY: 'm' })).toEqual({ functionKey: 'f', masterKey: 'm' });
  });

  it('function routes take either key, admin routes only the master key, anonymous none', () => {
    const keys = { functionKey: 'function-key', masterKey: 'master-key' };
    expect(isAuthorised('function', 'function-key', keys)).toBe(true);
    expect(isAuthorised('function', 'master-key', keys)).toBe(true);
    expect(isAuthorised('function', undefined, keys)).toBe(false);
    expect(isAuthorised('function', 'function-kez', keys)).toBe(false);
    expect(isAuthorised('admin', 'function-key', keys)).toBe(false);
    expect(isAuthorised('admin', 'master-key', keys)).toBe(true);
    expect(isAuthorised('anonymous', undefined, keys)).toBe(true);
  });
});
