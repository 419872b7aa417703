import { HttpThrottle, httpThrottleLimits, UNBOUNDED } from '../../src/http/httpThrottle';

describe("the devhost's HTTP throttle (host.json extensions.http)", () => {
  it('runs at most maxConcurrentRequests at once, holds at most maxOutstandingRequests, and turns the rest away', async () => {
    const throttle = new HttpThrottle({ maxConcurrentRequests: 2, maxOutstandingRequests: 3 });
    const first = await throttle.enter();
    const second = await throttle.enter();
    expect(first).toBeDefined();
    expect(second).toBeDefined();
    let thirdRuns = false;
    const third = throttle.enter().then((release) => {
      thirdRuns = true;
      return release;
    });
    await Promise.resolve();
    expect(thirdRuns).toBe(false);
    expect(throttle.outstanding).toBe(3);
    // The fourth finds three held: turned away at once.
    await expect(throttle.enter()).resolves.toBeUndefined();

    first!();
    first!(); // releasing twice frees one slot only
    const thirdRelease = await third;
    expect(thirdRuns).toBe(true);
    expect(throttle.outstanding).toBe(2);
    second!();
    thirdRelease!();
    expect(throttle.outstanding).toBe(0);
  });

  it('is unbounded by default, as the host is', async () => {
    const throttle = new HttpThrottle(httpThrottleLimits(undefined));
    const releases = await Promise.all(Array.from({ length: 1000 }, () => throttle.enter()));
    expect(releases.every((release) => release !== undefined)).toBe(true);
    expect(throttle.outstanding).toBe(1000);
  });

  it('reads host.json and refuses values the host would not take', () => {
    expect(httpThrottleLimits({ maxConcurrentRequests: 8, maxOutstandingRequests: 64 })).toEqual({
      maxConcurrentRequests: 8,
      maxOutstandingRequests: 64,
    });
    expect(httpThrottleLimits({ maxConcurrentRequests: -1 })).toEqual({
      maxConcurrentRequests: UNBOUNDED,
      maxOutstandingRequests: UNBOUNDED,
    });
    expect(() => httpThrottleLimits({ maxOutstandingRequests: 0 })).toThrow(/maxOutstandingRequests must be a whole number/);
    expect(() => httpThrottleLimits({ maxConcurrentRequests: '8' })).toThrow(/maxConcurrentRequests/);
  });
});
