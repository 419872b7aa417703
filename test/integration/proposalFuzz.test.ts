import { as, everyoneApproved, functionKeyCaller, testAccess } from '../support/callers';
import fc from 'fast-check';
import { randomUUID } from 'node:crypto';
import { proposePlaceHandler } from '../../handlers/proposePlace.http';
import { InMemoryEventStore } from '../../shared/platform/eventSourcing/adapters/inMemoryEventStore';
import { call, type RequestSpec } from '../support/http';

const valid = {
  name: 'Heaton Park',
  geolocation: { latitude: 53.5349, longitude: -2.2562 },
  kind: 'outdoor',
  ageRange: { min: 0, max: 16 },
  price: { free: true },
  facilities: ['parking', 'cafe'],
  openingHours: 'Mo-Su 08:00-20:00',
  website: 'https://www.heatonpark.org.uk',
  description: 'A big park.',
};

type Mutation = (body: Record<string, unknown>) => Record<string, unknown>;

/** Ways to break a valid proposal, each invalid by construction. */
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.constantFrom<Mutation>(
    ({ name: _name, ...rest }) => rest,
    ({ geolocation: _geolocation, ...rest }) => rest,
    (body) => ({ ...body, name: '   ' }),
    (body) => ({ ...body, geolocation: { latitude: 53 } }),
    (body) => ({ ...body, geolocation: [53, -2] }),
    (body) => ({ ...body, ageRange: { min: 10, max: 2 } }),
    (body) => ({ ...body, price: { free: true, adultGBP: 12 } }),
    (body) => ({ ...body, facilities: ['cafe', 'cafe'] }),
    (body) => ({ ...body, website: 'javascript:alert(1)' }),
    (body) => ({ ...body, openingHours: { monday: [{ opens: '10:00', closes: '17:00' }] } }),
    (body) => ({ ...body, openingHours: 'Mo-Fx 10:00-17:00' }),
    (body) => ({ ...body, openingHours: 'Tu 25:00-26:00' }),
    (body) => ({ ...body, openingHours: '   ' }),
    (body) => ({ ...body, openingHours: `Mo-Fr 10:00-17:00; ${'Sa 10:00-12:00; '.repeat(40)}` }),
  ),
  fc
    .string({ minLength: 1, maxLength: 12 })
    .filter((key) => !(key in valid) && key !== 'address' && !['ageRange', 'price', 'openingHours', '__proto__'].includes(key))
    .map((key): Mutation => (body) => ({ ...body, [key]: 1 })),
  fc
    .string({ minLength: 121, maxLength: 400 })
    .filter((name) => name.trim().length > 120)
    .map((name): Mutation => (body) => ({ ...body, name })),
  fc
    .oneof(
      fc.double({ min: 90.0001, max: 1e6, noNaN: true }),
      fc.double({ max: -90.0001, min: -1e6, noNaN: true }),
      fc.constant(Number.NaN),
    )
    .map((latitude): Mutation => (body) => ({ ...body, geolocation: { latitude, longitude: 0 } })),
  fc
    .oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant(null))
    .map((kind): Mutation => (body) => ({ ...body, kind: kind === 'indoor' || kind === 'outdoor' || kind === 'mixed' ? 42 : kind })),
  fc.integer({ min: 19, max: 1000 }).map((max): Mutation => (body) => ({ ...body, ageRange: { min: 0, max } })),
  fc
    .string({ minLength: 2001, maxLength: 3000 })
    .filter((text) => text.trim().length > 2000)
    .map((description): Mutation => (body) => ({ ...body, description })),
);

const malformedRequest: fc.Arbitrary<RequestSpec> = fc.oneof(
  { weight: 5, arbitrary: mutation.map((mutate) => ({ json: mutate({ ...valid }) })) },
  // Any JSON that has no name cannot be a proposal.
  {
    weight: 2,
    arbitrary: fc
      .jsonValue({ maxDepth: 4 })
      .filter((value) => typeof value !== 'object' || value === null || Array.isArray(value) || !('name' in value))
      .map((json) => ({ json })),
  },
  // Text that is not JSON at all.
  {
    weight: 1,
    arbitrary: fc
      .string({ minLength: 1 })
      .filter((text) => !isJson(text))
      .map((body) => ({ body, headers: { 'content-type': 'application/json' } })),
  },
  // A valid body sent as something else.
  {
    weight: 1,
    arbitrary: fc
      .constantFrom('text/plain', 'application/xml', 'multipart/form-data', 'application/jsonp')
      .map((type) => ({ body: JSON.stringify(valid), headers: { 'content-type': type } })),
  },
  // Too large.
  {
    weight: 1,
    arbitrary: fc.integer({ min: 65 * 1024, max: 200 * 1024 }).map((size) => ({ json: { ...valid, description: 'x'.repeat(size) } })),
  },
  // Deeply nested.
  {
    weight: 1,
    arbitrary: fc
      .integer({ min: 50, max: 5000 })
      .map((depth) => ({ body: `${'['.repeat(depth)}${']'.repeat(depth)}`, headers: { 'content-type': 'application/json' } })),
  },
);

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

describe('POST /api/places under malformed input', () => {
  it('answers 1,000 generated malformed bodies with 400, 413 or 415 problem+json, never 5xx, and writes nothing', async () => {
    const store = new InMemoryEventStore();
    const handler = proposePlaceHandler({
      eventStore: store,
      clock: () => new Date(),
      newId: randomUUID,
      editorAccess: everyoneApproved,
      ...testAccess,
    });
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(malformedRequest, async (spec) => {
        const answer = await call(handler, { method: 'POST', ...spec, headers: { ...as(functionKeyCaller), ...spec.headers } });
        statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
        expect([400, 413, 415]).toContain(answer.status);
        expect(answer.headers.get('content-type')).toBe('application/problem+json');
        expect(answer.body).toMatchObject({ status: answer.status, detail: expect.any(String) });
      }),
      { numRuns: 1000 },
    );
    expect([...statuses.values()].reduce((sum, n) => sum + n, 0)).toBe(1000);
    expect(statuses.get(400)).toBeGreaterThan(500);
    expect(store.allEvents()).toHaveLength(0);
  });
});
