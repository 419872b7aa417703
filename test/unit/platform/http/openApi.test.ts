import ngeohash from 'ngeohash';
import { randomUUID } from 'node:crypto';
import type { z } from 'zod';
import { approvePlaceHandler } from '../../../../handlers/approvePlace.http';
import { bestTimesHandler } from '../../../../handlers/bestTimes.http';
import { openingHoursWeekHandler } from '../../../../handlers/openingHoursWeek.http';
import { geocodeHandler } from '../../../../handlers/geocode.http';
import { getManagedPlaceHandler } from '../../../../handlers/getManagedPlace.http';
import { getPlaceHandler } from '../../../../handlers/getPlace.http';
import { healthHandler } from '../../../../handlers/health.http';
import { listManagedPlacesHandler } from '../../../../handlers/listManagedPlaces.http';
import { nearbyPlacesHandler } from '../../../../handlers/nearbyPlaces.http';
import { newestPlacesHandler } from '../../../../handlers/newestPlaces.http';
import { openApiHandler } from '../../../../handlers/openApi.http';
import { proposePlaceHandler } from '../../../../handlers/proposePlace.http';
import { rebuildViewsHandler } from '../../../../handlers/rebuildViews.http';
import { regionForecastHandler } from '../../../../handlers/regionForecast.http';
import { rejectPlaceHandler } from '../../../../handlers/rejectPlace.http';
import { updatePlaceDetailsHandler } from '../../../../handlers/updatePlaceDetails.http';
import { withdrawPlaceHandler } from '../../../../handlers/withdrawPlace.http';
import packageJson from '../../../../package.json';
import { executePlaceCommand } from '../../../../shared/places/application/placeCommands';
import { as, everyoneApproved, functionKeyCaller, masterKeyCaller, person, testAccess } from '../../../support/callers';
import { approveRevisionHandler, rejectRevisionHandler } from '../../../../handlers/decideRevision.http';
import { approveEditorHandler, suspendEditorHandler } from '../../../../handlers/decideEditor.http';
import { meHandler } from '../../../../handlers/me.http';
import { requestEditorAccessHandler } from '../../../../handlers/requestEditorAccess.http';
import { listEditorsHandler } from '../../../../handlers/listEditors.http';
import { InMemoryEventStore } from '../../../../shared/platform/eventSourcing/adapters/inMemoryEventStore';
import { HealthCheckFailure } from '../../../../shared/platform/health/health';
import {
  API_OPERATIONS,
  API_VERSION,
  openApiDocument,
  openApiPath,
  RESPONSE_SCHEMAS,
  type AuthLevel,
  type OpenApiDocument,
} from '../../../../shared/platform/composition/openApi';
import { InMemoryDeadLetterStore } from '../../../../shared/platform/views/deadLetters';
import { InMemoryViewStore } from '../../../../shared/platform/views/adapters/inMemoryViewStore';
import { httpEndpoint, loadHttpEndpoints, type HttpEndpoint } from '../../../reliability/support/endpoints';
import { call, type Answer } from '../../../support/http';
import { validateOpenApi } from '../../../support/openApiValidator';
import { regionWithForecast } from '../../../support/placeScenario';

const document = openApiDocument();
/** What the app registers, as the Functions host would find it (every functions/*.ts imported). */
const endpoints = loadHttpEndpoints();

/** Which auth level a documented operation's security requirements stand for. */
function authLevelOf(security: readonly Record<string, readonly string[]>[]): AuthLevel | 'unknown' {
  const schemes = security
    .flatMap((requirement) => Object.keys(requirement))
    .sort()
    .join(',');
  // The app's own access checks (a sign-in, or a key it asks the host about) sit on anonymous routes.
  if (schemes === '' || schemes.split(',').includes('signedIn')) return 'anonymous';
  if (schemes === 'functionKey,functionKeyInQuery') return 'function';
  if (schemes === 'masterKey,masterKeyInQuery') return 'admin';
  return 'unknown';
}

/**
 * Where the document and the registrations disagree: an API route (method and path) registered but
 * not documented, documented but not registered, or documented under another function name or
 * with other keys than its auth level takes.
 */
function differences(documented: OpenApiDocument, registered: readonly HttpEndpoint[]): string[] {
  const operations = new Map(
    Object.entries(documented.paths).flatMap(([path, item]) =>
      Object.entries(item).map(([method, operation]) => [`${method.toUpperCase()} ${path}`, operation] as const),
    ),
  );
  const routes = new Map(
    registered
      .filter((endpoint) => endpoint.isApi)
      .flatMap((endpoint) => endpoint.methods.map((method) => [`${method} ${openApiPath(endpoint.route)}`, endpoint] as const)),
  );
  const found: string[] = [];
  for (const [route, endpoint] of routes) {
    const operation = operations.get(route);
    if (!operation) {
      found.push(`${route} (${endpoint.name}) is registered but not documented`);
      continue;
    }
    if (operation.operationId !== endpoint.name)
      found.push(`${route} is the function ${endpoint.name}, documented as ${operation.operationId}`);
    const documentedLevel = authLevelOf(operation.security);
    if (documentedLevel !== endpoint.authLevel)
      found.push(`${route} (${endpoint.name}) is ${endpoint.authLevel}, documented as ${documentedLevel}`);
  }
  for (const [route, operation] of operations)
    if (!routes.has(route)) found.push(`${route} (${operation.operationId}) is documented but not registered`);
  return found;
}

describe('the OpenAPI document', () => {
  it('is a valid OpenAPI 3.1 document, every $ref resolved', () => {
    expect(document.openapi).toMatch(/^3\.1\.\d+$/);
    expect(validateOpenApi(document)).toEqual({ valid: true });
  });

  it('fails validation when it is broken (so the check above can fail)', () => {
    const broken = structuredClone(document) as {
      paths: Record<string, Record<string, { responses: Record<string, { description?: string }> }>>;
    };
    delete broken.paths['/api/health']?.get?.responses['200']?.description;
    expect(validateOpenApi(broken).valid).toBe(false);
    const dangling = JSON.parse(
      JSON.stringify(document).replace('#/components/schemas/NearbyAnswer', '#/components/schemas/NoSuchSchema'),
    ) as unknown;
    expect(validateOpenApi(dangling)).toMatchObject({ valid: false, errors: expect.stringContaining('NoSuchSchema') });
  });

  it('documents every API route the app registers, with its auth level, and no other', () => {
    expect(endpoints.filter((endpoint) => endpoint.isApi).length).toBeGreaterThanOrEqual(16);
    expect(differences(document, endpoints)).toEqual([]);
    // The list it is built from is exactly the registrations too.
    expect(
      API_OPERATIONS.map(({ functionName, method, route, authLevel }) => `${method} ${route} ${functionName} ${authLevel}`).sort(),
    ).toEqual(
      endpoints
        .filter((endpoint) => endpoint.isApi)
        .flatMap((endpoint) => endpoint.methods.map((method) => `${method} ${endpoint.route} ${endpoint.name} ${endpoint.authLevel}`))
        .sort(),
    );
  });

  it('tells a route that is not documented, one that is not registered and a wrong auth level', () => {
    const withoutNewest = structuredClone(document);
    delete withoutNewest.paths['/api/places/newest'];
    expect(differences(withoutNewest, endpoints)).toEqual(['GET /api/places/newest (newestPlaces) is registered but not documented']);

    const added = [...endpoints, httpEndpoint('brandNewRoute', 'api/brand-new/{id}', ['DELETE'], 'function')];
    expect(differences(document, added)).toEqual(['DELETE /api/brand-new/{id} (brandNewRoute) is registered but not documented']);

    const withoutGeocode = endpoints.filter((endpoint) => endpoint.name !== 'geocode');
    expect(differences(document, withoutGeocode)).toEqual(['GET /api/geocode (geocode) is documented but not registered']);

    const tightened = endpoints.map((endpoint) => (endpoint.name === 'getPlace' ? { ...endpoint, authLevel: 'admin' as const } : endpoint));
    expect(differences(document, tightened)).toEqual(['GET /api/places/{id} (getPlace) is admin, documented as anonymous']);
  });

  it('leaves the site (pages and assets) out', () => {
    expect(Object.keys(document.paths).every((path) => path.startsWith('/api/'))).toBe(true);
    expect(
      endpoints
        .filter((endpoint) => !endpoint.isApi)
        .map((endpoint) => endpoint.route)
        .sort(),
    ).toEqual(['assets/{*file}', '{page?}']);
  });

  it("carries package.json's version", () => {
    expect(API_VERSION).toBe(packageJson.version);
    expect(document.info.version).toBe(packageJson.version);
  });

  it('names no key, URL with a key or internal address (it is served to anyone)', () => {
    const text = JSON.stringify(document);
    expect(text).not.toMatch(/[?&]code=|AccountKey=|\/runtime\/webhooks|localhost|127\.0\.0\.1/i);
  });
});

describe('GET /api/openapi.json', () => {
  const handler = openApiHandler(openApiDocument);

  it('answers the document as JSON, with an ETag of its content, and 304 when it is unchanged', async () => {
    const answer = await call(handler, { path: '/api/openapi.json' });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(answer.headers.get('cache-control')).toBe('public, no-cache');
    expect(answer.headers.get('x-content-type-options')).toBe('nosniff');
    expect(answer.headers.get('x-correlation-id')).toEqual(expect.any(String));
    expect(answer.body).toEqual(document);
    const etag = answer.headers.get('etag') ?? '';
    expect(etag).toMatch(/^"[\w-]{27}"$/);

    const again = await call(handler, { path: '/api/openapi.json', headers: { 'if-none-match': etag } });
    expect({ status: again.status, text: again.text, etag: again.headers.get('etag') }).toEqual({ status: 304, text: '', etag });
  });
});

describe('the answers the handlers give are the ones the document describes', () => {
  const now = new Date('2026-11-27T09:00:00Z');
  const clock = () => now;
  const store = new InMemoryEventStore();
  const views = new InMemoryViewStore();
  const commands = { eventStore: store, clock, newId: randomUUID, editorAccess: everyoneApproved, ...testAccess };
  const queries = { views, clock, eventStore: store, ...testAccess };
  const editor = as(functionKeyCaller);
  const admin = as(masterKeyCaller);
  const ann = as(person('ann-oid', 'Ann'));
  const root = as(person('root-oid', 'Root', ['admin']));
  const museum = {
    name: 'Science and Industry Museum',
    geolocation: { latitude: 53.4771, longitude: -2.2547 },
    kind: 'indoor',
    ageRange: { min: 0, max: 16 },
    price: { free: true },
    openingHours: 'Mo-Su 10:00-17:00; Dec 24-26 off',
  };
  const region = ngeohash.encode(museum.geolocation.latitude, museum.geolocation.longitude, 5);
  const origin = { correlationId: 'openapi-test', requestId: 'openapi-test' };
  /** The statuses each operation answered with, in order. */
  const answered: Record<string, number[]> = {};

  /**
   * The answer has a status the operation documents, and its body is what the document says for that
   * status: the named schema (strict: no field more or less), or none.
   */
  function expectDocumented(operationId: string, answer: Answer): void {
    (answered[operationId] ??= []).push(answer.status);
    const operation = Object.values(document.paths)
      .flatMap((item) => Object.values(item))
      .find((candidate) => candidate.operationId === operationId);
    const response = operation?.responses[String(answer.status)];
    expect({ operationId, status: answer.status, documented: response !== undefined }).toEqual({
      operationId,
      status: answer.status,
      documented: true,
    });
    const [mediaType, content] = Object.entries(response?.content ?? {})[0] ?? [];
    if (!content) {
      expect(answer.text).toBe('');
      return;
    }
    expect(answer.headers.get('content-type')?.split(';')[0]).toBe(mediaType);
    const name = content.schema.$ref.replace('#/components/schemas/', '') as keyof typeof RESPONSE_SCHEMAS;
    const schema: z.ZodType = RESPONSE_SCHEMAS[name];
    const parsed = schema.safeParse(answer.body);
    expect({ operationId, status: answer.status, schema: name, issues: parsed.error?.issues ?? [] }).toEqual({
      operationId,
      status: answer.status,
      schema: name,
      issues: [],
    });
  }

  it('for every operation the in-memory app can answer, successes and problems alike', async () => {
    const proposed = await call(proposePlaceHandler(commands), {
      method: 'POST',
      json: museum,
      headers: { ...editor, 'idempotency-key': 'openapi-museum' },
    });
    expectDocumented('proposePlace', proposed);
    const museumId = (proposed.body as { placeId: string }).placeId;
    const farm = await call(proposePlaceHandler(commands), {
      method: 'POST',
      json: {
        name: 'Reddish Vale Farm',
        address: 'SK5 7HE',
        kind: 'outdoor',
        facilities: ['parking', 'cafe'],
        openingHours: 'Sa 10:00-16:00 || "Closed in January"',
        website: 'https://example.org/farm',
        description: 'Goats.',
      },
      headers: editor,
    });
    expectDocumented('proposePlace', farm);
    const farmId = (farm.body as { placeId: string }).placeId;
    expectDocumented(
      'proposePlace',
      await call(proposePlaceHandler(commands), {
        method: 'POST',
        json: { ...museum, name: 'Other' },
        headers: { ...editor, 'idempotency-key': 'openapi-museum' },
      }),
    );
    expectDocumented('proposePlace', await call(proposePlaceHandler(commands), { method: 'POST', json: { name: '' }, headers: editor }));
    expectDocumented(
      'proposePlace',
      await call(proposePlaceHandler(commands), { method: 'POST', body: 'name=x', headers: { ...editor, 'content-type': 'text/plain' } }),
    );
    expectDocumented('proposePlace', await call(proposePlaceHandler(commands), { method: 'POST', json: museum }));
    expectDocumented(
      'proposePlace',
      await call(proposePlaceHandler(commands), { method: 'POST', json: museum, headers: { 'x-functions-key': 'nope' } }),
    );

    expectDocumented(
      'approvePlace',
      await call(approvePlaceHandler(commands), { method: 'POST', params: { id: museumId }, headers: admin }),
    );
    expectDocumented(
      'approvePlace',
      await call(approvePlaceHandler(commands), { method: 'POST', params: { id: museumId }, json: {}, headers: ann }),
    );
    await executePlaceCommand(
      commands,
      { type: 'RecordLocationValidated', data: { placeId: museumId, geolocation: museum.geolocation, region } },
      origin,
    );
    await executePlaceCommand(
      commands,
      {
        type: 'RecordLocationValidated',
        data: { placeId: farmId, geolocation: { latitude: 53.4365, longitude: -2.1423 }, region: 'gcqrv' },
      },
      origin,
    );
    await regionWithForecast(store, region, now.toISOString());
    expectDocumented(
      'approvePlace',
      await call(approvePlaceHandler(commands), { method: 'POST', params: { id: museumId }, json: {}, headers: root }),
    );
    expectDocumented(
      'approvePlace',
      await call(approvePlaceHandler(commands), { method: 'POST', params: { id: randomUUID() }, headers: admin }),
    );
    const patch = (headers: Record<string, string>) =>
      call(updatePlaceDetailsHandler(commands), {
        method: 'PATCH',
        params: { id: museumId },
        json: { description: 'Trains and looms' },
        headers: { ...admin, ...headers },
      });
    expectDocumented('updatePlaceDetails', await patch({}));
    expectDocumented('updatePlaceDetails', await patch({ 'if-match': '"1"' }));
    expectDocumented('updatePlaceDetails', await patch({ 'if-match': 'W/"x"' }));
    expectDocumented('updatePlaceDetails', await patch({ 'if-match': '"3"' }));
    // The owner (the function key that proposed it) changes the approved place: a revision for an admin.
    const revised = await call(updatePlaceDetailsHandler(commands), {
      method: 'PATCH',
      params: { id: museumId },
      json: { description: 'Looms too' },
      headers: { ...editor, 'if-match': '"4"' },
    });
    expectDocumented('updatePlaceDetails', await patch({ ...ann, 'if-match': '"5"' }));
    expectDocumented('updatePlaceDetails', revised);
    const revise = (revision: string, decision: 'approve' | 'reject', json: unknown = {}) =>
      call((decision === 'approve' ? approveRevisionHandler : rejectRevisionHandler)(commands), {
        method: 'POST',
        params: { id: museumId, revision },
        json,
        headers: admin,
      });
    expectDocumented('approveRevision', await revise('1', 'approve'));
    expectDocumented('approveRevision', await revise('9', 'approve'));
    expectDocumented('rejectRevision', await revise('1', 'reject', { reason: 'Too late' }));
    expectDocumented('rejectRevision', await revise('1', 'reject', {}));
    expectDocumented(
      'rejectPlace',
      await call(rejectPlaceHandler(commands), { method: 'POST', params: { id: farmId }, json: { reason: 'A duplicate' }, headers: admin }),
    );
    expectDocumented(
      'rejectPlace',
      await call(rejectPlaceHandler(commands), { method: 'POST', params: { id: museumId }, json: { reason: 'No' }, headers: admin }),
    );
    expectDocumented(
      'withdrawPlace',
      await call(withdrawPlaceHandler(commands), { method: 'POST', params: { id: farmId }, json: { reason: 'Closed' }, headers: admin }),
    );
    expectDocumented(
      'withdrawPlace',
      await call(withdrawPlaceHandler(commands), { method: 'POST', params: { id: museumId }, json: {}, headers: admin }),
    );
    expectDocumented(
      'withdrawPlace',
      await call(withdrawPlaceHandler(commands), { method: 'POST', params: { id: museumId }, json: { reason: 'Mine' }, headers: ann }),
    );

    // People: who is signed in, asking for editor access, and an admin deciding.
    expectDocumented('me', await call(meHandler(commands), { path: '/api/me', headers: ann }));
    expectDocumented('me', await call(meHandler(commands), { path: '/api/me' }));
    expectDocumented('me', await call(meHandler(commands), { path: '/api/me', headers: admin }));
    const ask = (json: unknown) => call(requestEditorAccessHandler(commands), { method: 'POST', json, headers: ann });
    expectDocumented('requestEditorAccess', await ask({ reason: 'I run the toddler group' }));
    expectDocumented('requestEditorAccess', await ask({ reason: '' }));
    const decide = (decision: 'approve' | 'suspend', userId: string, headers = root) =>
      call((decision === 'approve' ? approveEditorHandler : suspendEditorHandler)(commands), {
        method: 'POST',
        params: { userId },
        json: {},
        headers,
      });
    expectDocumented('approveEditor', await decide('approve', 'ann-oid'));
    expectDocumented('approveEditor', await decide('approve', 'nobody'));
    expectDocumented('approveEditor', await decide('approve', 'ann-oid', ann));
    expectDocumented('requestEditorAccess', await ask({}));
    expectDocumented('suspendEditor', await decide('suspend', 'ann-oid'));
    expectDocumented('requestEditorAccess', await ask({}));

    // The read side, rebuilt from the events above.
    expectDocumented(
      'rebuildViews',
      await call(
        rebuildViewsHandler({ views, eventStore: store, deadLetters: new InMemoryDeadLetterStore(), geohash: ngeohash.encode, clock }),
        { method: 'POST' },
      ),
    );
    expectDocumented('getPlace', await call(getPlaceHandler(queries), { params: { id: museumId } }));
    expectDocumented('getPlace', await call(getPlaceHandler(queries), { params: { id: farmId } }));
    expectDocumented('getManagedPlace', await call(getManagedPlaceHandler(queries), { params: { id: farmId }, headers: editor }));
    expectDocumented('getManagedPlace', await call(getManagedPlaceHandler(queries), { params: { id: 'not-an-id' }, headers: editor }));
    expectDocumented('getManagedPlace', await call(getManagedPlaceHandler(queries), { params: { id: farmId }, headers: ann }));
    for (const query of ['status=approved', 'status=rejected', 'status=nonsense', 'mine=true', 'status=revisionPending'])
      expectDocumented(
        'listManagedPlaces',
        await call(listManagedPlacesHandler(queries), { path: `/api/manage/places?${query}`, headers: editor }),
      );
    expectDocumented('listManagedPlaces', await call(listManagedPlacesHandler(queries), { path: '/api/manage/places', headers: ann }));
    const editors = (query: string, headers = root) => call(listEditorsHandler(queries), { path: `/api/manage/editors?${query}`, headers });
    expectDocumented('listEditors', await editors('status=suspended'));
    expectDocumented('listEditors', await editors('status=gone'));
    expectDocumented('listEditors', await editors('', ann));
    const nearby = (query: string) => call(nearbyPlacesHandler(queries), { path: `/api/places/nearby?${query}` });
    const found = await nearby('lat=53.4771&lon=-2.2547&radiusKm=5&age=3');
    expectDocumented('nearbyPlaces', found);
    expect((found.body as { results: unknown[] }).results).toHaveLength(1);
    expectDocumented('nearbyPlaces', await nearby('lat=53.4771&lon=-2.2547&at=2026-12-03T09:00:00Z'));
    expectDocumented('nearbyPlaces', await nearby('lat=91&lon=x'));
    expectDocumented('nearbyPlaces', await nearby('lat=53.4771&lon=-2.2547&open=true&sort=suitability'));
    const bestTimes = (id: string, query = '') =>
      call(bestTimesHandler(queries), { params: { id }, path: `/api/places/${id}/best-times${query}` });
    const windows = await bestTimes(museumId);
    expectDocumented('bestTimes', windows);
    expect((windows.body as { windows: unknown[] }).windows.length).toBeGreaterThan(0);
    expectDocumented('bestTimes', await bestTimes(farmId));
    expectDocumented('bestTimes', await bestTimes(museumId, '?days=8'));
    const week = (query: string) => call(openingHoursWeekHandler(clock), { path: `/api/opening-hours/week?${query}` });
    expectDocumented('openingHoursWeek', await week('value=Mo-Fr%2010%3A00-17%3A00&lat=53.48&lon=-2.24'));
    expectDocumented('openingHoursWeek', await week('value=Mo-Fx'));
    expectDocumented('newestPlaces', await call(newestPlacesHandler(queries), { path: '/api/places/newest?limit=5' }));
    expectDocumented('newestPlaces', await call(newestPlacesHandler(queries), { path: '/api/places/newest?limit=500' }));
    expectDocumented('regionForecast', await call(regionForecastHandler(queries), { params: { region } }));
    expectDocumented('regionForecast', await call(regionForecastHandler(queries), { params: { region: 'gcw2a' } }));

    const geocoder = {
      geocode: (address: string) =>
        Promise.resolve(
          address === 'M1 1AA'
            ? {
                kind: 'found' as const,
                candidates: [{ geolocation: { latitude: 53.48, longitude: -2.24 }, label: 'M1 1AA, England', countryCode: 'GB' }],
              }
            : { kind: 'notFound' as const, reason: 'no match' },
        ),
    };
    for (const q of ['M1%201AA', 'Atlantis', 'x'])
      expectDocumented('geocode', await call(geocodeHandler({ geocoder }), { path: `/api/geocode?q=${q}` }));

    const ok = { name: 'cosmos', critical: true, check: () => Promise.resolve('2 containers') };
    const down = (critical: boolean) => ({
      name: critical ? 'storage' : 'weather',
      critical,
      check: () => Promise.reject(new HealthCheckFailure('down')),
    });
    for (const checks of [[ok], [ok, down(false)], [ok, down(true)]])
      expectDocumented(
        'health',
        await call(
          healthHandler(() => checks),
          { path: '/api/health' },
        ),
      );

    expectDocumented('openApi', await call(openApiHandler(openApiDocument), { path: '/api/openapi.json' }));
    expect(answered).toEqual({
      proposePlace: [202, 202, 422, 400, 415, 401, 401],
      approvePlace: [409, 403, 200, 404],
      updatePlaceDetails: [428, 412, 400, 200, 403, 202],
      approveRevision: [200, 404],
      rejectRevision: [409, 400],
      rejectPlace: [200, 409],
      withdrawPlace: [409, 400, 403],
      me: [200, 401, 403],
      requestEditorAccess: [202, 400, 200, 409],
      approveEditor: [200, 404, 403],
      suspendEditor: [200],
      rebuildViews: [200],
      getPlace: [200, 404],
      getManagedPlace: [200, 404, 403],
      listManagedPlaces: [200, 200, 400, 200, 200, 403],
      listEditors: [200, 400, 403],
      nearbyPlaces: [200, 200, 400, 200],
      bestTimes: [200, 404, 400],
      openingHoursWeek: [200, 400],
      newestPlaces: [200, 400],
      regionForecast: [200, 404],
      geocode: [200, 404, 400],
      health: [200, 200, 503],
      openApi: [200],
    });
  });
});
