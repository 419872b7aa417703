import { readRetryPolicy } from '../../src/triggers/retryPolicy';

describe('retry policies, as the host spaces the retries', () => {
  const policy = (retryOptions: unknown) => readRetryPolicy({ name: 'f', bindings: {}, retryOptions });

  it("exponentialBackoff grows as the host's RandomizedExponentialBackoffStrategy (without its ±20 %): min, then min plus 1, 2, 4… times min, up to max", () => {
    const backoff = policy({
      retryStrategy: 'exponentialBackoff',
      maxRetryCount: -1,
      minimumInterval: { seconds: 1 },
      maximumInterval: { seconds: 10 },
    });
    expect([1, 2, 3, 4, 5, 6, 7].map((retry) => backoff?.delayMs(retry))).toEqual([1000, 2000, 3000, 5000, 9000, 10_000, 10_000]);
  });

  it('fixedDelay waits the same each time', () => {
    const fixed = policy({ retryStrategy: 'fixedDelay', maxRetryCount: 3, delayInterval: { seconds: 2, nanos: 500_000_000 } });
    expect([1, 2, 3].map((retry) => fixed?.delayMs(retry))).toEqual([2500, 2500, 2500]);
  });
});
