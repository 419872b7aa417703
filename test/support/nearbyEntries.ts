import ngeohash from 'ngeohash';
import { randomUUID } from 'node:crypto';
import { nearbyEntryKey, type NearbyEntry } from '../../shared/places/projection/placeDocuments';

/** A spatial index entry for a place at a point, as the projection would write it. */
export function nearbyEntry(latitude: number, longitude: number, extra: Partial<NearbyEntry> = {}): NearbyEntry {
  const placeId = extra.placeId ?? randomUUID();
  const cell5 = ngeohash.encode(latitude, longitude, 5);
  return {
    ...nearbyEntryKey(placeId, cell5.slice(0, 3)),
    type: 'nearby',
    placeId,
    name: `Place ${placeId.slice(0, 6)}`,
    geolocation: { latitude, longitude },
    region: cell5,
    cell4: cell5.slice(0, 4),
    cell5,
    sourceVersion: 3,
    ...extra,
  };
}
