import { z } from 'zod';
import { NotFoundError } from '../../kernel/errors';
import { attributionSchema, WEATHER_ATTRIBUTION } from '../../kernel/forecast';
import { hourlyOf, regionForecastKey, type RegionForecastView } from '../../regions/projection/regionForecastDocument';
import { bestTimes } from '../domain/bestTimes';
import { jurisdictionOf } from '../domain/jurisdiction';
import { openingHoursAsSyntax } from '../domain/legacyOpeningHours';
import { isoInZone, OpeningSchedule } from '../domain/openingHours';
import { placeIdSchema } from '../domain/place';
import { placeViewKey, type PlaceView } from '../projection/placeDocuments';
import type { QueryDeps } from './placeQueries';

export interface BestTimesQuery {
  readonly placeId: string;
  readonly from: Date;
  readonly days: number;
}

/** At most this many windows: a week of a place open every day rarely has more worth showing. */
export const BEST_TIMES_MAX_WINDOWS = 10;

const offsetTimestamp = z.iso.datetime({ offset: true });

export const bestTimesAnswerSchema = z.strictObject({
  placeId: placeIdSchema,
  from: offsetTimestamp,
  to: offsetTimestamp,
  timeZone: z.string().meta({ description: "The place's time zone: every time here carries its offset" }),
  windows: z
    .array(
      z.strictObject({
        start: offsetTimestamp,
        end: offsetTimestamp,
        score: z.number().min(0).max(1).meta({ description: "The window's worst hour, 0 (a poor idea) to 1 (ideal)" }),
        reason: z.string().meta({ description: 'The main reason for the score' }),
      }),
    )
    .meta({ description: `Best score first, earlier first among equals; at most ${BEST_TIMES_MAX_WINDOWS}` }),
  note: z.string().optional().meta({ description: 'Why the list is empty or shorter than asked, or what to check' }),
  attribution: attributionSchema,
});
export type BestTimesAnswer = z.output<typeof bestTimesAnswerSchema>;

/**
 * The best times to visit an approved place: within its opening hours (daylight when they are
 * unknown), outdoors only in daylight, scored hour by hour from its region's forecast.
 */
export async function bestTimesFor(deps: QueryDeps, query: BestTimesQuery): Promise<BestTimesAnswer> {
  const view = (await deps.views.read<PlaceView>(placeViewKey(query.placeId)))?.document;
  if (view?.status !== 'approved' || !view.geolocation || !view.region) throw new NotFoundError(`There is no place ${query.placeId}.`);
  const jurisdiction = jurisdictionOf(view.geolocation);
  const to = new Date(query.from.getTime() + query.days * 24 * 60 * 60 * 1000);
  const region = (await deps.views.read<RegionForecastView>(regionForecastKey(view.region)))?.document;
  const hours = openingHoursAsSyntax(view.openingHours);
  const schedule = hours === undefined ? undefined : OpeningSchedule.of(hours, jurisdiction);
  const hourly = region ? hourlyOf(region) : [];
  const windows = bestTimes({
    kind: view.kind,
    ...(view.ageRange && { ageRange: view.ageRange }),
    geolocation: view.geolocation,
    schedule,
    hourly,
    from: query.from,
    to,
  }).slice(0, BEST_TIMES_MAX_WINDOWS);
  const inZone = (at: Date) => isoInZone(at, jurisdiction.timeZone);
  const note =
    hourly.length === 0
      ? 'No forecast for this area yet'
      : !hourly.some((hour) => Date.parse(hour.time) + 60 * 60 * 1000 > query.from.getTime())
        ? 'The forecast does not reach these days yet'
        : windows.length === 0
          ? 'No hour it is open in the forecast’s days'
          : schedule === undefined
            ? 'Opening hours not known: these are daylight hours, check before you go'
            : undefined;
  return {
    placeId: view.placeId,
    from: inZone(query.from),
    to: inZone(to),
    timeZone: jurisdiction.timeZone,
    windows: windows.map((window) => ({
      start: inZone(window.start),
      end: inZone(window.end),
      score: window.score,
      reason: window.reason,
    })),
    ...(note !== undefined && { note }),
    attribution: WEATHER_ATTRIBUTION,
  };
}
