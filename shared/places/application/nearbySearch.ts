import ngeohash from 'ngeohash';
import { type Geolocation } from '../../kernel/geolocation';
import { type NearbyEntry } from '../projection/placeDocuments';

const EARTH_RADIUS_KM = 6371.0088;

/**
 * The latitude and longitude half-widths (degrees) of the smallest box holding a circle on the
 * sphere: the longitude reach is widest away from the centre's parallel, hence the arcsine.
 */
export function boundingDegrees(centre: Geolocation, radiusKm: number): { dLat: number; dLon: number } {
  const angular = radiusKm / EARTH_RADIUS_KM;
  const dLat = (angular * 180) / Math.PI;
  const cosLat = Math.cos((centre.latitude * Math.PI) / 180);
  const dLon = Math.sin(angular) >= cosLat ? 180 : (Math.asin(Math.sin(angular) / cosLat) * 180) / Math.PI;
  return { dLat, dLon };
}

/** Great-circle distance (haversine). */
export function distanceKm(a: Geolocation, b: Geolocation): number {
  const toRadians = (degrees: number) => (degrees * Math.PI) / 180;
  const dLat = toRadians(b.latitude - a.latitude);
  const dLon = toRadians(b.longitude - a.longitude);
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(toRadians(a.latitude)) * Math.cos(toRadians(b.latitude)) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(h)));
}

export interface CellCover {
  readonly field: 'cell4' | 'cell5';
  /** Covering cells grouped by the spatial partition (precision-3 cell) they live in. */
  readonly byPartition: ReadonlyMap<string, readonly string[]>;
}

/**
 * The geohash cells that cover a circle's bounding box, at a precision that keeps the list short:
 * precision 5 (about 4.9 × 4.9 km at the equator) for small circles, precision 4 (39 × 20 km) above
 * 10 km. The cost of a search follows the cells of its circle, never the number of places stored.
 */
export function coveringCells(centre: Geolocation, radiusKm: number): CellCover {
  const precision = radiusKm <= 10 ? 5 : 4;
  const { dLat, dLon } = boundingDegrees(centre, radiusKm);
  const minLat = Math.max(-90, centre.latitude - dLat);
  const maxLat = Math.min(90, centre.latitude + dLat);
  const cells = new Set<string>();
  // A box that crosses the antimeridian is covered as two boxes.
  for (const [minLon, maxLon] of longitudeRanges(centre.longitude - dLon, centre.longitude + dLon)) {
    for (const cell of cellsInBox(minLat, minLon, maxLat, maxLon, precision)) cells.add(cell);
  }
  const byPartition = new Map<string, string[]>();
  for (const cell of cells) {
    const partition = cell.slice(0, 3);
    const list = byPartition.get(partition);
    if (list) list.push(cell);
    else byPartition.set(partition, [cell]);
  }
  return { field: precision === 5 ? 'cell5' : 'cell4', byPartition };
}

/**
 * The cells of a box, by walking its grid one cell at a time and encoding each step (what
 * ngeohash.bboxes does, at a fraction of its cost: this runs on every search).
 */
function cellsInBox(minLat: number, minLon: number, maxLat: number, maxLon: number, precision: number): string[] {
  const [south, west, north, east] = ngeohash.decode_bbox(ngeohash.encode(minLat, minLon, precision));
  const height = north - south;
  const width = east - west;
  // Whole steps from the south-west cell's edges, so no row or column is lost to rounding.
  const rows = Math.floor((maxLat - south) / height);
  const columns = Math.floor((maxLon - west) / width);
  const cells: string[] = [];
  for (let row = 0; row <= rows; row++) {
    const lat = Math.min(south + (row + 0.5) * height, 90);
    for (let column = 0; column <= columns; column++)
      cells.push(ngeohash.encode(lat, Math.min(west + (column + 0.5) * width, 180), precision));
  }
  return cells;
}

function longitudeRanges(min: number, max: number): [number, number][] {
  if (max - min >= 360) return [[-180, 180]];
  if (min < -180)
    return [
      [min + 360, 180],
      [-180, max],
    ];
  if (max > 180)
    return [
      [min, 180],
      [-180, max - 360],
    ];
  return [[min, max]];
}

export interface NearbyFilter {
  readonly kind?: 'indoor' | 'outdoor' | 'mixed';
  readonly age?: number;
  readonly free?: boolean;
}

export interface RankedEntry {
  readonly entry: NearbyEntry;
  readonly distanceKm: number;
}

/** A store's spatial partitions, read by geohash cell: `nearby-<precision-3 cell>`, matched on `cell4` or `cell5`. */
export type ReadCells = (partitionKey: string, field: CellCover['field'], cells: readonly string[]) => Promise<readonly NearbyEntry[]>;

/** A nearby search over a store that keeps entries by geohash cell: one read per partition the circle's cells fall in. */
export async function nearbyFromCells(
  readCells: ReadCells,
  centre: Geolocation,
  radiusKm: number,
  filter: NearbyFilter,
): Promise<RankedEntry[]> {
  const cover = coveringCells(centre, radiusKm);
  const perPartition = await Promise.all([...cover.byPartition].map(([cell3, cells]) => readCells(`nearby-${cell3}`, cover.field, cells)));
  return rankNearby(perPartition.flat(), centre, radiusKm, filter);
}

/** The entries within the radius that pass the filters, nearest first (ties by name, then id). */
export function rankNearby(entries: readonly NearbyEntry[], centre: Geolocation, radiusKm: number, filter: NearbyFilter): RankedEntry[] {
  // A cheap box test first: most candidates from the covering cells lie outside the circle.
  const box = boundingDegrees(centre, radiusKm);
  const dLat = box.dLat + 1e-9;
  const dLon = box.dLon + 1e-9;
  const ranked: RankedEntry[] = [];
  for (const entry of entries) {
    const { latitude, longitude } = entry.geolocation;
    if (Math.abs(latitude - centre.latitude) > dLat) continue;
    if (Math.abs(longitude - centre.longitude) > dLon && Math.abs(longitude - centre.longitude) < 360 - dLon) continue;
    if (!passesFilter(entry, filter)) continue;
    const d = distanceKm(centre, entry.geolocation);
    if (d <= radiusKm) ranked.push({ entry, distanceKm: d });
  }
  return ranked.sort(byDistance);
}

/** Nearest first; places equally far by name, then id, so answers never depend on storage order. */
export function byDistance(a: RankedEntry, b: RankedEntry): number {
  return a.distanceKm - b.distanceKm || compareText(a.entry.name, b.entry.name) || compareText(a.entry.placeId, b.entry.placeId);
}

/** Whether an entry passes a search's filters (the circle aside). */
export function passesFilter(entry: NearbyEntry, filter: NearbyFilter): boolean {
  if (filter.kind !== undefined && entry.kind !== filter.kind) return false;
  if (filter.free !== undefined && (entry.free ?? false) !== filter.free) return false;
  return !(filter.age !== undefined && entry.ageRange && (filter.age < entry.ageRange.min || filter.age > entry.ageRange.max));
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
