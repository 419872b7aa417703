import ngeohash from 'ngeohash';
import { isRegion } from './region';
import { type Geolocation } from '../../kernel/geolocation';

/** The region (geohash cell of `precision` characters) a point lies in. */
export function regionOf(geolocation: Geolocation, precision: number): string {
  if (!Number.isInteger(precision) || precision < 1 || precision > 12)
    throw new RangeError(`A region's precision is 1 to 12 characters, not ${precision}.`);
  return ngeohash.encode(geolocation.latitude, geolocation.longitude, precision);
}

/** The centre of a region's cell, rounded to 5 decimals (about 1 m): where its forecast is fetched for. */
export function regionCentre(region: string): Geolocation {
  if (!isRegion(region)) throw new RangeError(`"${region}" is not a geohash region.`);
  const { latitude, longitude } = ngeohash.decode(region);
  return { latitude: round5(latitude), longitude: round5(longitude) };
}

function round5(value: number): number {
  return Math.round(value * 1e5) / 1e5;
}
