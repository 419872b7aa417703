/**
 * The pages' hand-written answer types (web/src/api.ts, which may not import the server's code) are
 * the server's answer schemas, checked by the compiler: `npm run typecheck` (and jest, through
 * ts-jest) fails when a field is added, dropped, renamed, made optional or retyped on either side.
 *
 * Equality, not mutual assignability: an optional field added on one side only would still be
 * assignable both ways. `readonly` is left out of the comparison (the pages keep answers readonly).
 */
import type { z } from 'zod';
import type { bestTimesAnswerSchema } from '../../shared/places/application/bestTimesQuery';
import type { locatedSearchSchema } from '../../shared/places/application/geocodeQuery';
import type { openingWeekAnswerSchema } from '../../shared/places/application/openingHoursWeek';
import type {
  listedPlaceSchema,
  managedPlaceAnswerSchema,
  nearbyAnswerSchema,
  nearbyResultSchema,
  newestAnswerSchema,
  placeAnswerSchema,
  placeListAnswerSchema,
} from '../../shared/places/application/placeQueries';
import type { commandAnswerSchema } from '../../shared/places/http/placeResponses';
import type { fieldErrorSchema } from '../../shared/platform/http/problem';
import type { editorAccessAnswerSchema, editorListAnswerSchema, meAnswerSchema } from '../../shared/editors/http/editorRequests';
import type * as web from '../../web/src/api';
import { type hourlyForecastSchema } from '../../shared/kernel/forecast';

/** A type with every `readonly` taken off, all the way down (arrays included). */
type Mutable<T> = T extends readonly (infer Item)[] ? Mutable<Item>[] : T extends object ? { -readonly [K in keyof T]: Mutable<T[K]> } : T;

/** Whether two types are the same up to `readonly` (the compiler's own identity, not assignability). */
// The unused type parameters are the point: two such generic signatures match only for identical types.
// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters
type Same<A, B> = (<T>() => T extends Mutable<A> ? 1 : 2) extends <T>() => T extends Mutable<B> ? 1 : 2 ? true : false;

/** Each pair: a type the pages use, and the answer schema the server builds that answer by. */
interface Pairs {
  NearbyAnswer: Same<web.NearbyAnswer, z.output<typeof nearbyAnswerSchema>>;
  NearbyResult: Same<web.NearbyResult, z.output<typeof nearbyResultSchema>>;
  NewestAnswer: Same<web.NewestAnswer, z.output<typeof newestAnswerSchema>>;
  Located: Same<web.Located, z.output<typeof locatedSearchSchema>>;
  ManagedPlaceList: Same<web.ManagedPlaceList, z.output<typeof placeListAnswerSchema>>;
  ListedPlace: Same<web.ListedPlace, z.output<typeof listedPlaceSchema>>;
  ManagedPlace: Same<web.ManagedPlace, z.output<typeof managedPlaceAnswerSchema>>;
  PlaceWithForecast: Same<web.PlaceWithForecast, z.output<typeof placeAnswerSchema>>;
  HourlyForecast: Same<web.HourlyForecast, z.output<typeof hourlyForecastSchema>>;
  CommandAnswer: Same<web.CommandAnswer, z.output<typeof commandAnswerSchema>>;
  BestTimesAnswer: Same<web.BestTimesAnswer, z.output<typeof bestTimesAnswerSchema>>;
  OpeningWeek: Same<web.OpeningWeek, z.output<typeof openingWeekAnswerSchema>>;
  FieldError: Same<web.FieldError, z.output<typeof fieldErrorSchema>>;
  Me: Same<web.Me, z.output<typeof meAnswerSchema>>;
  EditorAccessAnswer: Same<web.EditorAccessAnswer, z.output<typeof editorAccessAnswerSchema>>;
  EditorList: Same<web.EditorList, z.output<typeof editorListAnswerSchema>>;
}

// A pair that differs is `false`, and the compiler refuses `true` for it on its own line.
const agreed: Pairs = {
  NearbyAnswer: true,
  NearbyResult: true,
  NewestAnswer: true,
  Located: true,
  ManagedPlaceList: true,
  ListedPlace: true,
  ManagedPlace: true,
  PlaceWithForecast: true,
  HourlyForecast: true,
  CommandAnswer: true,
  BestTimesAnswer: true,
  OpeningWeek: true,
  FieldError: true,
  Me: true,
  EditorAccessAnswer: true,
  EditorList: true,
};

/** Shows that a difference is caught: each of these differs from the type by one field. */
const told: [
  Same<web.Located, Omit<web.Located, 'label'>>,
  Same<web.Located, web.Located & { readonly extra?: string }>,
  Same<web.NearbyResult, Omit<web.NearbyResult, 'region'> & { readonly region: string | null }>,
  Same<web.CommandAnswer, Omit<web.CommandAnswer, 'version'> & { readonly version?: number }>,
  Same<web.ManagedPlace, Omit<web.ManagedPlace, 'history'>>,
] = [false, false, false, false, false];

describe("the pages' answer types", () => {
  it('are the server’s answer schemas (a compile-time check: this file does not compile otherwise)', () => {
    expect(Object.values(agreed).every(Boolean)).toBe(true);
    expect(told.some(Boolean)).toBe(false);
  });
});
