/**
 * Checks of the written and read sides through a running devhost, for the reliability tests: a
 * place's events (through test/fixtures/placeEventsProbe.ts, loaded with --extra-module), its managed
 * view, and whether the view says what the events say.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RecordedEvent } from '../../shared/kernel/event';
import type { PlaceEvent } from '../../shared/places/domain/place';
import { evolvePlaceView } from '../../shared/places/projection/placeView';
import { isRunning } from '../../packages/devhost/test/support/cliProcess';
import type { DevhostProcess } from './devhostProcess';
import type { HttpClient } from './loadGenerator';
import { type PlaceView } from '../../shared/places/projection/placeDocuments';

export const placeEventsProbeModule = join(__dirname, '..', '..', 'dist', 'test', 'fixtures', 'placeEventsProbe.js');

export type ProbedPlaceEvent = RecordedEvent<PlaceEvent>;

export async function placeEvents(client: HttpClient, placeId: string): Promise<ProbedPlaceEvent[]> {
  const answer = await client.send({ kind: 'probe', method: 'GET', path: `/api/test/place-events/${placeId}` });
  if (answer.status !== 200) throw new Error(`place-events probe: HTTP ${answer.status} ${answer.text.slice(0, 200)}`);
  return JSON.parse(answer.text) as ProbedPlaceEvent[];
}

export async function managedPlace(
  client: HttpClient,
  functionKey: string,
  placeId: string,
): Promise<{ status: number; view?: Record<string, unknown> }> {
  const answer = await client.send({
    kind: 'managed',
    method: 'GET',
    path: `/api/manage/places/${placeId}`,
    headers: { 'x-functions-key': functionKey },
  });
  return answer.status === 200 ? { status: 200, view: JSON.parse(answer.text) as Record<string, unknown> } : { status: answer.status };
}

/** How often each event type occurs in a stream. */
export function typeCounts(events: readonly { type: string }[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const event of events) counts[event.type] = (counts[event.type] ?? 0) + 1;
  return counts;
}

/**
 * What is wrong with a place's stream as a record of commands that each happened once: anything but
 * exactly one PlaceProposed first, versions not 1…n, or a status event twice (a location is checked
 * once, a place approved once…). Empty when the stream is sound.
 */
export function streamProblems(events: readonly ProbedPlaceEvent[]): string[] {
  const problems: string[] = [];
  if (events[0]?.type !== 'PlaceProposed') problems.push(`first event is ${events[0]?.type ?? 'missing'}`);
  events.forEach((event, index) => {
    if (event.version !== index + 1) problems.push(`event ${index} has version ${event.version}`);
  });
  const counts = typeCounts(events);
  for (const type of ['PlaceProposed', 'PlaceApproved', 'PlaceRejected', 'PlaceWithdrawn'] as const) {
    if ((counts[type] ?? 0) > 1) problems.push(`${type} ×${counts[type]}`);
  }
  if ((counts.PlaceLocationValidated ?? 0) + (counts.PlaceLocationRejected ?? 0) > 1)
    problems.push('the location was checked more than once');
  const ids = new Set(events.map((event) => event.metadata.eventId));
  if (ids.size !== events.length) problems.push('an event id occurs twice');
  return problems;
}

/** The view the events say the place should have (the projection's own fold). */
export function expectedView(events: readonly ProbedPlaceEvent[]): PlaceView | null {
  return events.reduce<PlaceView | null>((view, event) => evolvePlaceView(view, event), null);
}

/** Differences between a served view and the fold of the events, on the fields that show the status. Empty when they agree. */
export function viewDifferences(events: readonly ProbedPlaceEvent[], served: Record<string, unknown> | undefined): string[] {
  const expected = expectedView(events);
  if (expected === null) return served === undefined ? [] : ['a view without events'];
  if (served === undefined) return ['no view'];
  const differences: string[] = [];
  for (const field of ['placeId', 'name', 'status', 'version', 'region', 'kind'] as const) {
    const want = expected[field] ?? null;
    const got = served[field] ?? null;
    if (JSON.stringify(want) !== JSON.stringify(got))
      differences.push(`${field}: view ${JSON.stringify(got)}, events ${JSON.stringify(want)}`);
  }
  return differences;
}

/** Polls `probe` until `accept` holds; throws naming `what` (and the last value) when the time is up. */
export async function eventually<T>(
  probe: () => Promise<T>,
  accept: (value: T) => boolean,
  timeoutMs: number,
  what: string,
  intervalMs = 200,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  let lastError: unknown;
  for (;;) {
    try {
      last = await probe();
      if (accept(last)) return last;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const detail = last === undefined ? String(lastError) : JSON.stringify(last).slice(0, 2000);
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}; last: ${detail}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Runs `task` over `items`, at most `concurrency` at once, in order of completion. */
export async function forEachLimited<T>(items: readonly T[], concurrency: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) {
        const item = items[next++] as T;
        await task(item);
      }
    }),
  );
}

export interface ConvergenceReport {
  /** Places whose view equals the fold of their events and whose stream is sound. */
  readonly converged: number;
  /** placeId → what is still wrong, for the others. */
  readonly problems: Record<string, string[]>;
  readonly elapsedMs: number;
}

/**
 * Waits (up to `timeoutMs`) until every place's stream is sound and its managed view equals what its
 * events say; re-checks only the places not there yet, every second.
 */
export async function waitForConvergence(
  client: HttpClient,
  functionKey: string,
  placeIds: readonly string[],
  timeoutMs: number,
): Promise<ConvergenceReport> {
  const started = Date.now();
  let pending = [...new Set(placeIds)];
  let problems: Record<string, string[]> = {};
  for (;;) {
    const round: Record<string, string[]> = {};
    await forEachLimited(pending, 16, async (placeId) => {
      try {
        const events = await placeEvents(client, placeId);
        const { view } = await managedPlace(client, functionKey, placeId);
        const found = [...streamProblems(events), ...viewDifferences(events, view)];
        if (found.length > 0) round[placeId] = found;
      } catch (error) {
        round[placeId] = [error instanceof Error ? error.message : String(error)];
      }
    });
    problems = round;
    pending = Object.keys(round);
    if (pending.length === 0 || Date.now() - started > timeoutMs) break;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  return { converged: placeIds.length - pending.length, problems, elapsedMs: Date.now() - started };
}

/** The devhost's current Azurite child, from the pid file it keeps in its data folder. */
export function azuritePid(devhost: Pick<DevhostProcess, 'dataDir'>): number | undefined {
  const file = join(devhost.dataDir, 'azurite.pid');
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, 'utf8').trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/** Waits until a process has ended (e.g. the Azurite child of a killed devhost, which flushes its data first). */
export async function waitForExit(pid: number, timeoutMs = 20_000): Promise<void> {
  await eventually(
    () => Promise.resolve(isRunning(pid)),
    (running) => !running,
    timeoutMs,
    `process ${pid} to exit`,
    50,
  );
}
