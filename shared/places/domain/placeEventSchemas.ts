import { storedActorSchema } from '../../kernel/caller';
import { z } from 'zod';
import type { Event } from '../../kernel/event';
import { nameSchema, optionalDetailsShape } from './placeDetails';
import type { PlaceEvent } from './place';
import { detailsChangesShape } from './proposal';
import { geolocationSchema } from '../../kernel/geolocation';
import { PoisonEventError } from '../../kernel/errors';
import { storedOpeningHoursSchema } from './legacyOpeningHours';

/**
 * The stored shape of every place event, checked when events are read by consumers that must not
 * trust their input blindly (projections): a malformed event is poison, not a crash.
 */
const storedGeolocation = z.object({ latitude: z.number().min(-90).max(90), longitude: z.number().min(-180).max(180) });
// Stored details are read as recorded: the opening hours in the old object shape are upcast, not refused.
const details = z.object({ ...optionalDetailsShape, openingHours: storedOpeningHoursSchema.optional() });
const instant = z.iso.datetime({ offset: true });

const schemas = {
  PlaceProposed: z.object({
    placeId: z.string().min(1),
    name: nameSchema,
    geolocation: storedGeolocation.optional(),
    address: z.string().optional(),
    details,
    proposedAt: instant,
    owner: storedActorSchema.optional(),
  }),
  PlaceLocationValidated: z.object({ geolocation: geolocationSchema, region: z.string().regex(/^[0-9b-hjkmnp-z]{1,12}$/) }),
  PlaceLocationRejected: z.object({ reason: z.string() }),
  PlaceApproved: z.object({ approvedAt: instant }),
  PlaceRejected: z.object({ reason: z.string(), rejectedAt: instant }),
  PlaceDetailsUpdated: z.strictObject({ ...detailsChangesShape, openingHours: storedOpeningHoursSchema.nullable().optional() }),
  PlaceWithdrawn: z.object({ reason: z.string(), withdrawnAt: instant }),
  PlaceRevisionProposed: z.object({
    revision: z.int().min(1),
    changes: z.strictObject({ ...detailsChangesShape, openingHours: storedOpeningHoursSchema.nullable().optional() }),
    proposedBy: storedActorSchema,
    proposedAt: instant,
  }),
  PlaceRevisionApproved: z.object({ revision: z.int().min(1), approvedAt: instant }),
  PlaceRevisionRejected: z.object({ revision: z.int().min(1), reason: z.string(), rejectedAt: instant }),
} satisfies Record<PlaceEvent['type'], z.ZodType>;

/** Checks an event's type and data against the place events' contract. */
export function parsePlaceEvent(event: Event): PlaceEvent {
  if (!Object.hasOwn(schemas, event.type)) throw new PoisonEventError(`Unknown place event type "${event.type}".`);
  const type = event.type as PlaceEvent['type'];
  const result = schemas[type].safeParse(event.data);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${issue.path.join('.') || '(data)'}: ${issue.message}`).join('; ');
    throw new PoisonEventError(`Malformed ${type}: ${problems}`);
  }
  // The schema for `type` checked `data`, so the pair is a valid PlaceEvent.
  return { type, data: result.data } as PlaceEvent;
}
