/**
 * Part 5 end to end, shared by the ways of running the app locally (test/e2e/devhost.locationFanOut.test.ts:
 * everything in the devhost; test/e2e/devhost.emulators.test.ts: the devhost against `npm run
 * emulators`): a proposal's event goes through the change feed to the Event Grid topic, the location
 * validator (against local postcodes.io and Open-Meteo geocoding servers) appends its answer, the
 * region activator activates the region and puts one base64 request on the forecast-refresh-requests
 * queue, and the queue consumer fetches the region's forecast (from a local weather server) and
 * records it once. The scenarios run their own geocoders to see what they are asked, so the devhost
 * runs without --offline (whose stand-ins would win) and with a local weather server of its own.
 */
import { join } from 'node:path';
import { startLocalOpenMeteo, type LocalOpenMeteo } from '../../local/weather/localOpenMeteo';
import { regionOf } from '../../shared/regions/domain/geohash';
import type { DevhostProcess } from './devhostProcess';
import { startFakeOpenMeteoGeocoding, startFakePostcodesIo, type FakeService } from './fakeGeocoders';
import { eventually } from '../../packages/devhost/test/support/eventually';

const probeModule = join(__dirname, '..', '..', 'dist', 'test', 'fixtures', 'regionEventsProbe.js');

interface ProbedEvent {
  readonly type: string;
  readonly cycleId?: string;
}

/** What the scenarios need started: the devhost (and whatever runs beside it), and how to stop it all. */
export interface LocationFanOutHost {
  readonly devhost: DevhostProcess;
  stop(): Promise<void>;
}

/** Starts the app for the scenarios, with these settings in its environment and these extra modules (the region events probe). */
export type StartLocationFanOutHost = (env: Record<string, string>, extraModules: readonly string[]) => Promise<LocationFanOutHost>;

export function describeLocationFanOut(title: string, startHost: StartLocationFanOutHost): void {
  describe(title, () => {
    let host: LocationFanOutHost;
    let devhost: DevhostProcess;
    let postcodes: FakeService;
    let names: FakeService;
    let weather: LocalOpenMeteo;

    beforeAll(async () => {
      postcodes = await startFakePostcodesIo();
      names = await startFakeOpenMeteoGeocoding();
      weather = await startLocalOpenMeteo();
      host = await startHost(
        { POSTCODES_BASE_URL: postcodes.url, GEOCODER_BASE_URL: names.url, WEATHER_PROVIDER: 'open-meteo', WEATHER_BASE_URL: weather.url },
        [probeModule],
      );
      devhost = host.devhost;
    }, 60_000);
    afterAll(async () => {
      await host.stop();
      await postcodes.close();
      await names.close();
      await weather.stop();
    });

    const propose = async (body: unknown, correlationId: string): Promise<string> => {
      const answer = await fetch(`${devhost.url}/api/places`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-functions-key': devhost.keys.functionKey, 'x-correlation-id': correlationId },
        body: JSON.stringify(body),
      });
      expect(answer.status).toBe(202);
      return ((await answer.json()) as { placeId: string }).placeId;
    };

    /** The place as an editor reads it (the editors' route, or the original one where it still serves every status). */
    const place = async (placeId: string): Promise<Record<string, unknown> | undefined> => {
      for (const path of [`/api/manage/places/${placeId}`, `/api/places/${placeId}`]) {
        const answer = await fetch(`${devhost.url}${path}`, { headers: { 'x-functions-key': devhost.keys.functionKey } });
        if (answer.status === 200) return (await answer.json()) as Record<string, unknown>;
      }
      return undefined;
    };
    const settled = (placeId: string) =>
      eventually(
        () => place(placeId),
        (found) => found !== undefined && found.status !== 'proposed',
        20_000,
      );

    const regionEvents = async (region: string) =>
      (await (await fetch(`${devhost.url}/api/test/region-events/${region}`)).json()) as ProbedEvent[];
    const fetchedNow = (events: readonly ProbedEvent[]) =>
      events.filter((event) => event.type === 'ForecastUpdated' && event.cycleId?.startsWith('request:'));

    it('validates a proposal with coordinates with its region, activates the region once and fetches its forecast at once, once', async () => {
      const geolocation = { latitude: 53.2268, longitude: -2.8846 };
      const region = regionOf(geolocation, 5);
      const placeId = await propose({ name: 'Chester Zoo', geolocation }, 'e2e-chester-zoo');
      expect(await settled(placeId)).toMatchObject({ placeId, status: 'locationValidated', region, geolocation });

      const events = await eventually(
        () => regionEvents(region),
        (found) => fetchedNow(found).length > 0,
        20_000,
      );
      expect(events.map((event) => event.type)).toEqual(['RegionActivated', 'ForecastUpdated']);
      const forecast = await eventually(
        async () => (await (await fetch(`${devhost.url}/api/regions/${region}/forecast`)).json()) as { hourly?: unknown[] },
        (body) => (body.hourly?.length ?? 0) > 0,
        20_000,
      );
      expect(forecast.hourly!.length).toBeGreaterThanOrEqual(24);

      // A second place in the same region validates, but the region is already active: nothing more is fetched.
      const neighbour = await propose(
        { name: 'Chester Zoo car park', geolocation: { latitude: 53.2272, longitude: -2.8851 } },
        'e2e-neighbour',
      );
      expect(await settled(neighbour)).toMatchObject({ status: 'locationValidated', region });
      await new Promise((resolve) => setTimeout(resolve, 3000));
      expect(fetchedNow(await regionEvents(region))).toHaveLength(1);
    }, 60_000);

    it('geocodes a proposal with a UK postcode and validates it', async () => {
      const placeId = await propose({ name: 'Science and Industry Museum', address: 'M3 4FP' }, 'e2e-postcode');
      expect(await settled(placeId)).toMatchObject({
        status: 'locationValidated',
        geolocation: { latitude: 53.477, longitude: -2.2549 },
        region: regionOf({ latitude: 53.477, longitude: -2.2549 }, 5),
      });
      expect(postcodes.log).toContain('/postcodes/M3%204FP');
    }, 60_000);

    it('rejects an unknown postcode and a point outside the service area, with a reason', async () => {
      const unknown = await propose({ name: 'Nowhere', address: 'CH2 9ZZ' }, 'e2e-unknown');
      const outside = await propose({ name: 'Mont Saint-Michel', geolocation: { latitude: 48.636, longitude: -1.5115 } }, 'e2e-outside');
      const [unknownPlace, outsidePlace] = await Promise.all([settled(unknown), settled(outside)]);
      expect(unknownPlace).toMatchObject({
        status: 'locationRejected',
        statusReason: expect.stringContaining('there is no postcode CH2 9ZZ'),
      });
      expect(outsidePlace).toMatchObject({
        status: 'locationRejected',
        statusReason: expect.stringContaining('outside the service area (Great Britain and Ireland)'),
      });
    }, 60_000);
  });
}
