import type { Geolocation } from '../../kernel/geolocation';
import { detailsShape, nameSchema, type PlaceDetails } from './placeDetails';

/** What a proposal and a details update carry, once parsed (places/http/placeRequests.ts parses them). */

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
