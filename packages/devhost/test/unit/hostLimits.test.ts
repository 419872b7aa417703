import { DEFAULT_FUNCTION_TIMEOUT_MS, readFunctionTimeout, readLogFilter } from '../../src/hostLimits';

describe('host.json functionTimeout and logging.logLevel, read as the host reads them', () => {
  it('a timeout as a TimeSpan; none for -1 or null; 30 minutes when absent (the host outside Consumption)', () => {
    expect(readFunctionTimeout('00:10:00')).toBe(600_000);
    expect(readFunctionTimeout('-1')).toBeUndefined();
    expect(readFunctionTimeout(null)).toBeUndefined();
    expect(readFunctionTimeout(undefined)).toBe(DEFAULT_FUNCTION_TIMEOUT_MS);
    expect(() => readFunctionTimeout('ten minutes')).toThrow(/functionTimeout/);
  });

  it('the longest matching category prefix wins, then default, then Information', () => {
    const enabled = readLogFilter({ default: 'Warning', Function: 'Information', 'Function.noisy.User': 'Error', 'Function.mute': 'None' });
    expect(enabled('Function.orders.User', 'information')).toBe(true);
    expect(enabled('Function.noisy.User', 'warning')).toBe(false);
    expect(enabled('Function.noisy.User', 'error')).toBe(true);
    expect(enabled('Function.noisy', 'information')).toBe(true);
    expect(enabled('Function.mute.User', 'critical')).toBe(false);
    expect(enabled('Host.Results', 'information')).toBe(false);
    expect(enabled('Host.Results', 'warning')).toBe(true);
    // A prefix matches whole segments only: Function.mute is not Function.muted.
    expect(enabled('Function.muted.User', 'information')).toBe(true);
    const unset = readLogFilter(undefined);
    expect(unset('Function.any.User', 'information')).toBe(true);
    expect(unset('Function.any.User', 'debug')).toBe(false);
  });

  it('refuses a level the host does not know, naming the category', () => {
    expect(() => readLogFilter({ Function: 'Loud' })).toThrow(/logging\.logLevel\.Function must be one of/);
  });
});
