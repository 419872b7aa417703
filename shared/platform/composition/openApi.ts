import { z } from 'zod';
import { forecastRefreshCycleSchema, forecastRefreshStatusSchema } from '../../regions/application/forecastRefreshStatus';
import { geocodeQuerySchema, locatedSearchSchema } from '../../places/application/geocodeQuery';
import {
  listedPlaceSchema,
  managedPlaceAnswerSchema,
  nearbyAnswerSchema,
  nearbyResultSchema,
  newestAnswerSchema,
  placeAnswerSchema,
  placeListAnswerSchema,
} from '../../places/application/placeQueries';
import { bestTimesAnswerSchema } from '../../places/application/bestTimesQuery';
import { openingWeekAnswerSchema } from '../../places/application/openingHoursWeek';
import { viewsRebuiltSchema } from '../views/rebuildViews';
import { checkResultSchema, healthReportSchema } from '../health/health';
import { placeIdSchema } from '../../places/domain/place';
import { regionSchema } from '../../regions/domain/region';
import { CORRELATION_HEADER } from '../http/httpHandler';
import { commandAnswerSchema } from '../../places/http/placeResponses';
import { fieldErrorSchema, PROBLEM_CONTENT_TYPE, problemSchema } from '../http/problem';
import { correlationIdSchema, idempotencyKeySchema, ifMatchSchema, MAX_BODY_BYTES } from '../http/request';
import { hourlyForecastSchema } from '../../kernel/forecast';
import {
  bestTimesQuerySchema,
  nearbyQuerySchema,
  newestQuerySchema,
  openingWeekQuerySchema,
  statusListQuerySchema,
  detailsChangesSchema,
  proposalSchema,
  reasonSchema,
} from '../../places/http/placeRequests';
import { regionForecastAnswerSchema } from '../../regions/application/regionQueries';
import {
  editorAccessAnswerSchema,
  editorListAnswerSchema,
  editorListQuerySchema,
  meAnswerSchema,
  optionalReasonSchema,
} from '../../editors/http/editorRequests';
import { USER_ID_PATTERN } from '../../kernel/caller';
import { KEY_CHECK_ROUTES } from '../adapters/hostKeyCheck';

/**
 * The app's HTTP API as an OpenAPI 3.1 document (served at `GET /api/openapi.json`), built from the
 * zod schemas the app parses its input with and types its answers by, so the document cannot say
 * other than the code. The operations are listed here by the function name, method, route and auth
 * level they are registered with; test/unit/openApi.test.ts holds the list to the registrations.
 */

/** The app's version (package.json's; the test keeps them equal). */
export const API_VERSION = '0.1.0';

export type AuthLevel = 'anonymous' | 'function' | 'admin';
export type Access = 'person' | 'editor' | 'admin';
export type Method = 'GET' | 'POST' | 'PATCH';
type Tag = 'parents' | 'editors' | 'admins' | 'operations';

/** Request bodies, described as the app parses them (zod's input side: numeric strings for coordinates). */
const REQUEST_SCHEMAS = {
  Proposal: proposalSchema,
  DetailsChanges: detailsChangesSchema,
  Reason: reasonSchema,
  OptionalReason: optionalReasonSchema,
  IgnoredBody: z.unknown(),
} as const;

/** Answers, described as the app builds them (zod's output side). */
export const RESPONSE_SCHEMAS = {
  CommandAnswer: commandAnswerSchema,
  PlaceAnswer: placeAnswerSchema,
  ManagedPlaceAnswer: managedPlaceAnswerSchema,
  PlaceList: placeListAnswerSchema,
  Me: meAnswerSchema,
  EditorAccess: editorAccessAnswerSchema,
  EditorList: editorListAnswerSchema,
  ListedPlace: listedPlaceSchema,
  NearbyAnswer: nearbyAnswerSchema,
  NearbyResult: nearbyResultSchema,
  NewestAnswer: newestAnswerSchema,
  BestTimesAnswer: bestTimesAnswerSchema,
  OpeningWeekAnswer: openingWeekAnswerSchema,
  LocatedSearch: locatedSearchSchema,
  RegionForecast: regionForecastAnswerSchema,
  HourlyForecast: hourlyForecastSchema,
  HealthReport: healthReportSchema,
  CheckResult: checkResultSchema,
  ViewsRebuilt: viewsRebuiltSchema,
  ForecastRefreshStatus: forecastRefreshStatusSchema,
  ForecastRefreshCycle: forecastRefreshCycleSchema,
  Problem: problemSchema,
  FieldError: fieldErrorSchema,
  OpenApiDocument: z.looseObject({ openapi: z.string().regex(/^3\.1\.\d+$/) }),
} as const;

type RequestSchemaName = keyof typeof REQUEST_SCHEMAS;
type ResponseSchemaName = keyof typeof RESPONSE_SCHEMAS;

/** What a component says beyond its schema's own descriptions: OpenAPI cannot read zod's refinements. */
const COMPONENT_NOTES: Partial<Record<RequestSchemaName | ResponseSchemaName, z.core.JSONSchemaMeta>> = {
  Proposal: {
    description:
      'A place to propose: its name and where it is, as a geolocation (numbers, or numeric strings as the original system sent) or an address (a postcode or place name), with any details. Unknown fields are refused.',
    anyOf: [{ required: ['geolocation'] }, { required: ['address'] }],
  },
  DetailsChanges: {
    description:
      'The fields to change, at least one; null removes a detail; each top-level field is replaced whole. Unknown fields are refused.',
    minProperties: 1,
  },
  Reason: { description: 'Why the place is rejected or withdrawn' },
  IgnoredBody: { description: 'Not read: send none, or {}' },
  PlaceAnswer: { description: 'A place with the hourly forecast of its region' },
  OpenApiDocument: { description: 'This document' },
};

/** Route parameters by name, as the handlers accept them (anything else is a 404). */
const PATH_PARAMETERS: Readonly<Record<string, { readonly schema: z.ZodType; readonly description: string }>> = {
  id: { schema: placeIdSchema, description: "The place's id" },
  region: { schema: regionSchema, description: 'A geohash cell, in either case' },
  userId: { schema: z.string().regex(USER_ID_PATTERN), description: "The person's user id (their Entra object id)" },
  revision: { schema: z.string().regex(/^[1-9]\d{0,8}$/), description: 'The revision number' },
};

interface HeaderInput {
  readonly name: string;
  readonly schema: z.ZodType;
  readonly required: boolean;
}

interface Answer {
  readonly description: string;
  readonly body?: ResponseSchemaName;
  readonly headers?: readonly ResponseHeader[];
}

type ResponseHeader = 'ETag' | 'Location' | 'RetryAfter';

/** One operation: how it is registered, what it takes and how it answers. */
export interface ApiOperation {
  /** The registered function's name, also the operationId. */
  readonly functionName: string;
  readonly method: Method;
  /** The route template as registered (host.json's routePrefix is empty). */
  readonly route: string;
  readonly authLevel: AuthLevel;
  /**
   * Who the app itself lets in on an anonymous route: a signed-in person; an editor (a signed-in
   * person, or a function key; the app checks the rest); an admin (the `admin` role, or the master key).
   */
  readonly access?: Access;
  readonly tag: Tag;
  readonly summary: string;
  readonly description?: string;
  readonly query?: z.ZodObject;
  readonly headers?: readonly HeaderInput[];
  readonly body?: { readonly schema: RequestSchemaName; readonly required: boolean };
  /** Every answer the handler gives, by status; 401 (keyed routes) and 500 are added to all. */
  readonly answers: Readonly<Record<number, Answer>>;
  /** Whether it reads a store or another service, which can be unavailable (a 503 with Retry-After). */
  readonly dependsOnServices: boolean;
}

const problem = (description: string, headers: readonly ResponseHeader[] = []): Answer => ({ description, body: 'Problem', headers });

const BODY_PROBLEMS = {
  413: problem(`The body is over ${MAX_BODY_BYTES / 1024} KB`),
  415: problem('The body is not sent as application/json'),
} as const;

const UNKNOWN_PLACE = problem('No place has this id');
const CHANGED_CONCURRENTLY = 'or it was changed by someone else at the same moment (type …/concurrent-change): read it again and retry';

/** An admin's command on a place: they differ only in what they do, what they read and when they are refused. */
function moderation(command: {
  functionName: string;
  route: string;
  summary: string;
  body: 'IgnoredBody' | 'Reason';
  done: string;
  refused: string;
  access?: Access;
  /** Takes the version the admin read (If-Match, optional): a place changed since is not decided unseen. */
  ifMatch?: boolean;
}): ApiOperation {
  const stale: Record<number, Answer> = command.ifMatch
    ? {
        412: problem('If-Match names an older version: the place changed since it was read (the ETag header names the current one)', [
          'ETag',
        ]),
      }
    : {};
  return {
    functionName: command.functionName,
    method: 'POST',
    route: command.route,
    authLevel: 'anonymous',
    access: command.access ?? 'admin',
    tag: 'admins',
    summary: command.summary,
    body: { schema: command.body, required: command.body !== 'IgnoredBody' },
    ...(command.ifMatch && { headers: [{ name: 'If-Match', schema: ifMatchSchema, required: false }] }),
    answers: {
      200: { description: command.done, body: 'CommandAnswer', headers: ['ETag'] },
      ...stale,
      400: problem(command.body === 'IgnoredBody' ? 'The body is not JSON' : 'The body is not valid'),
      404: command.route.includes('{revision}') ? problem('No place has this id, or it has no such revision') : UNKNOWN_PLACE,
      409: problem(`${command.refused}, ${CHANGED_CONCURRENTLY}`),
      ...BODY_PROBLEMS,
    },
    dependsOnServices: true,
  };
}

export const API_OPERATIONS: readonly ApiOperation[] = [
  {
    functionName: 'proposePlace',
    method: 'POST',
    route: 'api/places',
    authLevel: 'anonymous',
    access: 'editor',
    tag: 'editors',
    summary: 'Propose a place',
    description:
      'For approved editors, admins and machines with a function key; the caller becomes the owner. The place is proposed at once; its location is validated in the background. Read it at GET /api/manage/places/{id} until its status is locationValidated (or locationRejected), then an admin approves or rejects it. An Idempotency-Key is the caller’s own.',
    headers: [{ name: 'Idempotency-Key', schema: idempotencyKeySchema, required: false }],
    body: { schema: 'Proposal', required: true },
    answers: {
      202: { description: 'Proposed: the place with status proposed', body: 'CommandAnswer', headers: ['Location', 'ETag'] },
      400: problem('The body is not valid (errors names each field), not JSON, or the Idempotency-Key is malformed'),
      ...BODY_PROBLEMS,
      422: problem('You used this Idempotency-Key before (or at the same moment) with a different body'),
    },
    dependsOnServices: true,
  },
  {
    functionName: 'getPlace',
    method: 'GET',
    route: 'api/places/{id}',
    authLevel: 'anonymous',
    tag: 'parents',
    summary: 'An approved place, with its forecast',
    answers: {
      200: { description: 'The place (cacheable for 60 s)', body: 'PlaceAnswer', headers: ['ETag'] },
      404: problem('No approved place has this id'),
    },
    dependsOnServices: true,
  },
  {
    functionName: 'updatePlaceDetails',
    method: 'PATCH',
    route: 'api/places/{id}',
    authLevel: 'anonymous',
    access: 'editor',
    tag: 'editors',
    summary: "Change a place's details",
    description:
      "For the place's owner and admins. An owner's change to an approved place is a revision that waits for an admin (202): parents keep the approved details until then; an admin's change applies at once.",
    headers: [{ name: 'If-Match', schema: ifMatchSchema, required: true }],
    body: { schema: 'DetailsChanges', required: true },
    answers: {
      200: { description: 'Changed (or already so)', body: 'CommandAnswer', headers: ['ETag'] },
      202: {
        description: 'A revision of the approved place, waiting for an admin (pendingRevision names it)',
        body: 'CommandAnswer',
        headers: ['ETag'],
      },
      400: problem('The body or If-Match is not valid'),
      404: UNKNOWN_PLACE,
      409: problem(`The place is in a final status (locationRejected, rejected, withdrawn), ${CHANGED_CONCURRENTLY}`),
      412: problem('If-Match names an older version: the ETag header names the current one', ['ETag']),
      ...BODY_PROBLEMS,
      428: problem('If-Match is missing, or is * (a change names the version it was based on)'),
    },
    dependsOnServices: true,
  },
  moderation({
    functionName: 'approvePlace',
    route: 'api/places/{id}/approve',
    summary: 'Approve a place whose location is validated',
    body: 'IgnoredBody',
    done: 'Approved (or already approved)',
    refused: "The place's status is not locationValidated",
    ifMatch: true,
  }),
  moderation({
    functionName: 'rejectPlace',
    route: 'api/places/{id}/reject',
    summary: 'Reject a place whose location is validated',
    body: 'Reason',
    done: 'Rejected (or already rejected)',
    refused: "The place's status is not locationValidated",
    ifMatch: true,
  }),
  moderation({
    functionName: 'withdrawPlace',
    route: 'api/places/{id}/withdraw',
    summary: 'Take an approved place off the map (its owner or an admin)',
    body: 'Reason',
    done: 'Withdrawn (or already withdrawn)',
    refused: 'The place is not approved',
    access: 'editor',
  }),
  moderation({
    functionName: 'approveRevision',
    route: 'api/places/{id}/revisions/{revision}/approve',
    summary: 'Approve a change to an approved place: parents see it',
    body: 'IgnoredBody',
    done: 'Approved (or already approved)',
    refused: 'The revision is no longer pending (superseded, rejected), or the place is not approved',
  }),
  moderation({
    functionName: 'rejectRevision',
    route: 'api/places/{id}/revisions/{revision}/reject',
    summary: 'Refuse a change to an approved place, with a reason',
    body: 'Reason',
    done: 'Rejected (or already rejected)',
    refused: 'The revision is no longer pending (superseded, approved), or the place is not approved',
  }),
  {
    functionName: 'listManagedPlaces',
    method: 'GET',
    route: 'api/manage/places',
    authLevel: 'anonymous',
    access: 'editor',
    tag: 'editors',
    summary: "The caller's own places (mine=true), or places in one status for admins and machines",
    query: statusListQuerySchema,
    answers: {
      200: { description: 'The places: one status earliest proposed first; one’s own latest first', body: 'PlaceList' },
      400: problem('The query is not valid (errors names each parameter)'),
    },
    dependsOnServices: true,
  },
  {
    functionName: 'getManagedPlace',
    method: 'GET',
    route: 'api/manage/places/{id}',
    authLevel: 'anonymous',
    access: 'editor',
    tag: 'editors',
    summary: 'A place in any status, with its owner, a pending revision and its history',
    description: 'For its owner, admins and machines with a key. The parents’ route shows approved places only, and none of this.',
    answers: {
      200: { description: 'The place', body: 'ManagedPlaceAnswer', headers: ['ETag'] },
      404: problem('No place has this id (or it is not projected yet: a proposal shows here within moments)'),
    },
    dependsOnServices: true,
  },
  {
    functionName: 'me',
    method: 'GET',
    route: 'api/me',
    authLevel: 'anonymous',
    access: 'person',
    tag: 'editors',
    summary: 'Who is signed in: name, roles and editor access',
    answers: { 200: { description: 'The signed-in person', body: 'Me' } },
    dependsOnServices: true,
  },
  {
    functionName: 'requestEditorAccess',
    method: 'POST',
    route: 'api/editor-access',
    authLevel: 'anonymous',
    access: 'person',
    tag: 'editors',
    summary: 'Ask to become an editor',
    body: { schema: 'OptionalReason', required: false },
    answers: {
      200: { description: 'Already an approved editor', body: 'EditorAccess' },
      202: { description: 'Asked (or asked before): an admin decides', body: 'EditorAccess' },
      400: problem('The body is not valid'),
      409: problem('Your editor access is suspended: an admin can restore it'),
      ...BODY_PROBLEMS,
    },
    dependsOnServices: true,
  },
  {
    functionName: 'listEditors',
    method: 'GET',
    route: 'api/manage/editors',
    authLevel: 'anonymous',
    access: 'admin',
    tag: 'admins',
    summary: 'Editors in one status, earliest request first',
    query: editorListQuerySchema,
    answers: {
      200: { description: 'The editors', body: 'EditorList' },
      400: problem('The query is not valid'),
    },
    dependsOnServices: true,
  },
  ...(['approve', 'suspend'] as const).map((decision): ApiOperation => ({
    functionName: `${decision}Editor`,
    method: 'POST',
    route: `api/editors/{userId}/${decision}`,
    authLevel: 'anonymous',
    access: 'admin',
    tag: 'admins',
    summary: decision === 'approve' ? 'Approve an editor (or restore a suspended one)' : 'Suspend an editor, optionally saying why',
    body: { schema: decision === 'approve' ? 'IgnoredBody' : 'OptionalReason', required: false },
    answers: {
      200: { description: decision === 'approve' ? 'Approved (or already)' : 'Suspended (or already)', body: 'EditorAccess' },
      400: problem('The body is not valid'),
      404: problem('This person has not asked for editor access'),
      ...BODY_PROBLEMS,
    },
    dependsOnServices: true,
  })),
  {
    functionName: 'nearbyPlaces',
    method: 'GET',
    route: 'api/places/nearby',
    authLevel: 'anonymous',
    tag: 'parents',
    summary: 'Approved places near a point, with the weather at the time of the visit',
    query: nearbyQuerySchema,
    answers: {
      200: { description: 'The places, nearest first (cacheable for 60 s)', body: 'NearbyAnswer' },
      400: problem('The query is not valid (errors names each parameter), or at is not between now and 7 days ahead'),
    },
    dependsOnServices: true,
  },
  {
    functionName: 'bestTimes',
    method: 'GET',
    route: 'api/places/{id}/best-times',
    authLevel: 'anonymous',
    tag: 'parents',
    summary: 'When to go: the best visit windows of an approved place in the coming days',
    description:
      'Windows inside its opening hours (daylight hours when they are unknown) and, outdoors, daylight; scored hour by hour from the forecast like the suitability of a search.',
    query: bestTimesQuerySchema,
    answers: {
      200: { description: 'The windows, best first (cacheable for 5 minutes)', body: 'BestTimesAnswer' },
      400: problem('The query is not valid, or from is not between now and 7 days ahead'),
      404: problem('No approved place has this id'),
    },
    dependsOnServices: true,
  },
  {
    functionName: 'openingHoursWeek',
    method: 'GET',
    route: 'api/opening-hours/week',
    authLevel: 'anonymous',
    tag: 'editors',
    summary: 'The next seven days as opening hours say: the preview of the editor’s form',
    query: openingWeekQuerySchema,
    answers: {
      200: { description: "Each day's opening in the place's local time", body: 'OpeningWeekAnswer' },
      400: problem("value is missing or cannot be read (the field error carries the parser's message)"),
    },
    dependsOnServices: false,
  },
  {
    functionName: 'newestPlaces',
    method: 'GET',
    route: 'api/places/newest',
    authLevel: 'anonymous',
    tag: 'parents',
    summary: 'The newest approved places',
    query: newestQuerySchema,
    answers: {
      200: { description: 'The places, newest first (cacheable for 60 s)', body: 'NewestAnswer' },
      400: problem('The query is not valid'),
    },
    dependsOnServices: true,
  },
  {
    functionName: 'geocode',
    method: 'GET',
    route: 'api/geocode',
    authLevel: 'anonymous',
    tag: 'parents',
    summary: 'Where a postcode or place name is',
    query: geocodeQuerySchema,
    answers: {
      200: { description: 'The first match inside the service area (cacheable for a day)', body: 'LocatedSearch' },
      400: problem('q is missing or not 2–200 characters, or another parameter was sent'),
      404: problem('Nothing matches, or nothing inside the service area (Great Britain and Ireland)'),
    },
    dependsOnServices: true,
  },
  {
    functionName: 'regionForecast',
    method: 'GET',
    route: 'api/regions/{region}/forecast',
    authLevel: 'anonymous',
    tag: 'parents',
    summary: 'The hourly forecast of a region',
    answers: {
      200: { description: "The region's forecast (cacheable for 5 minutes)", body: 'RegionForecast' },
      404: problem('Not a geohash, or no place has made it a region yet'),
    },
    dependsOnServices: true,
  },
  {
    functionName: 'health',
    method: 'GET',
    route: 'api/health',
    authLevel: 'anonymous',
    tag: 'operations',
    summary: 'Each dependency: Cosmos DB, storage, Event Grid, the weather provider',
    description: 'Every check is bounded by 2 s. No endpoint, key or stack is ever shown.',
    answers: {
      200: {
        description: 'healthy, or degraded (only a non-critical dependency is down: the app still serves places)',
        body: 'HealthReport',
      },
      503: { description: 'unhealthy: Cosmos DB or storage is down', body: 'HealthReport' },
    },
    dependsOnServices: false,
  },
  {
    functionName: 'rebuildViews',
    method: 'POST',
    route: 'api/ops/rebuild-views',
    authLevel: 'admin',
    tag: 'operations',
    summary: 'Replay every event into empty read models',
    answers: { 200: { description: 'Rebuilt', body: 'ViewsRebuilt' } },
    dependsOnServices: true,
  },
  {
    functionName: 'forecastRefreshStatus',
    method: 'GET',
    route: 'api/ops/forecast-refresh',
    authLevel: 'admin',
    tag: 'operations',
    summary: 'The forecast refresh orchestration, its latest cycle, and how fresh forecasts are by search demand',
    answers: {
      200: {
        description: 'Its status, the freshness of searched and other regions, and today’s calls against the budget',
        body: 'ForecastRefreshStatus',
      },
      404: problem('It has not started yet (it starts with the app and is checked every 10 minutes)'),
    },
    dependsOnServices: true,
  },
  ...(['function', 'admin'] as const).map((level): ApiOperation => ({
    functionName: level === 'function' ? 'checkFunctionKey' : 'checkMasterKey',
    method: 'GET',
    route: KEY_CHECK_ROUTES[level],
    authLevel: level,
    tag: 'operations',
    summary: `Whether a key is a ${level === 'function' ? 'function (or host) key' : 'master key'}: the app asks its host, to know a machine caller`,
    answers: { 204: { description: 'The host accepted the key' } },
    dependsOnServices: false,
  })),
  {
    functionName: 'openApi',
    method: 'GET',
    route: 'api/openapi.json',
    authLevel: 'anonymous',
    tag: 'operations',
    summary: 'This document',
    answers: {
      200: { description: 'The OpenAPI document (revalidate with If-None-Match)', body: 'OpenApiDocument', headers: ['ETag'] },
      304: { description: 'Not modified: If-None-Match names the current ETag', headers: ['ETag'] },
    },
    dependsOnServices: false,
  },
];

// ---------------------------------------------------------------------------------------------
// The document

type JsonSchema = z.core.JSONSchema.BaseSchema;

interface Reference {
  readonly $ref: string;
}

interface Parameter {
  readonly name: string;
  readonly in: 'query' | 'path' | 'header';
  readonly required: boolean;
  readonly description?: string;
  readonly schema: JsonSchema;
}

interface Response {
  readonly description: string;
  readonly headers?: Record<string, Reference>;
  readonly content?: Record<string, { readonly schema: Reference }>;
}

export interface Operation {
  readonly operationId: string;
  readonly summary: string;
  readonly description?: string;
  readonly tags: readonly Tag[];
  readonly security: readonly Record<string, readonly string[]>[];
  readonly parameters: readonly (Parameter | Reference)[];
  readonly requestBody?: { readonly required: boolean; readonly content: Record<string, { readonly schema: Reference }> };
  readonly responses: Record<string, Response>;
}

export type PathItem = Partial<Record<Lowercase<Method>, Operation>>;

export interface OpenApiDocument {
  readonly openapi: string;
  readonly info: {
    readonly title: string;
    readonly version: string;
    readonly description: string;
    readonly license: { readonly name: string; readonly identifier: string };
  };
  readonly tags: readonly { readonly name: Tag; readonly description: string }[];
  readonly paths: Record<string, PathItem>;
  readonly components: {
    readonly schemas: Record<string, JsonSchema>;
    readonly parameters: Record<string, Parameter>;
    readonly headers: Record<string, { readonly description: string; readonly schema: JsonSchema }>;
    readonly securitySchemes: Record<
      string,
      { readonly type: 'apiKey'; readonly in: 'header' | 'query' | 'cookie'; readonly name: string; readonly description: string }
    >;
  };
}

const KEY_HEADER = 'x-functions-key';
const KEY_QUERY = 'code';

/** Which keys open a route of each auth level: either scheme of the pair (header or query). */
const SECURITY: Readonly<Record<AuthLevel, readonly Record<string, readonly string[]>[]>> = {
  anonymous: [],
  function: [{ functionKey: [] }, { functionKeyInQuery: [] }],
  admin: [{ masterKey: [] }, { masterKeyInQuery: [] }],
};

/** Who the app lets in on its anonymous routes: a signed-in session, or a key the host vouches for. */
const ACCESS_SECURITY: Readonly<Record<Access, readonly Record<string, readonly string[]>[]>> = {
  person: [{ signedIn: [] }],
  editor: [{ signedIn: [] }, ...SECURITY.function],
  admin: [{ signedIn: [] }, ...SECURITY.admin],
};

/** A route template as an OpenAPI path: `{name}` for every parameter, constraints and markers dropped. */
export function openApiPath(route: string): string {
  return `/${route.replace(/\{\*?([A-Za-z_]\w*)(?::[^}?]*)?\??\}/g, '{$1}')}`;
}

/** Builds the document. Deterministic: the same code gives the same text, and so the same ETag. */
export function openApiDocument(): OpenApiDocument {
  const paths: Record<string, PathItem> = {};
  for (const operation of API_OPERATIONS) {
    const path = openApiPath(operation.route);
    paths[path] = { ...paths[path], [operation.method.toLowerCase()]: operationObject(operation) };
  }
  return {
    openapi: '3.1.1',
    info: {
      title: 'Visit Plannr',
      version: API_VERSION,
      description: [
        'A location- and weather-aware day-trip planner for parents: approved places near you, with the forecast for your visit.',
        '',
        `Errors are ${PROBLEM_CONTENT_TYPE} (RFC 9457) with errors: [{field, message}] for refused input; bad input never writes anything and never answers 5xx.`,
        `Every answer of the app carries ${CORRELATION_HEADER}: yours when you sent a well-formed one, else the invocation id.`,
        'People sign in with App Service Authentication (Microsoft Entra ID; locally the devhost emulates it at /.auth/login/aad): the app reads who they are from x-ms-client-principal. Editors are people an admin approved; admins have the Entra app role admin.',
        `Machines send a key in the ${KEY_HEADER} header or the ${KEY_QUERY} query parameter: a function key for editors' routes, the master key for admins'. The app asks the host whether it knows a key (and remembers the answer for a minute). Without a sign-in or a key these routes answer 401 problem+json; with one that may not, 403.`,
      ].join('\n'),
      license: { name: 'MIT', identifier: 'MIT' },
    },
    tags: [
      { name: 'parents', description: 'Anonymous reads: what the parents’ page uses' },
      {
        name: 'editors',
        description: 'Signing in, editor access, proposing and changing one’s places (approved editors, or a function key)',
      },
      { name: 'admins', description: 'Approving editors, places and revisions (the admin role, or the master key)' },
      { name: 'operations', description: 'Health, maintenance and this document' },
    ],
    paths,
    components: {
      schemas: { ...componentSchemas(REQUEST_SCHEMAS, 'input'), ...componentSchemas(RESPONSE_SCHEMAS, 'output') },
      parameters: {
        CorrelationId: { name: CORRELATION_HEADER, in: 'header', required: false, ...described(correlationIdSchema, 'input') },
      },
      headers: {
        ETag: {
          description: 'The version of the place (or of the document), to send as If-Match (or If-None-Match)',
          schema: { type: 'string' },
        },
        Location: { description: "The place's URL", schema: { type: 'string' } },
        RetryAfter: {
          description: 'Seconds to wait before retrying (a command retried with the same Idempotency-Key or If-Match is not applied twice)',
          schema: { type: 'integer', minimum: 1 },
        },
        CorrelationId: { ...described(correlationIdSchema, 'output'), description: "This request's correlation id" },
      },
      securitySchemes: {
        functionKey: {
          type: 'apiKey',
          in: 'header',
          name: KEY_HEADER,
          description: 'A function key of the app (editors); the master key opens these routes too',
        },
        functionKeyInQuery: { type: 'apiKey', in: 'query', name: KEY_QUERY, description: 'A function key as a query parameter' },
        masterKey: { type: 'apiKey', in: 'header', name: KEY_HEADER, description: "The host's master key (admins)" },
        masterKeyInQuery: { type: 'apiKey', in: 'query', name: KEY_QUERY, description: 'The master key as a query parameter' },
        signedIn: {
          type: 'apiKey',
          in: 'cookie',
          name: 'AppServiceAuthSession',
          description:
            'The session App Service Authentication keeps after a sign-in at /.auth/login/aad (the platform turns it into x-ms-client-principal)',
        },
      },
    },
  };
}

function operationObject(operation: ApiOperation): Operation {
  // Integer keys: listed in ascending order of status whatever the order they are set in.
  const answers: Record<number, Answer> = { ...operation.answers, 500: problem('A fault of ours: detail names the invocation to quote') };
  if (operation.authLevel !== 'anonymous')
    answers[401] = { description: 'No key, or not a key of this route (the Functions host answers, with no body)' };
  if (operation.access) {
    answers[401] = problem('Not signed in and no key, a key the host does not know, or a sign-in that cannot be read');
    answers[403] = problem(ACCESS_REFUSED[operation.access]);
  }
  if (operation.dependsOnServices)
    answers[503] = problem('A store or service this needs is unavailable just now: retry after Retry-After', ['RetryAfter']);
  return {
    operationId: operation.functionName,
    summary: operation.summary,
    ...(operation.description !== undefined && { description: operation.description }),
    tags: [operation.tag],
    security: operation.access ? ACCESS_SECURITY[operation.access] : SECURITY[operation.authLevel],
    parameters: [
      ...pathParameters(operation.route),
      ...queryParameters(operation.query),
      ...headerParameters(operation.headers ?? []),
      { $ref: '#/components/parameters/CorrelationId' },
    ],
    ...(operation.body && {
      requestBody: { required: operation.body.required, content: { 'application/json': { schema: schemaRef(operation.body.schema) } } },
    }),
    responses: Object.fromEntries(Object.entries(answers).map(([status, answer]) => [status, responseObject(Number(status), answer)])),
  };
}

const ACCESS_REFUSED: Readonly<Record<Access, string>> = {
  person: 'A key, not a person: this is for people who sign in',
  editor: 'Not an approved editor (or suspended), or not the place’s owner or an admin',
  admin: 'Not an administrator',
};

function responseObject(status: number, answer: Answer): Response {
  // The host, not the app, answers 401 on keyed routes: without the app's correlation id.
  const headers = [...(answer.headers ?? []), ...(status === 401 && answer.body === undefined ? [] : ['CorrelationId'])];
  const mediaType = answer.body === 'Problem' ? PROBLEM_CONTENT_TYPE : 'application/json';
  return {
    description: answer.description,
    ...(headers.length > 0 && {
      headers: Object.fromEntries(headers.map((name) => [headerName(name), { $ref: `#/components/headers/${name}` }])),
    }),
    ...(answer.body && { content: { [mediaType]: { schema: schemaRef(answer.body) } } }),
  };
}

function headerName(component: string): string {
  return component === 'CorrelationId' ? CORRELATION_HEADER : component === 'RetryAfter' ? 'Retry-After' : component;
}

function pathParameters(route: string): Parameter[] {
  return [...openApiPath(route).matchAll(/\{(\w+)\}/g)].map(([, name = '']) => {
    const known = PATH_PARAMETERS[name];
    if (!known) throw new Error(`The route ${route} has a parameter {${name}} that openApi.ts does not describe.`);
    return { name, in: 'path', required: true, ...described(known.schema, 'input'), description: known.description };
  });
}

/**
 * A query schema's fields as parameters, each with its output type: what the value must mean (a
 * number from −90 to 90), which is more than its input type (a string) says.
 */
function queryParameters(query: z.ZodObject | undefined): Parameter[] {
  if (!query) return [];
  const { properties = {}, required = [] } = jsonSchemaOf(query, 'output');
  return Object.entries(properties).map(([name, property]) => ({
    name,
    in: 'query',
    required: required.includes(name),
    ...describedJson(typeof property === 'boolean' ? {} : property),
  }));
}

function headerParameters(headers: readonly HeaderInput[]): Parameter[] {
  return headers.map(({ name, schema, required }) => ({ name, in: 'header', required, ...described(schema, 'input') }));
}

const schemaRef = (name: RequestSchemaName | ResponseSchemaName): Reference => ({ $ref: `#/components/schemas/${name}` });

/** A schema's JSON Schema with its description taken out, for a parameter or header that carries it itself. */
function described(schema: z.ZodType, io: 'input' | 'output'): { description?: string; schema: JsonSchema } {
  return describedJson(jsonSchemaOf(schema, io));
}

function describedJson({ description, ...schema }: JsonSchema): { description?: string; schema: JsonSchema } {
  return { ...(description !== undefined && { description }), schema };
}

/** zod's JSON Schema without what OpenAPI does not want: `$schema`, and noise (see {@link simplify}). */
function jsonSchemaOf(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _dialect, ...json } = z.toJSONSchema(schema, { io, override: simplify });
  return json;
}

/**
 * Named schemas as OpenAPI components: a schema nested in another that is also named becomes a
 * `$ref`. Their descriptions come from the schemas' own `.meta()` (zod's global registry) and
 * {@link COMPONENT_NOTES}.
 */
function componentSchemas(named: Readonly<Record<string, z.ZodType>>, io: 'input' | 'output'): Record<string, JsonSchema> {
  const registry = new ComponentRegistry();
  for (const [id, schema] of Object.entries(named))
    registry.add(schema, { ...COMPONENT_NOTES[id as RequestSchemaName | ResponseSchemaName], id });
  const { schemas } = z.toJSONSchema(registry, { io, metadata: registry, uri: (id) => `#/components/schemas/${id}`, override: simplify });
  return Object.fromEntries(Object.entries(schemas).map(([id, { $schema: _dialect, $id: _id, ...json }]) => [id, json]));
}

/** Component ids and notes, over the descriptions the schemas carry in zod's global registry. */
class ComponentRegistry extends z.core.$ZodRegistry<z.core.JSONSchemaMeta> {
  override get(schema: z.core.$ZodType): z.core.JSONSchemaMeta | undefined {
    const own = super.get(schema);
    const described = z.globalRegistry.get(schema);
    return own === undefined && described === undefined ? undefined : { ...described, ...own };
  }
}

/**
 * Drops what says nothing to a reader: zod's own date-time pattern beside `format: date-time`, and
 * the safe-integer bounds zod puts on every integer.
 */
function simplify({ jsonSchema }: { jsonSchema: JsonSchema }): void {
  if (jsonSchema.format === 'date-time') delete jsonSchema.pattern;
  if (jsonSchema.type === 'integer') {
    if (jsonSchema.maximum === Number.MAX_SAFE_INTEGER) delete jsonSchema.maximum;
    if (jsonSchema.minimum === Number.MIN_SAFE_INTEGER) delete jsonSchema.minimum;
  }
}
