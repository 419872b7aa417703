/**
 * Local stand-ins for the two geocoding services, speaking their real formats, for
 * `npm start -- --offline` and for tests (with fault injection):
 *
 * - postcodes.io: `GET /postcodes/{postcode}` → `{status: 200, result: {postcode, latitude, longitude, …}}`;
 *   404 `{status: 404, error: "Invalid postcode"}` for something that is not a postcode and
 *   `{status: 404, error: "Postcode not found"}` for a well-formed one that does not exist. It knows
 *   the postcodes of a dozen sample places ({@link POSTCODES}).
 * - Open-Meteo geocoding: `GET /v1/search?name=..&count=..` → `{results: [{id, name, latitude, longitude,
 *   feature_code, country_code, country, admin1, timezone, …}], generationtime_ms}`, without `results`
 *   when nothing matched; 400 `{error: true, reason}` without a name. It knows the towns of
 *   local/data/uk-places.json, its places, and a few towns abroad.
 *
 * Faults (each request, in this order): a 429 burst (the next N requests answer 429 with Retry-After),
 * hangs (no answer at all, or headers and half a body then nothing), 5xx, and latency. Random
 * choices come from a seeded generator, so a run is repeatable.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import ukPlaces from '../data/uk-places.json';
import { seededRandom } from '../seededRandom';

export interface Faults {
  /** Added to every answer: fixed, or uniformly random in [min, max]. */
  latencyMs?: number | readonly [number, number];
  /** Share of requests answered 500/502/503 (0–1). */
  errorRate?: number;
  /** Share of requests never answered (0–1): half before the headers, half mid-body. */
  hangRate?: number;
}

export interface LocalGeocoderService {
  readonly url: string;
  /** Change the faults while running. */
  faults: Faults;
  /** The next `count` requests answer 429 with `Retry-After: retryAfterSeconds`. */
  burst429(count: number, retryAfterSeconds: number): void;
  readonly stats: { requests: number; served: number; errors: number; hangs: number; tooManyRequests: number };
  /** Request paths with query, in arrival order. */
  readonly log: string[];
  close(): Promise<void>;
}

interface PostcodeRecord {
  readonly postcode: string;
  readonly latitude: number;
  readonly longitude: number;
  readonly country: string;
  readonly region: string | null;
  readonly adminDistrict: string;
}

/** Real postcodes of places in uk-places.json (coordinates as postcodes.io gives the postcode's centre, roughly). */
export const POSTCODES: readonly PostcodeRecord[] = [
  { postcode: 'M3 4FP', latitude: 53.477, longitude: -2.2549, country: 'England', region: 'North West', adminDistrict: 'Manchester' },
  {
    postcode: 'SW7 5BD',
    latitude: 51.4958,
    longitude: -0.1763,
    country: 'England',
    region: 'London',
    adminDistrict: 'Kensington and Chelsea',
  },
  {
    postcode: 'SW7 2DD',
    latitude: 51.4977,
    longitude: -0.1747,
    country: 'England',
    region: 'London',
    adminDistrict: 'Kensington and Chelsea',
  },
  {
    postcode: 'YO26 4XJ',
    latitude: 53.9602,
    longitude: -1.0966,
    country: 'England',
    region: 'Yorkshire and The Humber',
    adminDistrict: 'York',
  },
  {
    postcode: 'CH2 1LH',
    latitude: 53.2268,
    longitude: -2.8845,
    country: 'England',
    region: 'North West',
    adminDistrict: 'Cheshire West and Chester',
  },
  { postcode: 'EH1 1JF', latitude: 55.9468, longitude: -3.19, country: 'Scotland', region: null, adminDistrict: 'City of Edinburgh' },
  { postcode: 'G3 8RS', latitude: 55.8651, longitude: -4.3063, country: 'Scotland', region: null, adminDistrict: 'Glasgow City' },
  { postcode: 'PL24 2SG', latitude: 50.3613, longitude: -4.7446, country: 'England', region: 'South West', adminDistrict: 'Cornwall' },
  { postcode: 'CF10 5BW', latitude: 51.4644, longitude: -3.1646, country: 'Wales', region: null, adminDistrict: 'Cardiff' },
  {
    postcode: 'HU1 4DP',
    latitude: 53.7395,
    longitude: -0.3307,
    country: 'England',
    region: 'Yorkshire and The Humber',
    adminDistrict: 'Kingston upon Hull, City of',
  },
  {
    postcode: 'HX1 2NE',
    latitude: 53.7231,
    longitude: -1.8542,
    country: 'England',
    region: 'Yorkshire and The Humber',
    adminDistrict: 'Calderdale',
  },
  { postcode: 'BT3 9EP', latitude: 54.608, longitude: -5.9098, country: 'Northern Ireland', region: null, adminDistrict: 'Belfast' },
];

interface NamedPlace {
  readonly name: string;
  readonly latitude: number;
  readonly longitude: number;
  readonly countryCode: string;
  readonly country: string;
  readonly admin1: string;
  readonly featureCode: string;
  readonly population?: number;
}

const SCOTTISH = new Set(['Edinburgh', 'Glasgow']);
const WELSH = new Set(['Cardiff']);
const GB = (admin1: string) => ({ countryCode: 'GB', country: 'United Kingdom', admin1 });
const adminOf = (town: string) => (SCOTTISH.has(town) ? 'Scotland' : WELSH.has(town) ? 'Wales' : 'England');

/** Towns and a few places outside the service area; ordered as Open-Meteo orders them (larger first). */
const TOWNS: readonly NamedPlace[] = [
  { name: 'London', latitude: 51.50853, longitude: -0.12574, featureCode: 'PPLC', population: 8961989, ...GB('England') },
  { name: 'Manchester', latitude: 53.48095, longitude: -2.23743, featureCode: 'PPLA2', population: 552858, ...GB('England') },
  { name: 'Chester', latitude: 53.1905, longitude: -2.89189, featureCode: 'PPL', population: 79645, ...GB('England') },
  { name: 'York', latitude: 53.95763, longitude: -1.08271, featureCode: 'PPLA2', population: 153717, ...GB('England') },
  { name: 'Edinburgh', latitude: 55.95206, longitude: -3.19648, featureCode: 'PPLA', population: 464990, ...GB('Scotland') },
  { name: 'Glasgow', latitude: 55.86515, longitude: -4.25763, featureCode: 'PPLA2', population: 626410, ...GB('Scotland') },
  { name: 'Cardiff', latitude: 51.48, longitude: -3.18, featureCode: 'PPLA', population: 447287, ...GB('Wales') },
  { name: 'Lerwick', latitude: 60.15446, longitude: -1.14509, featureCode: 'PPLA2', population: 6958, ...GB('Scotland') },
  { name: 'Hugh Town', latitude: 49.91447, longitude: -6.31524, featureCode: 'PPLA2', population: 1068, ...GB('England') },
  {
    name: 'Richmond',
    latitude: 37.55376,
    longitude: -77.46026,
    featureCode: 'PPLA',
    population: 226610,
    countryCode: 'US',
    country: 'United States',
    admin1: 'Virginia',
  },
  { name: 'Richmond', latitude: 51.46171, longitude: -0.30394, featureCode: 'PPL', population: 21469, ...GB('England') },
  {
    name: 'Dublin',
    latitude: 53.33306,
    longitude: -6.24889,
    featureCode: 'PPLC',
    population: 1024027,
    countryCode: 'IE',
    country: 'Ireland',
    admin1: 'Leinster',
  },
  {
    name: 'Galway',
    latitude: 53.27194,
    longitude: -9.04889,
    featureCode: 'PPLA',
    population: 79934,
    countryCode: 'IE',
    country: 'Ireland',
    admin1: 'Connaught',
  },
  {
    name: 'Saint Helier',
    latitude: 49.18804,
    longitude: -2.10491,
    featureCode: 'PPLC',
    population: 28000,
    countryCode: 'JE',
    country: 'Jersey',
    admin1: 'Saint Helier',
  },
  {
    name: 'Paris',
    latitude: 48.85341,
    longitude: 2.3488,
    featureCode: 'PPLC',
    population: 2138551,
    countryCode: 'FR',
    country: 'France',
    admin1: 'Île-de-France',
  },
  {
    name: 'Calais',
    latitude: 50.95194,
    longitude: 1.85635,
    featureCode: 'PPLA3',
    population: 75961,
    countryCode: 'FR',
    country: 'France',
    admin1: 'Hauts-de-France',
  },
  {
    name: 'Bergen',
    latitude: 60.39299,
    longitude: 5.32415,
    featureCode: 'PPLA',
    population: 213585,
    countryCode: 'NO',
    country: 'Norway',
    admin1: 'Vestland',
  },
];

/** The other towns of uk-places.json, so every sample place can be found from its town offline. */
const SAMPLE_TOWNS: readonly NamedPlace[] = [
  { name: 'Birmingham', latitude: 52.48142, longitude: -1.89983, featureCode: 'PPLA2', population: 984333, ...GB('England') },
  { name: 'Liverpool', latitude: 53.41058, longitude: -2.97794, featureCode: 'PPLA2', population: 864122, ...GB('England') },
  { name: 'Bristol', latitude: 51.45523, longitude: -2.59665, featureCode: 'PPLA2', population: 617280, ...GB('England') },
  { name: 'Hull', latitude: 53.7446, longitude: -0.33525, featureCode: 'PPLA2', population: 302296, ...GB('England') },
  { name: 'Wakefield', latitude: 53.68331, longitude: -1.49768, featureCode: 'PPLA2', population: 325837, ...GB('England') },
  { name: 'Warrington', latitude: 53.39254, longitude: -2.58024, featureCode: 'PPLA2', population: 165456, ...GB('England') },
  { name: 'Blackpool', latitude: 53.81667, longitude: -3.05, featureCode: 'PPLA2', population: 142065, ...GB('England') },
  { name: 'Rotherham', latitude: 53.43012, longitude: -1.35678, featureCode: 'PPL', population: 117618, ...GB('England') },
  { name: 'Halifax', latitude: 53.71667, longitude: -1.85, featureCode: 'PPL', population: 88134, ...GB('England') },
  { name: 'Macclesfield', latitude: 53.25, longitude: -2.11667, featureCode: 'PPL', population: 51482, ...GB('England') },
  { name: 'Altrincham', latitude: 53.38752, longitude: -2.34898, featureCode: 'PPL', population: 52419, ...GB('England') },
  { name: 'Trafford', latitude: 53.42173, longitude: -2.35092, featureCode: 'PPLA2', population: 235493, ...GB('England') },
  { name: 'Windsor', latitude: 51.48333, longitude: -0.6, featureCode: 'PPL', population: 32184, ...GB('England') },
  { name: 'St Austell', latitude: 50.33856, longitude: -4.76551, featureCode: 'PPL', population: 19958, ...GB('England') },
  { name: 'Knutsford', latitude: 53.30281, longitude: -2.37142, featureCode: 'PPL', population: 13191, ...GB('England') },
  { name: 'Prescot', latitude: 53.42948, longitude: -2.80031, featureCode: 'PPL', population: 11184, ...GB('England') },
  { name: 'Disley', latitude: 53.35829, longitude: -2.04171, featureCode: 'PPL', population: 4294, ...GB('England') },
];

/** The places in uk-places.json, as GeoNames would hold them (points of interest). */
export const UK_PLACES: readonly NamedPlace[] = (
  ukPlaces.places as { name: string; town: string; geolocation: { latitude: number; longitude: number } }[]
).map((place) => ({
  name: place.name,
  latitude: place.geolocation.latitude,
  longitude: place.geolocation.longitude,
  featureCode: 'MUS',
  ...GB(adminOf(place.town)),
}));

const NAMED: readonly NamedPlace[] = [...TOWNS, ...SAMPLE_TOWNS, ...UK_PLACES];

type Answer = { status: number; body: unknown; headers?: Record<string, string> };

async function startLocalService(route: (url: URL) => Answer, faults: Faults, seed: number): Promise<LocalGeocoderService> {
  const random = seededRandom(seed);
  const stats = { requests: 0, served: 0, errors: 0, hangs: 0, tooManyRequests: 0 };
  const log: string[] = [];
  let pending429: { count: number; retryAfterSeconds: number } = { count: 0, retryAfterSeconds: 1 };
  const service: { faults: Faults } = { faults };

  const server: Server = createServer((request: IncomingMessage, response: ServerResponse) => {
    request.resume();
    stats.requests += 1;
    const url = new URL(request.url ?? '/', 'http://localhost');
    log.push(`${url.pathname}${url.search}`);
    const send = (answer: Answer) => {
      const text = JSON.stringify(answer.body);
      response.writeHead(answer.status, {
        'content-type': 'application/json; charset=utf-8',
        'content-length': Buffer.byteLength(text),
        ...answer.headers,
      });
      response.end(text);
    };
    if (pending429.count > 0) {
      pending429.count -= 1;
      stats.tooManyRequests += 1;
      send({
        status: 429,
        body: { status: 429, error: 'Too many requests' },
        headers: { 'retry-after': String(pending429.retryAfterSeconds) },
      });
      return;
    }
    const current = service.faults;
    if (random() < (current.hangRate ?? 0)) {
      stats.hangs += 1;
      if (random() < 0.5) {
        // Headers and part of the body, then nothing: only an abort signal ends this.
        response.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
        response.write('{"status":200,"result":{"postc');
      }
      return;
    }
    if (random() < (current.errorRate ?? 0)) {
      stats.errors += 1;
      const status = [500, 502, 503][Math.floor(random() * 3)] ?? 500;
      send({ status, body: { status, error: 'Injected fault' } });
      return;
    }
    const latency =
      current.latencyMs === undefined
        ? 0
        : typeof current.latencyMs === 'number'
          ? current.latencyMs
          : current.latencyMs[0] + random() * (current.latencyMs[1] - current.latencyMs[0]);
    const answer = route(url);
    setTimeout(() => {
      stats.served += 1;
      send(answer);
    }, latency);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get faults() {
      return service.faults;
    },
    set faults(value: Faults) {
      service.faults = value;
    },
    burst429: (count, retryAfterSeconds) => {
      pending429 = { count, retryAfterSeconds };
    },
    stats,
    log,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const POSTCODE_FORMAT = /^[A-Z]{1,2}\d[A-Z\d]?\d[A-Z]{2}$/;

/** postcodes.io `GET /postcodes/{postcode}` over {@link POSTCODES}. */
export function startLocalPostcodesIo(faults: Faults = {}, seed = 1): Promise<LocalGeocoderService> {
  return startLocalService(
    (url) => {
      const match = /^\/postcodes\/([^/]+)$/.exec(url.pathname);
      if (!match?.[1]) return { status: 404, body: { status: 404, error: 'Resource not found' } };
      const compact = decodeURIComponent(match[1]).replace(/\s+/g, '').toUpperCase();
      if (!POSTCODE_FORMAT.test(compact)) return { status: 404, body: { status: 404, error: 'Invalid postcode' } };
      const record = POSTCODES.find((candidate) => candidate.postcode.replace(' ', '') === compact);
      if (!record) return { status: 404, body: { status: 404, error: 'Postcode not found' } };
      const [outcode = '', incode = ''] = record.postcode.split(' ');
      return {
        status: 200,
        body: {
          status: 200,
          result: {
            postcode: record.postcode,
            quality: 1,
            eastings: null,
            northings: null,
            country: record.country,
            nhs_ha: null,
            longitude: record.longitude,
            latitude: record.latitude,
            european_electoral_region: record.region,
            primary_care_trust: null,
            region: record.region,
            lsoa: null,
            msoa: null,
            incode,
            outcode,
            parliamentary_constituency: null,
            admin_district: record.adminDistrict,
            parish: null,
            admin_county: null,
            date_of_introduction: '198001',
            admin_ward: null,
            ced: null,
            ccg: null,
            nuts: null,
            pfa: null,
            codes: {},
          },
        },
      };
    },
    faults,
    seed,
  );
}

/** Open-Meteo geocoding `GET /v1/search` over the towns and uk-places.json. */
export function startLocalOpenMeteoGeocoding(faults: Faults = {}, seed = 2): Promise<LocalGeocoderService> {
  return startLocalService(
    (url) => {
      if (url.pathname !== '/v1/search') return { status: 404, body: { error: true, reason: 'Not Found' } };
      const name = (url.searchParams.get('name') ?? '').trim();
      const count = Math.min(100, Math.max(1, Number(url.searchParams.get('count') ?? '10') || 10));
      if (url.searchParams.get('name') === null) return { status: 400, body: { error: true, reason: "Parameter 'name' is required" } };
      const query = name.toLowerCase();
      // As Open-Meteo: under 2 characters nothing, 2 exact only, 3 or more also by prefix.
      const matches =
        query.length < 2
          ? []
          : NAMED.filter(
              (place) => place.name.toLowerCase() === query || (query.length >= 3 && place.name.toLowerCase().startsWith(query)),
            );
      const results = matches.slice(0, count).map((place, index) => ({
        id: 2600000 + index,
        name: place.name,
        latitude: place.latitude,
        longitude: place.longitude,
        elevation: 20,
        feature_code: place.featureCode,
        country_code: place.countryCode,
        admin1_id: 6269131,
        timezone: place.countryCode === 'GB' ? 'Europe/London' : 'Europe/Paris',
        ...(place.population !== undefined && { population: place.population }),
        country_id: 2635167,
        country: place.country,
        admin1: place.admin1,
      }));
      return { status: 200, body: results.length > 0 ? { results, generationtime_ms: 0.7 } : { generationtime_ms: 0.4 } };
    },
    faults,
    seed,
  );
}

export interface LocalGeocoders {
  /** postcodes.io stand-in (POSTCODES_BASE_URL). */
  readonly postcodesUrl: string;
  /** Open-Meteo geocoding stand-in (GEOCODER_BASE_URL). */
  readonly placeNamesUrl: string;
  stop(): Promise<void>;
}

/** Both stand-ins without faults, on free ports: what `npm start -- --offline` points the app at. */
export async function startLocalGeocoders(): Promise<LocalGeocoders> {
  const postcodes = await startLocalPostcodesIo();
  try {
    const placeNames = await startLocalOpenMeteoGeocoding();
    return {
      postcodesUrl: postcodes.url,
      placeNamesUrl: placeNames.url,
      stop: async () => {
        await placeNames.close();
        await postcodes.close();
      },
    };
  } catch (error) {
    await postcodes.close();
    throw error;
  }
}
