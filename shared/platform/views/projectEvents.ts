import type { RecordedEvent } from '../../kernel/event';
import type { EventStore } from '../eventSourcing/eventStore';
import { PLACE_STREAM_PREFIX } from '../../places/domain/place';
import { parsePlaceEvent } from '../../places/domain/placeEventSchemas';
import { deadLetterOf, type DeadLetterStore } from './deadLetters';
import { type ViewDocument } from './documents';
import type { Geohasher } from '../../places/projection/geohasher';
import { evolvePlaceView, listingsOf } from '../../places/projection/placeView';
import { evolveRegionForecastView } from '../../regions/projection/regionForecastView';
import { ViewWriteConflictError, type StoredView, type ViewStore } from './viewStore';
import { REGION_STREAM_PREFIX } from '../../regions/domain/region';
import { PoisonEventError } from '../../kernel/errors';
import { EDITOR_STREAM_PREFIX, parseEditorEvent } from '../../editors/domain/editor';
import { editorViewKey, evolveEditorView, type EditorView } from '../../editors/projection/editorView';
import { listingVersion, placeViewKey, type Listing, type PlaceView } from '../../places/projection/placeDocuments';
import { regionForecastKey, type RegionForecastView } from '../../regions/projection/regionForecastDocument';

export interface ProjectionDeps {
  readonly views: ViewStore;
  readonly eventStore: EventStore;
  readonly deadLetters: DeadLetterStore;
  readonly geohash: Geohasher;
  readonly clock: () => Date;
}

export interface ProjectionOutcome {
  readonly streams: number;
  readonly deadLettered: number;
}

const CONSUMER = 'projections';
const MAX_CONFLICT_RETRIES = 5;
const STREAMS_IN_PARALLEL = 16;

/**
 * Applies a batch of appended events (as the change feed delivers them) to the read models. Events
 * of one stream are applied in version order; a gap (an event ahead of the view) is filled from the
 * event store, so out-of-order or partial delivery still converges. Redelivered events are no-ops.
 * A poison event is dead-lettered with its reason and the rest of the batch proceeds.
 */
export async function projectEvents(deps: ProjectionDeps, batch: readonly RecordedEvent[]): Promise<ProjectionOutcome> {
  const byStream = new Map<string, RecordedEvent[]>();
  for (const event of batch) byStream.set(event.streamId, [...(byStream.get(event.streamId) ?? []), event]);
  let deadLettered = 0;
  const streams = [...byStream.entries()];
  for (let i = 0; i < streams.length; i += STREAMS_IN_PARALLEL) {
    const counts = await Promise.all(
      streams.slice(i, i + STREAMS_IN_PARALLEL).map(([streamId, events]) => projectStream(deps, streamId, events)),
    );
    deadLettered += counts.reduce((sum, n) => sum + n, 0);
  }
  return { streams: byStream.size, deadLettered };
}

async function projectStream(deps: ProjectionDeps, streamId: string, events: RecordedEvent[]): Promise<number> {
  const ordered = [...events].sort((a, b) => a.version - b.version);
  if (streamId.startsWith(PLACE_STREAM_PREFIX))
    return withConflictRetry(() => projectPlace(deps, streamId.slice(PLACE_STREAM_PREFIX.length), ordered));
  if (streamId.startsWith(EDITOR_STREAM_PREFIX))
    return withConflictRetry(() => projectEditor(deps, streamId.slice(EDITOR_STREAM_PREFIX.length), ordered));
  if (streamId.startsWith(REGION_STREAM_PREFIX))
    return withConflictRetry(() => projectRegion(deps, streamId.slice(REGION_STREAM_PREFIX.length), ordered));
  for (const event of ordered)
    await deps.deadLetters.record(deadLetterOf(CONSUMER, event, `No projection handles stream "${streamId}".`, deps.clock()));
  return ordered.length;
}

async function projectPlace(deps: ProjectionDeps, placeId: string, events: readonly RecordedEvent[]): Promise<number> {
  const stored = await deps.views.read<PlaceView>(placeViewKey(placeId));
  const { view, deadLettered } = await foldIntoView(deps, stored, events, (current, event) =>
    evolvePlaceView(current, { ...event, ...parsePlaceEvent(event) }),
  );
  if (view) await syncListings(deps, view);
  return deadLettered;
}

async function projectEditor(deps: ProjectionDeps, userId: string, events: readonly RecordedEvent[]): Promise<number> {
  const stored = await deps.views.read<EditorView>(editorViewKey(userId));
  return (await foldIntoView(deps, stored, events, (current, event) => evolveEditorView(current, { ...event, ...parseEditorEvent(event) })))
    .deadLettered;
}

/**
 * The listings follow the place view: spatial and newest while approved, the status list under the
 * current status only. Each is written only over an older one (by place version), and a listing the
 * place has left keeps a removal marker, so a late worker syncing an older view (a rebuild racing the
 * live projection, a slow retry) can neither overwrite a newer listing nor bring a removed one back.
 */
async function syncListings(deps: ProjectionDeps, view: PlaceView): Promise<void> {
  for (const listing of listingsOf(view, deps.geohash)) await writeListing(deps.views, listing);
}

async function writeListing(views: ViewStore, listing: Listing): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const stored = await views.read<Listing>(listing);
    if (stored && listingVersion(stored.document) >= listingVersion(listing)) return;
    try {
      await views.write(listing, stored ? { ifMatch: stored.etag } : 'ifAbsent');
      return;
    } catch (error) {
      if (!(error instanceof ViewWriteConflictError) || attempt >= MAX_CONFLICT_RETRIES) throw error;
    }
  }
}

/**
 * Region views are folded without a version guard or gap filling: the fold is idempotent and
 * order-independent (see evolveRegionForecastView), and only the newest forecast matters.
 */
async function projectRegion(deps: ProjectionDeps, region: string, events: readonly RecordedEvent[]): Promise<number> {
  const stored = await deps.views.read<RegionForecastView>(regionForecastKey(region));
  let view = stored?.document ?? null;
  let deadLettered = 0;
  for (const event of events) {
    try {
      view = evolveRegionForecastView(view, event, region);
    } catch (error) {
      if (!(error instanceof PoisonEventError)) throw error;
      await deps.deadLetters.record(deadLetterOf(CONSUMER, event, error.message, deps.clock()));
      deadLettered++;
    }
  }
  if (view && view !== stored?.document) await save(deps.views, view, stored);
  return deadLettered;
}

/**
 * Applies a stream's events (gaps filled) to its stored view and saves the result if it moved. A
 * poison event is dead-lettered and counted as dealt with, so later events of the stream still apply.
 */
async function foldIntoView<V extends PlaceView | EditorView>(
  deps: ProjectionDeps,
  stored: StoredView<V> | undefined,
  events: readonly RecordedEvent[],
  evolve: (view: V | null, event: RecordedEvent) => V | null,
): Promise<{ view: V | null; deadLettered: number }> {
  let view = stored?.document ?? null;
  let deadLettered = 0;
  for (const event of await withGapsFilled(deps, events, view?.version ?? 0)) {
    if (view && event.version <= view.version) continue;
    try {
      view = evolve(view, event);
    } catch (error) {
      if (!(error instanceof PoisonEventError)) throw error;
      await deps.deadLetters.record(deadLetterOf(CONSUMER, event, error.message, deps.clock()));
      deadLettered++;
      if (view) view = { ...view, version: event.version };
    }
  }
  if (view && view.version !== stored?.document.version) await save(deps.views, view, stored);
  return { view, deadLettered };
}

/** The events to apply after `appliedVersion`: the batch's, plus any the batch skipped, read from the store. */
async function withGapsFilled(deps: ProjectionDeps, events: readonly RecordedEvent[], appliedVersion: number): Promise<RecordedEvent[]> {
  const pending = events.filter((event) => event.version > appliedVersion);
  const first = pending[0];
  const contiguous = pending.every((event, i) => event.version === appliedVersion + i + 1);
  if (!first || contiguous) return pending;
  const last = pending.at(-1)?.version ?? first.version;
  const fromStore = await deps.eventStore.read(first.streamId, appliedVersion + 1);
  return fromStore.filter((event) => event.version <= last);
}

async function save(views: ViewStore, view: ViewDocument, stored: StoredView | undefined): Promise<void> {
  await views.write(view, stored ? { ifMatch: stored.etag } : 'ifAbsent');
}

/** Another worker changed the same view: read again and re-apply (the version guard makes it safe). */
async function withConflictRetry(project: () => Promise<number>): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await project();
    } catch (error) {
      if (!(error instanceof ViewWriteConflictError) || attempt >= MAX_CONFLICT_RETRIES) throw error;
    }
  }
}
