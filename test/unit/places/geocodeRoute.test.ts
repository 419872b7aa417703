import { geocodeHandler } from '../../../handlers/geocode.http';
import { GeocoderUnavailableError, type Geocoder, type GeocodeResult } from '../../../shared/places/application/geocoder';
import { call } from '../../support/http';

const RICHMOND: GeocodeResult = {
  kind: 'found',
  candidates: [
    { geolocation: { latitude: 37.55376, longitude: -77.46026 }, label: 'Richmond, Virginia, US', countryCode: 'US' },
    { geolocation: { latitude: 51.46171, longitude: -0.30394 }, label: 'Richmond, England, GB', countryCode: 'GB' },
  ],
};

function geocoder(answers: Record<string, GeocodeResult | Error>): Geocoder & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    geocode: (address) => {
      asked.push(address);
      const answer = answers[address] ?? { kind: 'notFound', reason: `no place matches "${address}"` };
      return answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer);
    },
  };
}

describe('GET /api/geocode?q=', () => {
  const stub = geocoder({
    Richmond: RICHMOND,
    Paris: {
      kind: 'found',
      candidates: [{ geolocation: { latitude: 48.85341, longitude: 2.3488 }, label: 'Paris, Île-de-France, FR', countryCode: 'FR' }],
    },
    Down: new GeocoderUnavailableError('The geocoder is unavailable: HTTP 503'),
  });
  const get = (query: string) => call(geocodeHandler({ geocoder: stub }), { path: `/api/geocode?${query}` });

  it('answers the first match inside the service area, cacheable', async () => {
    const answer = await get('q=%20Richmond%20&code=some-key');
    expect(answer).toMatchObject({ status: 200, body: { latitude: 51.46171, longitude: -0.30394, label: 'Richmond, England, GB' } });
    expect(answer.headers.get('cache-control')).toBe('public, max-age=86400');
    expect(stub.asked).toContain('Richmond');
  });

  it('is a 404 problem when nothing matches, or nothing inside the area', async () => {
    await expect(get('q=Atlantis')).resolves.toMatchObject({
      status: 404,
      body: { status: 404, detail: 'Nothing matches "Atlantis". Try a town or a full postcode.' },
    });
    const abroad = await get('q=Paris');
    expect(abroad).toMatchObject({
      status: 404,
      body: { detail: '"Paris" is outside the area Visit Plannr covers (Great Britain and Ireland).' },
    });
    expect(abroad.headers.get('content-type')).toBe('application/problem+json');
  });

  it('is a 400 problem naming q without a usable one, and asks the geocoder nothing', async () => {
    const before = stub.asked.length;
    for (const query of ['', 'q=', 'q=x', `q=${'a'.repeat(201)}`])
      await expect(get(query)).resolves.toMatchObject({ status: 400, body: { errors: [{ field: 'q' }] } });
    await expect(get('q=York&lat=1')).resolves.toMatchObject({
      status: 400,
      body: { errors: [{ field: 'lat', message: 'is not a known parameter' }] },
    });
    expect(stub.asked.length).toBe(before);
  });

  it('is a 503 problem while the geocoder cannot be reached', async () => {
    await expect(get('q=Down')).resolves.toMatchObject({ status: 503, body: { status: 503, title: 'Unavailable just now' } });
  });
});
