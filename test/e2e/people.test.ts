import { startDevhostProcess, type DevhostProcess } from '../support/devhostProcess';
import { principalHeader, person } from '../support/callers';

/**
 * People, not shared keys, end to end through the devhost and its emulated App Service
 * Authentication: sessions come from the local sign-in form, exactly as a browser gets them.
 */
describe('people sign in; editors are approved by admins; places have owners and revisions', () => {
  let devhost: DevhostProcess;
  beforeAll(async () => {
    devhost = await startDevhostProcess();
  });
  afterAll(async () => {
    await devhost.stop();
  });

  /** Signs in through the devhost's sign-in form and returns the session cookie. */
  async function signIn(userId: string, name: string, roles = ''): Promise<string> {
    const answer = await fetch(`${devhost.url}/.auth/login/aad/callback`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ userId, userDetails: name, roles, post_login_redirect_uri: '/editor' }).toString(),
      redirect: 'manual',
    });
    expect(answer.status).toBe(302);
    const cookie = answer.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^AppServiceAuthSession=[^;]+;.*HttpOnly/i);
    return cookie.split(';')[0] ?? '';
  }

  const api = async (method: string, path: string, who: Record<string, string>, body?: unknown, headers: Record<string, string> = {}) => {
    const answer = await fetch(`${devhost.url}${path}`, {
      method,
      headers: { ...who, ...(body !== undefined && { 'content-type': 'application/json' }), ...headers },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    const text = await answer.text();
    return {
      status: answer.status,
      type: answer.headers.get('content-type'),
      etag: answer.headers.get('etag'),
      body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
    };
  };
  const session = (cookie: string) => ({ cookie });

  async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 30_000): Promise<T> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const value = await read();
      if (done(value) || Date.now() > until) return value;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  it('from asking for editor access to a change parents see only once an admin approves it', async () => {
    const ann = session(await signIn('ann-oid', 'Ann'));
    const bob = session(await signIn('bob-oid', 'Bob'));
    const root = session(await signIn('root-oid', 'Root', 'admin'));

    expect((await api('GET', '/api/me', ann)).body).toEqual({
      userId: 'ann-oid',
      name: 'Ann',
      roles: [],
      isAdmin: false,
      editorStatus: 'none',
    });
    expect((await api('GET', '/api/me', root)).body).toMatchObject({ roles: ['admin'], isAdmin: true });
    const notYet = await api('POST', '/api/places', ann, {
      name: 'Castlefield Play Barn',
      geolocation: { latitude: 53.4746, longitude: -2.2562 },
    });
    expect({ status: notYet.status, type: notYet.type }).toEqual({ status: 403, type: 'application/problem+json' });

    for (const who of [ann, bob])
      expect((await api('POST', '/api/editor-access', who, { reason: 'I run a toddler group' })).status).toBe(202);
    expect((await api('POST', '/api/editors/ann-oid/approve', bob, {})).status).toBe(403);
    const pending = await eventually(
      () => api('GET', '/api/manage/editors?status=pending', root),
      (answer) => (answer.body.editors as unknown[] | undefined)?.length === 2,
    );
    expect((pending.body.editors as { userId: string }[]).map((editor) => editor.userId).sort()).toEqual(['ann-oid', 'bob-oid']);
    for (const userId of ['ann-oid', 'bob-oid'])
      expect((await api('POST', `/api/editors/${userId}/approve`, root, {})).body).toEqual({ userId, status: 'approved' });
    expect((await api('GET', '/api/me', ann)).body).toMatchObject({ editorStatus: 'approved' });

    const proposed = await api('POST', '/api/places', ann, {
      name: 'Castlefield Play Barn',
      geolocation: { latitude: 53.4746, longitude: -2.2562 },
      kind: 'indoor',
      description: 'Soft play under the arches.',
    });
    expect(proposed.status).toBe(202);
    const placeId = proposed.body.placeId as string;
    const mine = await eventually(
      () => api('GET', '/api/manage/places?mine=true', ann),
      (answer) => (answer.body.results as { status: string }[] | undefined)?.[0]?.status === 'locationValidated',
    );
    expect(mine.body.results).toEqual([
      expect.objectContaining({ placeId, owner: { id: 'ann-oid', name: 'Ann' }, status: 'locationValidated' }),
    ]);
    expect((await api('GET', '/api/manage/places?mine=true', bob)).body.results).toEqual([]);
    expect((await api('GET', '/api/manage/places?status=locationValidated', ann)).status).toBe(403);
    expect((await api('POST', `/api/places/${placeId}/approve`, root, {})).status).toBe(200);

    // A second editor may not change Ann's place; Ann's own change waits for an admin.
    const current = await eventually(
      () => api('GET', `/api/manage/places/${placeId}`, ann),
      (answer) => answer.body.status === 'approved',
    );
    const ifMatch = current.etag ?? '';
    const byBob = await api('PATCH', `/api/places/${placeId}`, bob, { description: 'Mine now.' }, { 'if-match': ifMatch });
    expect({ status: byBob.status, type: byBob.type, problem: byBob.body.type }).toEqual({
      status: 403,
      type: 'application/problem+json',
      problem: 'https://visitplannr.example/problems/forbidden',
    });
    expect((await api('GET', `/api/manage/places/${placeId}`, bob)).status).toBe(403);
    const byAnn = await api('PATCH', `/api/places/${placeId}`, ann, { description: 'Soft play and a sand pit.' }, { 'if-match': ifMatch });
    expect(byAnn).toMatchObject({ status: 202, body: { placeId, status: 'approved', pendingRevision: 1 } });

    const waiting = await eventually(
      () => api('GET', '/api/manage/places?status=revisionPending', root),
      (answer) => (answer.body.results as unknown[] | undefined)?.length === 1,
    );
    expect(waiting.body.results).toEqual([
      expect.objectContaining({
        placeId,
        pendingRevision: expect.objectContaining({ revision: 1, changes: { description: 'Soft play and a sand pit.' } }),
      }),
    ]);
    const parentsSee = async () => (await api('GET', `/api/places/${placeId}`, {})).body;
    expect(await parentsSee()).toMatchObject({ description: 'Soft play under the arches.' });
    expect(await parentsSee()).not.toHaveProperty('pendingRevision');
    expect(await parentsSee()).not.toHaveProperty('owner');

    expect((await api('POST', `/api/places/${placeId}/revisions/1/approve`, ann, {})).status).toBe(403);
    expect((await api('POST', `/api/places/${placeId}/revisions/1/approve`, root, {})).status).toBe(200);
    const after = await eventually(parentsSee, (place) => place.description === 'Soft play and a sand pit.');
    expect(after).toMatchObject({ description: 'Soft play and a sand pit.' });
    const history = (await api('GET', `/api/manage/places/${placeId}`, root)).body.history as {
      type: string;
      actor: { name: string } | null;
    }[];
    expect(history.map((entry) => `${entry.type} ${entry.actor?.name ?? '(the app)'}`)).toEqual([
      'PlaceProposed Ann',
      'PlaceLocationValidated (the app)',
      'PlaceApproved Root',
      'PlaceRevisionProposed Ann',
      'PlaceRevisionApproved Root',
    ]);
  });

  it('scopes an Idempotency-Key to its caller and refuses one key with different bodies sent at the same moment', async () => {
    const root = session(await signIn('root-oid', 'Root', 'admin'));
    const key = `e2e-${Date.now()}`;
    const place = (name: string) => ({ name, geolocation: { latitude: 53.4808, longitude: -2.2426 } });
    const together = await Promise.all(
      Array.from({ length: 6 }, (_, i) => api('POST', '/api/places', root, place(`Piccadilly Gardens ${i}`), { 'idempotency-key': key })),
    );
    expect(together.map((answer) => answer.status).sort()).toEqual([202, 422, 422, 422, 422, 422]);
    const again = await api('POST', '/api/places', root, place(`Piccadilly Gardens ${together.findIndex((a) => a.status === 202)}`), {
      'idempotency-key': key,
    });
    expect(again).toMatchObject({ status: 202, body: { placeId: together.find((answer) => answer.status === 202)?.body.placeId } });
    // Another person with the same key proposes a place of their own.
    const other = session(await signIn('root2-oid', 'Second admin', 'admin'));
    const byOther = await api('POST', '/api/places', other, place(`Piccadilly Gardens ${together.findIndex((a) => a.status === 202)}`), {
      'idempotency-key': key,
    });
    expect(byOther.status).toBe(202);
    expect(byOther.body.placeId).not.toBe(again.body.placeId);
    const byScript = await api('POST', '/api/places', { 'x-functions-key': devhost.keys.functionKey }, place('Piccadilly Gardens 0'), {
      'idempotency-key': key,
    });
    expect(byScript.status).toBe(202);
    expect(byScript.body.placeId).not.toBe(again.body.placeId);
  });

  it('ignores an x-ms-client-principal a client sends itself: the devhost strips it, as the platform does', async () => {
    const forged = { 'x-ms-client-principal': principalHeader(person('mallory', 'Mallory', ['admin'])) };
    const me = await api('GET', '/api/me', forged);
    expect({ status: me.status, type: me.type }).toEqual({ status: 401, type: 'application/problem+json' });
    expect((await api('GET', '/api/manage/editors', forged)).status).toBe(401);
  });

  it('keeps keys for machines: the master key moderates, a function key proposes, a wrong key is 401, and the master key is in no answer', async () => {
    const script = { 'x-functions-key': devhost.keys.functionKey };
    const proposed = await api('POST', '/api/places', script, {
      name: 'Heaton Park',
      geolocation: { latitude: 53.5349, longitude: -2.2562 },
    });
    expect(proposed.status).toBe(202);
    const placeId = proposed.body.placeId as string;
    await eventually(
      () => api('GET', `/api/manage/places/${placeId}`, script),
      (answer) => answer.body.status === 'locationValidated',
    );
    expect((await api('POST', `/api/places/${placeId}/approve`, script, {})).status).toBe(403);
    const approved = await api('POST', `/api/places/${placeId}/approve`, { 'x-functions-key': devhost.keys.masterKey }, {});
    expect(approved.status).toBe(200);
    expect((await api('GET', '/api/manage/editors', { 'x-functions-key': devhost.keys.masterKey })).status).toBe(200);
    expect((await api('GET', '/api/me', { 'x-functions-key': 'not-a-key' })).status).toBe(401);
    const history = await api('GET', `/api/manage/places/${placeId}`, script);
    const text = JSON.stringify(history.body);
    expect(text).toContain('key:master');
    expect(text).not.toContain(devhost.keys.masterKey);
    expect(text).not.toContain(devhost.keys.functionKey);
  });
});
