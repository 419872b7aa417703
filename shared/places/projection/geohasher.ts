/** Encodes a point as a geohash of the given length; injected so the projections stay pure. */
export type Geohasher = (latitude: number, longitude: number, precision: number) => string;
