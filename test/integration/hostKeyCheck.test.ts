import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HostKeyCheck, KEY_CHECK_ROUTES, KeyCheckUnavailableError } from '../../shared/platform/adapters/hostKeyCheck';
import { isDependencyUnavailable } from '../../shared/platform/http/unavailable';

/** A stand-in for the Functions host's key check: 204 at a key's level, 401 otherwise (or whatever `answer` says). */
const revoked = new Set<string>();

function fakeHost(answer?: () => number | undefined): Promise<{ url: string; calls: string[]; server: Server }> {
  const calls: string[] = [];
  const server = createServer((request, response) => {
    const given = request.headers['x-functions-key'];
    const key = typeof given === 'string' && revoked.has(given) ? undefined : given;
    calls.push(`${request.url} ${String(given)}`);
    const status =
      answer?.() ??
      (request.url === `/${KEY_CHECK_ROUTES.admin}` ? (key === 'master' ? 204 : 401) : key === 'master' || key === 'fn' ? 204 : 401);
    response.writeHead(status).end();
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, calls, server })),
  );
}

describe('HostKeyCheck: the host says which level a key has', () => {
  it('tells the master key, a function key and an unknown key apart, and remembers each answer for a minute', async () => {
    const host = await fakeHost();
    let now = 0;
    try {
      const check = new HostKeyCheck(host.url, () => now);
      expect(await check.levelOf('master')).toBe('admin');
      expect(await check.levelOf('fn')).toBe('function');
      expect(await check.levelOf('guess')).toBeUndefined();
      const asked = host.calls.length;
      expect(await Promise.all([check.levelOf('fn'), check.levelOf('guess'), check.levelOf('master')])).toEqual([
        'function',
        undefined,
        'admin',
      ]);
      expect(host.calls).toHaveLength(asked);
      // Revoked in the host: still remembered within the minute; after it, the last answer stands while the
      // host is asked again in the background, and the key is refused once the host has answered.
      revoked.add('fn');
      expect(await check.levelOf('fn')).toBe('function');
      now += 61_000;
      expect(await check.levelOf('fn')).toBe('function');
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(host.calls.length).toBeGreaterThan(asked);
      expect(await check.levelOf('fn')).toBeUndefined();
      // Five minutes past its minute a key is not taken on trust any more: its request waits for the host.
      revoked.clear();
      now += 61_000;
      expect(await check.levelOf('fn')).toBe('function');
      now += 61_000 + 5 * 60_000;
      revoked.add('fn');
      expect(await check.levelOf('fn')).toBeUndefined();
    } finally {
      revoked.clear();
      host.server.close();
    }
  });

  it('asks once for many requests with one new key at the same moment', async () => {
    const host = await fakeHost();
    try {
      const check = new HostKeyCheck(host.url);
      expect(new Set(await Promise.all(Array.from({ length: 20 }, () => check.levelOf('fn'))))).toEqual(new Set(['function']));
      expect(host.calls).toHaveLength(2);
    } finally {
      host.server.close();
    }
  });

  it.each([429, 500, 403])(
    'a host that answers %i says nothing about the key: the request is unavailable (503), not refused',
    async (status) => {
      const busy = await fakeHost(() => status);
      try {
        const error = await new HostKeyCheck(busy.url).levelOf('fn').catch((caught: unknown) => caught);
        expect(error).toBeInstanceOf(KeyCheckUnavailableError);
        expect(isDependencyUnavailable(error)).toBe(true);
      } finally {
        busy.server.close();
      }
    },
  );

  it('never follows a redirect with the key (a sign-in page or a front door): unavailable, not refused', async () => {
    let followed = 0;
    const elsewhere = createServer((_request, response) => {
      followed++;
      response.writeHead(204).end();
    });
    await new Promise<void>((resolve) => elsewhere.listen(0, '127.0.0.1', resolve));
    const target = `http://127.0.0.1:${(elsewhere.address() as AddressInfo).port}/`;
    const redirecting = createServer((_request, response) => response.writeHead(302, { location: target }).end());
    await new Promise<void>((resolve) => redirecting.listen(0, '127.0.0.1', resolve));
    try {
      const error = await new HostKeyCheck(`http://127.0.0.1:${(redirecting.address() as AddressInfo).port}`)
        .levelOf('master')
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(KeyCheckUnavailableError);
      expect(followed).toBe(0);
    } finally {
      redirecting.close();
      elsewhere.close();
    }
  });

  it('a key accepted a minute ago still opens the app while the host cannot answer its re-check, or while made-up keys fill every check', async () => {
    let failing = false;
    const host = await fakeHost(() => (failing ? 503 : undefined));
    let now = 0;
    try {
      const check = new HostKeyCheck(host.url, () => now);
      expect(await check.levelOf('fn')).toBe('function');
      now += 61_000;
      failing = true;
      expect(await check.levelOf('fn')).toBe('function');
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(await check.levelOf('fn')).toBe('function');
      failing = false;
      // Sixteen made-up keys hold every check slot: the known key does not need one.
      const flood = Array.from({ length: 16 }, (_, i) => check.levelOf(`flood-${i}`).catch(() => undefined));
      expect(await check.levelOf('fn')).toBe('function');
      await Promise.all(flood);
    } finally {
      host.server.close();
    }
  });

  it('does not ask a host that could not answer again for every request of a busy script: once, then after a few seconds', async () => {
    let failing = false;
    const host = await fakeHost(() => (failing ? 429 : undefined));
    let now = 0;
    try {
      const check = new HostKeyCheck(host.url, () => now);
      expect(await check.levelOf('fn')).toBe('function');
      const asked = host.calls.length;
      now += 61_000;
      failing = true;
      for (let i = 0; i < 20; i++) {
        expect(await check.levelOf('fn')).toBe('function');
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      expect(host.calls.length - asked).toBe(1);
      now += 6_000;
      expect(await check.levelOf('fn')).toBe('function');
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(host.calls.length - asked).toBe(2);
    } finally {
      host.server.close();
    }
  });

  it('keeps the keys it accepted however many made-up keys it refuses, and checks only so many new keys at once', async () => {
    const host = await fakeHost();
    try {
      const check = new HostKeyCheck(host.url);
      expect(await check.levelOf('fn')).toBe('function');
      for (let i = 0; i < 1_100; i += 50) await Promise.all(Array.from({ length: 10 }, (_, j) => check.levelOf(`made-up-${i + j}`)));
      const asked = host.calls.length;
      expect(await check.levelOf('fn')).toBe('function');
      expect(host.calls).toHaveLength(asked);
      const burst = await Promise.allSettled(Array.from({ length: 40 }, (_, i) => check.levelOf(`burst-${i}`)));
      expect(burst.filter((outcome) => outcome.status === 'rejected').length).toBeGreaterThan(0);
      for (const outcome of burst) if (outcome.status === 'rejected') expect(outcome.reason).toBeInstanceOf(KeyCheckUnavailableError);
    } finally {
      host.server.close();
    }
  });

  it('an unreachable host makes the request unavailable (503), not refused', async () => {
    const error = await new HostKeyCheck('http://127.0.0.1:9').levelOf('fn').catch((caught: unknown) => caught);
    expect(isDependencyUnavailable(error)).toBe(true);
  });
});
