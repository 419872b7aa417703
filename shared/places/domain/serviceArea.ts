import { type Geolocation } from '../../kernel/geolocation';

/** A ring of [longitude, latitude] vertices (GeoJSON order), implicitly closed. */
export type Ring = readonly (readonly [longitude: number, latitude: number])[];

/** Where places may be: a union of polygons, with a name for the reasons editors read. */
export interface ServiceArea {
  readonly name: string;
  readonly polygons: readonly Ring[];
}

/**
 * Great Britain and Ireland, drawn through the seas around them rather than along the coasts, so
 * every coastal place and island is well inside and the nearest foreign coasts are well outside:
 *
 * - Included: Great Britain with the Hebrides (St Kilda too), Orkney, Shetland (up to Muckle
 *   Flugga), the Isles of Scilly, Anglesey and the Isle of Wight; the whole island of Ireland; the
 *   Isle of Man; and the Channel Islands (Jersey; Guernsey, Alderney, Sark and Herm). The Crown
 *   Dependencies are not the UK, but families in Great Britain and Ireland visit them, postcodes.io
 *   knows their postcodes, and their weather is forecast like anywhere else, so leaving them out
 *   would only refuse real places.
 * - Excluded: France (the line runs mid-Channel and through the Strait of Dover, about 12 km off
 *   Cap Gris-Nez; the Channel Islands boxes stop 10–25 km short of the Cotentin), Belgium and the
 *   Netherlands (the line runs down the North Sea at 0.5–2.2° E), Norway (0.5° E against its coast
 *   at 4.8° E), the Faroe Islands (north of 61° N) and Rockall.
 *
 * Points at sea inside the line are accepted: a place proposed there is a typo an admin will see
 * before approving, which is cheaper than tracing every coastline.
 */
export const GREAT_BRITAIN_AND_IRELAND: ServiceArea = {
  name: 'Great Britain and Ireland',
  polygons: [
    [
      [-11.0, 51.2], // south-west of Mizen Head
      [-11.0, 55.5], // west of Donegal
      [-9.2, 57.0], // west of Barra
      [-9.2, 58.4], // west of St Kilda and the Flannan Isles
      [-6.5, 59.4], // north of North Rona
      [-3.0, 61.0], // north-west of Shetland
      [0.5, 61.0], // north-east of Muckle Flugga
      [0.5, 58.0], // the North Sea, east of Shetland and Orkney
      [1.0, 54.5], // east of the Yorkshire coast
      [2.2, 53.0], // east of Norfolk and Suffolk
      [2.2, 51.6], // the Thames estuary, west of Belgium
      [1.9, 51.3], // east of Thanet
      [1.3, 50.75], // the Strait of Dover, between Dungeness and Cap Gris-Nez
      [0.0, 50.35], // mid-Channel, south of Beachy Head
      [-1.5, 50.1], // south of the Isle of Wight, north of Barfleur
      [-5.0, 49.5], // south of the Lizard, north of Brittany
      [-7.0, 49.6], // south-west of the Isles of Scilly
    ],
    // Jersey.
    [
      [-2.27, 49.15],
      [-1.98, 49.15],
      [-1.98, 49.28],
      [-2.27, 49.28],
    ],
    // Guernsey, Sark, Herm and Alderney (Cap de la Hague is at 1.95° W).
    [
      [-2.72, 49.4],
      [-2.1, 49.4],
      [-2.1, 49.76],
      [-2.72, 49.76],
    ],
  ],
};

/** Whether a point lies in the area (ray casting over each polygon; points on an edge may go either way). */
export function isInServiceArea(area: ServiceArea, { latitude, longitude }: Geolocation): boolean {
  return area.polygons.some((ring) => inRing(ring, longitude, latitude));
}

/** Whether the point (x: longitude, y: latitude) lies in the ring (ray casting; points on an edge may go either way). */
export function inRing(ring: Ring, x: number, y: number): boolean {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i] ?? [0, 0];
    const [xj, yj] = ring[j] ?? [0, 0];
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}
