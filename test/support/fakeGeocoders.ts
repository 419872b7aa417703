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
} from '../../devhost/geocoding/localGeocoders';
export { seededRandom } from './placeScenario';
