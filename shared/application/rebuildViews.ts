import { projectEvents, type ProjectionDeps } from './projectEvents';

/**
 * Rebuilds every read model from the events: clears the views and replays the whole store through
 * the same projections the change feed drives. Safe while the live projection runs, because every
 * view write is version-guarded.
 */
export async function rebuildViews(deps: ProjectionDeps): Promise<{ events: number; deadLettered: number }> {
  await deps.views.clear();
  let events = 0;
  let deadLettered = 0;
  for await (const page of deps.eventStore.readAll(1000)) {
    const outcome = await projectEvents(deps, page);
    events += page.length;
    deadLettered += outcome.deadLettered;
  }
  return { events, deadLettered };
}
