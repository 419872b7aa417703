import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { projectEvents, type ProjectionDeps } from './projectEvents';
import { rebuildMarkerKey } from './documents';

/** The answer of `POST /api/ops/rebuild-views`. */
export const viewsRebuiltSchema = z.strictObject({
  events: z.int().min(0).meta({ description: 'Events replayed' }),
  deadLettered: z.int().min(0).meta({ description: 'Events the projections could not apply (kept in the deadletters container)' }),
  durationMs: z.number().min(0),
});
export type ViewsRebuilt = z.output<typeof viewsRebuiltSchema>;

/**
 * Rebuilds every read model from the events: clears the views and replays the whole store through
 * the same projections the change feed drives. Safe while the live projection runs, because every
 * view write is version-guarded.
 */
export async function rebuildViews(deps: ProjectionDeps): Promise<Omit<ViewsRebuilt, 'durationMs'>> {
  await deps.views.clear();
  await deps.views.write(
    { ...rebuildMarkerKey, type: 'rebuildMarker', rebuildId: randomUUID(), rebuiltAt: deps.clock().toISOString() },
    'any',
  );
  let events = 0;
  let deadLettered = 0;
  for await (const page of deps.eventStore.readAll(1000)) {
    const outcome = await projectEvents(deps, page);
    events += page.length;
    deadLettered += outcome.deadLettered;
  }
  return { events, deadLettered };
}
