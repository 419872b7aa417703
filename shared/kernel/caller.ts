import { z } from 'zod';

/**
 * Who acts, as events record it: a person's id (the Entra object id, or the local sign-in's user id)
 * and name, or a machine as `key:<name>`. Names are kept as they were when the event happened.
 */
export interface Actor {
  readonly id: string;
  readonly name: string;
}

/** The Entra app role (locally, the sign-in form's role) that makes a person an administrator. */
export const ADMIN_ROLE = 'admin';

/** A signed-in person, as App Service Authentication vouches for them. */
export interface Person {
  readonly kind: 'person';
  readonly userId: string;
  readonly name: string;
  readonly roles: readonly string[];
}

/** A script or service holding one of the host's keys: the master key is the administrator's. */
export interface Machine {
  readonly kind: 'machine';
  /** `master`, or `function-<fingerprint>` (the host tells the app which level a key has, not its name). */
  readonly keyName: string;
  readonly level: 'function' | 'admin';
}

export type Caller = Person | Machine;

export function isAdmin(caller: Caller): boolean {
  return caller.kind === 'person' ? caller.roles.includes(ADMIN_ROLE) : caller.level === 'admin';
}

export function actorOf(caller: Caller): Actor {
  if (caller.kind === 'person') return { id: caller.userId, name: caller.name };
  const machine = `${MACHINE_ID_PREFIX}${caller.keyName}`;
  return { id: machine, name: machine };
}

/** A user id as it may appear in a stream id and a URL: Entra object ids are UUIDs; local ones are typed in. */
export const USER_ID_PATTERN = /^[A-Za-z0-9._@:-]{1,128}$/;

/** Machines are `key:…` in events: a person's id may never look like one (people and machines share one id space). */
export const MACHINE_ID_PREFIX = 'key:';

export function isPersonId(userId: string): boolean {
  return USER_ID_PATTERN.test(userId) && !userId.toLowerCase().startsWith(MACHINE_ID_PREFIX);
}

export function isMachineId(actorId: string): boolean {
  return actorId.startsWith(MACHINE_ID_PREFIX);
}

/** An actor as stored in events: read leniently (a field a newer version adds must not make an event unreadable). */
export const storedActorSchema = z.object({ id: z.string().min(1), name: z.string() });

/** An actor in an answer: exactly these fields. */
export const actorSchema = z
  .strictObject({ id: z.string().min(1), name: z.string() })
  .meta({ description: 'A person (their user id and name) or a machine (key:<name>)' });
