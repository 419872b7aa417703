import { constants } from 'node:os';
import type { RunningService } from './triggers/triggerHost';

export interface SignalStop {
  /**
   * Hands over what start-up started (the devhost, the emulators). If a signal came during start-up, stopping begins now and this
   * answers true: the command has nothing more to do.
   */
  started(running: RunningService): boolean;
}

export interface StopOnSignalsOptions {
  /** Where the signals come from (default `process`; tests pass an emitter of their own). */
  readonly signals?: Pick<NodeJS.EventEmitter, 'on'>;
  readonly exit?: (code: number) => void;
  readonly console?: Pick<Console, 'log' | 'error'>;
  /** Milliseconds on a monotonic clock (default `performance.now`). */
  readonly now?: () => number;
}

/**
 * A signal this soon after the first is the same Ctrl-C: the terminal sends SIGINT to every process
 * in its foreground group, and npm forwards what it receives to its script, so under `npm start` the
 * devhost may have one keypress twice, a millisecond apart (when the script's shell execs node, as
 * bash does). A person pressing again after a hung stop comes later.
 */
const SAME_SIGNAL_MS = 1000;

/**
 * Stops what a command starts on SIGINT or SIGTERM, then exits: 0, or 1 if stopping failed. Called
 * before anything starts, so a signal during start-up still stops every child once start-up is done.
 * A second signal, while start-up or stopping hangs, exits at once (128 + the signal's number, as a
 * shell reports a process a signal ended); Azurite, a child, still closes as this process ends.
 * One that comes within {@link SAME_SIGNAL_MS} of the first is taken as the first again.
 */
export function stopOnSignals(what: string, options: StopOnSignalsOptions = {}): SignalStop {
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const output = options.console ?? console;
  let running: RunningService | undefined;
  const now = options.now ?? (() => performance.now());
  let signalled: { readonly signal: NodeJS.Signals; readonly at: number } | undefined;
  const stop = (signal: NodeJS.Signals, service: RunningService) => {
    output.log(`\n${signal}: stopping ${what}…`);
    service.stop().then(
      () => exit(0),
      (error: unknown) => {
        output.error(error);
        exit(1);
      },
    );
  };
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled !== undefined) {
      if (now() - signalled.at < SAME_SIGNAL_MS) return;
      output.error(`\n${signal} again: exiting without waiting for ${what} to stop.`);
      exit(128 + constants.signals[signal]);
      return;
    }
    signalled = { signal, at: now() };
    if (running) stop(signal, running);
  };
  const signals = options.signals ?? process;
  signals.on('SIGINT', () => onSignal('SIGINT'));
  signals.on('SIGTERM', () => onSignal('SIGTERM'));
  return {
    started: (service) => {
      running = service;
      if (signalled === undefined) return false;
      stop(signalled.signal, service);
      return true;
    },
  };
}
