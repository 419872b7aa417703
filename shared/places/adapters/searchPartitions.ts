import ngeohash from 'ngeohash';
import { GREAT_BRITAIN_AND_IRELAND, type ServiceArea } from '../domain/serviceArea';
import { NEAREST_PARTITION_PRECISION, NEWEST_PARTITION } from '../projection/placeDocuments';
import { REGION_FORECASTS_PARTITION } from '../../regions/projection/regionForecastDocument';
import { rebuildMarkerKey } from '../../platform/views/documents';

/**
 * The view partitions the search index loads: the newest list, the region forecasts, the rebuild
 * marker, and every nearby partition (precision-3 cell) of the service area, where every approved
 * place is (its location is validated against it). Named rather than found by a query: finding them
 * would scan the whole container, which the local Cosmos endpoint cannot do at 100,000 places.
 */
export function searchPartitions(area: ServiceArea = GREAT_BRITAIN_AND_IRELAND): string[] {
  const points = area.polygons.flat();
  const longitudes = points.map(([longitude]) => longitude);
  const latitudes = points.map(([, latitude]) => latitude);
  const cells = ngeohash.bboxes(
    Math.min(...latitudes),
    Math.min(...longitudes),
    Math.max(...latitudes),
    Math.max(...longitudes),
    NEAREST_PARTITION_PRECISION,
  );
  return [NEWEST_PARTITION, REGION_FORECASTS_PARTITION, rebuildMarkerKey.partitionKey, ...cells.map((cell) => `nearby-${cell}`)];
}
