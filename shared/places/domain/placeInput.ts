import { z } from 'zod';
import { ValidationError, type FieldError } from '../../kernel/errors';
import {
  addressSchema,
  detailsShape,
  nameSchema,
  optionalDetailsShape,
  type PlaceDetails,
} from './placeDetails';
import { geolocationSchema, type Geolocation } from "../../kernel/geolocation";

/**
 * Parsing of untrusted input into the domain's types. Every failure names its field, and unknown
 * fields are rejected so that a misspelt field is never silently dropped.
 */

export interface PlaceProposal {
  readonly name: string;
  readonly geolocation?: Geolocation;
  readonly address?: string;
  readonly details: PlaceDetails;
}

/** Fields of a details update; `null` removes an optional detail. */
export type DetailsChanges = {
  readonly name?: string;
} & { readonly [K in keyof PlaceDetails]?: PlaceDetails[K] | null };

export const REASON_MAX = 500;

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

/** The fields a details update may carry (also the stored shape of PlaceDetailsUpdated). */
export const detailsChangesShape = {
  name: nameSchema.optional(),
  kind: detailsShape.kind.nullable().optional(),
  ageRange: detailsShape.ageRange.nullable().optional(),
  price: detailsShape.price.nullable().optional(),
  facilities: detailsShape.facilities.nullable().optional(),
  openingHours: detailsShape.openingHours.nullable().optional(),
  website: detailsShape.website.nullable().optional(),
  description: detailsShape.description.nullable().optional(),
};

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
  const { name, geolocation, address, ...details } = parseWith(proposalSchema, body);
  return { name, details: withoutUndefined(details), ...(geolocation && { geolocation }), ...(address !== undefined && { address }) };
}

export function parseDetailsChanges(body: unknown): DetailsChanges {
  return withoutUndefined(parseWith(detailsChangesSchema, body));
}

export function parseReason(body: unknown): string {
  return parseWith(reasonSchema, body).reason;
}

function parseWith<T extends z.ZodType>(schema: T, body: unknown): z.output<T> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ValidationError([{ field: '', message: 'the body must be a JSON object' }]);
  }
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  throw new ValidationError(result.error.issues.flatMap(toFieldErrors));
}

function toFieldErrors(issue: z.core.$ZodIssue): FieldError[] {
  const at = issue.path.map(String).join('.');
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => ({ field: at ? `${at}.${key}` : key, message: 'is not a known field' }));
  }
  return [{ field: at, message: issue.message }];
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
