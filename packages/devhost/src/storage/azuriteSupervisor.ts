/**
 * Azurite under supervision: the devhost's storage stays where the app's connection string says it
 * is. When the Azurite child ends without having been asked to (it crashed, ran out of memory, or
 * someone killed it), it is started again on the same ports and the same data location, and both
 * events are logged. Until it is back, storage calls fail as they would against an unreachable
 * account (ECONNREFUSED) and the app's health check reports it; the queue trigger and the durable
 * engine keep retrying and carry on once it answers.
 *
 * What a restart keeps: everything Azurite had saved. Azurite writes its queue and table metadata
 * (LokiJS) every 5 s and when it closes: a child that ends on SIGTERM/SIGINT or by closing loses
 * nothing, one that is SIGKILLed loses what it wrote in its last seconds. (A SIGKILL of the devhost
 * itself is not that case: the child then closes properly, see azuriteProcess.ts.)
 *
 * The current child's process id is also written to `pidFile` when given (tests kill it from there).
 */
import { rmSync, writeFileSync } from 'node:fs';
import type { Logger } from '../logger';
import { startAzurite, type AzuriteExit, type AzuriteOptions, type RunningAzurite } from './azurite';

export interface SupervisedAzuriteOptions extends AzuriteOptions {
  readonly logger: Logger;
  /** Where to keep the current child's pid (rewritten at each restart, removed by stop()). */
  readonly pidFile?: string;
  /** Wait before the first restart attempt; doubles while attempts fail, up to `maxRestartDelayMs`. Default 500 ms. */
  readonly restartDelayMs?: number;
  /** Default 30 s. */
  readonly maxRestartDelayMs?: number;
}

export interface SupervisedAzurite extends Omit<RunningAzurite, 'pid' | 'exited'> {
  /** The current child's process id (a restart changes it). */
  readonly pid: number;
  /** How many times the child was started again. */
  readonly restarts: number;
  /** Whether a child is listening now (false between an unexpected exit and the restart). */
  readonly up: boolean;
}

/** A child that ran at least this long before it ended starts again after the first delay, not a longer one. */
const STABLE_AFTER_MS = 60_000;

export async function superviseAzurite(options: SupervisedAzuriteOptions): Promise<SupervisedAzurite> {
  const { logger, pidFile, restartDelayMs = 500, maxRestartDelayMs = 30_000, ...azuriteOptions } = options;
  let current: RunningAzurite = await startAzurite(azuriteOptions);
  const ports = { blob: current.blobPort, queue: current.queuePort, table: current.tablePort };
  let startedAt = Date.now();
  let up = true;
  let restarts = 0;
  let stopping = false;
  // Read through a function: stop() sets it while a restart awaits.
  const isStopping = () => stopping;
  let wake: (() => void) | undefined;
  const writePid = () => {
    if (pidFile !== undefined) writeFileSync(pidFile, `${current.pid}\n`);
  };
  writePid();

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        wake = undefined;
        resolve();
      }
      wake = done;
    });

  const describeExit = (exit: AzuriteExit) => (exit.signal !== null ? `signal ${exit.signal}` : `code ${exit.code ?? '?'}`);

  /** Watches one child; on an exit nobody asked for, brings a new one up on the same ports. */
  const watch = async (child: RunningAzurite): Promise<void> => {
    const exit = await child.exited;
    if (stopping) return;
    up = false;
    const downSince = Date.now();
    let delay =
      Date.now() - startedAt >= STABLE_AFTER_MS
        ? restartDelayMs
        : Math.min(maxRestartDelayMs, restartDelayMs * 2 ** Math.min(restarts, 10));
    logger.warn(
      `Azurite (pid ${child.pid}) exited unexpectedly (${describeExit(exit)}); restarting it in ${delay} ms on the same ports ` +
        `(blob ${ports.blob}, queue ${ports.queue}, table ${ports.table}). Storage calls fail until it is back.`,
    );
    for (let attempt = 1; ; attempt++) {
      await sleep(delay);
      if (isStopping()) return;
      try {
        const next = await startAzurite({ ...azuriteOptions, ports });
        if (isStopping()) {
          await next.stop();
          return;
        }
        current = next;
        break;
      } catch (error) {
        delay = Math.min(maxRestartDelayMs, delay * 2);
        logger.error(`Azurite could not be restarted (attempt ${attempt}); trying again in ${delay} ms`, error);
      }
    }
    restarts++;
    startedAt = Date.now();
    up = true;
    writePid();
    logger.warn(`Azurite is back (pid ${current.pid}, restart ${restarts}) after ${Date.now() - downSince} ms down.`);
    watching = watch(current);
  };
  let watching = watch(current);

  let stopped: Promise<void> | undefined;
  return {
    connectionString: current.connectionString,
    blobPort: current.blobPort,
    queuePort: current.queuePort,
    tablePort: current.tablePort,
    blobEndpoint: current.blobEndpoint,
    queueEndpoint: current.queueEndpoint,
    tableEndpoint: current.tableEndpoint,
    get pid() {
      return current.pid;
    },
    get restarts() {
      return restarts;
    },
    get up() {
      return up;
    },
    stop: () =>
      (stopped ??= (async () => {
        stopping = true;
        wake?.();
        await current.stop();
        // A restart that was under way stops the child it started.
        await watching;
        if (pidFile !== undefined) rmSync(pidFile, { force: true });
      })()),
  };
}
