import {
  changeFeedLagMs,
  correlationIdsOf,
  errorSummary,
  logLine,
  MAX_LISTED_CORRELATION_IDS,
  MAX_VALUE_CHARS,
  withCorrelation,
  type LogSink,
} from '../../../shared/platform/logging';

/** A sink that keeps what each level was given. */
function recordingSink() {
  const lines: { level: 'info' | 'warn' | 'error'; args: unknown[] }[] = [];
  const sink: LogSink = {
    log: (...args) => lines.push({ level: 'info', args }),
    warn: (...args) => lines.push({ level: 'warn', args }),
    error: (...args) => lines.push({ level: 'error', args }),
  };
  return { sink, lines };
}

/** What Kusto's extract(@"\bkey=(\S+)", 1, message) would find, and the JSON string form when quoted. */
function extract(line: string, key: string): string | undefined {
  const match = new RegExp(`(?:^| )${key}=("(?:[^"\\\\]|\\\\.)*"|\\S+)`).exec(line);
  const raw = match?.[1];
  if (raw === undefined) return undefined;
  return raw.startsWith('"') ? (JSON.parse(raw) as string) : raw;
}

describe('logLine: Name key=value', () => {
  it('writes numbers, booleans and plain words bare, leaves undefined out and writes null as -', () => {
    expect(
      logLine('ForecastRefreshBatch', { cycle: '2025-11-17T10:00:00.000Z#4', regions: 3, ok: true, skipped: undefined, p50: null }),
    ).toBe('ForecastRefreshBatch cycle=2025-11-17T10:00:00.000Z#4 regions=3 ok=true p50=-');
    expect(logLine('Bare')).toBe('Bare');
  });

  it('quotes values with spaces, quotes or line breaks as JSON strings, so a line stays one line', () => {
    const line = logLine('ForecastRegionFailed', { region: 'gcw2j', reason: 'open-meteo answered "HTTP 503"\n  at frame (x.js:1:1)' });
    expect(line.split('\n')).toHaveLength(1);
    expect(line).toBe('ForecastRegionFailed region=gcw2j reason="open-meteo answered \\"HTTP 503\\"\\n  at frame (x.js:1:1)"');
    expect(extract(line, 'reason')).toBe('open-meteo answered "HTTP 503"\n  at frame (x.js:1:1)');
    expect(extract(line, 'region')).toBe('gcw2j');
  });

  it('joins lists with commas, and cuts long values', () => {
    expect(logLine('X', { correlationIds: ['a', 'b'] })).toBe('X correlationIds=a,b');
    const long = logLine('X', { reason: 'y'.repeat(MAX_VALUE_CHARS * 2) });
    expect(extract(long, 'reason')).toHaveLength(MAX_VALUE_CHARS);
    expect(extract(long, 'reason')?.endsWith('…')).toBe(true);
  });

  it('skips keys that would break the shape', () => {
    expect(logLine('X', { 'bad key': 1, 'x=y': 2, good: 3 })).toBe('X good=3');
  });
});

describe('withCorrelation', () => {
  it('ends every line, at every level, with correlationId=<id>', () => {
    const { sink, lines } = recordingSink();
    const log = withCorrelation(sink, 'e2e-corr-1');
    log.info('PlaceCommand', { command: 'ProposePlace', version: 1 });
    log.warn('PlaceLocationCheckFailed', { error: 'geocoder down' });
    const failure = new Error('boom');
    log.error('HttpFailed', { status: 500 }, failure);
    expect(lines).toEqual([
      { level: 'info', args: ['PlaceCommand command=ProposePlace version=1 correlationId=e2e-corr-1'] },
      { level: 'warn', args: ['PlaceLocationCheckFailed error="geocoder down" correlationId=e2e-corr-1'] },
      // The error object goes beside the line, for the host to keep its stack.
      { level: 'error', args: ['HttpFailed status=500 correlationId=e2e-corr-1', failure] },
    ]);
    expect(log.correlationId).toBe('e2e-corr-1');
  });

  it('lists a batch’s distinct correlation ids, so a search for any one finds the batch', () => {
    const { sink, lines } = recordingSink();
    const log = withCorrelation(sink, ['c1', 'c2', 'c1', 'c3']);
    log.info('EventsPublished', { published: 4 });
    expect(lines[0]?.args[0]).toBe('EventsPublished published=4 correlationIds=c1,c2,c3');
    expect(log.correlationId).toBe('c1');
  });

  it('caps a long list and says how many it left out; an empty batch lists none', () => {
    const { sink, lines } = recordingSink();
    const ids = Array.from({ length: MAX_LISTED_CORRELATION_IDS + 5 }, (_, i) => `id${i}`);
    withCorrelation(sink, ids).info('EventsProjected');
    expect(extract(String(lines[0]?.args[0]), 'correlationIds')?.split(',')).toHaveLength(MAX_LISTED_CORRELATION_IDS);
    expect(extract(String(lines[0]?.args[0]), 'correlationIdsOmitted')).toBe('5');
    withCorrelation(sink, []).info('EventsProjected');
    expect(lines[1]?.args[0]).toBe('EventsProjected correlationIds=-');
  });
});

describe('helpers', () => {
  it('reads correlation ids from events and event documents, skipping anything else', () => {
    expect(
      correlationIdsOf([
        { metadata: { correlationId: 'a' } },
        { id: 'x' },
        null,
        'text',
        { metadata: { correlationId: 7 } },
        { metadata: { correlationId: 'b' } },
      ]),
    ).toEqual(['a', 'b']);
  });

  it('measures a change-feed batch’s lag from its oldest event', () => {
    const now = new Date('2026-11-27T10:00:10.000Z');
    const at = (occurredAt: string) => ({ metadata: { occurredAt } });
    expect(changeFeedLagMs([at('2026-11-27T10:00:09.000Z'), at('2026-11-27T10:00:04.500Z'), { id: 'not an event' }], now)).toBe(5500);
    expect(changeFeedLagMs([{ id: 'x' }, at('not a time')], now)).toBeNull();
    expect(changeFeedLagMs([at('2026-11-27T10:00:11.000Z')], now)).toBe(0);
  });

  it('summarises an error by the first line of its message', () => {
    expect(errorSummary(new Error('first\n    at stack (file.js:1:1)'))).toBe('first');
    expect(errorSummary('plain')).toBe('plain');
  });
});
