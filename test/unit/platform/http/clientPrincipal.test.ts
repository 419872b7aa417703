import { HttpRequest } from '@azure/functions';
import { parseClientPrincipal } from '../../../../shared/platform/http/clientPrincipal';
import { callerOf, requireAdmin, requirePerson } from '../../../../shared/platform/http/authenticate';
import { HttpProblem } from '../../../../shared/platform/http/problem';
import { ForbiddenError } from '../../../../shared/kernel/errors';
import { fixedMachineKeys, TEST_KEYS, testAccess } from '../../../support/callers';
import { randomUUID } from 'node:crypto';
import { meHandler } from '../../../../handlers/me.http';
import { InMemoryEventStore } from '../../../../shared/platform/eventSourcing/adapters/inMemoryEventStore';
import { call } from '../../../support/http';

const base64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64');

/**
 * A principal as App Service Authentication sends it for a Microsoft Entra ID user with an app role
 * (shape and claim names as Microsoft's "Work with user identities" documents and real deployments show:
 * app roles arrive as `roles` claims while role_typ names the long URI).
 */
const entraPrincipal = {
  auth_typ: 'aad',
  claims: [
    { typ: 'aud', val: '6f4ac1a8-7c0b-4c36-9b0e-0d7c2b1e4a11' },
    { typ: 'iss', val: 'https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0' },
    { typ: 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress', val: 'ann@contoso.com' },
    { typ: 'name', val: 'Ann Example' },
    { typ: 'http://schemas.microsoft.com/identity/claims/objectidentifier', val: '0b4e7c2a-3f1d-4e8b-9a6c-5d2f1e0b7c3a' },
    { typ: 'preferred_username', val: 'ann@contoso.com' },
    { typ: 'roles', val: 'admin' },
    { typ: 'http://schemas.microsoft.com/identity/claims/tenantid', val: '72f988bf-86f1-41af-91ab-2d7cd011db47' },
    { typ: 'ver', val: '2.0' },
  ],
  name_typ: 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress',
  role_typ: 'http://schemas.microsoft.com/ws/2008/06/identity/claims/role',
};

describe('x-ms-client-principal', () => {
  it('reads the Entra object id, the name its name_typ names, and the app roles', () => {
    expect(parseClientPrincipal(base64(entraPrincipal))).toEqual({
      kind: 'person',
      userId: '0b4e7c2a-3f1d-4e8b-9a6c-5d2f1e0b7c3a',
      name: 'ann@contoso.com',
      roles: ['admin'],
    });
  });

  it('takes roles under role_typ too, and the name from `name` when name_typ has no claim', () => {
    const principal = {
      auth_typ: 'aad',
      claims: [
        { typ: 'oid', val: 'bob-oid' },
        { typ: 'name', val: 'Bob' },
        { typ: 'http://schemas.microsoft.com/ws/2008/06/identity/claims/role', val: 'admin' },
        { typ: 'roles', val: 'admin' },
      ],
      name_typ: 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn',
      role_typ: 'http://schemas.microsoft.com/ws/2008/06/identity/claims/role',
    };
    expect(parseClientPrincipal(base64(principal))).toEqual({ kind: 'person', userId: 'bob-oid', name: 'Bob', roles: ['admin'] });
  });

  it.each([
    ['not base64 JSON', '%%%'],
    ['JSON that is not a principal', base64({ user: 'x' })],
    ['claims of the wrong shape', base64({ claims: [{ type: 'oid', value: 'x' }] })],
    ['no object id', base64({ claims: [{ typ: 'name', val: 'Ann' }] })],
    ['an object id with a slash', base64({ claims: [{ typ: 'oid', val: 'a/b' }] })],
    ['a JSON string', base64('"hello"')],
    ['an id that names a machine', base64({ claims: [{ typ: 'oid', val: 'key:master' }] })],
  ])('is 401 with a plain reason when it is %s, never a 5xx', (_what, header) => {
    expect(() => parseClientPrincipal(header)).toThrow(HttpProblem);
    try {
      parseClientPrincipal(header);
    } catch (error) {
      expect((error as HttpProblem).status).toBe(401);
      expect((error as HttpProblem).message).toMatch(/^The sign-in could not be read/);
    }
  });
});

describe('a malformed principal from the platform, through a handler', () => {
  it('is 401 problem+json naming no internals, never a 5xx, and writes nothing', async () => {
    const store = new InMemoryEventStore();
    const handler = meHandler({ eventStore: store, clock: () => new Date(), newId: randomUUID, ...testAccess });
    for (const header of ['%%%', base64({ claims: 'none' }), base64({ claims: [{ typ: 'name', val: 'No id' }] })]) {
      const answer = await call(handler, { path: '/api/me', headers: { 'x-ms-client-principal': header } });
      expect({ status: answer.status, type: answer.headers.get('content-type') }).toEqual({
        status: 401,
        type: 'application/problem+json',
      });
      expect(answer.text).not.toMatch(/at .*\.(js|ts):\d+|SyntaxError|ZodError/);
    }
    expect(store.allEvents()).toEqual([]);
  });
});

describe('who is calling', () => {
  const request = (headers: Record<string, string>, query = '') =>
    new HttpRequest({ method: 'GET', url: `http://localhost/api/me${query}`, headers });
  const on = { machineKeys: fixedMachineKeys, signInEnabled: true };
  const off = { machineKeys: fixedMachineKeys, signInEnabled: false };

  it('a signed-in person when sign-in is on; the header is not believed when it is off (nothing strips it then)', async () => {
    const headers = { 'x-ms-client-principal': base64(entraPrincipal) };
    expect(await callerOf(request(headers), on)).toMatchObject({ kind: 'person', roles: ['admin'] });
    expect(await callerOf(request(headers), off)).toBeUndefined();
  });

  it('a machine with a key the host knows, in the header or ?code=; a key it does not know is 401', async () => {
    expect(await callerOf(request({ 'x-functions-key': TEST_KEYS.function }), on)).toMatchObject({ kind: 'machine', level: 'function' });
    expect(await callerOf(request({}, `?code=${TEST_KEYS.master}`), on)).toEqual({ kind: 'machine', level: 'admin', keyName: 'master' });
    await expect(callerOf(request({ 'x-functions-key': 'guess' }), on)).rejects.toMatchObject({ status: 401 });
    expect(await callerOf(request({}), on)).toBeUndefined();
  });

  it('refuses a change from a person that is not sent as JSON (a form another site submits carries the cookie too)', async () => {
    const signedIn = { 'x-ms-client-principal': base64(entraPrincipal) };
    const post = (headers: Record<string, string>) =>
      new HttpRequest({ method: 'POST', url: 'http://localhost/api/editors/x/approve', headers });
    await expect(callerOf(post(signedIn), on)).rejects.toMatchObject({ status: 415 });
    await expect(callerOf(post({ ...signedIn, 'content-type': 'application/x-www-form-urlencoded' }), on)).rejects.toMatchObject({
      status: 415,
    });
    await expect(callerOf(post({ ...signedIn, 'content-type': 'application/json; charset=utf-8' }), on)).resolves.toMatchObject({
      kind: 'person',
    });
    // Machines send no cookie: their keys are not sent by browsers on their own.
    await expect(callerOf(post({ 'x-functions-key': TEST_KEYS.master }), on)).resolves.toMatchObject({ kind: 'machine' });
  });

  it('does not ask the host about a key that cannot be one (not printable ASCII, or too long): 401 at once', async () => {
    const asked: string[] = [];
    const spy = { signInEnabled: true, machineKeys: { levelOf: (key: string) => (asked.push(key), Promise.resolve(undefined)) } };
    for (const query of ['?code=%E2%82%AC', '?code=a%0Ab', `?code=${'k'.repeat(300)}`])
      await expect(callerOf(request({}, query), spy)).rejects.toMatchObject({ status: 401 });
    expect(asked).toEqual([]);
  });

  it('admins are people with the admin role or the master key; a person is needed where a key will not do', async () => {
    const ann = { 'x-ms-client-principal': base64({ ...entraPrincipal, claims: entraPrincipal.claims.filter((c) => c.typ !== 'roles') }) };
    await expect(requireAdmin(request(ann), on)).rejects.toThrow(ForbiddenError);
    await expect(requireAdmin(request({ 'x-functions-key': TEST_KEYS.function }), on)).rejects.toThrow(ForbiddenError);
    await expect(requireAdmin(request({ 'x-functions-key': TEST_KEYS.master }), on)).resolves.toMatchObject({ level: 'admin' });
    await expect(requirePerson(request({ 'x-functions-key': TEST_KEYS.master }), on)).rejects.toThrow(ForbiddenError);
    await expect(requirePerson(request({}), on)).rejects.toMatchObject({ status: 401 });
  });
});
