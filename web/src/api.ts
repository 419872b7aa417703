/**
 * The app's HTTP API as the pages use it: the answers' shapes (the same as the server's answer
 * schemas, test/unit/webApiTypes.test.ts has the compiler hold them equal; /api/openapi.json
 * describes them), and one way of calling it that turns problem+json answers into {@link ApiProblem}s.
 */

export type Weather = 'clear' | 'partlyCloudy' | 'cloudy' | 'fog' | 'drizzle' | 'rain' | 'snow' | 'thunder';
export type PlaceKind = 'indoor' | 'outdoor' | 'mixed';
export type PlaceStatus = 'proposed' | 'locationValidated' | 'locationRejected' | 'approved' | 'rejected' | 'withdrawn';
export type Facility =
  | 'pushchair'
  | 'babyChange'
  | 'accessibleToilet'
  | 'toilets'
  | 'parking'
  | 'cafe'
  | 'picnicArea'
  | 'playground'
  | 'nursingRoom'
  | 'dogFriendly';

export interface Geolocation {
  readonly latitude: number;
  readonly longitude: number;
}

export interface AgeRange {
  readonly min: number;
  readonly max: number;
}

export interface NearbyResult {
  readonly placeId: string;
  readonly name: string;
  readonly kind: PlaceKind | null;
  readonly ageRange: AgeRange | null;
  readonly free: boolean | null;
  readonly distanceKm: number;
  readonly geolocation: Geolocation;
  readonly region: string;
  readonly forecast: {
    readonly time: string;
    readonly temperatureC: number;
    readonly precipitationProbability: number | null;
    readonly weather: Weather;
    readonly windKph: number;
    readonly issuedAt: string | null;
    readonly ageMinutes: number | null;
  } | null;
  readonly forecastNote?: string;
  /** OpenStreetMap `opening_hours`, in the place's local time; null when not known. */
  readonly openingHours: string | null;
  /** Whether it is open at the arrival time; null when its hours are not known. */
  readonly openAt: boolean | null;
  /** When closed at arrival: when it next opens (with the place's UTC offset), if within 14 days. */
  readonly opensAt?: string;
  /** 0–1, best 1; null when it cannot be told (no forecast yet). */
  readonly suitability: { readonly score: number | null; readonly reason: string };
}

export interface NearbyAnswer {
  readonly results: readonly NearbyResult[];
  readonly attribution: string;
}

export interface NewestAnswer {
  readonly results: readonly {
    readonly placeId: string;
    readonly name: string;
    readonly kind?: PlaceKind;
    readonly region: string;
    readonly approvedAt: string;
  }[];
}

export interface Located {
  readonly latitude: number;
  readonly longitude: number;
  readonly label: string;
}

export interface Price {
  readonly free: boolean;
  readonly adultGBP?: number;
  readonly childGBP?: number;
}

/** One good stretch of time to visit (`GET /api/places/{id}/best-times`). */
export interface BestTimeWindow {
  /** ISO 8601 with the place's UTC offset. */
  readonly start: string;
  readonly end: string;
  /** 0–1, best 1. */
  readonly score: number;
  readonly reason: string;
}

export interface BestTimesAnswer {
  readonly placeId: string;
  readonly from: string;
  readonly to: string;
  readonly timeZone: string;
  /** Best score first. */
  readonly windows: readonly BestTimeWindow[];
  /** Why the list is empty, when it is. */
  readonly note?: string;
  readonly attribution: string;
}

/** A stretch of one day in an opening-hours week; `closes` may be '24:00'. */
export interface OpeningSpan {
  readonly opens: string;
  readonly closes: string;
  readonly unknown?: true;
  readonly comment?: string;
}

export interface OpeningDay {
  /** YYYY-MM-DD, the place's local date. */
  readonly date: string;
  /** 'Mon'…'Sun'. */
  readonly weekday: string;
  /** Empty: closed all day. */
  readonly intervals: readonly OpeningSpan[];
  readonly holiday?: string;
}

/** An opening_hours value read over 7 days (`GET /api/opening-hours/week`). */
export interface OpeningWeek {
  readonly value: string;
  readonly normalized: string;
  readonly timeZone: string;
  readonly warnings: readonly string[];
  readonly days: readonly OpeningDay[];
}

/** Who did something: a person (their user id and name), or a script with one of the host's keys. */
export interface Actor {
  readonly id: string;
  readonly name: string;
}

/** A place's own fields, in any status. */
export interface PlaceDetails {
  readonly placeId: string;
  readonly name: string;
  readonly status: PlaceStatus;
  readonly version: number;
  readonly geolocation: Geolocation | null;
  readonly region: string | null;
  readonly address?: string;
  readonly kind?: PlaceKind;
  readonly ageRange?: AgeRange;
  readonly price?: Price;
  readonly facilities?: readonly Facility[];
  /** OpenStreetMap `opening_hours`, in the place's local time. */
  readonly openingHours?: string;
  readonly website?: string;
  readonly description?: string;
  readonly proposedAt: string;
  readonly updatedAt: string;
  readonly approvedAt?: string;
  readonly statusReason?: string;
}

/** A change to an approved place that waits for an admin; parents see the approved details until then. */
export interface PendingRevision {
  readonly revision: number;
  /** The fields it changes, as sent (null removes one). */
  readonly changes: Readonly<Record<string, unknown>>;
  readonly proposedBy: Actor;
  readonly proposedAt: string;
}

/** The most recent change to an approved place that was decided: approved, rejected (with the admin's reason), or superseded. */
export interface DecidedRevision {
  readonly revision: number;
  readonly outcome: 'approved' | 'rejected' | 'superseded';
  /** Why an admin rejected it. */
  readonly reason?: string;
  readonly decidedAt: string;
}

/** A place as editors and admins list it (`GET /api/manage/places`). */
export interface ListedPlace extends PlaceDetails {
  /** Who proposed it and may change it (absent for places from before sign-in). */
  readonly owner?: Actor;
  readonly pendingRevision?: PendingRevision;
  readonly lastRevision?: DecidedRevision;
}

/** What `GET /api/manage/places` lists: places in one status, or a change waiting (`revisionPending`). */
export type ManagedList = PlaceStatus | 'revisionPending';

export interface ManagedPlaceList {
  /** The list asked for (absent for all of one's own places). */
  readonly status?: ManagedList;
  readonly mine?: boolean;
  readonly results: readonly ListedPlace[];
}

export interface HourlyForecast {
  readonly time: string;
  readonly temperatureC: number;
  readonly precipitationProbability: number | null;
  readonly precipitationMm: number | null;
  readonly weather: Weather;
  readonly windKph: number;
  readonly gustKph: number | null;
  readonly uvIndex: number | null;
}

interface ForecastFields {
  readonly forecast: readonly HourlyForecast[];
  readonly forecastIssuedAt?: string;
  readonly forecastAgeMinutes?: number | null;
}

/** An approved place with its region's forecast, as parents see it (`GET /api/places/{id}`). */
export interface PlaceWithForecast extends PlaceDetails, ForecastFields {}

/** One event in a place's life: what happened, when, and who did it (null: the app itself, or from before sign-in). */
export interface HistoryEntry {
  readonly version: number;
  /** PlaceProposed, PlaceApproved, PlaceRevisionProposed, … */
  readonly type: string;
  readonly occurredAt: string;
  readonly actor: Actor | null;
}

/** One place as its owner and admins see it (`GET /api/manage/places/{id}`): every event, oldest first. */
export interface ManagedPlace extends ListedPlace, ForecastFields {
  readonly history: readonly HistoryEntry[];
}

export interface CommandAnswer {
  readonly placeId: string;
  readonly status: PlaceStatus;
  readonly version: number;
  readonly links: { readonly self: string };
  /** A change to an approved place that waits for an admin (answered 202). */
  readonly pendingRevision?: number;
}

export type EditorStatus = 'pending' | 'approved' | 'suspended';

/** Who is signed in (`GET /api/me`; 401 when nobody is). */
export interface Me {
  readonly userId: string;
  readonly name: string;
  readonly roles: readonly string[];
  readonly isAdmin: boolean;
  /** 'none' until they ask for editor access. */
  readonly editorStatus: 'none' | EditorStatus;
}

/** The answer to asking for editor access, and to an admin's approval or suspension. */
export interface EditorAccessAnswer {
  readonly userId: string;
  readonly status: EditorStatus;
}

export interface Editor {
  readonly userId: string;
  readonly name: string;
  readonly status: EditorStatus;
  /** What they wrote when asking for access. */
  readonly reason?: string;
  readonly requestedAt: string;
  readonly decidedAt?: string;
  readonly decidedBy?: Actor;
  readonly suspendedReason?: string;
}

/** Editors in one status (`GET /api/manage/editors`). */
export interface EditorList {
  readonly status: EditorStatus;
  readonly editors: readonly Editor[];
}

export interface FieldError {
  readonly field: string;
  readonly message: string;
}

/**
 * An answer other than 2xx: the problem document's detail and field errors when it sent one, and
 * its ETag (a 412 names the current version in it).
 */
export class ApiProblem extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly errors: readonly FieldError[] = [],
    readonly etag?: string,
  ) {
    super(message);
    this.name = 'ApiProblem';
  }
}

interface RequestOptions {
  readonly method?: 'GET' | 'POST';
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
  readonly signal?: AbortSignal;
}

/**
 * Calls the API on this origin; resolves with the JSON body of a 2xx answer, rejects with an {@link ApiProblem} otherwise.
 * The sign-in session is an HttpOnly cookie the page never sees: same-origin requests carry it.
 */
export async function callApi<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  let response: Response;
  try {
    response = await fetch(path, {
      method: options.method ?? 'GET',
      headers,
      ...(options.body !== undefined && { body: JSON.stringify(options.body) }),
      ...(options.signal && { signal: options.signal }),
      credentials: 'same-origin',
    });
  } catch (error) {
    if (error instanceof DOMException && error.name === 'AbortError') throw error;
    throw new ApiProblem(0, 'The app could not be reached. Check your connection and try again.');
  }
  if (response.ok) return (await response.json()) as T;
  throw await problemOf(response);
}

/** The `If-Match` header that names a version read earlier: the change is refused (412) if the place changed since. */
export function ifMatch(version: number): Readonly<Record<string, string>> {
  return { 'if-match': `"${version}"` };
}

/** The version an ETag names (`"3"` → 3); undefined when there is none or it is not one. */
export function versionOf(etag: string | undefined): number | undefined {
  const match = etag === undefined ? null : /^\s*(?:W\/)?"?(\d+)"?\s*$/.exec(etag);
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

async function problemOf(response: Response): Promise<ApiProblem> {
  // The problem's own words name the machinery (the sign-in path, keys for scripts): people are told what to do.
  if (response.status === 401) {
    await response.body?.cancel();
    return new ApiProblem(401, 'You are not signed in, or your sign-in has ended. Sign in again to carry on.');
  }
  const text = await response.text();
  const etag = response.headers.get('etag') ?? undefined;
  try {
    const problem = JSON.parse(text) as { detail?: unknown; title?: unknown; errors?: unknown };
    const errors = Array.isArray(problem.errors) ? problem.errors.filter(isFieldError) : [];
    const message =
      typeof problem.detail === 'string'
        ? problem.detail
        : typeof problem.title === 'string'
          ? problem.title
          : `The app answered ${response.status}.`;
    return new ApiProblem(response.status, message, errors, etag);
  } catch {
    return new ApiProblem(response.status, `The app answered ${response.status}.`, [], etag);
  }
}

function isFieldError(value: unknown): value is FieldError {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as FieldError).field === 'string' &&
    typeof (value as FieldError).message === 'string'
  );
}
