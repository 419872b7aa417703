import { z } from 'zod';
import { NotFoundError } from '../../kernel/errors';
import { placeIdSchema, type PlaceStatus } from '../domain/place';
import { detailsShape, PLACE_KINDS } from '../domain/placeDetails';
import { bySuitability, suitability } from '../domain/suitability';
import { nextOpeningAfter, openStateAt, scheduleOf } from '../domain/arrival';
import type { OpeningSchedule } from '../domain/openingHours';
import { isDark } from '../domain/daylight';
import { openingHoursAsSyntax } from '../domain/legacyOpeningHours';
import { regionSchema } from '../../regions/domain/region';
import { type RankedEntry } from './nearbySearch';
import type { PlaceViews } from './placeViews';
import { attributionSchema, hourlyForecastSchema, WEATHER_ATTRIBUTION, type HourlyForecast } from '../../kernel/forecast';
import { geolocationSchema } from '../../kernel/geolocation';
import { placeViewKey, REVISION_PENDING, type ManagedList, type PlaceView, type StatusEntry } from '../projection/placeDocuments';
import { actorOf, actorSchema, isAdmin, type Caller } from '../../kernel/caller';
import { ForbiddenError } from '../../kernel/errors';
import type { EventStore } from '../../platform/eventSourcing/eventStore';
import { toPlaceStreamId } from '../domain/place';
import {
  forecastAgeMinutes,
  hasForecast,
  hoursFrom,
  regionForecastAt,
  regionForecastKey,
  type RegionForecastView,
} from '../../regions/projection/regionForecastDocument';

export interface QueryDeps {
  readonly views: PlaceViews;
  readonly clock: () => Date;
}

export interface NearbyQuery {
  readonly lat: number;
  readonly lon: number;
  readonly radiusKm: number;
  readonly at: Date;
  readonly kind?: (typeof PLACE_KINDS)[number];
  readonly age?: number;
  readonly free?: boolean;
  /** Only places open at `at`. */
  readonly open?: true;
  readonly sort: NearbySort;
  readonly limit: number;
}

export const NEARBY_SORTS = ['distance', 'suitability'] as const;
export type NearbySort = (typeof NEARBY_SORTS)[number];

/**
 * Sorting by suitability ranks this many of the nearest matching places: each needs its region's
 * forecast, and a parent looking for the best nearby place is not served by one 50 km away.
 */
export const SUITABILITY_CANDIDATES = 200;

/** Every status a place can be listed under (a new status fails to compile here until it is added). */
const PLACE_STATUSES = {
  proposed: 'proposed',
  locationValidated: 'locationValidated',
  locationRejected: 'locationRejected',
  approved: 'approved',
  rejected: 'rejected',
  withdrawn: 'withdrawn',
} as const satisfies Record<PlaceStatus, PlaceStatus>;

export const placeStatusSchema = z.enum(PLACE_STATUSES, { error: `must be one of ${Object.keys(PLACE_STATUSES).join(', ')}` }).meta({
  description: 'proposed → locationValidated | locationRejected; locationValidated → approved | rejected; approved → withdrawn',
});

export interface ManagedListQuery {
  /** A status, or `revisionPending`; absent with `mine` for all of one's own places. */
  readonly status?: ManagedList;
  /** Only the caller's own places. */
  readonly mine: boolean;
  readonly limit: number;
}

export const managedListSchema = z
  .enum(
    { ...PLACE_STATUSES, [REVISION_PENDING]: REVISION_PENDING },
    {
      error: `must be one of ${[...Object.keys(PLACE_STATUSES), REVISION_PENDING].join(', ')}`,
    },
  )
  .meta({ description: 'A place status, or revisionPending: approved places with a change waiting for an admin' });

// ---------------------------------------------------------------------------------------------
// The answers, as schemas: the API's documentation (shared/http/openApi.ts) and the types the
// queries below build, so neither can change without the other.

const timestamp = z.iso.datetime({ offset: true });

const openingHoursAnswerSchema = z
  .string()
  .meta({ description: "OpenStreetMap opening_hours syntax, in the place's local time (Europe/London; Europe/Dublin in Ireland)" });

/** A place's fields, in any status: its view without the storage keys. */
const placeFields = {
  placeId: placeIdSchema,
  name: z.string(),
  status: placeStatusSchema,
  version: z.int().min(1).meta({ description: "The place stream's version this reflects: its ETag, to send as If-Match with a change" }),
  geolocation: geolocationSchema.nullable().meta({ description: 'null until a proposal given by address is located' }),
  region: regionSchema
    .nullable()
    .meta({ description: "The geohash cell whose forecast is the place's; null until the location is validated" }),
  address: z.string().optional(),
  kind: detailsShape.kind.optional(),
  ageRange: detailsShape.ageRange.optional(),
  price: detailsShape.price.optional(),
  // Readonly: the views keep the domain's readonly list, and the answer passes it through.
  facilities: detailsShape.facilities.readonly().optional(),
  openingHours: openingHoursAnswerSchema.optional(),
  website: detailsShape.website.optional(),
  description: detailsShape.description.optional(),
  proposedAt: timestamp,
  updatedAt: timestamp,
  approvedAt: timestamp.optional(),
  statusReason: z.string().optional().meta({ description: 'Why the location or the place was rejected, or the place withdrawn' }),
};

/** What only editors and admins see of a place: its owner and a change waiting for moderation. */
const managedFields = {
  ...placeFields,
  owner: actorSchema.optional().meta({ description: 'Who proposed the place and may change it (absent for places from before sign-in)' }),
  pendingRevision: z
    .strictObject({
      revision: z.int().min(1),
      changes: z.record(z.string(), z.unknown()).meta({ description: 'The fields the revision changes (null removes one), as sent' }),
      proposedBy: actorSchema,
      proposedAt: timestamp,
    })
    .optional()
    .meta({ description: 'A change to the approved place that parents will see once an admin approves it' }),
  lastRevision: z
    .strictObject({
      revision: z.int().min(1),
      outcome: z.enum(['approved', 'rejected', 'superseded']),
      reason: z.string().optional().meta({ description: "The admin's reason, when rejected" }),
      decidedAt: timestamp,
    })
    .optional()
    .meta({ description: 'How the latest decided change ended (superseded: a newer change replaced it before a decision)' }),
};

/** A place in the editors' list. */
export const listedPlaceSchema = z.strictObject(managedFields);
export type ListedPlace = z.output<typeof listedPlaceSchema>;

export const placeListAnswerSchema = z.strictObject({
  status: managedListSchema.optional().meta({ description: "The list asked for (absent for all of one's own places)" }),
  mine: z.boolean().optional(),
  results: z.array(listedPlaceSchema),
});
export type PlaceListAnswer = z.output<typeof placeListAnswerSchema>;

/** A place with the hourly forecast of its region from the past hour on. */
export const placeAnswerSchema = z.strictObject({
  ...placeFields,
  forecast: z
    .array(hourlyForecastSchema)
    .meta({ description: "The region's hourly forecast from an hour ago on; empty while there is none" }),
  forecastIssuedAt: timestamp.optional().meta({ description: 'When the provider issued the forecast (when there is one)' }),
  forecastAgeMinutes: z.int().min(0).nullable().optional().meta({ description: 'Minutes since the forecast was recorded' }),
});
export type PlaceAnswer = z.output<typeof placeAnswerSchema>;

const historyEntrySchema = z.strictObject({
  version: z.int().min(1),
  type: z.string().meta({ description: 'The event, e.g. PlaceProposed, PlaceRevisionApproved' }),
  occurredAt: timestamp,
  actor: actorSchema
    .nullable()
    .meta({ description: "Who did it; null for the app's own steps (location checks) and events from before sign-in" }),
});

/** A place as editors and admins see it: with its owner, a pending revision, and who did what, when. */
export const managedPlaceAnswerSchema = z.strictObject({
  ...managedFields,
  forecast: placeAnswerSchema.shape.forecast,
  forecastIssuedAt: placeAnswerSchema.shape.forecastIssuedAt,
  forecastAgeMinutes: placeAnswerSchema.shape.forecastAgeMinutes,
  history: z.array(historyEntrySchema).meta({ description: 'Every event of the place, oldest first' }),
});
export type ManagedPlaceAnswer = z.output<typeof managedPlaceAnswerSchema>;

const forecastSummarySchema = z.strictObject({
  ...hourlyForecastSchema.pick({ time: true, temperatureC: true, precipitationProbability: true, weather: true, windKph: true }).shape,
  issuedAt: timestamp.nullable(),
  ageMinutes: z.int().min(0).nullable().meta({ description: 'Minutes since the forecast was recorded' }),
});
export type ForecastSummary = z.output<typeof forecastSummarySchema>;

const suitabilitySchema = z.strictObject({
  score: z.number().min(0).max(1).nullable().meta({ description: '0 (a poor idea) to 1 (ideal); null when unknown (no forecast yet)' }),
  reason: z.string().meta({ description: 'The main reason for the score' }),
});

export const nearbyResultSchema = z.strictObject({
  placeId: placeIdSchema,
  name: z.string(),
  kind: detailsShape.kind.nullable(),
  ageRange: detailsShape.ageRange.nullable(),
  free: z.boolean().nullable(),
  distanceKm: z.number().min(0).meta({ description: 'Great-circle distance from the centre of the search, to 0.01 km' }),
  geolocation: geolocationSchema,
  region: regionSchema,
  forecast: forecastSummarySchema
    .nullable()
    .meta({ description: 'The forecast hour nearest the time of the visit; null when there is none' }),
  forecastNote: z.string().optional().meta({ description: 'Why there is no forecast' }),
  openingHours: openingHoursAnswerSchema.nullable(),
  openAt: z.boolean().nullable().meta({ description: 'Whether it is open at the time of the visit; null when its hours are unknown' }),
  opensAt: z.iso
    .datetime({ offset: true })
    .optional()
    .meta({ description: "When closed at the time of the visit: its next opening within 14 days, with the place's UTC offset" }),
  suitability: suitabilitySchema,
});
export type NearbyResult = z.output<typeof nearbyResultSchema>;

export const nearbyAnswerSchema = z.strictObject({
  results: z
    .array(nearbyResultSchema)
    .meta({ description: 'Nearest first, or best suited first (unknown scores last, then nearest) with sort=suitability' }),
  attribution: attributionSchema,
});
export type NearbyAnswer = z.output<typeof nearbyAnswerSchema>;

export const newestAnswerSchema = z.strictObject({
  results: z
    .array(
      z.strictObject({
        placeId: placeIdSchema,
        name: z.string(),
        kind: detailsShape.kind.optional(),
        region: regionSchema,
        approvedAt: timestamp,
      }),
    )
    .meta({ description: 'Newest approval first' }),
});
export type NewestAnswer = z.output<typeof newestAnswerSchema>;

// ---------------------------------------------------------------------------------------------

/**
 * The places editors and admins manage: with `mine`, the caller's own (latest first, in every status
 * or one); otherwise one status, earliest proposed first, as a moderation queue, which is for admins
 * and machines only.
 */
export async function managedPlaces(deps: QueryDeps, caller: Caller, query: ManagedListQuery): Promise<PlaceListAnswer> {
  if (query.mine) return ownPlaces(deps, actorOf(caller).id, query.status, query.limit);
  if (caller.kind === 'person' && !isAdmin(caller)) {
    throw new ForbiddenError('Only administrators list every place: add mine=true for your own.');
  }
  const status = query.status ?? 'locationValidated';
  return { status, results: listed(await deps.views.withStatus(status, query.limit)) };
}

/** One person's own places are read whole (one partition) and filtered, up to this many. */
const OWN_PLACES_MAX = 500;

async function ownPlaces(deps: QueryDeps, ownerId: string, status: ManagedList | undefined, limit: number): Promise<PlaceListAnswer> {
  if (status === undefined) return { mine: true, results: listed(await deps.views.ownedBy(ownerId, limit)) };
  const inList = (entry: StatusEntry) => (status === REVISION_PENDING ? entry.pendingRevision !== undefined : entry.status === status);
  const entries = (await deps.views.ownedBy(ownerId, OWN_PLACES_MAX)).filter(inList);
  return { mine: true, status, results: listed(entries.slice(0, limit)) };
}

function listed(entries: readonly StatusEntry[]): ListedPlace[] {
  return entries.map(({ id: _id, partitionKey: _pk, type: _type, revisionsProposed: _count, ...place }) => withHoursAsSyntax(place));
}

/**
 * Approved places within the radius that pass the filters, nearest first (or best suited first),
 * each with the forecast at `at`, whether it is open then, and a suitability.
 */
export async function findNearby(deps: QueryDeps, query: NearbyQuery): Promise<NearbyAnswer> {
  const centre = { latitude: query.lat, longitude: query.lon };
  const nearest = await deps.views.nearby(centre, query.radiusKm, query);
  // Opening hours are evaluated nearest first and only until enough places are found: a wide circle
  // in a city may hold thousands of places, and each evaluation costs tens of microseconds.
  const wanted = query.sort === 'suitability' ? SUITABILITY_CANDIDATES : query.limit;
  const candidates: (RankedEntry & { schedule: OpeningSchedule | undefined; openAt: boolean | null })[] = [];
  for (const ranked of nearest) {
    if (candidates.length >= wanted) break;
    const schedule = scheduleOf(ranked.entry.openingHours, ranked.entry.geolocation);
    const openAt = openStateAt(schedule, query.at);
    if (query.open === undefined || openAt === true) candidates.push({ ...ranked, schedule, openAt });
  }
  const forecasts = await forecastsByRegion(
    deps,
    candidates.map(({ entry }) => entry.region),
  );
  const now = deps.clock();
  const results = candidates.map(({ entry, distanceKm, schedule, openAt }) => {
    const { forecast, note } = forecastFor(forecasts.get(entry.region), query.at, now);
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
      openingHours: entry.openingHours ?? null,
      openAt,
      schedule,
      suitability: suitability({
        kind: entry.kind,
        ageRange: entry.ageRange,
        forecast: hourFrom(forecasts.get(entry.region), query.at),
        open: openAt,
        // A closed place is unsuitable whatever the sky: no need to ask the sun.
        dark: openAt !== false && isDark(query.at, entry.geolocation),
        ...(query.age !== undefined && { childAge: query.age }),
      }),
    };
  });
  // A stable sort: places equally suited stay nearest first.
  if (query.sort === 'suitability') results.sort((a, b) => bySuitability(a.suitability, b.suitability));
  const answered = results.slice(0, query.limit).map(({ schedule, ...result }): NearbyResult => {
    const opensAt = schedule && result.openAt === false ? nextOpeningAfter(schedule, query.at) : undefined;
    return opensAt === undefined ? result : { ...result, opensAt };
  });
  return { results: answered, attribution: WEATHER_ATTRIBUTION };
}

/** A place as parents see it: approved only, with the forecast for the coming days. */
export async function placeForParents(deps: QueryDeps, placeId: string): Promise<PlaceAnswer> {
  const view = (await deps.views.read<PlaceView>(placeViewKey(placeId)))?.document;
  if (view?.status !== 'approved') throw new NotFoundError(`There is no place ${placeId}.`);
  // Who owns a place, and a change not yet approved, are for editors and admins only.
  const { owner: _owner, pendingRevision: _pending, revisionsProposed: _count, lastRevision: _last, ...shown } = view;
  return withForecast(deps, shown);
}

/**
 * A place in any status, for its owner, admins and machines: with its owner, a pending revision and
 * its history (the place's events, one partition-scoped read). 403 for anyone else.
 */
export async function placeForEditors(
  deps: QueryDeps & { eventStore: EventStore },
  placeId: string,
  caller: Caller,
): Promise<ManagedPlaceAnswer> {
  const view = (await deps.views.read<PlaceView>(placeViewKey(placeId)))?.document;
  if (!view) throw new NotFoundError(`There is no place ${placeId} (or it is not projected yet).`);
  const actor = actorOf(caller);
  if (caller.kind === 'person' && !isAdmin(caller) && view.owner?.id !== actor.id) {
    throw new ForbiddenError("Only the place's owner or an administrator may see it here.");
  }
  const { revisionsProposed: _count, ...fields } = view;
  const events = await deps.eventStore.read(toPlaceStreamId(placeId));
  return {
    ...(await withForecast(deps, fields)),
    history: events.map((event) => ({
      version: event.version,
      type: event.type,
      occurredAt: event.metadata.occurredAt,
      actor: event.metadata.actor ?? null,
    })),
  };
}

export async function newestPlaces(deps: QueryDeps, limit: number): Promise<NewestAnswer> {
  const entries = await deps.views.newest(limit);
  return { results: entries.map(({ id: _id, partitionKey: _pk, type: _type, sourceVersion: _v, ...entry }) => entry) };
}

async function withForecast<V extends Omit<PlaceView, 'revisionsProposed' | 'lastRevision'>>(
  deps: QueryDeps,
  view: V,
): Promise<Omit<V, 'id' | 'partitionKey' | 'type'> & Pick<PlaceAnswer, 'forecast' | 'forecastIssuedAt' | 'forecastAgeMinutes'>> {
  const { id: _id, partitionKey: _pk, type: _type, ...fields } = view;
  const place = withHoursAsSyntax(fields);
  const region = view.region ? (await deps.views.read<RegionForecastView>(regionForecastKey(view.region)))?.document : undefined;
  const now = deps.clock().getTime();
  return {
    ...place,
    forecast: region ? hoursFrom(region, now - 60 * 60 * 1000) : [],
    ...(region?.issuedAt && { forecastIssuedAt: region.issuedAt, forecastAgeMinutes: forecastAgeMinutes(region, now) }),
  };
}

/** Views written before opening hours were OpenStreetMap syntax may hold the old object: answers always carry the syntax. */
function withHoursAsSyntax<T extends { openingHours?: string }>(place: T): T {
  if (place.openingHours === undefined) return place;
  const { openingHours, ...rest } = place;
  const hours = openingHoursAsSyntax(openingHours);
  return (hours === undefined ? rest : { ...rest, openingHours: hours }) as T;
}

async function forecastsByRegion(deps: QueryDeps, regions: readonly string[]): Promise<Map<string, RegionForecastView>> {
  const views = await deps.views.regionForecasts([...new Set(regions)]);
  return new Map(views.map((view) => [view.region, view]));
}

function hourFrom(view: RegionForecastView | undefined, at: Date): HourlyForecast | null {
  return (view && regionForecastAt(view, at)) ?? null;
}

function forecastFor(view: RegionForecastView | undefined, at: Date, now: Date): { forecast: ForecastSummary | null; note?: string } {
  if (!view || !hasForecast(view)) return { forecast: null, note: 'No forecast for this area yet' };
  const hour = regionForecastAt(view, at);
  if (!hour) return { forecast: null, note: 'The forecast does not reach that time yet' };
  return {
    forecast: {
      time: hour.time,
      temperatureC: hour.temperatureC,
      precipitationProbability: hour.precipitationProbability,
      weather: hour.weather,
      windKph: hour.windKph,
      issuedAt: view.issuedAt,
      ageMinutes: forecastAgeMinutes(view, now.getTime()),
    },
  };
}

/** How old the region's forecast is (since it was recorded), in whole minutes; null without one. */
