import { EventEmitter } from 'node:events';
import { stopOnSignals } from '../../src/stopOnSignals';

/** `devhost` and `devhost emulators` on Ctrl-C and SIGTERM, with signals, exit and the clock in the test's hands. */
function harness() {
  const signals = new EventEmitter();
  const exits: number[] = [];
  const lines: string[] = [];
  let clock = 0;
  const stop = stopOnSignals('the devhost', {
    signals,
    exit: (code) => exits.push(code),
    console: { log: (line: string) => lines.push(line), error: (line: unknown) => lines.push(String(line)) },
    now: () => clock,
  });
  let stops = 0;
  let finish: () => void = () => {};
  const service = {
    stop: () => {
      stops += 1;
      return new Promise<void>((resolve) => (finish = resolve));
    },
  };
  return {
    stop,
    service,
    signal: (name: NodeJS.Signals, at: number) => {
      clock = at;
      signals.emit(name);
    },
    /** Lets the service's stop() finish, and its exit run. */
    finishStopping: async () => {
      finish();
      await new Promise((resolve) => setImmediate(resolve));
    },
    exits,
    lines,
    stops: () => stops,
  };
}

describe('stopping on a signal', () => {
  it('stops what started, then exits 0', async () => {
    const run = harness();
    expect(run.stop.started(run.service)).toBe(false);
    run.signal('SIGINT', 0);
    expect(run.stops()).toBe(1);
    expect(run.lines).toEqual(['\nSIGINT: stopping the devhost…']);
    expect(run.exits).toEqual([]);
    await run.finishStopping();
    expect(run.exits).toEqual([0]);
  });

  it('exits 1, saying why, when stopping fails', async () => {
    const run = harness();
    run.stop.started({ stop: () => Promise.reject(new Error('Azurite would not stop')) });
    run.signal('SIGTERM', 0);
    await new Promise((resolve) => setImmediate(resolve));
    expect(run.exits).toEqual([1]);
    expect(run.lines).toContain('Error: Azurite would not stop');
  });

  it('stops once start-up is done when the signal came during it, and says so to the command', async () => {
    const run = harness();
    run.signal('SIGTERM', 0);
    expect(run.stops()).toBe(0);
    expect(run.stop.started(run.service)).toBe(true);
    expect(run.stops()).toBe(1);
    expect(run.lines).toEqual(['\nSIGTERM: stopping the devhost…']);
    await run.finishStopping();
    expect(run.exits).toEqual([0]);
  });

  it('exits at once on a second signal while stopping hangs, as a shell reports the signal', () => {
    const run = harness();
    run.stop.started(run.service);
    run.signal('SIGINT', 0);
    run.signal('SIGINT', 2500);
    expect(run.stops()).toBe(1);
    expect(run.exits).toEqual([130]);
    expect(run.lines[1]).toBe('\nSIGINT again: exiting without waiting for the devhost to stop.');
  });

  it('exits at once on a second signal while start-up hangs', () => {
    const run = harness();
    run.signal('SIGINT', 0);
    run.signal('SIGTERM', 1500);
    expect(run.exits).toEqual([143]);
    expect(run.stops()).toBe(0);
  });

  it('takes a signal within a second of the first as the same Ctrl-C (npm forwards the one the terminal sent)', async () => {
    const run = harness();
    run.stop.started(run.service);
    run.signal('SIGINT', 0);
    run.signal('SIGINT', 1);
    expect(run.stops()).toBe(1);
    expect(run.exits).toEqual([]);
    await run.finishStopping();
    expect(run.exits).toEqual([0]);
  });
});
