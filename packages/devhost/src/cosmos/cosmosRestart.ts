/**
 * What restarting the devhost's local Cosmos endpoint promises, wherever the endpoint runs (on the
 * caller's loop, restartableCosmos.ts, or on its own thread, cosmosThread.ts). Apart from both, so
 * that the devhost's main thread can use them without loading the emulator.
 */
import type { RestoreSummary } from './persistence';

export interface CosmosRestart {
  /** How long the endpoint refused connections, from close to listening again. */
  readonly downMs: number;
  /** What the new endpoint restored from the directory. */
  readonly restored?: RestoreSummary;
}

export interface RestartableCosmos {
  readonly endpoint: string;
  readonly key: string;
  readonly connectionString: string;
  /** Whether the endpoint is listening (false during a restart). */
  readonly up: boolean;
  /** Closes and reopens the endpoint on the same port, after `downMs` (default 0) of refusing connections. One at a time. */
  restart(downMs?: number): Promise<CosmosRestart>;
  close(): Promise<void>;
}

/** restart() while another restart runs. */
export class CosmosRestartInProgressError extends Error {
  constructor() {
    super('The local Cosmos endpoint is already restarting.');
    this.name = 'CosmosRestartInProgressError';
  }
}
