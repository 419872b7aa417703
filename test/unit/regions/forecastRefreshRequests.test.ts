import {
  decodeForecastRefreshRequest,
  encodeForecastRefreshRequest,
  MAX_QUEUE_MESSAGE_BYTES,
  parseForecastRefreshRequest,
  type ForecastRefreshRequest,
} from '../../../shared/regions/application/forecastRefreshRequests';

const request: ForecastRefreshRequest = {
  region: 'gcmyy',
  centre: { latitude: 53.24, longitude: -2.88 },
  reason: 'regionActivated',
  correlationId: 'c0ffee',
  requestedAt: '2026-11-27T09:00:00.000Z',
};

describe('forecast refresh requests on the queue', () => {
  it('travel as base64 of their JSON, far under the 64 KB a queue message may be', () => {
    const text = encodeForecastRefreshRequest(request);
    expect(text).toMatch(/^[A-Za-z0-9+/]+={0,2}$/);
    expect(JSON.parse(Buffer.from(text, 'base64').toString('utf8'))).toEqual(request);
    expect(Buffer.byteLength(text)).toBeLessThan(MAX_QUEUE_MESSAGE_BYTES / 100);
    expect(decodeForecastRefreshRequest(text)).toEqual(request);
  });

  it('are checked on the way in and on the way out', () => {
    expect(() => encodeForecastRefreshRequest({ ...request, region: 'Manchester' })).toThrow(/geohash/);
    expect(() => parseForecastRefreshRequest({ ...request, centre: { latitude: 91, longitude: 0 } })).toThrow();
    expect(() => parseForecastRefreshRequest({ ...request, reason: 'whim' })).toThrow();
    // A queue trigger hands over the decoded JSON as an object, or as text when it is not JSON.
    expect(parseForecastRefreshRequest(request)).toEqual(request);
    expect(parseForecastRefreshRequest(JSON.stringify(request))).toEqual(request);
  });
});
