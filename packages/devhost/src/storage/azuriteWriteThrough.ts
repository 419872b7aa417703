/**
 * Write-through persistence for the Azurite child (azuriteProcess.ts loads this before Azurite).
 *
 * Azurite keeps its queue, table and blob metadata in LokiJS databases that it saves to its location
 * every 5 s and when it closes. A crash or SIGKILL of Azurite itself therefore lost up to the last 5 s
 * of writes it had acknowledged: queue messages sent, durable history rows written. Here every
 * database Azurite opens with file persistence is instead saved before each response goes out (when
 * the request changed it): written to a temporary file with one writeFileSync, then renamed over the
 * old one, so the file is always whole, and a write that returned is in the OS page cache, which a
 * process crash does not lose (an OS crash can still lose the last ones: no fsync). Loki's own timer is
 * off, and what changed outside any request is saved when the process exits.
 *
 * The cost: each response to a request that wrote serialises the databases it changed, whole. That is
 * fine for a development data set (the devhost's queues stay short, its durable history is one cycle
 * long); in-memory Azurite (`--inMemoryPersistence`, the tests' and benchmarks' default) is untouched.
 */
import { renameSync, writeFileSync } from 'node:fs';
import { ServerResponse } from 'node:http';
import { dirname } from 'node:path';

/** The part of a LokiJS database this uses. */
interface LokiDatabase {
  readonly filename: string;
  serialize(): string;
  autosaveDirty(): boolean;
  autosaveClearFlags(): void;
}

type LokiConstructor = new (filename: string, options?: Record<string, unknown>) => LokiDatabase;

const databases = new Set<LokiDatabase>();

/** Saves every database that has changes nobody saved yet. Throws when one cannot be written. */
export function saveChangedDatabases(): void {
  for (const database of databases) {
    if (!database.autosaveDirty()) continue;
    const temporary = `${database.filename}.saving~`;
    writeFileSync(temporary, database.serialize());
    renameSync(temporary, database.filename);
    database.autosaveClearFlags();
  }
}

/** Replaces the lokijs module Azurite will load with a write-through subclass, and hooks every HTTP response. */
export function installWriteThrough(): void {
  // Azurite's own copy of lokijs (the one its modules resolve).
  const lokiPath = require.resolve('lokijs', { paths: [dirname(require.resolve('azurite/package.json'))] });
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const Loki = require(lokiPath) as LokiConstructor;
  class WriteThroughLoki extends Loki {
    constructor(filename: string, options?: Record<string, unknown>) {
      const persistent = options?.persistenceMethod === 'fs';
      super(filename, persistent ? { ...options, autosave: false } : options);
      if (persistent) databases.add(this);
    }
  }
  const cached = require.cache[lokiPath];
  if (!cached) throw new Error(`lokijs is not in the module cache at ${lokiPath}`);
  cached.exports = WriteThroughLoki;

  // Before a response leaves, what its request changed is saved; if it cannot be, the response is
  // dropped (the client sees a failed request, never a success that was not kept).
  const end = Reflect.get(ServerResponse.prototype, 'end') as (this: ServerResponse, ...args: unknown[]) => ServerResponse;
  ServerResponse.prototype.end = function (this: ServerResponse, ...args: unknown[]): ServerResponse {
    try {
      saveChangedDatabases();
    } catch (error) {
      console.error('Azurite: could not save its data; dropping the response:', error);
      return this.destroy();
    }
    return end.apply(this, args);
  } as ServerResponse['end'];

  process.on('exit', () => {
    try {
      saveChangedDatabases();
    } catch (error) {
      console.error('Azurite: could not save its data on exit:', error);
    }
  });
}
