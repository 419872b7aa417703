/**
 * The HTTP geocoder (axios) against local servers that speak postcodes.io's and Open-Meteo
 * geocoding's formats: answers, definite "not found"s, and faults that are retried or thrown but
 * never turned into answers.
 */
import { GeocoderProtocolError, GeocoderUnavailableError } from '../../shared/places/application/geocoder';
import { HttpGeocoder } from '../../shared/places/adapters/httpGeocoder';
import { parseRetryAfter, type RetryPolicy } from '../../shared/platform/outbound/httpRetry';
import { startFakeOpenMeteoGeocoding, startFakePostcodesIo, type FakeService } from '../support/fakeGeocoders';

const fast: RetryPolicy = {
  maxAttempts: 4,
  attemptTimeoutMs: 250,
  baseDelayMs: 10,
  maxDelayMs: 40,
  retryAfterCapMs: 300,
  deadlineMs: 3000,
};

let postcodes: FakeService;
let names: FakeService;
const retries: string[] = [];
const geocoder = (policy: RetryPolicy = fast) =>
  new HttpGeocoder({
    postcodesBaseUrl: postcodes.url,
    placeNamesBaseUrl: names.url,
    retry: policy,
    hooks: { onRetry: ({ reason }) => retries.push(reason) },
  });

beforeEach(async () => {
  postcodes = await startFakePostcodesIo();
  names = await startFakeOpenMeteoGeocoding();
  retries.length = 0;
});

afterEach(async () => {
  await postcodes.close();
  await names.close();
});

describe('the geocoder’s answers', () => {
  it('locates a UK postcode, however it is written, through postcodes.io', async () => {
    for (const address of ['M3 4FP', 'm34fp', 'Liverpool Road, Manchester M3 4FP']) {
      await expect(geocoder().geocode(address)).resolves.toEqual({
        kind: 'found',
        candidates: [{ geolocation: { latitude: 53.477, longitude: -2.2549 }, label: 'M3 4FP, England', countryCode: 'GB' }],
      });
    }
    expect(postcodes.log).toEqual(['/postcodes/M3%204FP', '/postcodes/M3%204FP', '/postcodes/M3%204FP']);
    expect(names.stats.requests).toBe(0);
  });

  it('says a postcode that does not exist is not found', async () => {
    await expect(geocoder().geocode('CH2 9ZZ')).resolves.toEqual({
      kind: 'notFound',
      reason: 'there is no postcode CH2 9ZZ (postcodes.io: Postcode not found)',
    });
  });

  it('falls back to the rest of the address when its postcode does not exist', async () => {
    await expect(geocoder().geocode('Chester Zoo, CH2 9ZZ')).resolves.toMatchObject({
      kind: 'found',
      candidates: [{ label: 'Chester Zoo, England, GB' }],
    });
    await expect(geocoder().geocode('Nowhere Special, CH2 9ZZ')).resolves.toEqual({
      kind: 'notFound',
      reason: 'there is no postcode CH2 9ZZ (postcodes.io: Postcode not found), and no place matches "Nowhere Special"',
    });
  });

  it('locates a place name through Open-Meteo, whole or part by part, with every candidate', async () => {
    await expect(geocoder().geocode('Eden Project')).resolves.toEqual({
      kind: 'found',
      candidates: [{ geolocation: { latitude: 50.3619, longitude: -4.7447 }, label: 'Eden Project, England, GB', countryCode: 'GB' }],
    });
    await expect(geocoder().geocode('Jodrell Bank, Lower Withington, Macclesfield')).resolves.toMatchObject({
      kind: 'found',
      candidates: [{ label: 'Jodrell Bank, England, GB' }],
    });
    const asked = names.log.slice(-2).map((path) => Object.fromEntries(new URL(path, 'http://x').searchParams));
    expect(asked).toEqual([
      { name: 'Jodrell Bank, Lower Withington, Macclesfield', count: '10', language: 'en', format: 'json' },
      { name: 'Jodrell Bank', count: '10', language: 'en', format: 'json' },
    ]);
    const richmond = await geocoder().geocode('Richmond');
    expect(richmond.kind === 'found' && richmond.candidates.map((candidate) => candidate.countryCode)).toEqual(['US', 'GB']);
  });

  it('says nothing matched when Open-Meteo has no results key', async () => {
    await expect(geocoder().geocode('Atlantis')).resolves.toEqual({ kind: 'notFound', reason: 'no place matches "Atlantis"' });
  });
});

describe('the geocoder’s faults', () => {
  it('retries 5xx and comes back with the answer', async () => {
    postcodes.faults = { errorRate: 0.6 };
    for (let i = 0; i < 10; i++) {
      try {
        await expect(geocoder({ ...fast, maxAttempts: 10 }).geocode('CH2 1LH')).resolves.toMatchObject({ kind: 'found' });
      } catch (error) {
        throw new Error(`attempt ${i}: ${String(error)}`);
      }
    }
    expect(postcodes.stats.errors).toBeGreaterThan(0);
    expect(retries.some((reason) => /^HTTP 50[023]$/.test(reason))).toBe(true);
  });

  it('waits as long as a 429’s Retry-After says, up to a cap', async () => {
    postcodes.burst429(2, 1);
    const started = Date.now();
    await expect(geocoder({ ...fast, retryAfterCapMs: 2000 }).geocode('CH2 1LH')).resolves.toMatchObject({ kind: 'found' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(2000);
    expect(postcodes.stats.tooManyRequests).toBe(2);

    postcodes.burst429(1, 3600);
    const capped = Date.now();
    await expect(geocoder({ ...fast, retryAfterCapMs: 200 }).geocode('CH2 1LH')).resolves.toMatchObject({ kind: 'found' });
    expect(Date.now() - capped).toBeLessThan(1500);
    expect(parseRetryAfter('120', 0)).toBe(120_000);
    expect(parseRetryAfter(new Date(60_000).toUTCString(), 0)).toBe(60_000);
    expect(parseRetryAfter('soon', 0)).toBeUndefined();
  });

  it('bounds a hung request, before the headers or half-way through the body, and retries it', async () => {
    names.faults = { hangRate: 1 };
    const started = Date.now();
    await expect(geocoder({ ...fast, maxAttempts: 3 }).geocode('Eden Project')).rejects.toThrow(GeocoderUnavailableError);
    expect(Date.now() - started).toBeLessThan(3 * 250 + 500);
    expect(names.stats.hangs).toBe(3);
    names.faults = { hangRate: 0.5 };
    await expect(geocoder({ ...fast, maxAttempts: 12 }).geocode('Eden Project')).resolves.toMatchObject({ kind: 'found' });
  });

  it('throws, and does not answer, when the service stays down, and stops at its deadline', async () => {
    postcodes.faults = { errorRate: 1 };
    await expect(geocoder().geocode('CH2 1LH')).rejects.toThrow(GeocoderUnavailableError);
    expect(postcodes.stats.requests).toBe(4);
    const started = Date.now();
    await expect(geocoder({ ...fast, maxAttempts: 100, deadlineMs: 600 }).geocode('CH2 1LH')).rejects.toThrow(/HTTP 50\d/);
    expect(Date.now() - started).toBeLessThan(1000);
    await postcodes.close();
    await expect(geocoder().geocode('CH2 1LH')).rejects.toThrow(/ECONNREFUSED/);
  });

  it('never retries another 4xx, and never takes it for an answer', async () => {
    // Open-Meteo answers 400 to a request it cannot read; that is our fault, not the address's.
    const broken = new HttpGeocoder({ postcodesBaseUrl: postcodes.url, placeNamesBaseUrl: `${names.url}/wrong`, retry: fast });
    await expect(broken.geocode('Eden Project')).rejects.toThrow(GeocoderProtocolError);
    expect(names.stats.requests).toBe(1);
  });
});
