import { randomUUID } from 'node:crypto';
import { approvePlaceHandler } from '../../handlers/approvePlace.http';
import { getManagedPlaceHandler } from '../../handlers/getManagedPlace.http';
import { proposePlaceHandler } from '../../handlers/proposePlace.http';
import { rejectPlaceHandler } from '../../handlers/rejectPlace.http';
import { updatePlaceDetailsHandler } from '../../handlers/updatePlaceDetails.http';
import { withdrawPlaceHandler } from '../../handlers/withdrawPlace.http';
import { executePlaceCommand, placeIdForIdempotencyKey, type EditingDeps } from '../../shared/places/application/placeCommands';
import type { AccessDeps } from '../../shared/platform/http/authenticate';
import { as, everyoneApproved, functionKeyCaller, masterKeyCaller, person, testAccess } from '../support/callers';
import { InMemoryEventStore } from '../../shared/platform/eventSourcing/adapters/inMemoryEventStore';
import { projectEvents } from '../../shared/platform/views/projectEvents';
import { InMemoryDeadLetterStore } from '../../shared/platform/views/deadLetters';
import { InMemoryViewStore } from '../../shared/platform/views/adapters/inMemoryViewStore';
import ngeohash from 'ngeohash';
import { toPlaceStreamId } from '../../shared/places/domain/place';
import { call, type Answer } from '../support/http';

const museum = {
  name: 'Science and Industry Museum',
  geolocation: { latitude: 53.4771, longitude: -2.2547 },
  kind: 'indoor',
  ageRange: { min: 0, max: 16 },
  price: { free: true },
};

let store: InMemoryEventStore;
let deps: EditingDeps & AccessDeps;
beforeEach(() => {
  store = new InMemoryEventStore();
  deps = {
    eventStore: store,
    clock: () => new Date('2026-11-27T09:00:00Z'),
    newId: randomUUID,
    editorAccess: everyoneApproved,
    ...testAccess,
  };
});

const editor = as(functionKeyCaller);
const admin = as(masterKeyCaller);
const propose = (json: unknown, headers: Record<string, string> = {}) =>
  call(proposePlaceHandler(deps), { method: 'POST', json, headers: { ...editor, ...headers } });
/** Reads through the read side: projects everything appended so far (idempotent), then asks the editors' route. */
const get = async (id: string) => {
  const views = new InMemoryViewStore();
  await projectEvents(
    { views, eventStore: store, deadLetters: new InMemoryDeadLetterStore(), geohash: ngeohash.encode, clock: deps.clock },
    store.allEvents(),
  );
  return call(getManagedPlaceHandler({ views, clock: deps.clock, eventStore: store, ...testAccess }), {
    params: { id },
    path: `/api/manage/places/${id}`,
    headers: editor,
  });
};
const patch = (id: string, json: unknown, headers: Record<string, string>) =>
  call(updatePlaceDetailsHandler(deps), { method: 'PATCH', params: { id }, json, headers: { ...admin, ...headers } });
const approve = (id: string) => call(approvePlaceHandler(deps), { method: 'POST', params: { id }, headers: admin });
const reject = (id: string, json: unknown) => call(rejectPlaceHandler(deps), { method: 'POST', params: { id }, json, headers: admin });
const withdraw = (id: string, json: unknown) => call(withdrawPlaceHandler(deps), { method: 'POST', params: { id }, json, headers: admin });
const placeIdOf = (answer: Answer) => (answer.body as { placeId: string }).placeId;

async function validate(placeId: string): Promise<void> {
  await executePlaceCommand(
    deps,
    { type: 'RecordLocationValidated', data: { placeId, geolocation: museum.geolocation, region: 'gcw2j' } },
    { correlationId: 'c', requestId: 'r' },
  );
}

function expectProblem(answer: Answer, status: number): void {
  expect(answer.status).toBe(status);
  expect(answer.headers.get('content-type')).toBe('application/problem+json');
  expect(answer.body).toMatchObject({ status, title: expect.any(String), detail: expect.any(String) });
}

describe('POST /api/places', () => {
  it('accepts a proposal: 202, Location, ETag and the place id, status and version', async () => {
    const answer = await propose(museum, { 'x-correlation-id': 'trace-123' });
    expect(answer.status).toBe(202);
    const placeId = placeIdOf(answer);
    expect(answer.body).toEqual({ placeId, status: 'proposed', version: 1, links: { self: `/api/places/${placeId}` } });
    expect(answer.headers.get('location')).toBe(`/api/places/${placeId}`);
    expect(answer.headers.get('etag')).toBe('"1"');
    const [event] = await store.read(toPlaceStreamId(placeId));
    expect(event).toMatchObject({
      type: 'PlaceProposed',
      version: 1,
      data: { placeId, name: museum.name, details: { kind: 'indoor' }, proposedAt: '2026-11-27T09:00:00.000Z' },
    });
    expect(event?.metadata).toMatchObject({ correlationId: 'trace-123', occurredAt: '2026-11-27T09:00:00.000Z' });
  });

  it('keeps the original body shape {name, geolocation} with numeric strings, as the original system did', async () => {
    const answer = await propose({ name: '  Heaton Park ', geolocation: { latitude: '53.5349', longitude: '-2.2562' } });
    expect(answer.status).toBe(202);
    const [event] = await store.read(toPlaceStreamId(placeIdOf(answer)));
    expect(event?.data).toMatchObject({ name: 'Heaton Park', geolocation: { latitude: 53.5349, longitude: -2.2562 } });
  });

  it('accepts an address instead of coordinates', async () => {
    expect((await propose({ name: 'Eureka!', address: 'HX1 2NE' })).status).toBe(202);
  });

  it.each([
    [{ geolocation: museum.geolocation }, 'name'],
    [{ name: 'No location' }, 'geolocation'],
    [{ ...museum, colour: 'blue' }, 'colour'],
    [{ ...museum, geolocation: { latitude: 91, longitude: 0 } }, 'geolocation.latitude'],
    [{ ...museum, geolocation: { latitude: 'north', longitude: 0 } }, 'geolocation.latitude'],
    [{ ...museum, ageRange: { min: 9, max: 3 } }, 'ageRange.min'],
    [{ ...museum, website: 'http://insecure.example' }, 'website'],
    [{ ...museum, facilities: ['jetpack'] }, 'facilities.0'],
    [{ ...museum, name: 'x'.repeat(121) }, 'name'],
  ])('refuses %j naming the field %s, and writes nothing', async (json, field) => {
    const answer = await propose(json);
    expectProblem(answer, 400);
    expect((answer.body as { errors: { field: string }[] }).errors.map((error) => error.field)).toContain(field);
    expect(store.allEvents()).toHaveLength(0);
  });

  it('refuses a body that is not JSON (415), too large (413) or malformed (400)', async () => {
    expectProblem(
      await call(proposePlaceHandler(deps), {
        method: 'POST',
        body: 'name=Zoo',
        headers: { ...editor, 'content-type': 'application/x-www-form-urlencoded' },
      }),
      415,
    );
    expectProblem(await propose({ ...museum, description: 'x'.repeat(70 * 1024) }), 413);
    expectProblem(
      await call(proposePlaceHandler(deps), {
        method: 'POST',
        body: '{"name": ',
        headers: { ...editor, 'content-type': 'application/json' },
      }),
      400,
    );
    expect(store.allEvents()).toHaveLength(0);
  });

  it('answers the same Idempotency-Key sent 10 times at once with one place and ten identical responses', async () => {
    const key = randomUUID();
    const answers = await Promise.all(Array.from({ length: 10 }, () => propose(museum, { 'idempotency-key': key })));
    expect(new Set(answers.map((answer) => `${answer.status} ${answer.headers.get('location')} ${answer.text}`)).size).toBe(1);
    expect(answers[0]?.status).toBe(202);
    expect(store.allEvents()).toHaveLength(1);
  });

  it('refuses an Idempotency-Key reused with a different body (422) and keeps the first place', async () => {
    const key = randomUUID();
    await propose(museum, { 'idempotency-key': key });
    expectProblem(await propose({ ...museum, name: 'Another place' }, { 'idempotency-key': key }), 422);
    expect(store.allEvents()).toHaveLength(1);
  });

  it('refuses concurrent proposals with one Idempotency-Key and different bodies: exactly one 202, the others 422', async () => {
    const key = randomUUID();
    const answers = await Promise.all(
      Array.from({ length: 8 }, (_, i) => propose({ ...museum, name: `Museum ${i}` }, { 'idempotency-key': key })),
    );
    expect(answers.map((answer) => answer.status).sort()).toEqual([202, 422, 422, 422, 422, 422, 422, 422]);
    const winner = answers.find((answer) => answer.status === 202);
    expect(store.allEvents()).toHaveLength(1);
    expect(store.allEvents()[0]?.streamId).toBe(`place-${placeIdOf(winner!)}`);
    for (const answer of answers.filter((candidate) => candidate.status === 422)) {
      expect(answer.body).toMatchObject({ type: 'https://visitplannr.example/problems/idempotency-key-reused' });
    }
  });

  it('scopes an Idempotency-Key to its caller: the same key from two editors proposes two places, each its own owner', async () => {
    const key = randomUUID();
    const ann = person('ann-oid', 'Ann');
    const bob = person('bob-oid', 'Bob');
    const [fromAnn, fromBob] = await Promise.all([
      propose(museum, { ...as(ann), 'idempotency-key': key }),
      propose(museum, { ...as(bob), 'idempotency-key': key }),
    ]);
    expect([fromAnn.status, fromBob.status]).toEqual([202, 202]);
    expect(placeIdOf(fromAnn)).not.toBe(placeIdOf(fromBob));
    expect(
      store
        .allEvents()
        .map((event) => (event.data as { owner: { id: string } }).owner.id)
        .sort(),
    ).toEqual(['ann-oid', 'bob-oid']);
    expect(
      store
        .allEvents()
        .map((event) => event.metadata.actor?.name)
        .sort(),
    ).toEqual(['Ann', 'Bob']);
  });

  it('machines share one Idempotency-Key scope, the one from before people signed in: another key finds the same place', async () => {
    const key = randomUUID();
    const byFunctionKey = await propose(museum, { 'idempotency-key': key });
    const byMasterKey = await propose(museum, { ...admin, 'idempotency-key': key });
    expect(placeIdOf(byMasterKey)).toBe(placeIdOf(byFunctionKey));
    expect(placeIdOf(byFunctionKey)).toBe(placeIdForIdempotencyKey(key));
    expect(store.allEvents()).toHaveLength(1);
  });

  it('refuses a malformed Idempotency-Key', async () => {
    expectProblem(await propose(museum, { 'idempotency-key': 'x'.repeat(300) }), 400);
  });
});

describe('GET /api/places/{id}', () => {
  it('shows a place in any status with its version as ETag', async () => {
    const placeId = placeIdOf(await propose(museum));
    const answer = await get(placeId);
    expect(answer.status).toBe(200);
    expect(answer.headers.get('etag')).toBe('"1"');
    expect(answer.body).toMatchObject({
      placeId,
      name: museum.name,
      status: 'proposed',
      version: 1,
      geolocation: museum.geolocation,
      region: null,
      kind: 'indoor',
      ageRange: { min: 0, max: 16 },
      price: { free: true },
      forecast: [],
    });
  });

  it('answers 404 for an unknown or impossible id', async () => {
    expectProblem(await get(randomUUID()), 404);
    expectProblem(await get('not-an-id'), 404);
  });
});

describe('PATCH /api/places/{id}', () => {
  it('changes details at the version named by If-Match', async () => {
    const placeId = placeIdOf(await propose(museum));
    const answer = await patch(placeId, { description: 'Looms and locomotives', price: null }, { 'if-match': '"1"' });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ placeId, status: 'proposed', version: 2 });
    expect(answer.headers.get('etag')).toBe('"2"');
    const place = (await get(placeId)).body as Record<string, unknown>;
    expect(place).toMatchObject({ description: 'Looms and locomotives', version: 2 });
    expect(place).not.toHaveProperty('price');
  });

  it('428 without If-Match or with *, 412 with a stale one (and the current ETag), nothing written', async () => {
    const placeId = placeIdOf(await propose(museum));
    await patch(placeId, { description: 'v2' }, { 'if-match': '1' });
    expectProblem(await patch(placeId, { description: 'v3' }, {}), 428);
    expectProblem(await patch(placeId, { description: 'v3' }, { 'if-match': '*' }), 428);
    expectProblem(await patch(placeId, { description: 'v3' }, { 'if-match': ' * ' }), 428);
    const stale = await patch(placeId, { description: 'v3' }, { 'if-match': '"1"' });
    expectProblem(stale, 412);
    expect(stale.headers.get('etag')).toBe('"2"');
    expect(await store.read(toPlaceStreamId(placeId))).toHaveLength(2);
  });

  it('a change that changes nothing keeps the version', async () => {
    const placeId = placeIdOf(await propose(museum));
    const answer = await patch(placeId, { kind: 'indoor' }, { 'if-match': '"1"' });
    expect(answer.body).toMatchObject({ version: 1 });
  });

  it('refuses an empty change, unknown fields, an unknown place and a final place', async () => {
    const placeId = placeIdOf(await propose(museum));
    expectProblem(await patch(placeId, {}, { 'if-match': '"1"' }), 400);
    expectProblem(await patch(placeId, { geolocation: { latitude: 1, longitude: 1 } }, { 'if-match': '"1"' }), 400);
    expectProblem(await patch(randomUUID(), { description: 'x' }, { 'if-match': '"1"' }), 404);
    expectProblem(await patch(placeId, { description: 'x' }, { 'if-match': 'W/"1"' }), 400);
    await validate(placeId);
    await reject(placeId, { reason: 'duplicate' });
    expectProblem(await patch(placeId, { description: 'x' }, { 'if-match': '"3"' }), 409);
  });
});

describe('moderation: approve, reject, withdraw', () => {
  it('refuses to approve a place whose location is not validated (409), then approves it once validated', async () => {
    const placeId = placeIdOf(await propose(museum));
    const early = await approve(placeId);
    expectProblem(early, 409);
    await validate(placeId);
    const answer = await approve(placeId);
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ placeId, status: 'approved', version: 3 });
    expect((await approve(placeId)).body).toMatchObject({ status: 'approved', version: 3 });
  });

  it('approves or rejects only the version the admin read when If-Match names it: a change since is 412, nothing decided', async () => {
    const placeId = placeIdOf(await propose(museum));
    await validate(placeId);
    // The owner changes the place while the admin reads version 2.
    expect((await patch(placeId, { description: 'Changed meanwhile' }, { ...editor, 'if-match': '"2"' })).status).toBe(200);
    const stale = await call(approvePlaceHandler(deps), {
      method: 'POST',
      params: { id: placeId },
      json: {},
      headers: { ...admin, 'if-match': '"2"' },
    });
    expectProblem(stale, 412);
    expect(stale.headers.get('etag')).toBe('"3"');
    const staleReject = await call(rejectPlaceHandler(deps), {
      method: 'POST',
      params: { id: placeId },
      json: { reason: 'Spam' },
      headers: { ...admin, 'if-match': '"2"' },
    });
    expectProblem(staleReject, 412);
    expect(store.allEvents().filter((event) => event.type === 'PlaceApproved' || event.type === 'PlaceRejected')).toHaveLength(0);
    const current = await call(approvePlaceHandler(deps), {
      method: 'POST',
      params: { id: placeId },
      json: {},
      headers: { ...admin, 'if-match': '"3"' },
    });
    expect(current.body).toMatchObject({ status: 'approved', version: 4 });
  });

  it('rejects with a reason, and needs one', async () => {
    const placeId = placeIdOf(await propose(museum));
    await validate(placeId);
    expectProblem(await reject(placeId, {}), 400);
    expectProblem(await reject(placeId, { reason: '   ' }), 400);
    expect((await reject(placeId, { reason: 'Not a place for children' })).body).toMatchObject({ status: 'rejected' });
    expect((await get(placeId)).body).toMatchObject({ status: 'rejected', statusReason: 'Not a place for children' });
  });

  it('withdraws an approved place', async () => {
    const placeId = placeIdOf(await propose(museum));
    await validate(placeId);
    await approve(placeId);
    expect((await withdraw(placeId, { reason: 'Closed' })).body).toMatchObject({ status: 'withdrawn', version: 4 });
  });

  it('answers 404 for an unknown place', async () => {
    expectProblem(await approve(randomUUID()), 404);
  });
});
