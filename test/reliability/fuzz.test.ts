/**
 * Every HTTP endpoint of the app, fuzzed through the compiled devhost (offline): route parameters
 * valid-looking and hostile, bodies (random JSON, invalidating mutations of valid bodies, huge and
 * multi-MB bodies, 10,000-level nesting, wrong types, `__proto__`/`constructor` keys, bytes that are
 * not UTF-8), query strings (unknown, repeated, huge, unicode, broken percent-encoding) and headers
 * (wrong or missing content types, bad If-Match / Idempotency-Key / x-correlation-id, enormous
 * headers), with the key the route's auth level needs, and with none, a wrong one or too weak a one.
 *
 * The endpoints come from the registrations, so a new route is fuzzed without being listed. For every
 * answer: never a 5xx; the host's own answers where the host decides (404 for no route, 401 for a
 * missing key, 431 for enormous headers); every 4xx of an API route is application/problem+json whose
 * `status` is the HTTP status (the site's pages answer their HTML 404 page); nothing is written (the
 * event store's count, through test/fixtures/eventCountProbe.ts, is the same before and after each
 * endpoint); and afterwards the devhost is healthy and still takes a proposal.
 *
 * FUZZ_SEED=<n> replays a run (the seed is printed); FUZZ_RUNS=<n> sets the generated requests per
 * endpoint (default 400, on top of a fixed corpus of the expensive cases).
 */
import fc from 'fast-check';
import { existsSync, readdirSync } from 'node:fs';
import { extname, join, sep } from 'node:path';
import { performance } from 'node:perf_hooks';
import { CONTENT_TYPES, PAGES } from '../../shared/platform/http/staticSite';
import { startDevhostProcess, type DevhostProcess } from '../support/devhostProcess';
import {
  answerOf,
  encodeSegment,
  EVENT_COUNT_PROBE,
  eventCount,
  httpEndpoint,
  isHostPath,
  keyAuthorises,
  keyFor,
  loadHttpEndpoints,
  mediaTypeOf,
  pathOf,
  routeOf,
  type Answer,
  type HttpEndpoint,
  type KeyChoice,
  type ParamValue,
  root,
} from './support/endpoints';

const SEED = process.env.FUZZ_SEED === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(process.env.FUZZ_SEED);
const RUNS = Number(process.env.FUZZ_RUNS ?? 400);
/** Requests in flight at once against the devhost. */
const CONCURRENCY = 8;
const WRONG_KEY = 'not-a-key-of-this-host-0123456789abcdef';

const endpoints = loadHttpEndpoints();
/** What the devhost serves besides the app in this test: the event count probe. */
const served = [...endpoints, httpEndpoint('eventCountProbe', 'api/test/event-count', ['GET'], 'admin')];

// ---------------------------------------------------------------------------------------------
// Inputs

interface FuzzRequest {
  readonly kind: string;
  readonly method: string;
  readonly path: string;
  /** Raw query string without `?` (the key's `code=` is added in front when sent that way). */
  readonly query: string;
  readonly headers: readonly (readonly [string, string])[];
  readonly body?: string | Uint8Array;
  readonly key: KeyChoice;
  readonly keyVia: 'header' | 'query';
  /** Headers or URL beyond what any HTTP server takes (Node: 16 KB): the host's 431, not the app's answer. */
  readonly overHostLimit?: boolean;
}

/** Valid bodies of the commands; sent only mutated so that they are invalid, or with a header that makes the request invalid. */
const VALID = {
  proposal: {
    name: 'Heaton Park',
    geolocation: { latitude: 53.5349, longitude: -2.2562 },
    kind: 'outdoor',
    ageRange: { min: 0, max: 16 },
    price: { free: true },
    facilities: ['parking', 'cafe'],
    openingHours: 'Sa 10:00-17:00; Dec 25 off',
    website: 'https://www.heatonpark.org.uk',
    description: 'A big park.',
  },
  changes: { description: 'Lions and tigers', kind: 'mixed', ageRange: { min: 2, max: 10 } },
  reason: { reason: 'Closed for good' },
  empty: {},
} as const satisfies Record<string, Record<string, unknown>>;
type BodyShape = keyof typeof VALID;

/** Which valid body a function takes (others get any of them). */
const SHAPE_OF: Readonly<Record<string, BodyShape>> = {
  proposePlace: 'proposal',
  updatePlaceDetails: 'changes',
  rejectPlace: 'reason',
  withdrawPlace: 'reason',
  approvePlace: 'empty',
};
const KNOWN_FIELDS = new Set(
  Object.values(VALID)
    .flatMap((body) => Object.keys(body))
    .concat(['address']),
);

const json = (value: unknown): string => JSON.stringify(value);
const nestedArrays = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
const nestedObjects = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;

/** Puts `"key": valueText` first in an object's JSON text (so `__proto__` is an own key, as JSON.parse makes it). */
function withKey(objectText: string, key: string, valueText: string): string {
  const rest = objectText.slice(1);
  return `{${json(key)}:${valueText}${rest === '}' ? '' : ','}${rest}`;
}

/** A JSON value of another type than `value`, never null (null removes a detail, which is valid). */
function otherTypes(value: unknown): string[] {
  const all: Record<string, string> = { string: '"x"', number: '42', boolean: 'true', array: '[]', object: '{}' };
  const own = Array.isArray(value) ? 'array' : typeof value;
  return Object.entries(all)
    .filter(([type]) => type !== own)
    .map(([, text]) => text);
}

/**
 * Mutations of a valid body that make it an invalid one (approve reads no fields, so its body only has
 * to be JSON: its fuzzed requests name no place it could approve). Each yields the body's text.
 */
function invalidMutation(shape: BodyShape): fc.Arbitrary<{ kind: string; text: string }> {
  const body: Record<string, unknown> = VALID[shape];
  const text = json(body);
  const fields = Object.keys(body);
  const nestedObjectFields = fields.filter(
    (field) => typeof body[field] === 'object' && body[field] !== null && !Array.isArray(body[field]),
  );
  const options: fc.Arbitrary<{ kind: string; text: string }>[] = [
    fc.constant({ kind: 'emptied', text: shape === 'empty' ? '[]' : '{}' }),
    fc
      .tuple(
        fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', '__defineGetter__', 'isAdmin'),
        fc.jsonValue({ maxDepth: 2 }),
      )
      .map(([key, value]) => ({ kind: `key ${key}`, text: withKey(text, key, json(value)) })),
    fc.constant({ kind: 'prototype pollution', text: withKey(text, '__proto__', '{"polluted":true,"isAdmin":true}') }),
    fc.constant({ kind: 'constructor.prototype', text: withKey(text, 'constructor', '{"prototype":{"polluted":true}}') }),
    fc
      .string({ minLength: 1, maxLength: 16 })
      .filter((key) => !KNOWN_FIELDS.has(key))
      .map((key) => ({ kind: 'unknown field', text: withKey(text, key, '1') })),
    fc.constant({ kind: 'array instead of object', text: `[${text}]` }),
    fc.nat({ max: Math.max(0, text.length - 2) }).map((cut) => ({ kind: 'truncated', text: text.slice(0, cut + 1) })),
    fc.constant({ kind: 'NaN literal', text: withKey(text, fields[0] ?? 'x', 'NaN') }),
  ];
  if (fields.length > 0) {
    options.push(
      fc
        .constantFrom(...fields)
        .chain((field) =>
          fc
            .constantFrom(...otherTypes(body[field]))
            .map((wrong) => ({ kind: `wrong type ${field}`, text: withKey(json({ ...body, [field]: undefined }), field, wrong) })),
        ),
      fc
        .constantFrom(...fields)
        .map((field) => ({ kind: `duplicate key ${field}`, text: `${text.slice(0, -1)},${json(field)}:{"x":[1,2,3]}}` })),
      fc
        .tuple(fc.constantFrom(...fields), fc.constantFrom(nestedArrays(10_000), nestedObjects(10_000), nestedArrays(500)))
        .map(([field, deep]) => ({ kind: 'deeply nested field', text: withKey(json({ ...body, [field]: undefined }), field, deep) })),
      fc.tuple(fc.constantFrom(...fields), fc.integer({ min: 2_001, max: 60_000 })).map(([field, size]) => ({
        kind: 'long string field',
        text: withKey(json({ ...body, [field]: undefined }), field, json('x'.repeat(size))),
      })),
      fc
        .constantFrom(...fields)
        .map((field) => ({ kind: 'huge number', text: withKey(json({ ...body, [field]: undefined }), field, '1e400') })),
    );
  }
  for (const field of nestedObjectFields) {
    options.push(
      fc.constant({
        kind: `__proto__ in ${field}`,
        text: json({ ...body, [field]: undefined }).replace(
          /^\{/,
          `{${json(field)}:${withKey(json(body[field]), '__proto__', '{"polluted":true}')},`,
        ),
      }),
    );
  }
  return fc.oneof(...options);
}

const MUTATIONS = Object.fromEntries((Object.keys(VALID) as BodyShape[]).map((shape) => [shape, invalidMutation(shape)])) as Record<
  BodyShape,
  fc.Arbitrary<{ kind: string; text: string }>
>;

/** Bodies: random JSON, invalid mutations, text and bytes that are not JSON, huge and deep ones. */
function bodyArbitrary(endpoint: HttpEndpoint): fc.Arbitrary<{ kind: string; body: string | Uint8Array | undefined }> {
  const shapes: BodyShape[] = SHAPE_OF[endpoint.name] ? [SHAPE_OF[endpoint.name] as BodyShape] : (Object.keys(VALID) as BodyShape[]);
  const text = (kind: string) => (body: string) => ({ kind, body });
  return fc.oneof(
    {
      weight: 6,
      arbitrary: fc.oneof(...shapes.map((shape) => MUTATIONS[shape])).map(({ kind, text: body }) => ({ kind: `mutation: ${kind}`, body })),
    },
    {
      weight: 3,
      // Any JSON without a name cannot be a proposal; of the rest, none is a complete valid command.
      arbitrary: fc
        .jsonValue({ maxDepth: 4 })
        .filter((value) => typeof value !== 'object' || value === null || Array.isArray(value) || !('name' in value))
        .map((value) => ({ kind: 'random JSON', body: json(value) })),
    },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 300 }).map(text('random text')) },
    { weight: 1, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 2_000 }).map((bytes) => ({ kind: 'random bytes', body: bytes })) },
    { weight: 1, arbitrary: fc.constant({ kind: 'no body', body: undefined }) },
    // (A byte order mark before valid JSON is no fault: the body is decoded as UTF-8, which drops it.)
    {
      weight: 1,
      arbitrary: fc
        .constantFrom(
          '\uFEFF{"name":42}',
          '\uFEFF',
          '',
          ' ',
          '\n\t',
          'null',
          '""',
          '0',
          'true',
          '{',
          '}',
          '{}}',
          '{"a":1,}',
          "{'a':1}",
          '{"a":undefined}',
        )
        .map(text('edge JSON')),
    },
    {
      weight: 1,
      arbitrary: fc
        .integer({ min: 64 * 1024 + 1, max: 300 * 1024 })
        .map((size) => ({ kind: 'over 64 KB', body: json({ description: 'x'.repeat(size) }) })),
    },
    {
      weight: 1,
      arbitrary: fc
        .constantFrom(nestedArrays(10_000), nestedObjects(10_000), `{"name":${nestedArrays(10_000)}}`)
        .map(text('10,000 levels deep')),
    },
    {
      weight: 1,
      arbitrary: fc
        .constantFrom(
          '{"__proto__":{"polluted":true}}',
          '{"constructor":{"prototype":{"polluted":true}}}',
          '[{"__proto__":{"polluted":true}}]',
        )
        .map(text('prototype pollution')),
    },
  );
}

const FUZZ_CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'APPLICATION/JSON',
  'application/merge-patch+json',
  'application/problem+json',
  'text/plain',
  'text/json',
  'application/xml',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=xyz',
  'application/octet-stream',
  'application/jsonp',
  'json',
  ';;;',
  '*/*',
];

/** Header values fetch can send: Latin-1 without control characters. */
const headerText = (maxLength: number) => fc.string({ unit: 'grapheme-ascii', maxLength }).map((value) => value.trim());

/** Header names fetch will send (built once: a regex arbitrary is costly to build). */
const headerName = fc.stringMatching(/^[a-z][a-z0-9-]{0,24}$/).filter((name) => !FORBIDDEN_HEADERS.has(name));

const headersArbitrary: fc.Arbitrary<[string, string][]> = fc
  .tuple(
    fc.record(
      {
        'content-type': fc.oneof(fc.constantFrom(...FUZZ_CONTENT_TYPES), headerText(40)),
        'if-match': fc.oneof(
          fc.constantFrom('"1"', '1', '*', 'W/"1"', '"abc"', '"-1"', '"99999999999"', '"1", "2"', '""', 'x'.repeat(2_000), '"1'),
          headerText(30),
        ),
        'idempotency-key': fc.oneof(
          fc.constantFrom('\u00e9t\u00e9', 'a b', 'x'.repeat(256), 'x'.repeat(4_000), '\u00ff'),
          headerText(30).filter((key) => key === '' || /\s/.test(key)),
        ),
        'x-correlation-id': fc.oneof(
          fc.constantFrom(
            'ok-1',
            '<script>alert(1)</script>',
            'x'.repeat(129),
            'x'.repeat(6_000),
            '\u00e9',
            '../../etc/passwd',
            "' OR 1=1 --",
          ),
          headerText(60),
        ),
        accept: fc.constantFrom('application/json', 'text/html', '*/*', 'application/xml', ''),
        'accept-encoding': fc.constantFrom('gzip', 'br', 'identity', '*'),
      },
      { requiredKeys: [] },
    ),
    fc.array(fc.tuple(headerName, headerText(200)), { maxLength: 3 }),
  )
  .map(([known, extra]) => {
    const chosen = Object.entries(known).filter((entry): entry is [string, string] => typeof entry[1] === 'string');
    return [...chosen, ...extra.filter(([name]) => !(name in known))];
  });

/** Headers fetch refuses to set, or that would change how the request is framed or routed. */
const FORBIDDEN_HEADERS = new Set([
  'host',
  'connection',
  'content-length',
  'transfer-encoding',
  'keep-alive',
  'upgrade',
  'expect',
  'te',
  'trailer',
  'x-functions-key',
  'origin',
  'access-control-request-method',
  'access-control-request-headers',
]);

const QUERY_NAMES = [
  'lat',
  'lon',
  'radiusKm',
  'at',
  'kind',
  'age',
  'free',
  'limit',
  'status',
  'q',
  'page',
  'events',
  '__proto__',
  'constructor',
  'toString',
  'hasOwnProperty',
  'valueOf',
  '',
  'LAT',
  'lat[]',
  'a.b',
];
const QUERY_VALUES = [
  '',
  '53.48',
  '-2.24',
  '10',
  '0',
  '-1',
  '1e309',
  '-1e309',
  'NaN',
  'Infinity',
  '0x10',
  '1_000',
  'true',
  'false',
  'null',
  'undefined',
  '[]',
  '{}',
  '2026-11-27T10:00:00Z',
  'indoor',
  'approved',
  'locationValidated',
  'Leeds',
  'x'.repeat(5_000),
];

/** Query strings: unknown, repeated, huge, unicode and badly encoded parameters, on top of a plausible base. */
const queryArbitrary: fc.Arbitrary<{ kind: string; query: string }> = fc
  .tuple(
    fc.constantFrom(
      '',
      'lat=53.48&lon=-2.24',
      'lat=53.48&lon=-2.24&radiusKm=25&limit=5',
      'limit=5',
      'status=proposed',
      'q=Leeds',
      'q=M3%204FP',
    ),
    fc.array(
      fc.oneof(
        {
          weight: 4,
          arbitrary: fc
            .tuple(
              fc.oneof(fc.constantFrom(...QUERY_NAMES), fc.string({ maxLength: 12 })),
              fc.oneof(fc.constantFrom(...QUERY_VALUES), fc.string({ maxLength: 40 }), fc.double().map(String)),
            )
            .map(([name, value]) => `${encodeSegment(name)}=${encodeSegment(value)}`),
        },
        { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 30 }).map((value) => `q=${encodeSegment(value)}`) },
        {
          weight: 1,
          arbitrary: fc.constantFrom(
            '%zz',
            '%',
            '%%',
            '%E0%A4%A',
            '%C0%AF',
            '%00',
            '&&',
            '==',
            '=',
            '+',
            ';',
            'lat=%FF%FE',
            'a=b=c',
            `q=${'%F0%9F%98%80'.repeat(200)}`,
          ),
        },
      ),
      { maxLength: 8 },
    ),
    fc.nat({ max: 3 }),
  )
  .map(([base, parts, repeat]) => {
    // Repeat the last part: the same parameter given several times.
    const last = parts.at(-1);
    const all = [base, ...parts, ...(last === undefined ? [] : Array.from({ length: repeat }, () => last))].filter(Boolean);
    return {
      kind: repeat > 0 && last !== undefined ? 'repeated parameters' : parts.length > 0 ? 'random parameters' : 'plain',
      query: all.join('&'),
    };
  });

const HOSTILE_VALUES: readonly ParamValue[] = [
  ...[
    '__proto__',
    'constructor',
    'prototype',
    '..',
    '../..',
    '../../etc/passwd',
    '..\\..\\windows',
    '/etc/passwd',
    'local.settings.json',
    '.env',
    '.devhost/keys.json',
    '%2e%2e',
    'nearby',
    'newest',
    'NEARBY',
  ].map((text) => ({ text })),
  ...[
    '<script>alert(1)</script>',
    "' OR '1'='1",
    '" OR ""="',
    '${7*7}',
    '{{7*7}}',
    '\u0000',
    '\r\nX-Injected: 1',
    ' ',
    '-1',
    '0',
    '1e309',
    'NaN',
    'null',
    'undefined',
    'true',
    '*',
    '{id}',
  ].map((text) => ({ text })),
  ...['x'.repeat(2_000), '\u{1F600}'.repeat(100), '\u202Eevil', 'Ω≈ç√∫˜µ≤≥÷', '\uFFFF\uFFFE', '\uD800'].map((text) => ({ text })),
  // Already in URL form: dot segments, broken and overlong percent-encodings.
  ...['%2e%2e', '%2E%2E%2F%2E%2E', '..%2f..%2fpackage.json', '%E0%A4%A', '%', '%%', '%C0%AE%C0%AE', '%ED%A0%80', '%252e%252e', '%00'].map(
    (text) => ({ text, raw: true }),
  ),
];

/** The files the site serves under /assets/ (web/assets/, by the extensions it serves). */
const ASSETS = (() => {
  const folder = join(root, 'web', 'assets');
  return existsSync(folder)
    ? readdirSync(folder, { recursive: true, encoding: 'utf8' })
        .filter((file) => extname(file).toLowerCase() in CONTENT_TYPES)
        .map((file) => file.split(sep).join('/'))
    : [];
})();

const geohash = fc.stringMatching(/^[0-9b-hjkmnp-z]{1,12}$/);

/** Plausible values for a parameter, by its name; unknown names get plain strings. */
function validLooking(name: string, knownIds: readonly string[]): fc.Arbitrary<ParamValue | undefined> {
  switch (name) {
    case 'id':
      return fc.oneof(
        fc.uuid().map((text) => ({ text })),
        fc.uuid().map((text) => ({ text: text.toUpperCase() })),
        fc.constantFrom(...knownIds.map((text) => ({ text }))),
      );
    case 'region':
      return fc.oneof(
        geohash.map((text) => ({ text })),
        fc.constantFrom({ text: 'gcw2h' }, { text: 'GCW2H' }, { text: 'gcw2' }),
      );
    case 'page':
      return fc.constantFrom(
        undefined,
        ...[...Object.keys(PAGES), 'EDITOR', 'admin', 'index.html', 'nope', 'api', '404.html'].map((text) => ({ text })),
      );
    case 'file':
      return fc.constantFrom(
        ...[...ASSETS, 'js/../site.css', 'nope.css', 'js', '.hidden.css', 'a/b/c/d/e/f/g/h/i.css', 'js/api.js.map', '../index.html'].map(
          (text) => ({ text }),
        ),
      );
    default:
      return fc.oneof(
        fc.string({ minLength: 1, maxLength: 20 }).map((text) => ({ text })),
        fc.uuid().map((text) => ({ text })),
      );
  }
}

function paramsArbitrary(
  endpoint: HttpEndpoint,
  knownIds: readonly string[],
): fc.Arbitrary<{ kind: string; values: Record<string, ParamValue | undefined> }> {
  if (endpoint.parameters.length === 0) return fc.constant({ kind: 'no parameters', values: {} });
  const values = endpoint.parameters.map((parameter) =>
    fc.oneof(
      { weight: 3, arbitrary: validLooking(parameter.name, knownIds).map((value) => ({ hostile: false, value })) },
      {
        weight: 1,
        arbitrary: fc
          .oneof(
            fc.constantFrom(...HOSTILE_VALUES),
            fc.string({ unit: 'binary', minLength: 1, maxLength: 50 }).map((text) => ({ text })),
          )
          .map((value) => ({ hostile: true, value })),
      },
    ),
  );
  return fc.tuple(...values).map((chosen) => ({
    kind: chosen.some(({ hostile }) => hostile) ? 'hostile parameter' : 'valid-looking parameters',
    values: Object.fromEntries(endpoint.parameters.map((parameter, i) => [parameter.name, chosen[i]?.value])),
  }));
}

const OTHER_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'];

function keyArbitrary(endpoint: HttpEndpoint): fc.Arbitrary<{ key: KeyChoice; keyVia: 'header' | 'query' }> {
  return fc.record({
    key: fc.oneof(
      { weight: 12, arbitrary: fc.constant(keyFor(endpoint.authLevel)) },
      { weight: 1, arbitrary: fc.constantFrom<KeyChoice>('none', 'wrong', 'function', 'master') },
    ),
    keyVia: fc.oneof({ weight: 4, arbitrary: fc.constant<'header'>('header') }, { weight: 1, arbitrary: fc.constant<'query'>('query') }),
  });
}

type Focus = 'body' | 'query' | 'headers' | 'params' | 'valid body, bad header';

/**
 * Headers that make a request carrying a valid body invalid: a content type that is not JSON (or
 * none) for any command; a malformed Idempotency-Key only where it is read (proposals), a malformed
 * If-Match only where it is required (details updates).
 */
function invalidatingHeaders(endpoint: HttpEndpoint): (readonly (readonly [string, string])[])[] {
  const contentTypes = [
    'text/plain',
    'text/json',
    'application/xml',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=xyz',
    'application/octet-stream',
    'application/jsonp',
    'json',
  ];
  return [
    ...contentTypes.map((type) => [['content-type', type] as const, ['if-match', '*'] as const]),
    [['if-match', '*']],
    ...(endpoint.name === 'proposePlace'
      ? ['', ' ', '\u00e9t\u00e9', 'a b', 'x'.repeat(256)].map((key) => [
          ['content-type', 'application/json'] as const,
          ['idempotency-key', key] as const,
        ])
      : []),
    ...(endpoint.name === 'updatePlaceDetails'
      ? ['"abc"', 'W/"1"', '"-1"', '"1", "2"', '""', '"1234567890"'].map((tag) => [
          ['content-type', 'application/json'] as const,
          ['if-match', tag] as const,
        ])
      : []),
  ];
}

/**
 * One generated request for an endpoint. Each request stresses one part (body, query, headers, route
 * parameters) and keeps the others plain, so a refusal is the fuzzed part's; whatever is stressed,
 * the request as a whole is invalid or names no changeable place, so nothing may be written.
 */
function requestArbitrary(endpoint: HttpEndpoint, knownIds: readonly string[]): fc.Arbitrary<FuzzRequest> {
  const method = fc.oneof(
    { weight: 15, arbitrary: fc.constantFrom(...endpoint.methods) },
    { weight: 1, arbitrary: fc.constantFrom(...OTHER_METHODS) },
  );
  return fc
    .record({
      method,
      focus: fc.constantFrom<Focus>('body', 'body', 'query', 'headers', 'params', 'valid body, bad header'),
      params: paramsArbitrary(endpoint, knownIds),
      query: queryArbitrary,
      headers: headersArbitrary,
      body: bodyArbitrary(endpoint),
      invalidating: fc.constantFrom(...invalidatingHeaders(endpoint)),
      key: keyArbitrary(endpoint),
    })
    .map(({ method: chosen, focus: wanted, params, query, headers, body, invalidating, key }): FuzzRequest => {
      const takesBody = chosen !== 'GET' && chosen !== 'HEAD';
      // A GET has no body to fuzz: its query instead.
      const focus: Focus = !takesBody && (wanted === 'body' || wanted === 'valid body, bad header') ? 'query' : wanted;
      const plainHeaders: (readonly [string, string])[] = [
        ['content-type', 'application/json'],
        ['if-match', '*'],
      ];
      const plain = { method: chosen, path: pathOf(endpoint, plainParams(endpoint, knownIds)), query: '', headers: plainHeaders, ...key };
      const invalidBody = takesBody ? { body: invalidPlainBody(endpoint) } : {};
      switch (focus) {
        case 'body':
          return { ...plain, kind: `body: ${body.kind}`, ...(body.body !== undefined && { body: body.body }) };
        case 'query':
          return { ...plain, kind: `query: ${query.kind}`, query: query.query, ...invalidBody };
        case 'headers':
          return { ...plain, kind: 'headers: fuzzed', headers, ...(takesBody && { body: body.body ?? invalidPlainBody(endpoint) }) };
        case 'params':
          // A command's valid body: the id (unknown, the rejected place, or hostile) decides the answer.
          return {
            ...plain,
            kind: `params: ${params.kind}`,
            path: pathOf(endpoint, params.values),
            ...(takesBody && { body: validBodyFor(endpoint, 'params') }),
          };
        case 'valid body, bad header':
          return {
            ...plain,
            kind: `valid body, bad header: ${invalidating.map(([name, value]) => `${name}=${value.slice(0, 20)}`).join(' ')}`,
            headers: invalidating,
            body: validBodyFor(endpoint, 'header'),
          };
      }
    });
}

/**
 * A command's valid body. With fuzzed parameters only where the parameter is the place: never the
 * proposal, which names no place and would be taken.
 */
function validBodyFor(endpoint: HttpEndpoint, use: 'params' | 'header'): string {
  const shape = SHAPE_OF[endpoint.name];
  if (use === 'params') return shape === undefined || shape === 'proposal' ? invalidPlainBody(endpoint) : json(VALID[shape]);
  return json(VALID[shape ?? 'proposal']);
}

/** Valid-looking parameters that are sure not to name a place that could change: a random id. */
function plainParams(endpoint: HttpEndpoint, knownIds: readonly string[]): Record<string, ParamValue | undefined> {
  const known = PLAIN_PARAMS.get(endpoint);
  if (known) return known;
  const sample = (name: string) => fc.sample(validLooking(name, knownIds), { numRuns: 1, seed: SEED })[0];
  const params = Object.fromEntries(
    endpoint.parameters.map((parameter) => [parameter.name, parameter.name === 'id' ? { text: UNKNOWN_PLACE_ID } : sample(parameter.name)]),
  );
  PLAIN_PARAMS.set(endpoint, params);
  return params;
}
const PLAIN_PARAMS = new Map<HttpEndpoint, Record<string, ParamValue | undefined>>();
const UNKNOWN_PLACE_ID = '7d1c2a4e-5b6f-4c3d-8e9f-0a1b2c3d4e5f';

/** A body that no command accepts: a request that is fuzzed elsewhere still cannot write. */
function invalidPlainBody(endpoint: HttpEndpoint): string {
  return SHAPE_OF[endpoint.name] === 'empty' ? '{"unknownField":1}' : '{"name":42}';
}

/** The expensive and named cases, once per endpoint and method, with the key the route needs. */
function fixedCorpus(endpoint: HttpEndpoint, knownIds: readonly string[]): FuzzRequest[] {
  const key = keyFor(endpoint.authLevel);
  const path = pathOf(endpoint, plainParams(endpoint, knownIds));
  const base = { path, query: '', key, keyVia: 'header' as const };
  const jsonHeaders: [string, string][] = [['content-type', 'application/json']];
  return endpoint.methods.flatMap((method): FuzzRequest[] => {
    const withBody = method !== 'GET' && method !== 'HEAD';
    const bodies: [string, string][] = withBody
      ? [
          ['2 MB body', json({ description: 'x'.repeat(2 * 1024 * 1024) })],
          ['5 MB body', `[${'1,'.repeat(2.5 * 1024 * 1024)}1]`],
          ['65 KB body', json({ description: 'x'.repeat(65 * 1024) })],
          ['10,000 nested arrays', nestedArrays(10_000)],
          ['10,000 nested objects', nestedObjects(10_000)],
          ['__proto__', '{"__proto__":{"polluted":true}}'],
          ['constructor.prototype', '{"constructor":{"prototype":{"polluted":true}}}'],
        ]
      : [];
    return [
      ...bodies.map(([kind, body]): FuzzRequest => ({ ...base, kind: `fixed: ${kind}`, method, headers: jsonHeaders, body })),
      ...(withBody ? [{ ...base, kind: 'fixed: no content type', method, headers: [], body: invalidPlainBody(endpoint) }] : []),
      { ...base, kind: 'fixed: enormous header (20 KB)', method, headers: [['x-correlation-id', 'x'.repeat(20_000)]], overHostLimit: true },
      {
        ...base,
        kind: 'fixed: 300 headers',
        method,
        headers: Array.from({ length: 300 }, (_, i): [string, string] => [`x-fuzz-${i}`, 'y'.repeat(60)]),
        overHostLimit: true,
      },
      { ...base, kind: 'fixed: enormous query (40 KB)', method, headers: [], query: `q=${'x'.repeat(40_000)}`, overHostLimit: true },
      {
        ...base,
        kind: 'fixed: 12 KB header',
        method,
        headers: [['x-correlation-id', 'x'.repeat(12_000)]],
        ...(withBody && { body: invalidPlainBody(endpoint) }),
      },
      {
        ...base,
        kind: 'fixed: 10 KB query',
        method,
        headers: [],
        query: Array.from({ length: 500 }, (_, i) => `p${i}=${'v'.repeat(12)}`).join('&'),
        ...(withBody && { body: invalidPlainBody(endpoint) }),
      },
      ...(['none', 'wrong', 'function', 'master'] as const).map((choice): FuzzRequest => ({
        ...base,
        kind: `fixed: key ${choice}`,
        method,
        headers: [],
        key: choice,
        ...(withBody && { body: invalidPlainBody(endpoint) }),
      })),
    ];
  });
}

// ---------------------------------------------------------------------------------------------
// Sending and judging

function urlOf(devhost: DevhostProcess, request: FuzzRequest): string {
  const code = request.keyVia === 'query' ? keyText(devhost, request.key) : undefined;
  const query = [
    ...(code === undefined ? [] : [`code=${encodeURIComponent(code)}`]),
    ...(request.query === '' ? [] : [request.query]),
  ].join('&');
  return `${devhost.url}${request.path}${query === '' ? '' : `?${query}`}`;
}

function keyText(devhost: DevhostProcess, key: KeyChoice): string | undefined {
  return key === 'none' ? undefined : key === 'wrong' ? WRONG_KEY : key === 'function' ? devhost.keys.functionKey : devhost.keys.masterKey;
}

async function send(devhost: DevhostProcess, request: FuzzRequest): Promise<{ url: string; answer: Answer }> {
  const url = urlOf(devhost, request);
  const headers = new Headers();
  for (const [name, value] of request.headers) headers.append(name, value);
  const key = request.keyVia === 'header' ? keyText(devhost, request.key) : undefined;
  if (key !== undefined) headers.set('x-functions-key', key);
  // Bytes, so that fetch adds no content type of its own: the request has exactly the headers chosen.
  const body = typeof request.body === 'string' ? Buffer.from(request.body, 'utf8') : request.body;
  const response = await fetch(url, {
    method: request.method,
    headers,
    ...(body !== undefined && { body }),
    signal: AbortSignal.timeout(20_000),
  });
  return { url, answer: await answerOf(response) };
}

/** The key the host sees: the x-functions-key header, else the first `code` query parameter. */
function presentedKey(devhost: DevhostProcess, request: FuzzRequest, url: URL): KeyChoice {
  const presented = request.keyVia === 'header' ? keyText(devhost, request.key) : undefined;
  const text = presented ?? url.searchParams.get('code') ?? undefined;
  if (text === undefined) return 'none';
  return text === devhost.keys.masterKey ? 'master' : text === devhost.keys.functionKey ? 'function' : 'wrong';
}

/** Node's HTTP server refuses a request line and headers over 16 KB with 431 (--max-http-header-size). */
const MAX_HEAD_BYTES = 16 * 1024;

/** About how large the request's head is: its line, its headers and the ~250 bytes fetch adds (host, user-agent, accept…). */
function headBytes(request: FuzzRequest, url: URL): number {
  const line = `${request.method} ${url.pathname}${url.search} HTTP/1.1\r\n`.length;
  return line + request.headers.reduce((sum, [name, value]) => sum + name.length + value.length + 4, 0) + 100 + 250;
}

/** Why an answer is wrong, or undefined when it is right. */
function judge(devhost: DevhostProcess, request: FuzzRequest, sentUrl: string, answer: Answer): string | undefined {
  if (answer.status >= 500) return `a ${answer.status}`;
  const url = new URL(sentUrl);
  const head = headBytes(request, url);
  if (request.overHostLimit || head > MAX_HEAD_BYTES + 512)
    return answer.status === 431 ? undefined : `expected the server's 431 for ${head} bytes of headers, got ${answer.status}`;
  if (answer.status === 431) return head > MAX_HEAD_BYTES - 1024 ? undefined : `a 431 for only ${head} bytes of headers`;
  // A parameter with dot segments can lead to the host's own routes: there only "no 5xx" applies.
  if (isHostPath(url.pathname)) return undefined;
  const routed = routeOf(served, request.method, url.pathname);
  if (!routed)
    return answer.status === 404 && answer.text === ''
      ? undefined
      : `expected the host's empty 404 (no route), got ${answer.status} ${answer.text.slice(0, 80)}`;
  if (!keyAuthorises(routed.endpoint.authLevel, presentedKey(devhost, request, url))) {
    return answer.status === 401 && answer.text === ''
      ? undefined
      : `expected the host's 401 (${routed.endpoint.authLevel} route), got ${answer.status}`;
  }
  if (answer.status < 400) return undefined;
  if (!routed.endpoint.isApi) {
    // The site answers a missing page or file with its own HTML 404 page.
    return answer.status === 404 && mediaTypeOf(answer.headers) === 'text/html'
      ? undefined
      : `expected the site's HTML 404, got ${answer.status} ${mediaTypeOf(answer.headers)}`;
  }
  if (mediaTypeOf(answer.headers) !== 'application/problem+json')
    return `a ${answer.status} that is ${mediaTypeOf(answer.headers) || 'untyped'}, not application/problem+json`;
  let problem: unknown;
  try {
    problem = JSON.parse(answer.text);
  } catch {
    return `a ${answer.status} problem+json that does not parse`;
  }
  if (typeof problem !== 'object' || problem === null || !('status' in problem) || problem.status !== answer.status)
    return `a ${answer.status} whose problem says status ${JSON.stringify((problem as { status?: unknown } | null)?.status)}`;
  if (!('title' in problem) || typeof problem.title !== 'string' || !('type' in problem) || typeof problem.type !== 'string')
    return `a ${answer.status} problem without type and title`;
  return undefined;
}

/**
 * Sends; when the connection was closed under the request (the server closes a connection after
 * answering a request it did not read, e.g. a 431, and the client may have reused it just then),
 * sends once more. Counted, so a devhost that really drops connections still shows.
 */
async function sendRetryingDroppedConnection(
  devhost: DevhostProcess,
  request: FuzzRequest,
  tally: Tally,
): Promise<{ url: string; answer: Answer }> {
  try {
    return await send(devhost, request);
  } catch (error) {
    const cause = error instanceof Error ? (error.cause as { code?: string; message?: string } | undefined) : undefined;
    if (!(cause?.code === 'UND_ERR_SOCKET' || cause?.code === 'ECONNRESET' || cause?.code === 'EPIPE')) throw error;
    tally.retried += 1;
    return send(devhost, request);
  }
}

async function pool<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++] as T);
  };
  await Promise.all(Array.from({ length: limit }, worker));
}

function describeRequest(request: FuzzRequest, url: string): string {
  const body = request.body === undefined ? '' : typeof request.body === 'string' ? request.body : `<${request.body.length} bytes>`;
  const headers = request.headers
    .map(([name, value]) => `${name}: ${value.length > 60 ? `${value.slice(0, 60)}…(${value.length})` : value}`)
    .join(' | ');
  return `${request.method} ${url.length > 200 ? `${url.slice(0, 200)}…(${url.length})` : url} key=${request.key}/${request.keyVia} [${headers}] body=${body.length > 200 ? `${body.slice(0, 200)}…(${body.length})` : body}`;
}

// ---------------------------------------------------------------------------------------------

interface Tally {
  requests: number;
  /** Requests sent again because the connection closed under them. */
  retried: number;
  ms: number;
  statuses: Record<number, number>;
}

describe(`fuzz: every HTTP endpoint through the devhost (seed ${SEED}, ${RUNS} generated requests per endpoint)`, () => {
  let devhost: DevhostProcess;
  let rejectedPlaceId: string;
  let baseline: number;
  const tallies = new Map<string, Tally>();
  const started = performance.now();

  beforeAll(async () => {
    devhost = await startDevhostProcess({ extraModules: [EVENT_COUNT_PROBE], args: ['--quiet'] });
    // A place every command refuses: outside the service area, so its location is rejected (a final status).
    const proposed = await fetch(`${devhost.url}/api/places`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-functions-key': devhost.keys.functionKey },
      body: json({ name: 'Mont Saint-Michel', geolocation: { latitude: 48.636, longitude: -1.5115 } }),
    });
    expect(proposed.status).toBe(202);
    rejectedPlaceId = ((await proposed.json()) as { placeId: string }).placeId;
    const deadline = Date.now() + 30_000;
    for (;;) {
      const place = await fetch(`${devhost.url}/api/manage/places/${rejectedPlaceId}`, {
        headers: { 'x-functions-key': devhost.keys.functionKey },
      });
      if (place.status === 200 && ((await place.json()) as { status: string }).status === 'locationRejected') break;
      if (Date.now() > deadline) throw new Error(`The place was not rejected within 30 s:\n${devhost.output()}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    baseline = await eventCount(devhost.url, devhost.keys.masterKey);
    expect(baseline).toBe(2);
  }, 90_000);

  afterAll(async () => {
    await devhost.stop();
    const rows = [...tallies].map(([name, tally]) => ({
      endpoint: name,
      requests: tally.requests,
      retried: tally.retried,
      seconds: Number((tally.ms / 1000).toFixed(1)),
      statuses: Object.entries(tally.statuses)
        .map(([status, n]) => `${status}×${n}`)
        .join(' '),
    }));
    const total = rows.reduce((sum, row) => sum + row.requests, 0);
    console.log(
      `Fuzz (seed ${SEED}): ${total} requests over ${rows.length} endpoints in ${((performance.now() - started) / 1000).toFixed(1)} s\n${rows.map((row) => `  ${row.endpoint.padEnd(44)} ${String(row.requests).padStart(5)} requests ${String(row.seconds).padStart(5)} s  ${row.statuses}${row.retried > 0 ? `  (${row.retried} resent after a dropped connection)` : ''}`).join('\n')}`,
    );
  });

  it('finds the HTTP endpoints in the registrations', () => {
    expect(endpoints.length).toBeGreaterThanOrEqual(10);
    for (const endpoint of endpoints) expect(endpoint.methods.length).toBeGreaterThan(0);
  });

  it.each(endpoints.map((endpoint) => [`${endpoint.methods.join(',')} /${endpoint.route} (${endpoint.authLevel})`, endpoint] as const))(
    '%s: no 5xx, problem+json 4xx, nothing written',
    async (label, endpoint) => {
      const knownIds = [rejectedPlaceId];
      const generated = fc.sample(requestArbitrary(endpoint, knownIds), { numRuns: RUNS, seed: SEED + endpoints.indexOf(endpoint) });
      const requests = [...fixedCorpus(endpoint, knownIds), ...generated];
      const tally: Tally = { requests: 0, retried: 0, ms: 0, statuses: {} };
      tallies.set(label, tally);
      const failures: string[] = [];
      /** Changes the app took: with nothing written, they can only be ones that write no event (a views rebuild). */
      const accepted: string[] = [];
      const before = await eventCount(devhost.url, devhost.keys.masterKey);
      const startedAt = performance.now();
      await pool(requests, CONCURRENCY, async (request) => {
        let sent: { url: string; answer: Answer };
        try {
          sent = await sendRetryingDroppedConnection(devhost, request, tally);
        } catch (error) {
          failures.push(
            `${request.kind}: no answer (${error instanceof Error ? `${error.message} ${(error.cause as Error | undefined)?.message ?? ''}` : String(error)})\n    ${describeRequest(request, urlOf(devhost, request))}`,
          );
          return;
        }
        tally.requests += 1;
        tally.statuses[sent.answer.status] = (tally.statuses[sent.answer.status] ?? 0) + 1;
        if (sent.answer.status < 300 && request.method !== 'GET')
          accepted.push(
            `${sent.answer.status} ${request.kind}\n    ${describeRequest(request, sent.url)}\n    → ${sent.answer.text.slice(0, 200)}`,
          );
        const wrong = judge(devhost, request, sent.url, sent.answer);
        if (wrong)
          failures.push(`${request.kind}: ${wrong}\n    ${describeRequest(request, sent.url)}\n    → ${sent.answer.text.slice(0, 300)}`);
      });
      tally.ms = performance.now() - startedAt;
      const after = await eventCount(devhost.url, devhost.keys.masterKey);
      expect({ seed: SEED, failures: failures.slice(0, 8), failed: failures.length }).toEqual({ seed: SEED, failures: [], failed: 0 });
      expect({ seed: SEED, eventsWritten: after - before, accepted: after === before ? [] : accepted.slice(0, 8) }).toEqual({
        seed: SEED,
        eventsWritten: 0,
        accepted: [],
      });
    },
    60_000,
  );

  it('leaves the devhost healthy, with nothing written and no failure logged, and it still takes a proposal', async () => {
    expect(await eventCount(devhost.url, devhost.keys.masterKey)).toBe(baseline);
    const health = await fetch(`${devhost.url}/api/health`);
    expect(health.status).toBe(200);
    expect(((await health.json()) as { status: string }).status).toMatch(/^(healthy|degraded)$/);
    expect(devhost.output()).not.toMatch(/HttpFailed|failed to serve a request|Unhandled|uncaught/i);

    const proposed = await fetch(`${devhost.url}/api/places`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-functions-key': devhost.keys.functionKey },
      body: json(VALID.proposal),
    });
    expect(proposed.status).toBe(202);
    expect(await eventCount(devhost.url, devhost.keys.masterKey)).toBeGreaterThan(baseline);
  });
});
