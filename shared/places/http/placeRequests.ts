import { z } from 'zod';
import { ValidationError } from '../../kernel/errors';
import { intParam, parseBody, parseQuery } from '../../platform/http/parseInput';
import { geolocationSchema } from '../../kernel/geolocation';
import type { ManagedListQuery, NearbyQuery } from '../application/placeQueries';
import type { BestTimesQuery } from '../application/bestTimesQuery';
import type { OpeningWeekQuery } from '../application/openingHoursWeek';
import { managedListSchema, NEARBY_SORTS, SUITABILITY_CANDIDATES } from '../application/placeQueries';
import { HttpProblem } from '../../platform/http/problem';
import { addressSchema, nameSchema, optionalDetailsShape, PLACE_KINDS } from '../domain/placeDetails';
import { detailsChangesShape, REASON_MAX, type DetailsChanges, type PlaceProposal } from '../domain/proposal';

/**
 * The places' HTTP requests: bodies and query strings parsed into the use cases' types. Every
 * failure names its field, and unknown fields are refused so that a misspelt one is never silently
 * dropped. The schemas are also the API's documentation (platform/composition/openApi.ts).
 */

/** The body of `POST /api/places`. */
export const proposalSchema = z
  .strictObject({
    name: nameSchema,
    geolocation: geolocationSchema.optional(),
    address: addressSchema.optional(),
    ...optionalDetailsShape,
  })
  .refine((proposal) => proposal.geolocation !== undefined || proposal.address !== undefined, {
    error: 'give a geolocation {latitude, longitude} or an address (postcode or place name)',
    path: ['geolocation'],
  });

/** The body of `PATCH /api/places/{id}`. */
export const detailsChangesSchema = z
  .strictObject(detailsChangesShape)
  .refine((changes) => Object.keys(changes).length > 0, { error: 'give at least one field to change' });

/** The body of a rejection or a withdrawal. */
export const reasonSchema = z.strictObject({
  reason: z
    .string({ error: 'must be a string' })
    .trim()
    .min(1, { error: 'must not be empty' })
    .max(REASON_MAX, { error: `must be at most ${REASON_MAX} characters` }),
});

export function parseProposal(body: unknown): PlaceProposal {
  const { name, geolocation, address, ...details } = parseBody(proposalSchema, body);
  return { name, details: withoutUndefined(details), ...(geolocation && { geolocation }), ...(address !== undefined && { address }) };
}

export function parseDetailsChanges(body: unknown): DetailsChanges {
  return withoutUndefined(parseBody(detailsChangesSchema, body));
}

export function parseReason(body: unknown): string {
  return parseBody(reasonSchema, body).reason;
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

const DAY_MS = 24 * 60 * 60 * 1000;
/** A parent's "now" may lag the server's a little; an `at` this far in the past still counts as now. */
const PAST_TOLERANCE_MS = 60 * 60 * 1000;

/** A visit's time as given (now when not), refused unless it lies between now and 7 days ahead. */
function visitInstant(field: string, iso: string | undefined, now: Date, title: string): Date {
  const at = iso === undefined ? now : new Date(iso);
  if (at.getTime() < now.getTime() - PAST_TOLERANCE_MS || at.getTime() > now.getTime() + 7 * DAY_MS) {
    throw new ValidationError([{ field, message: 'must be between now and 7 days ahead' }], title);
  }
  return at;
}

const numberParam = (name: string, min: number, max: number) =>
  z
    .string({ error: `${name} is required` })
    .trim()
    .regex(/^[+-]?(\d+(\.\d*)?|\.\d+)$/, { error: 'must be a number' })
    .transform(Number)
    .pipe(
      z
        .number()
        .min(min, { error: `must be ≥ ${min}` })
        .max(max, { error: `must be ≤ ${max}` }),
    );

const visitTime = (description: string) =>
  z.iso
    .datetime({ offset: true, error: 'must be an ISO 8601 date-time with a zone, e.g. 2026-11-28T10:00:00Z' })
    .optional()
    .meta({ description });

/** The query of `GET /api/places/nearby`. */
export const nearbyQuerySchema = z.strictObject({
  lat: numberParam('lat', -90, 90).meta({ description: 'Latitude of the centre of the search' }),
  lon: numberParam('lon', -180, 180).meta({ description: 'Longitude of the centre of the search' }),
  radiusKm: numberParam('radiusKm', 0.1, 50).optional().meta({ description: 'Radius of the search in km (default 10)' }),
  at: visitTime('When the visit is, for the forecast, opening hours and suitability: from now to 7 days ahead (default now)'),
  kind: z
    .enum(PLACE_KINDS, { error: `must be one of ${PLACE_KINDS.join(', ')}` })
    .optional()
    .meta({ description: 'Only places of this kind' }),
  age: intParam(0, 18).optional().meta({ description: "The child's age in years: places whose age range leaves it out score lower" }),
  free: z
    .enum(['true', 'false'], { error: 'must be true or false' })
    .optional()
    .meta({ description: 'Only free places (true) or only paid ones (false)' }),
  open: z
    .enum(['true'], { error: 'must be true (leave it out to include places whatever their hours)' })
    .optional()
    .meta({ description: 'Only places open at the time of the visit (places whose hours are unknown are left out)' }),
  sort: z
    .enum(NEARBY_SORTS, { error: `must be one of ${NEARBY_SORTS.join(', ')}` })
    .optional()
    .meta({
      description: `distance (default): nearest first; suitability: best suited first among the ${SUITABILITY_CANDIDATES} nearest, unknown scores last`,
    }),
  limit: intParam(1, 100).optional().meta({ description: 'At most this many results (default 20)' }),
});

/** Parses the query string of `GET /api/places/nearby`; the function key (`code`) is not a filter. */
export function parseNearbyQuery(params: URLSearchParams, now: Date): NearbyQuery {
  const q = parseQuery(nearbyQuerySchema, params, 'The search is not valid.');
  const at = visitInstant('at', q.at, now, 'The search is not valid.');
  return {
    lat: q.lat,
    lon: q.lon,
    radiusKm: q.radiusKm ?? 10,
    at,
    limit: q.limit ?? 20,
    sort: q.sort ?? 'distance',
    ...(q.open && { open: true as const }),
    ...(q.kind && { kind: q.kind }),
    ...(q.age !== undefined && { age: q.age }),
    ...(q.free !== undefined && { free: q.free === 'true' }),
  };
}

/** The query of `GET /api/places/{id}/best-times`. */
export const bestTimesQuerySchema = z.strictObject({
  from: visitTime('The start of the days to look at: from now to 7 days ahead (default now)'),
  days: intParam(1, 7).optional().meta({ description: 'How many days from `from` (default 7; the forecast reaches about 7 days)' }),
});

/** Parses the query string of `GET /api/places/{id}/best-times?from&days`. */
export function parseBestTimesQuery(placeId: string, params: URLSearchParams, now: Date): BestTimesQuery {
  const query = parseQuery(bestTimesQuerySchema, params);
  const from = visitInstant('from', query.from, now, 'The query is not valid.');
  return { placeId, from, days: query.days ?? 7 };
}

/** The query of `GET /api/opening-hours/week`. */
export const openingWeekQuerySchema = z
  .strictObject({
    value: z
      .string({ error: 'value is required: the opening hours to read' })
      .meta({ description: 'Opening hours in OpenStreetMap opening_hours syntax, e.g. `Mo-Fr 10:00-17:00; Sa,Su 09:30-18:00`' }),
    lat: numberParam('lat', -90, 90).optional().meta({ description: "The place's latitude, for its time zone and public holidays" }),
    lon: numberParam('lon', -180, 180).optional().meta({ description: "The place's longitude (with lat)" }),
    from: visitTime('The first day shown is the local date of this instant (default now; within a year of now)'),
  })
  .refine((query) => (query.lat === undefined) === (query.lon === undefined), { error: 'give lat and lon together', path: ['lat'] });

/** Parses the query string of `GET /api/opening-hours/week?value&lat&lon&from`. */
export function parseOpeningWeekQuery(params: URLSearchParams, now: Date): OpeningWeekQuery {
  const query = parseQuery(openingWeekQuerySchema, params);
  const { value, lat, lon, from } = query;
  const start = from === undefined ? now : new Date(from);
  // A year either way covers any week an editor plans for, and keeps dates inside what Date and the parser handle alike.
  if (Math.abs(start.getTime() - now.getTime()) > 366 * DAY_MS) {
    throw new ValidationError([{ field: 'from', message: 'must be within a year of now' }], 'The query is not valid.');
  }
  return {
    value,
    from: start,
    ...(lat !== undefined && lon !== undefined && { geolocation: { latitude: lat, longitude: lon } }),
  };
}

/** The query of `GET /api/places/newest`. */
export const newestQuerySchema = z.strictObject({
  limit: intParam(1, 50).optional().meta({ description: 'At most this many results (default 5)' }),
});

/** Parses the query string of `GET /api/places/newest?limit` (1–50, default 5). */
export function parseNewestQuery(params: URLSearchParams): number {
  const query = parseQuery(newestQuerySchema, params);
  return query.limit ?? 5;
}

/** The query of `GET /api/manage/places`. */
export const statusListQuerySchema = z.strictObject({
  status: managedListSchema.optional().meta({
    description: 'List places in this status, or revisionPending (default locationValidated: awaiting moderation; with mine, every status)',
  }),
  mine: z
    .enum(['true', 'false'], { error: 'must be true or false' })
    .optional()
    .meta({ description: "true: only the caller's own places (editors see only these)" }),
  limit: intParam(1, 100).optional().meta({ description: 'At most this many places (default 50)' }),
});

/** Parses the query string of `GET /api/manage/places?status&mine&limit` (default: awaiting moderation, 50). */
export function parseStatusListQuery(params: URLSearchParams): ManagedListQuery {
  const query = parseQuery(statusListQuerySchema, params);
  const mine = query.mine === 'true';
  const status = query.status ?? (mine ? undefined : 'locationValidated');
  return { mine, limit: query.limit ?? 50, ...(status && { status }) };
}

/** The `{revision}` route parameter: a revision number; anything else names no revision. */
export function revisionParam(params: Record<string, string>): number {
  const raw = params.revision ?? '';
  if (!/^[1-9]\d{0,8}$/.test(raw)) throw new HttpProblem(404, `There is no revision ${JSON.stringify(raw.slice(0, 32))}.`);
  return Number(raw);
}
