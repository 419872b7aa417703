import type { Caller, Machine, Person } from '../../shared/kernel/caller';
import type { AccessDeps } from '../../shared/platform/http/authenticate';
import type { MachineKeyCheck } from '../../shared/platform/http/machineKeys';
import type { Editor, EditorAccess } from '../../shared/places/application/placeCommands';

/** The keys the handlers' tests present, as the host would know them. */
export const TEST_KEYS = { function: 'function-key-for-tests', master: 'master-key-for-tests' } as const;

export const fixedMachineKeys: MachineKeyCheck = {
  levelOf: (key) => Promise.resolve(key === TEST_KEYS.master ? 'admin' : key === TEST_KEYS.function ? 'function' : undefined),
};

/** What the handlers need to tell callers apart in tests: the keys above, and sign-in on. */
export const testAccess: AccessDeps = { machineKeys: fixedMachineKeys, signInEnabled: true };

/** Every person asking is an approved editor (the editors' own tests cover approval). */
export const everyoneApproved: EditorAccess = { isApprovedEditor: () => Promise.resolve(true) };

// Machines with a key may always propose and change places (asEditor lets them through unasked), so
// the use cases' tests take them as editors directly.
export const functionKeyCaller = { kind: 'machine', keyName: 'function-test', level: 'function' } as Machine & Editor;
export const masterKeyCaller = { kind: 'machine', keyName: 'master', level: 'admin' } as Machine & Editor;

export function person(userId: string, name = userId, roles: readonly string[] = []): Person {
  return { kind: 'person', userId, name, roles };
}

/** The `x-ms-client-principal` App Service Authentication sends for an Entra ID user (as the devhost emulates it). */
export function principalHeader(who: Person): string {
  const claims = [
    { typ: 'http://schemas.microsoft.com/identity/claims/objectidentifier', val: who.userId },
    { typ: 'name', val: who.name },
    { typ: 'preferred_username', val: who.name },
    ...who.roles.map((role) => ({ typ: 'roles', val: role })),
  ];
  const principal = {
    auth_typ: 'aad',
    claims,
    name_typ: 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress',
    role_typ: 'http://schemas.microsoft.com/ws/2008/06/identity/claims/role',
  };
  return Buffer.from(JSON.stringify(principal)).toString('base64');
}

/** Headers that make a request come from this caller. */
export function as(caller: Caller): Record<string, string> {
  if (caller.kind === 'person') return { 'x-ms-client-principal': principalHeader(caller) };
  return { 'x-functions-key': caller.level === 'admin' ? TEST_KEYS.master : TEST_KEYS.function };
}

/** A change by an admin (the master key), as the decider takes it: applied at once, whoever owns the place. */
export function adminActing(now = '2026-01-01T00:00:00.000Z'): { by: { id: string; name: string }; byAdmin: true; now: string } {
  return { by: { id: 'key:master', name: 'key:master' }, byAdmin: true, now };
}
