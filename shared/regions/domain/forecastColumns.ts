import { z } from 'zod';
import { forecastAt, WEATHER_CONDITIONS, type HourlyForecast, type WeatherCondition } from '../../kernel/forecast';

/**
 * A region's forecast as it is stored, in its events and its view: one column per field instead of
 * one object per hour, since every byte written to Cosmos DB is billed and a refresh writes two
 * documents per region per cycle (28 KB each as objects, under 4 KB as columns). Numbers are whole
 * multiples of 10^-decimals (12.3 °C is 123 with 1 decimal), the decimals chosen per column so that
 * decoding gives back exactly the numbers encoded; the columns that change little from hour to hour
 * ({@link DIFFERENCED}) hold each hour's difference from the hour before. Readers go through
 * {@link hourlyFromColumns} (or the view's readers), never the layout.
 */
export interface ForecastColumns {
  /** The first hour, ISO 8601 UTC (`toISOString()`). */
  readonly from: string;
  /** Whole hours after `from` of each entry; absent when the hours follow one another. */
  readonly at?: readonly number[];
  /** Decimal places of each numeric column whose values are scaled (absent: stored as they are). */
  readonly decimals?: Partial<Record<NumericField, number>>;
  /** One letter per hour (see {@link WEATHER_LETTERS}). */
  readonly weather: string;
  readonly temperatureC: readonly number[];
  readonly precipitationProbability: readonly (number | null)[];
  readonly precipitationMm: readonly (number | null)[];
  readonly windKph: readonly number[];
  readonly gustKph: readonly (number | null)[];
  readonly uvIndex: readonly (number | null)[];
}

/** A forecast as events and views hold it: columns, or hourly objects as written before columns. */
export type StoredHourly = ForecastColumns | readonly HourlyForecast[];

const NUMERIC_FIELDS = ['temperatureC', 'precipitationProbability', 'precipitationMm', 'windKph', 'gustKph', 'uvIndex'] as const;
type NumericField = (typeof NUMERIC_FIELDS)[number];
/**
 * Columns stored as differences from the previous hour that has a value (the first as it is): a third
 * shorter for these; precipitation and UV, at zero for hours on end, are shorter as they are. Part
 * of the stored format: changing it needs a new one.
 */
const DIFFERENCED: ReadonlySet<NumericField> = new Set(['temperatureC', 'precipitationProbability', 'windKph', 'gustKph']);
/** Lower and upper bounds as hourlyForecastSchema has them, checked on the stored numbers. */
const BOUNDS: Partial<Record<NumericField, readonly [number, number]>> = {
  precipitationProbability: [0, 100],
  precipitationMm: [0, Infinity],
  windKph: [0, Infinity],
  gustKph: [0, Infinity],
  uvIndex: [0, Infinity],
};

/** Stored letters, fixed for ever: stored events are read back with them, whatever the kernel's list becomes. */
const WEATHER_LETTERS: Readonly<Record<WeatherCondition, string>> = {
  clear: 'c',
  partlyCloudy: 'p',
  cloudy: 'o',
  fog: 'f',
  drizzle: 'd',
  rain: 'r',
  snow: 's',
  thunder: 't',
};
const CONDITION_OF_LETTER: ReadonlyMap<string, WeatherCondition> = new Map(
  WEATHER_CONDITIONS.map((condition) => [WEATHER_LETTERS[condition], condition]),
);

const HOUR_MS = 60 * 60 * 1000;
const MAX_DECIMALS = 4;

/**
 * The hours a region's view can ever be asked for, from a forecast recorded at `recordedAt`: answers
 * start an hour before now, a visit time may lie an hour in the past and an hour is nearest up to
 * half an hour away (so two hours back), and one more for clocks that differ between instances.
 */
export const KEPT_HOURS_BEFORE_RECORDING = 3;

/** The hours worth storing of a forecast recorded at `recordedAt` (see {@link KEPT_HOURS_BEFORE_RECORDING}). */
export function hoursWorthKeeping(hourly: readonly HourlyForecast[], recordedAt: Date): readonly HourlyForecast[] {
  const first = recordedAt.getTime() - KEPT_HOURS_BEFORE_RECORDING * HOUR_MS;
  const kept = hourly.filter((hour) => Date.parse(hour.time) >= first);
  return kept.length === hourly.length ? hourly : kept;
}

/**
 * The forecast as columns; the hourly objects themselves when columns could not give back exactly
 * the same: times that are not ascending whole hours written as `toISOString()` writes them, or
 * numbers with more than {@link MAX_DECIMALS} decimals.
 */
export function toStoredHourly(hourly: readonly HourlyForecast[]): StoredHourly {
  return toColumns(hourly) ?? hourly;
}

function toColumns(hourly: readonly HourlyForecast[]): ForecastColumns | undefined {
  const first = hourly[0];
  if (!first) return undefined;
  const start = Date.parse(first.time);
  const at: number[] = [];
  let weather = '';
  // One pass, a property at a time: this runs for every region of every cycle.
  const raw: Record<NumericField, (number | null)[]> = {
    temperatureC: [],
    precipitationProbability: [],
    precipitationMm: [],
    windKph: [],
    gustKph: [],
    uvIndex: [],
  };
  for (let index = 0; index < hourly.length; index++) {
    const hour = hourly[index] as HourlyForecast;
    const time = Date.parse(hour.time);
    const offset = (time - start) / HOUR_MS;
    if (!Number.isInteger(offset) || offset <= (at[index - 1] ?? -1) || isoHour(time) !== hour.time) return undefined;
    at.push(offset);
    const letter = WEATHER_LETTERS[hour.weather] as string | undefined;
    if (letter === undefined) return undefined;
    weather += letter;
    raw.temperatureC.push(hour.temperatureC);
    raw.precipitationProbability.push(hour.precipitationProbability);
    raw.precipitationMm.push(hour.precipitationMm);
    raw.windKph.push(hour.windKph);
    raw.gustKph.push(hour.gustKph);
    raw.uvIndex.push(hour.uvIndex);
  }
  const decimals: Partial<Record<NumericField, number>> = {};
  for (const field of NUMERIC_FIELDS) {
    const values = raw[field];
    const places = decimalsOf(values);
    if (places === undefined) return undefined;
    if (places > 0) decimals[field] = places;
    const factor = 10 ** places;
    const differenced = DIFFERENCED.has(field);
    let previous = 0;
    for (let i = 0; i < values.length; i++) {
      const value = values[i];
      if (value === null || value === undefined) continue;
      const scaled = Math.round(value * factor);
      values[i] = differenced ? scaled - previous : scaled;
      previous = scaled;
    }
  }
  const consecutive = at[at.length - 1] === at.length - 1;
  const columns = {
    from: first.time,
    ...(consecutive ? {} : { at }),
    weather,
    // Never null: hourlyForecastSchema requires them.
    temperatureC: raw.temperatureC as number[],
    precipitationProbability: raw.precipitationProbability,
    precipitationMm: raw.precipitationMm,
    windKph: raw.windKph as number[],
    gustKph: raw.gustKph,
    uvIndex: raw.uvIndex,
  };
  return Object.keys(decimals).length > 0 ? { ...columns, decimals } : columns;
}

/**
 * `toISOString()` of a whole hour, remembered: every region's forecast of a cycle has the same hours,
 * and writing the time was most of what encoding and decoding cost.
 */
function isoHour(ms: number): string {
  let iso = ISO_HOURS.get(ms);
  if (iso === undefined) {
    if (ISO_HOURS.size >= MAX_ISO_HOURS) ISO_HOURS.clear();
    iso = new Date(ms).toISOString();
    ISO_HOURS.set(ms, iso);
  }
  return iso;
}
const ISO_HOURS = new Map<number, string>();
/** A month of hours either side of now and then some: forecasts of a few days apart all fit. */
const MAX_ISO_HOURS = 4096;

/** The fewest decimal places that give every value back exactly (decoding divides the same way). */
function decimalsOf(values: readonly (number | null)[]): number | undefined {
  let places = 0;
  let factor = 1;
  for (const value of values) {
    if (value === null) continue;
    while (Math.round(value * factor) / factor !== value) {
      if (++places > MAX_DECIMALS) return undefined;
      factor *= 10;
    }
  }
  return places;
}

/** The hourly objects of a stored forecast, in order. */
export function hourlyFromColumns(stored: StoredHourly): readonly HourlyForecast[] {
  if (isRows(stored)) return stored;
  const start = Date.parse(stored.from);
  const values = Object.fromEntries(NUMERIC_FIELDS.map((field) => [field, valuesOf(stored, field)])) as Record<
    NumericField,
    (number | null)[]
  >;
  const hours: HourlyForecast[] = [];
  for (let index = 0; index < stored.weather.length; index++) {
    hours.push({
      time: isoHour(start + (stored.at?.[index] ?? index) * HOUR_MS),
      temperatureC: values.temperatureC[index] ?? 0,
      precipitationProbability: values.precipitationProbability[index] ?? null,
      precipitationMm: values.precipitationMm[index] ?? null,
      weather: CONDITION_OF_LETTER.get(stored.weather.charAt(index)) ?? 'cloudy',
      windKph: values.windKph[index] ?? 0,
      gustKph: values.gustKph[index] ?? null,
      uvIndex: values.uvIndex[index] ?? null,
    });
  }
  return hours;
}

/** A column's numbers as the hours have them: summed up if differenced, then scaled back. */
function valuesOf(columns: ForecastColumns, field: NumericField): (number | null)[] {
  const places = columns.decimals?.[field] ?? 0;
  const factor = 10 ** places;
  let total = 0;
  return columns[field].map((stored) => {
    if (stored === null) return null;
    total = DIFFERENCED.has(field) ? total + stored : stored;
    return places === 0 ? total : total / factor;
  });
}

/** How many hours a stored forecast holds. */
export function hourCount(stored: StoredHourly): number {
  return isRows(stored) ? stored.length : stored.weather.length;
}

/**
 * The hour nearest to `at` within half an hour, as kernel `forecastAt` finds it (the earlier of two
 * equally near), of a stored forecast and its decoded `hours`: by index when the hours follow one
 * another, since a search asks it of every region in its results.
 */
export function hourNear(stored: StoredHourly, hours: readonly HourlyForecast[], at: Date): HourlyForecast | undefined {
  if (isRows(stored) || stored.at !== undefined || hours.length === 0) return forecastAt(hours, at);
  const sinceFirst = at.getTime() - Date.parse(stored.from);
  const before = Math.min(hours.length - 1, Math.max(0, Math.floor(sinceFirst / HOUR_MS)));
  const after = Math.min(hours.length - 1, before + 1);
  const distance = (index: number) => Math.abs(sinceFirst - index * HOUR_MS);
  const nearest = distance(after) < distance(before) ? after : before;
  return distance(nearest) <= HOUR_MS / 2 ? hours[nearest] : undefined;
}

function isRows(stored: StoredHourly): stored is readonly HourlyForecast[] {
  return Array.isArray(stored);
}

const numbers = z.array(z.number());
const nullableNumbers = z.array(z.number().nullable());

/** Stored columns, checked as hourlyForecastSchema checks each hour: same lengths, known letters, bounds. */
export const forecastColumnsSchema = z
  .object({
    from: z.iso.datetime(),
    at: z.array(z.int().min(0)).optional(),
    decimals: z.partialRecord(z.enum(NUMERIC_FIELDS), z.int().min(1).max(MAX_DECIMALS)).optional(),
    weather: z.string(),
    temperatureC: numbers,
    precipitationProbability: nullableNumbers,
    precipitationMm: nullableNumbers,
    windKph: numbers,
    gustKph: nullableNumbers,
    uvIndex: nullableNumbers,
  })
  .superRefine((columns, context) => {
    const count = columns.weather.length;
    for (const letter of columns.weather) {
      if (!CONDITION_OF_LETTER.has(letter)) {
        context.addIssue({ code: 'custom', path: ['weather'], message: `unknown weather letter "${letter}"` });
        return;
      }
    }
    if (columns.at && (columns.at.length !== count || columns.at.some((offset, i) => i > 0 && offset <= (columns.at?.[i - 1] ?? 0))))
      context.addIssue({ code: 'custom', path: ['at'], message: `must be ${count} ascending hours` });
    for (const field of NUMERIC_FIELDS) {
      const values = columns[field];
      if (values.length !== count)
        context.addIssue({ code: 'custom', path: [field], message: `has ${values.length} values for ${count} hours` });
      const [low, high] = BOUNDS[field] ?? [-Infinity, Infinity];
      if (valuesOf(columns, field).some((value) => value !== null && (value < low || value > high)))
        context.addIssue({ code: 'custom', path: [field], message: `must be between ${low} and ${high}` });
    }
  });
