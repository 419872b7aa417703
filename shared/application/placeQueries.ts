import { z } from 'zod';
import { NotFoundError, ValidationError, type FieldError } from '../eventSourcing/errors';
import { forecastAt, type HourlyForecast } from '../forecasts/forecast';
import type { PlaceStatus } from '../places/place';
import { PLACE_KINDS } from '../places/placeDetails';
import { suitability, type Suitability } from '../places/suitability';
import { coveringCells, rankNearby } from '../views/nearbySearch';
import { placeViewKey, regionForecastKey, type NewestEntry, type PlaceView, type RegionForecastView, type StatusEntry } from '../views/projections/documents';
import type { ViewStore } from '../views/viewStore';

export const WEATHER_ATTRIBUTION = 'Weather data by Open-Meteo.com (CC BY 4.0)';

export interface QueryDeps {
  readonly views: ViewStore;
  readonly clock: () => Date;
}

const DAY_MS = 24 * 60 * 60 * 1000;
/** A parent's "now" may lag the server's a little; an `at` this far in the past still counts as now. */
const PAST_TOLERANCE_MS = 60 * 60 * 1000;

const numberParam = (name: string, min: number, max: number) =>
  z
    .string({ error: `${name} is required` })
    .trim()
    .regex(/^[+-]?(\d+(\.\d*)?|\.\d+)$/, { error: 'must be a number' })
    .transform(Number)
    .pipe(z.number().min(min, { error: `must be ≥ ${min}` }).max(max, { error: `must be ≤ ${max}` }));
const intParam = (min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^\d+$/, { error: 'must be a whole number' })
    .transform(Number)
    .pipe(z.number().min(min, { error: `must be ≥ ${min}` }).max(max, { error: `must be ≤ ${max}` }));

const nearbySchema = z.strictObject({
  lat: numberParam('lat', -90, 90),
  lon: numberParam('lon', -180, 180),
  radiusKm: numberParam('radiusKm', 0.1, 50).optional(),
  at: z.iso.datetime({ offset: true, error: 'must be an ISO 8601 date-time with a zone, e.g. 2026-11-28T10:00:00Z' }).optional(),
  kind: z.enum(PLACE_KINDS, { error: `must be one of ${PLACE_KINDS.join(', ')}` }).optional(),
  age: intParam(0, 18).optional(),
  free: z.enum(['true', 'false'], { error: 'must be true or false' }).optional(),
  limit: intParam(1, 100).optional(),
});

export interface NearbyQuery {
  readonly lat: number;
  readonly lon: number;
  readonly radiusKm: number;
  readonly at: Date;
  readonly kind?: (typeof PLACE_KINDS)[number];
  readonly age?: number;
  readonly free?: boolean;
  readonly limit: number;
}

/** Parses the query string of `GET /api/places/nearby`; the function key (`code`) is not a filter. */
export function parseNearbyQuery(params: URLSearchParams, now: Date): NearbyQuery {
  const raw = queryObject(params);
  const parsed = nearbySchema.safeParse(raw);
  if (!parsed.success) throw new ValidationError(parsed.error.issues.flatMap(toFieldErrors), 'The search is not valid.');
  const q = parsed.data;
  const at = q.at === undefined ? now : new Date(q.at);
  if (at.getTime() < now.getTime() - PAST_TOLERANCE_MS || at.getTime() > now.getTime() + 7 * DAY_MS) {
    throw new ValidationError([{ field: 'at', message: 'must be between now and 7 days ahead' }], 'The search is not valid.');
  }
  return {
    lat: q.lat,
    lon: q.lon,
    radiusKm: q.radiusKm ?? 10,
    at,
    limit: q.limit ?? 20,
    ...(q.kind && { kind: q.kind }),
    ...(q.age !== undefined && { age: q.age }),
    ...(q.free !== undefined && { free: q.free === 'true' }),
  };
}

export function parseLimit(params: URLSearchParams, max: number, fallback: number): number {
  const raw = queryObject(params);
  const parsed = z.strictObject({ limit: intParam(1, max).optional() }).safeParse(raw);
  if (!parsed.success) throw new ValidationError(parsed.error.issues.flatMap(toFieldErrors), 'The query is not valid.');
  return parsed.data.limit ?? fallback;
}

/** Every status a place can be listed under (a new status fails to compile here until it is added). */
const PLACE_STATUSES = {
  proposed: 'proposed',
  locationValidated: 'locationValidated',
  locationRejected: 'locationRejected',
  approved: 'approved',
  rejected: 'rejected',
  withdrawn: 'withdrawn',
} as const satisfies Record<PlaceStatus, PlaceStatus>;

const statusListSchema = z.strictObject({
  status: z.enum(PLACE_STATUSES, { error: `must be one of ${Object.keys(PLACE_STATUSES).join(', ')}` }).optional(),
  limit: intParam(1, 100).optional(),
});

export interface StatusListQuery {
  readonly status: PlaceStatus;
  readonly limit: number;
}

/** Parses the query string of `GET /api/manage/places?status&limit` (default: awaiting moderation, 50). */
export function parseStatusListQuery(params: URLSearchParams): StatusListQuery {
  const parsed = statusListSchema.safeParse(queryObject(params));
  if (!parsed.success) throw new ValidationError(parsed.error.issues.flatMap(toFieldErrors), 'The query is not valid.');
  return { status: parsed.data.status ?? 'locationValidated', limit: parsed.data.limit ?? 50 };
}

export type ListedPlace = Omit<StatusEntry, 'id' | 'partitionKey' | 'type'>;

/** Places in one status, for editors and admins: earliest proposed first, as a moderation queue. */
export async function placesWithStatus(deps: QueryDeps, query: StatusListQuery): Promise<{ status: PlaceStatus; results: ListedPlace[] }> {
  const entries = await deps.views.withStatus(query.status, query.limit);
  return { status: query.status, results: entries.map(({ id: _id, partitionKey: _pk, type: _type, ...place }) => place) };
}

export interface ForecastSummary {
  readonly time: string;
  readonly temperatureC: number;
  readonly precipitationProbability: number | null;
  readonly weather: HourlyForecast['weather'];
  readonly windKph: number;
  readonly issuedAt: string | null;
  /** Minutes since the forecast was recorded. */
  readonly ageMinutes: number | null;
}

export interface NearbyResult {
  readonly placeId: string;
  readonly name: string;
  readonly kind: string | null;
  readonly ageRange: { min: number; max: number } | null;
  readonly free: boolean | null;
  readonly distanceKm: number;
  readonly geolocation: { latitude: number; longitude: number };
  readonly region: string;
  readonly forecast: ForecastSummary | null;
  readonly forecastNote?: string;
  readonly suitability: Suitability;
}

/** Approved places within the radius, nearest first, each with the forecast at `at` and a suitability. */
export async function findNearby(deps: QueryDeps, query: NearbyQuery): Promise<{ results: NearbyResult[]; attribution: string }> {
  const centre = { latitude: query.lat, longitude: query.lon };
  const cover = coveringCells(centre, query.radiusKm);
  const perPartition = await Promise.all([...cover.byPartition].map(([cell3, cells]) => deps.views.nearbyInCells(`nearby-${cell3}`, cover.field, cells)));
  const ranked = rankNearby(perPartition.flat(), centre, query.radiusKm, query).slice(0, query.limit);
  const forecasts = await forecastsByRegion(deps, ranked.map(({ entry }) => entry.region));
  const results = ranked.map(({ entry, distanceKm }): NearbyResult => {
    const { forecast, note } = forecastFor(forecasts.get(entry.region), query.at, deps.clock());
    return {
      placeId: entry.placeId,
      name: entry.name,
      kind: entry.kind ?? null,
      ageRange: entry.ageRange ?? null,
      free: entry.free ?? null,
      distanceKm: Math.round(distanceKm * 100) / 100,
      geolocation: entry.geolocation,
      region: entry.region,
      forecast,
      ...(note && { forecastNote: note }),
      suitability: suitability({ kind: entry.kind, ageRange: entry.ageRange, forecast: hourFrom(forecasts.get(entry.region), query.at), ...(query.age !== undefined && { childAge: query.age }) }),
    };
  });
  return { results, attribution: WEATHER_ATTRIBUTION };
}

/** A place as parents see it: approved only, with the forecast for the coming days. */
export async function placeForParents(deps: QueryDeps, placeId: string): Promise<Record<string, unknown>> {
  const view = (await deps.views.read<PlaceView>(placeViewKey(placeId)))?.document;
  if (view?.status !== 'approved') throw new NotFoundError(`There is no place ${placeId}.`);
  return withForecast(deps, view);
}

/** A place in any status, for editors and admins. */
export async function placeForEditors(deps: QueryDeps, placeId: string): Promise<Record<string, unknown>> {
  const view = (await deps.views.read<PlaceView>(placeViewKey(placeId)))?.document;
  if (!view) throw new NotFoundError(`There is no place ${placeId} (or it is not projected yet).`);
  return withForecast(deps, view);
}

export async function newestPlaces(deps: QueryDeps, limit: number): Promise<{ results: Omit<NewestEntry, 'id' | 'partitionKey' | 'type' | 'sourceVersion'>[] }> {
  const entries = await deps.views.newest(limit);
  return { results: entries.map(({ id: _id, partitionKey: _pk, type: _type, sourceVersion: _v, ...entry }) => entry) };
}

export async function regionForecast(deps: QueryDeps, region: string): Promise<Record<string, unknown>> {
  const view = (await deps.views.read<RegionForecastView>(regionForecastKey(region)))?.document;
  if (!view) throw new NotFoundError(`There is no region ${region}.`);
  const now = deps.clock().getTime();
  return {
    region: view.region,
    centre: view.centre,
    source: view.source,
    issuedAt: view.issuedAt,
    updatedAt: view.updatedAt,
    ageMinutes: ageMinutes(view, now),
    hourly: view.hourly.filter((hour) => Date.parse(hour.time) >= now - 60 * 60 * 1000),
    lastFailure: view.lastFailure,
    attribution: WEATHER_ATTRIBUTION,
  };
}

async function withForecast(deps: QueryDeps, view: PlaceView): Promise<Record<string, unknown>> {
  const { id: _id, partitionKey: _pk, type: _type, ...place } = view;
  const region = view.region ? (await deps.views.read<RegionForecastView>(regionForecastKey(view.region)))?.document : undefined;
  const now = deps.clock().getTime();
  return { ...place, forecast: region ? region.hourly.filter((hour) => Date.parse(hour.time) >= now - 60 * 60 * 1000) : [], ...(region?.issuedAt && { forecastIssuedAt: region.issuedAt, forecastAgeMinutes: ageMinutes(region, now) }) };
}

async function forecastsByRegion(deps: QueryDeps, regions: readonly string[]): Promise<Map<string, RegionForecastView>> {
  const views = await deps.views.regionForecasts([...new Set(regions)]);
  return new Map(views.map((view) => [view.region, view]));
}

function hourFrom(view: RegionForecastView | undefined, at: Date): HourlyForecast | null {
  return (view && forecastAt(view.hourly, at)) ?? null;
}

function forecastFor(view: RegionForecastView | undefined, at: Date, now: Date): { forecast: ForecastSummary | null; note?: string } {
  if (!view || view.hourly.length === 0) return { forecast: null, note: 'No forecast for this area yet' };
  const hour = forecastAt(view.hourly, at);
  if (!hour) return { forecast: null, note: 'The forecast does not reach that time yet' };
  return {
    forecast: {
      time: hour.time,
      temperatureC: hour.temperatureC,
      precipitationProbability: hour.precipitationProbability,
      weather: hour.weather,
      windKph: hour.windKph,
      issuedAt: view.issuedAt,
      ageMinutes: ageMinutes(view, now.getTime()),
    },
  };
}

/** How old the region's forecast is (since it was recorded), in whole minutes; null without one. */
function ageMinutes(view: RegionForecastView, now: number): number | null {
  const since = view.updatedAt ?? view.issuedAt;
  return since === null ? null : Math.max(0, Math.floor((now - Date.parse(since)) / 60_000));
}

function queryObject(params: URLSearchParams): Record<string, string> {
  const raw: Record<string, string> = {};
  for (const [name, value] of params) if (name !== 'code') raw[name] = value;
  return raw;
}

function toFieldErrors(issue: z.core.$ZodIssue): FieldError[] {
  if (issue.code === 'unrecognized_keys') return issue.keys.map((key) => ({ field: key, message: 'is not a known parameter' }));
  return [{ field: issue.path.map(String).join('.'), message: issue.message }];
}
