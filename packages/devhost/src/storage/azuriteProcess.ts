/**
 * Entry point of the Azurite child process that azurite.ts spawns (never imported).
 *
 * Azurite runs in THIS process (its own CLI module, with this process's command-line arguments), so
 * there is exactly one process to clean up. The parent holds our stdin pipe open and writes nothing
 * to it; the pipe closes when the parent ends it (stop()) or when the parent dies for any reason,
 * SIGKILL included — the kernel closes a dead process's pipes. Either way we then end Azurite the
 * way its CLI ends on SIGTERM (closing its servers, which flushes a persistent location) and, should
 * that hang, exit anyway.
 */

import { installWriteThrough } from './azuriteWriteThrough';

/** How long Azurite may take to close its servers once the parent is gone. */
const FORCED_EXIT_AFTER_MS = 5000;

// With the parent gone, writes to stdout/stderr fail with EPIPE: never let that crash the shutdown.
process.stdout.on('error', () => undefined);
process.stderr.on('error', () => undefined);

let ending = false;

/**
 * SIGTERM or SIGINT, whoever sends it (endWithParent below, or anyone else): Azurite's CLI closes its
 * servers, which saves its data, and then this process must end too, or our open stdin would keep it
 * alive with no servers, which the devhost could not tell from a running Azurite (it restarts one
 * that exits: azuriteSupervisor.ts). Before Azurite listens for the signal (still starting), there
 * is nothing to save: end at once, as the signal's default action would.
 */
function onTerminate(signal: NodeJS.Signals): void {
  if (process.listenerCount(signal) === 1) process.exit(0);
  if (ending && process.stdin.destroyed) return;
  ending = true;
  setTimeout(() => process.exit(0), FORCED_EXIT_AFTER_MS).unref();
  process.stdin.destroy();
}
process.on('SIGTERM', onTerminate);
process.on('SIGINT', onTerminate);

function endWithParent(): void {
  if (ending) return;
  ending = true;
  setTimeout(() => process.exit(0), FORCED_EXIT_AFTER_MS).unref();
  // Azurite's CLI closes its servers on SIGTERM; before it has installed that handler (still
  // starting), SIGTERM's default action simply ends the process.
  process.kill(process.pid, 'SIGTERM');
}
process.stdin.on('end', endWithParent);
process.stdin.on('close', endWithParent);
process.stdin.on('error', endWithParent);
process.stdin.resume();

// Every acknowledged write is on disk before its response leaves, not up to 5 s later (azuriteWriteThrough.ts).
installWriteThrough();

// The CLI reads its options from process.argv, which are ours: `node <this file> --blobPort 0 …`.
// eslint-disable-next-line @typescript-eslint/no-require-imports
require(require.resolve('azurite/dist/src/azurite.js'));
