import type { RunningService } from './triggers/triggerHost';

/** A stage of start-up done: what it started and how long it took (the devhost's and the emulators' alike). */
export interface StartStage {
  readonly name: 'storage' | 'cosmos' | 'app' | 'functions' | 'eventGrid' | 'durable' | 'http' | 'triggers';
  readonly detail: string;
  readonly ms: number;
}

export interface StartUp {
  /** What has started, in dependency order: push each service as it starts. */
  readonly running: RunningService[];
  /** Says a stage is done, with the time since the previous one. */
  readonly stage: (name: StartStage['name'], detail: string) => void;
  /** Stops what has started, last first. */
  readonly stopAll: () => Promise<void>;
}

/**
 * Runs `start`, which starts services in dependency order; they stop in reverse, and if `start`
 * fails, whatever it started is stopped before the error goes on, so nothing is left running.
 */
export async function startInOrder<T>(
  onStage: ((stage: StartStage) => void) | undefined,
  start: (startUp: StartUp) => Promise<T>,
): Promise<T> {
  const running: RunningService[] = [];
  let stageStarted = performance.now();
  const stage = (name: StartStage['name'], detail: string) => {
    const now = performance.now();
    onStage?.({ name, detail, ms: now - stageStarted });
    stageStarted = now;
  };
  const stopAll = async () => {
    for (const service of running.splice(0).reverse()) await service.stop();
  };
  try {
    return await start({ running, stage, stopAll });
  } catch (error) {
    await stopAll();
    throw error;
  }
}
