import type { EditorView } from '../../editors/projection/editorView';
import type { PlaceDocument } from '../../places/projection/placeDocuments';
import type { RegionForecastView } from '../../regions/projection/regionForecastDocument';

/** Every read-model document in the `views` container, of every feature. */
export type ViewDocument = PlaceDocument | RegionForecastView | EditorView;
