import { createHash } from 'node:crypto';
import type { HttpRequest } from '@azure/functions';
import { isAdmin, type Caller, type Person } from '../../kernel/caller';
import { ForbiddenError } from '../../kernel/errors';
import { CLIENT_PRINCIPAL_HEADER, parseClientPrincipal } from './clientPrincipal';
import type { MachineKeyCheck } from './machineKeys';
import { HttpProblem } from './problem';
import { saysJson } from './request';

/** What authenticating a request needs: the host's word on a presented key, and whether sign-in is on. */
export interface AccessDeps {
  readonly machineKeys: MachineKeyCheck;
  /**
   * Whether App Service Authentication is on (WEBSITE_AUTH_ENABLED): only then does the platform
   * strip a client's own `x-ms-client-principal`, so only then may the header be believed.
   */
  readonly signInEnabled: boolean;
}

/** Where people sign in (App Service Authentication, or the devhost's emulation of it). */
export const SIGN_IN_PATH = '/.auth/login/aad';

/**
 * Who is calling: the person App Service Authentication signed in (`x-ms-client-principal`, which
 * the platform strips from what clients send; ignored when sign-in is off, since nothing strips it
 * then), else a machine with one of the host's keys
 * (`x-functions-key` or `?code=`), else nobody. A key the host does not know is 401, not anonymous.
 */
export async function callerOf(request: HttpRequest, deps: AccessDeps): Promise<Caller | undefined> {
  const principal = deps.signInEnabled ? request.headers.get(CLIENT_PRINCIPAL_HEADER) : null;
  if (principal !== null && principal !== '') return refuseCrossSiteForms(request, parseClientPrincipal(principal));
  const key = request.headers.get('x-functions-key') ?? request.query.get('code');
  if (key === null || key === '') return undefined;
  // Host keys are short printable ASCII: anything else is no key, and is not worth asking the host about.
  if (!KEY_SHAPE.test(key)) throw new HttpProblem(401, 'That key was not accepted.', undefined, 'key-not-accepted');
  const level = await deps.machineKeys.levelOf(key);
  if (level === undefined) throw new HttpProblem(401, 'That key was not accepted.', undefined, 'key-not-accepted');
  return { kind: 'machine', level, keyName: machineKeyName(level, key) };
}

const KEY_SHAPE = /^[\x21-\x7e]{1,256}$/;
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * A signed-in person's browser sends the session cookie with any form another site submits; a form
 * cannot send JSON, so a change from a person must say it is JSON (an empty body as `{}`), which
 * keeps such forms out (the pages always send JSON).
 */
function refuseCrossSiteForms(request: HttpRequest, person: Person): Person {
  if (SAFE_METHODS.has(request.method.toUpperCase())) return person;
  if (!saysJson(request)) throw new HttpProblem(415, 'Send changes as application/json (an empty body as {}).');
  return person;
}

/** The caller, or 401 saying how to become one. */
export async function requireCaller(request: HttpRequest, deps: AccessDeps): Promise<Caller> {
  const caller = await callerOf(request, deps);
  if (!caller) throw notSignedIn();
  return caller;
}

/** A signed-in person (machines have no editor access or profile of their own). */
export async function requirePerson(request: HttpRequest, deps: AccessDeps): Promise<Person> {
  const caller = await requireCaller(request, deps);
  if (caller.kind !== 'person') throw new ForbiddenError('This is for people who sign in, not for keys.');
  return caller;
}

/** An administrator: a person with the `admin` role, or the master key. */
export async function requireAdmin(request: HttpRequest, deps: AccessDeps): Promise<Caller> {
  const caller = await requireCaller(request, deps);
  if (!isAdmin(caller)) throw new ForbiddenError('Only an administrator may do this.');
  return caller;
}

function notSignedIn(): HttpProblem {
  return new HttpProblem(401, `Sign in first (${SIGN_IN_PATH}), or send a key in x-functions-key.`, undefined, 'sign-in-required');
}

/**
 * How events name a machine: `master`, or `function-` and a short, non-reversible fingerprint of the
 * key, so they can tell keys apart without holding them (the host tells the app a key's level, not its name).
 */
function machineKeyName(level: 'function' | 'admin', key: string): string {
  return level === 'admin' ? 'master' : `function-${createHash('sha256').update(key).digest('hex').slice(0, 8)}`;
}
