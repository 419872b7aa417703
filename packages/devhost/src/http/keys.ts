import { randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export interface HostKeys {
  readonly functionKey: string;
  readonly masterKey: string;
}

export type AuthLevel = 'anonymous' | 'function' | 'admin';

/**
 * The devhost's keys: from DEVHOST_FUNCTION_KEY / DEVHOST_MASTER_KEY when set, else the ones kept in
 * `.devhost/keys.json`, else new random ones written there (so they survive restarts).
 */
export function loadOrCreateKeys(file: string, env: Readonly<Record<string, string | undefined>>): HostKeys {
  const stored = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Partial<HostKeys>) : {};
  const keys: HostKeys = {
    functionKey: env.DEVHOST_FUNCTION_KEY ?? stored.functionKey ?? newKey(),
    masterKey: env.DEVHOST_MASTER_KEY ?? stored.masterKey ?? newKey(),
  };
  if (keys.functionKey === keys.masterKey) throw new Error('The function key and the master key must differ.');
  if (stored.functionKey !== keys.functionKey || stored.masterKey !== keys.masterKey) {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, `${JSON.stringify(keys, null, 2)}\n`, { mode: 0o600 });
  }
  return keys;
}

function newKey(): string {
  return randomBytes(30).toString('base64url');
}

/**
 * Whether a presented key satisfies an auth level, as the host decides it: `function` takes a function
 * key or the master key, `admin` only the master key.
 */
export function isAuthorised(level: AuthLevel, presented: string | undefined, keys: HostKeys): boolean {
  if (level === 'anonymous') return true;
  if (presented === undefined) return false;
  if (sameSecret(presented, keys.masterKey)) return true;
  return level === 'function' && sameSecret(presented, keys.functionKey);
}

function sameSecret(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
