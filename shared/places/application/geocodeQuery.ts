import { z } from 'zod';
import { NotFoundError, ValidationError } from '../../kernel/errors';
import type { Geocoder } from './geocoder';
import { GREAT_BRITAIN_AND_IRELAND, isInServiceArea, type ServiceArea } from '../domain/serviceArea';
import { addressSchema } from '../domain/placeDetails';

export interface GeocodeQueryDeps {
  readonly geocoder: Geocoder;
  /** Where parents may search (default Great Britain and Ireland, as for places). */
  readonly serviceArea?: ServiceArea;
}

/** Where a parent's postcode or place name is: the answer of `GET /api/geocode`. */
export const locatedSearchSchema = z.strictObject({
  latitude: z.number().min(-90).max(90),
  longitude: z.number().min(-180).max(180),
  label: z.string().meta({ description: 'What matched, to show back to the parent ("Chester, England, GB"; "M3 4FP, England")' }),
});
export type LocatedSearch = z.output<typeof locatedSearchSchema>;

/** The query of `GET /api/geocode`. */
export const geocodeQuerySchema = z.strictObject({ q: addressSchema.meta({ description: 'A postcode or place name' }) });

/** Parses the query string of `GET /api/geocode?q=`: a postcode or place name of 2–200 characters. */
export function parseGeocodeQuery(params: URLSearchParams): string {
  const raw: Record<string, string> = {};
  for (const [name, value] of params) if (name !== 'code') raw[name] = value;
  const parsed = geocodeQuerySchema.safeParse(raw);
  if (!parsed.success) {
    const errors = parsed.error.issues.flatMap((issue) =>
      issue.code === 'unrecognized_keys'
        ? issue.keys.map((key) => ({ field: key, message: 'is not a known parameter' }))
        : [{ field: 'q', message: issue.message }],
    );
    throw new ValidationError(errors, 'Give a postcode or place name as q.');
  }
  return parsed.data.q;
}

/**
 * The first place the geocoder matched inside the service area: parents search near where they
 * are, so a "Richmond" in Virginia is passed over for the one in London. Nothing found, or nothing
 * in the area, is a not-found; a geocoder fault is thrown as it is.
 */
export async function locateForParents(deps: GeocodeQueryDeps, query: string): Promise<LocatedSearch> {
  const area = deps.serviceArea ?? GREAT_BRITAIN_AND_IRELAND;
  const result = await deps.geocoder.geocode(query);
  if (result.kind === 'notFound') throw new NotFoundError(`Nothing matches "${query}". Try a town or a full postcode.`);
  const inArea = result.candidates.find((candidate) => isInServiceArea(area, candidate.geolocation));
  if (!inArea) throw new NotFoundError(`"${query}" is outside the area Visit Plannr covers (${area.name}).`);
  return { latitude: inArea.geolocation.latitude, longitude: inArea.geolocation.longitude, label: inArea.label };
}
