import { withProblemDetails } from '../../../../shared/platform/http/httpHandler';
import { isDependencyUnavailable } from '../../../../shared/platform/http/unavailable';
import { call } from '../../../support/http';

/** An error shaped as the Azure SDKs throw them (RestError: a message, a code, maybe a status). */
function sdkError(message: string, fields: Record<string, unknown>): Error {
  return Object.assign(new Error(message), { name: 'RestError' }, fields);
}

const failingWith = (error: unknown) =>
  withProblemDetails(() => {
    throw error;
  });

describe('a dependency that is unavailable just now', () => {
  it.each([
    ['a refused connection (Cosmos or storage down)', sdkError('connect ECONNREFUSED 127.0.0.1:8081', { code: 'ECONNREFUSED' })],
    ['a reset connection', sdkError('read ECONNRESET', { code: 'ECONNRESET' })],
    ['the Cosmos SDK time-out', Object.assign(new Error('Timeout Error'), { code: 'TimeoutError' })],
    ['a 503 from the service', sdkError('Service Unavailable', { code: 503, statusCode: 503 })],
    ['throttling beyond the SDK retries', sdkError('Request rate is large', { code: 429, statusCode: 429, retryAfterInMs: 2500 })],
    [
      'a socket error wrapped as the cause',
      new Error('fetch failed', { cause: sdkError('connect ECONNREFUSED 10.0.0.4:443', { code: 'ECONNREFUSED' }) }),
    ],
    ["the Cosmos SDK's flattened batch error", new Error('Batch request error: connect ECONNREFUSED 127.0.0.1:8081')],
    ["the Cosmos SDK's flattened batch error (hang-up)", new Error('Batch request error: socket hang up')],
  ])('is recognised: %s', (_, error) => {
    expect(isDependencyUnavailable(error)).toBe(true);
  });

  it.each([
    ['a bug', new TypeError("Cannot read properties of undefined (reading 'x')")],
    ['a 400 from the service', sdkError('Bad request', { code: 400, statusCode: 400 })],
    ['a conflict', sdkError('Conflict', { code: 409, statusCode: 409 })],
    ['a batch error that is not about transport', new Error('Batch request error: Entity with the specified id already exists')],
    ['not an error at all', 'ECONNREFUSED'],
  ])('is not confused with other failures: %s', (_, error) => {
    expect(isDependencyUnavailable(error)).toBe(false);
  });

  it('is answered 503 problem+json with Retry-After, and nothing of the dependency', async () => {
    const answer = await call(
      failingWith(sdkError('connect ECONNREFUSED 127.0.0.1:8081', { code: 'ECONNREFUSED', headers: { host: 'cosmos.internal' } })),
      { method: 'POST' },
    );
    expect(answer.status).toBe(503);
    expect(answer.headers.get('content-type')).toBe('application/problem+json');
    expect(answer.headers.get('retry-after')).toBe('5');
    expect(answer.body).toMatchObject({ status: 503, type: expect.stringMatching(/service-unavailable$/), title: 'Unavailable just now' });
    expect(answer.text).not.toMatch(/127\.0\.0\.1|8081|ECONN|cosmos/i);
  });

  it("takes Retry-After from the service's own advice when it gives one", async () => {
    const answer = await call(failingWith(sdkError('Request rate is large', { code: 429, statusCode: 429, retryAfterInMs: 2500 })), {});
    expect(answer.status).toBe(503);
    expect(answer.headers.get('retry-after')).toBe('3');
  });

  it('leaves a fault of ours a 500', async () => {
    const answer = await call(failingWith(new TypeError('oops')), {});
    expect(answer.status).toBe(500);
    expect(answer.headers.get('retry-after')).toBeNull();
  });
});
