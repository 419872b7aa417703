/**
 * The local postcodes.io and Open-Meteo geocoding stand-ins (with fault injection) live in the
 * devhost, which serves them for `npm start -- --offline`; tests use the same servers.
 */
export {
  POSTCODES,
  UK_PLACES,
  startLocalOpenMeteoGeocoding as startFakeOpenMeteoGeocoding,
  startLocalPostcodesIo as startFakePostcodesIo,
  type Faults,
  type LocalGeocoderService as FakeService,
} from '../../local/geocoding/localGeocoders';
export { seededRandom } from './placeScenario';
import { POSTCODES, UK_PLACES } from '../../local/geocoding/localGeocoders';
import type { GeocodeResult, Geocoder } from '../../shared/places/application/geocoder';

/** A geocoder that answers from a table, like the local geocoders: the postcodes and place names they know; Calais is in France; anything else is not found. */
export class TableGeocoder implements Geocoder {
  calls = 0;
  geocode(address: string): Promise<GeocodeResult> {
    this.calls += 1;
    const postcode = POSTCODES.find((record) => record.postcode === address);
    if (postcode)
      return Promise.resolve({
        kind: 'found',
        candidates: [
          { geolocation: { latitude: postcode.latitude, longitude: postcode.longitude }, label: postcode.postcode, countryCode: 'GB' },
        ],
      });
    if (address === 'Calais')
      return Promise.resolve({
        kind: 'found',
        candidates: [{ geolocation: { latitude: 50.95, longitude: 1.85 }, label: 'Calais, FR', countryCode: 'FR' }],
      });
    const named = UK_PLACES.find((place) => place.name === address);
    if (named)
      return Promise.resolve({
        kind: 'found',
        candidates: [{ geolocation: { latitude: named.latitude, longitude: named.longitude }, label: named.name, countryCode: 'GB' }],
      });
    return Promise.resolve({ kind: 'notFound', reason: `no place matches "${address}"` });
  }
}
