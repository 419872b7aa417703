/**
 * The entities part of the Durable Task extension's HTTP API (`…/entities/{name}[/{key}]`), as the
 * webhooks and durable-functions' DurableClient (`signalEntity`, `readEntityState`) call it:
 * - `GET entities/{name}/{key}`: 200 with the entity's state as the body, 404 when it does not exist;
 * - `POST entities/{name}/{key}?op={operation}` with the operation's input as a JSON body: 202 once
 *   the signal is durable;
 * - `GET entities[/{name}]?fetchState&lastOperationTimeFrom&lastOperationTimeTo&top`: the entities that
 *   exist, `[{entityId: {name, key}, lastOperationTime, state?}]`, more pages by `x-ms-continuation-token`.
 */
import type { EntityHost } from './entityHost';
import { FORBIDDEN_KEY_CHARACTERS } from './tableRows';

export interface EntityApiRequest {
  readonly method: string;
  /** The path segments after `entities`, decoded. */
  readonly segments: readonly string[];
  readonly url: URL;
  readonly continuationToken?: string;
  readonly body: () => Promise<string | undefined>;
}

export interface EntityApiReply {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
}

export async function handleEntityRequest(host: EntityHost, request: EntityApiRequest): Promise<EntityApiReply> {
  const [name, key, ...rest] = request.segments;
  if (rest.length > 0) return message(404, `No durable API at ${request.method} entities/${request.segments.join('/')}.`);
  if (key === undefined) {
    if (request.method !== 'GET') return message(405, 'Entities are listed with GET.');
    return list(host, name, request);
  }
  if (name === undefined || name === '' || key === '') return message(400, 'An entity id needs a name and a key.');
  if (FORBIDDEN_KEY_CHARACTERS.test(key) || FORBIDDEN_KEY_CHARACTERS.test(name))
    return message(400, `Entity '${name}' key '${key}' is not valid: it may not contain /, \\, #, ? or control characters.`);
  if (request.method === 'GET') {
    const read = await host.readState({ name, key });
    return read.exists ? { status: 200, body: read.state } : message(404, `Entity '${name}' with key '${key}' does not exist.`);
  }
  if (request.method === 'POST') {
    if (!host.hasEntity(name)) return message(404, `No entity function named '${name}'.`);
    await host.signal({ name, key }, request.url.searchParams.get('op') ?? '', await request.body());
    return { status: 202 };
  }
  return message(405, 'An entity is read with GET and signalled with POST.');
}

async function list(host: EntityHost, name: string | undefined, request: EntityApiRequest): Promise<EntityApiReply> {
  const params = request.url.searchParams;
  const time = (parameter: string): number | undefined => {
    const value = params.get(parameter);
    if (value === null || value === '') return undefined;
    const at = Date.parse(value);
    if (Number.isNaN(at)) throw new EntityApiError(`${parameter} is not a date: '${value}'.`);
    return at;
  };
  let from: number | undefined;
  let to: number | undefined;
  try {
    from = time('lastOperationTimeFrom');
    to = time('lastOperationTimeTo');
  } catch (error) {
    if (error instanceof EntityApiError) return message(400, error.message);
    throw error;
  }
  const top = Number(params.get('top') ?? '100');
  const page = await host.list({
    ...(name !== undefined && name !== '' ? { name } : {}),
    fetchState: params.get('fetchState')?.toLowerCase() === 'true',
    top: Number.isInteger(top) && top > 0 ? top : 100,
    ...(request.continuationToken ? { continuationToken: request.continuationToken } : {}),
    ...(from !== undefined ? { lastOperationTimeFrom: from } : {}),
    ...(to !== undefined ? { lastOperationTimeTo: to } : {}),
  });
  return {
    status: 200,
    body: page.entities,
    ...(page.continuationToken ? { headers: { 'x-ms-continuation-token': page.continuationToken } } : {}),
  };
}

class EntityApiError extends Error {}

function message(status: number, text: string): EntityApiReply {
  return { status, body: { message: text } };
}
