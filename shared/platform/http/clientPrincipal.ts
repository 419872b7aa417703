import { z } from 'zod';
import { isPersonId, type Person } from '../../kernel/caller';
import { HttpProblem } from './problem';

/** The header App Service Authentication sets on every request it has authenticated (and strips from what clients send). */
export const CLIENT_PRINCIPAL_HEADER = 'x-ms-client-principal';

/** Entra's object id: the user's immutable id across the tenant (unlike the email or name, which can change). */
const OBJECT_ID_CLAIMS = ['http://schemas.microsoft.com/identity/claims/objectidentifier', 'oid'];
/** Entra app roles arrive as `roles` claims although `role_typ` names the long URI; both are honoured. */
const ROLE_CLAIMS = ['roles', 'http://schemas.microsoft.com/ws/2008/06/identity/claims/role'];
const NAME_CLAIMS = ['name', 'preferred_username', 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress'];

const principalSchema = z.object({
  auth_typ: z.string().optional(),
  name_typ: z.string().optional(),
  role_typ: z.string().optional(),
  claims: z.array(z.object({ typ: z.string(), val: z.string() })).max(500),
});

/**
 * The person App Service Authentication vouches for, from `x-ms-client-principal` (base64 JSON with
 * `claims`, `name_typ`, `role_typ`). The header comes from the platform, never the client, so a
 * malformed one means the platform and the app disagree: 401 with a plain reason, never a 5xx.
 */
export function parseClientPrincipal(header: string): Person {
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(header, 'base64').toString('utf8')) as unknown;
  } catch {
    throw unreadable('it is not base64-encoded JSON');
  }
  const parsed = principalSchema.safeParse(decoded);
  if (!parsed.success) throw unreadable('it has no list of claims');
  const { claims, name_typ, role_typ } = parsed.data;
  const first = (types: readonly string[]) => types.map((typ) => claims.find((claim) => claim.typ === typ)?.val).find((val) => val);
  const userId = first(OBJECT_ID_CLAIMS);
  if (userId === undefined) throw unreadable('it has no object id claim');
  if (!isPersonId(userId)) throw unreadable('its object id is not one this app accepts');
  const name = first([...(name_typ ? [name_typ] : []), ...NAME_CLAIMS]) ?? userId;
  const roleTypes = new Set([...ROLE_CLAIMS, ...(role_typ ? [role_typ] : [])]);
  const roles = [...new Set(claims.filter((claim) => roleTypes.has(claim.typ)).map((claim) => claim.val))];
  return { kind: 'person', userId, name: name.slice(0, 256), roles };
}

function unreadable(why: string): HttpProblem {
  return new HttpProblem(401, `The sign-in could not be read (${why}): sign out and sign in again.`);
}
