import type { EditorView } from '../../editors/projection/editorView';
import type { PlaceDocument } from '../../places/projection/placeDocuments';
import type { RegionForecastView } from '../../regions/projection/regionForecastDocument';
import type { ViewDocumentBase } from '../../kernel/viewDocument';

/**
 * Written by a rebuild once it has cleared the views: copies of the views held in memory (the
 * search index) load them again, since the clear's deletions never show in the change feed.
 */
export interface RebuildMarker extends ViewDocumentBase {
  readonly type: 'rebuildMarker';
  /** Which rebuild (an id, not a time: instances' clocks differ). */
  readonly rebuildId: string;
  readonly rebuiltAt: string;
}
export const rebuildMarkerKey = { id: 'rebuild-marker', partitionKey: 'rebuild-marker' } as const;

/** Every document in the `views` container, of every feature. */
export type ViewDocument = PlaceDocument | RegionForecastView | EditorView | RebuildMarker;
