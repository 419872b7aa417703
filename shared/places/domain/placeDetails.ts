import { z } from 'zod';
import { openingHoursSchema } from './openingHours';

/** Bounds and vocabularies of a place's descriptive details; the API documents the same limits. */
export const PLACE_KINDS = ['indoor', 'outdoor', 'mixed'] as const;
export const FACILITIES = [
  'pushchair',
  'babyChange',
  'accessibleToilet',
  'toilets',
  'parking',
  'cafe',
  'picnicArea',
  'playground',
  'nursingRoom',
  'dogFriendly',
] as const;
export const NAME_MAX = 120;
export const DESCRIPTION_MAX = 2000;
export const ADDRESS_MIN = 2;
export const ADDRESS_MAX = 200;
export const AGE_MAX = 18;
export const PRICE_MAX_GBP = 1000;

export type PlaceKind = (typeof PLACE_KINDS)[number];
export type Facility = (typeof FACILITIES)[number];

export const nameSchema = z
  .string({ error: 'must be a string' })
  .trim()
  .min(1, { error: 'must not be empty' })
  .max(NAME_MAX, { error: `must be at most ${NAME_MAX} characters` });

export const addressSchema = z
  .string({ error: 'must be a string (a postcode or place name)' })
  .trim()
  .min(ADDRESS_MIN, { error: `must be at least ${ADDRESS_MIN} characters` })
  .max(ADDRESS_MAX, { error: `must be at most ${ADDRESS_MAX} characters` });

const age = z
  .number({ error: 'must be a whole number of years' })
  .int({ error: 'must be a whole number of years' })
  .min(0, { error: 'must be ≥ 0' })
  .max(AGE_MAX, { error: `must be ≤ ${AGE_MAX}` });

const ageRangeSchema = z
  .strictObject({ min: age, max: age }, { error: 'must be an object {min, max}' })
  .refine((range) => range.min <= range.max, { error: 'min must not exceed max', path: ['min'] });

const gbp = z
  .number({ error: 'must be an amount in pounds' })
  .min(0, { error: 'must be ≥ 0' })
  .max(PRICE_MAX_GBP, { error: `must be ≤ ${PRICE_MAX_GBP}` })
  .refine((amount) => Math.abs(amount * 100 - Math.round(amount * 100)) < 1e-6, { error: 'must have at most two decimal places' });

const priceSchema = z
  .strictObject(
    { free: z.boolean({ error: 'must be true or false' }), adultGBP: gbp.optional(), childGBP: gbp.optional() },
    { error: 'must be an object {free, adultGBP?, childGBP?}' },
  )
  .refine((price) => !price.free || ((price.adultGBP ?? 0) === 0 && (price.childGBP ?? 0) === 0), {
    error: 'a free place has no prices',
    path: ['free'],
  });

const facilitiesSchema = z
  .array(z.enum(FACILITIES, { error: `must be one of ${FACILITIES.join(', ')}` }), { error: 'must be a list of facilities' })
  .max(FACILITIES.length, { error: 'lists a facility more than once' })
  .refine((list) => new Set(list).size === list.length, { error: 'lists a facility more than once' });

const websiteSchema = z
  .string({ error: 'must be an https URL' })
  .max(2048, { error: 'must be at most 2048 characters' })
  .refine(isHttpsUrl, { error: 'must be an https URL' });

const descriptionSchema = z
  .string({ error: 'must be a string' })
  .trim()
  .max(DESCRIPTION_MAX, { error: `must be at most ${DESCRIPTION_MAX} characters` });

/** The descriptive fields an editor may set at proposal and change later. */
export const detailsShape = {
  kind: z.enum(PLACE_KINDS, { error: `must be one of ${PLACE_KINDS.join(', ')}` }),
  ageRange: ageRangeSchema,
  price: priceSchema,
  facilities: facilitiesSchema,
  openingHours: openingHoursSchema,
  website: websiteSchema,
  description: descriptionSchema,
} as const;

/** The same fields, each optional: a proposal's details, and PlaceProposed's stored `details`. */
export const optionalDetailsShape = {
  kind: detailsShape.kind.optional(),
  ageRange: detailsShape.ageRange.optional(),
  price: detailsShape.price.optional(),
  facilities: detailsShape.facilities.optional(),
  openingHours: detailsShape.openingHours.optional(),
  website: detailsShape.website.optional(),
  description: detailsShape.description.optional(),
} as const;

export type AgeRange = z.output<typeof ageRangeSchema>;
export type Price = z.output<typeof priceSchema>;

export interface PlaceDetails {
  readonly kind?: PlaceKind;
  readonly ageRange?: AgeRange;
  readonly price?: Price;
  readonly facilities?: readonly Facility[];
  /** OpenStreetMap opening_hours syntax, in the place's local time. */
  readonly openingHours?: string;
  readonly website?: string;
  readonly description?: string;
}

export const DETAIL_FIELDS = Object.keys(detailsShape) as (keyof PlaceDetails)[];

function isHttpsUrl(value: string): boolean {
  if (!URL.canParse(value)) return false;
  const url = new URL(value);
  return url.protocol === 'https:' && url.hostname.length > 0 && url.username === '' && url.password === '';
}
