import { createHash } from 'node:crypto';
import { forEachBounded } from '../shared/platform/forEachBounded';
import { existsSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';

/**
 * `npm run seed [-- --url http://localhost:7071] [--file places.json] [--keys .devhost/keys.json]
 * [--concurrency 4] [--wait-seconds 60]`: proposes each sample place to a running devhost, waits
 * for its location to be validated and approves it, so the app has places to show.
 *
 * Re-running is safe: each proposal carries an Idempotency-Key derived from the place's name and
 * town, so the app answers a repeat with the place it already has instead of creating another.
 */

const appRoot = join(__dirname, '..', '..');
const DEFAULT_FILE = join(appRoot, 'local', 'data', 'uk-places.json');
const DEFAULT_KEYS = join(appRoot, '.devhost', 'keys.json');
const REQUEST_TIMEOUT_MS = 10_000;
const POLL_INTERVAL_MS = 250;

/** A data file: proposals in the API's body shape, each with the town it is in (not sent). */
const dataFileSchema = z.object({
  places: z.array(z.looseObject({ name: z.string().min(1), town: z.string().min(1) })).min(1),
});
type SamplePlace = z.infer<typeof dataFileSchema>['places'][number];

interface Keys {
  readonly functionKey: string;
  readonly masterKey: string;
}

type Outcome =
  | { readonly kind: 'approved' }
  | { readonly kind: 'alreadyThere'; readonly note?: string }
  | { readonly kind: 'failed'; readonly reason: string };

interface Answer {
  readonly status: number;
  readonly body: unknown;
}

/** Stops the whole run (the devhost went away, a key is refused): no point trying the other places. */
class SeedAbort extends Error {}
class UnreachableError extends SeedAbort {}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      url: { type: 'string', default: 'http://localhost:7071' },
      file: { type: 'string' },
      keys: { type: 'string' },
      concurrency: { type: 'string', default: '4' },
      'wait-seconds': { type: 'string', default: '60' },
    },
  });
  const baseUrl = values.url.replace(/\/+$/, '');
  const concurrency = wholeNumber('--concurrency', values.concurrency, 1, 32);
  const waitMs = wholeNumber('--wait-seconds', values['wait-seconds'], 1, 3600) * 1000;
  const file = values.file === undefined ? DEFAULT_FILE : resolve(values.file);
  const places = readPlaces(file);
  const keys = readKeys(values.keys === undefined ? DEFAULT_KEYS : resolve(values.keys));

  await checkReachable(baseUrl, keys);
  console.log(`Seeding ${places.length} places from ${relative(process.cwd(), file) || file} into ${baseUrl}, ${concurrency} at a time…`);

  const counts = { proposed: 0, alreadyThere: 0, approved: 0, failed: 0 };
  let done = 0;
  let aborted: SeedAbort | undefined;
  const width = String(places.length).length;
  await forEachBounded(places, concurrency, async (place) => {
    let outcome: Outcome;
    if (aborted) {
      outcome = { kind: 'failed', reason: 'not tried: the run was stopped' };
    } else {
      try {
        outcome = await seedPlace(baseUrl, keys, place, waitMs, () => (counts.proposed += 1));
      } catch (error) {
        if (error instanceof SeedAbort) aborted ??= error;
        outcome = { kind: 'failed', reason: error instanceof Error ? error.message : String(error) };
      }
    }
    done += 1;
    const label = `[${String(done).padStart(width)}/${places.length}] ${place.name} (${place.town})`;
    if (outcome.kind === 'approved') {
      counts.approved += 1;
      console.log(`${label}: approved`);
    } else if (outcome.kind === 'alreadyThere') {
      counts.alreadyThere += 1;
      console.log(`${label}: already there${outcome.note ? ` (${outcome.note})` : ''}`);
    } else {
      counts.failed += 1;
      console.log(`${label}: FAILED: ${outcome.reason}`);
    }
  });

  console.log(
    `\nDone: ${counts.proposed} proposed, ${counts.alreadyThere} already there, ${counts.approved} approved, ${counts.failed} failed.`,
  );
  if (aborted) console.error(`Stopped early: ${aborted.message}`);
  return counts.failed > 0 ? 1 : 0;
}

/**
 * Proposes (idempotently), waits for the location check, approves. `onProposed` counts places this
 * run takes through the flow, i.e. not yet approved when it found them.
 */
async function seedPlace(baseUrl: string, keys: Keys, place: SamplePlace, waitMs: number, onProposed: () => void): Promise<Outcome> {
  const { town: _town, ...proposal } = place;
  const proposed = await send(baseUrl, 'POST', '/api/places', keys.functionKey, proposal, { 'idempotency-key': idempotencyKeyFor(place) });
  if (proposed.status === 422)
    return { kind: 'failed', reason: 'it was seeded before with other details (the Idempotency-Key is the same, the body is not)' };
  if (proposed.status !== 202) return { kind: 'failed', reason: `the proposal was refused: ${describe(proposed)}` };
  const placeId = (proposed.body as { placeId?: unknown }).placeId;
  if (typeof placeId !== 'string') return { kind: 'failed', reason: 'the proposal answer had no placeId' };

  const deadline = Date.now() + waitMs;
  let counted = false;
  for (;;) {
    const view = await send(baseUrl, 'GET', `/api/manage/places/${placeId}`, keys.functionKey);
    const { status, statusReason } = view.status === 200 ? (view.body as { status?: string; statusReason?: string }) : {};
    // 404: proposed but not projected yet.
    if (view.status !== 200 && view.status !== 404) return { kind: 'failed', reason: `reading the place failed: ${describe(view)}` };
    if (status === 'approved') return counted ? { kind: 'approved' } : { kind: 'alreadyThere' };
    if (!counted) {
      counted = true;
      onProposed();
    }
    if (status === 'locationValidated') return approve(baseUrl, keys, placeId);
    if (status === 'locationRejected') return { kind: 'failed', reason: `its location was rejected: ${statusReason ?? 'no reason given'}` };
    // An admin's later decision is theirs: the seed does not undo it.
    if (status === 'rejected' || status === 'withdrawn') return { kind: 'alreadyThere', note: `${status} by an admin; left as it is` };
    if (Date.now() > deadline) {
      return {
        kind: 'failed',
        reason: `its location was not validated within ${waitMs / 1000} s (status ${status ?? 'not projected yet'})`,
      };
    }
    await new Promise((done) => setTimeout(done, POLL_INTERVAL_MS));
  }
}

async function approve(baseUrl: string, keys: Keys, placeId: string): Promise<Outcome> {
  const approved = await send(baseUrl, 'POST', `/api/places/${placeId}/approve`, keys.masterKey, {});
  if (approved.status === 200) return { kind: 'approved' };
  if (approved.status === 401) throw new SeedAbort('the master key was refused (401): check DEVHOST_MASTER_KEY or the keys file');
  if (approved.status === 409) {
    // Approved meanwhile (another seed run): fine; anything else is a real conflict.
    const view = await send(baseUrl, 'GET', `/api/manage/places/${placeId}`, keys.functionKey);
    if ((view.body as { status?: string } | undefined)?.status === 'approved') return { kind: 'alreadyThere' };
  }
  return { kind: 'failed', reason: `approval was refused: ${describe(approved)}` };
}

/** Stable for a place however often or wherever the seed runs; a hash keeps it short and ASCII. */
function idempotencyKeyFor(place: SamplePlace): string {
  const identity = `${place.name.trim().toLowerCase()}|${place.town.trim().toLowerCase()}`;
  return `seed-${createHash('sha256').update(identity).digest('hex').slice(0, 40)}`;
}

async function send(
  baseUrl: string,
  method: string,
  path: string,
  key: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Answer> {
  let response: Response;
  try {
    response = await fetch(`${baseUrl}${path}`, {
      method,
      headers: { 'x-functions-key': key, ...(body !== undefined && { 'content-type': 'application/json' }), ...headers },
      ...(body !== undefined && { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  } catch (error) {
    throw new UnreachableError(`no answer from ${baseUrl} (${errorText(error)})`);
  }
  // A refused function key would fail every place the same way.
  if (response.status === 401 && !path.endsWith('/approve'))
    throw new SeedAbort('the function key was refused (401): check DEVHOST_FUNCTION_KEY or the keys file');
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = text ? (JSON.parse(text) as unknown) : undefined;
  } catch {
    // Not JSON: keep the text for the message.
  }
  return { status: response.status, body: parsed };
}

/** Fails the run at once, with what to do, when nothing answers at the URL or the keys are wrong. */
async function checkReachable(baseUrl: string, keys: Keys): Promise<void> {
  let answer: Answer;
  try {
    answer = await send(baseUrl, 'GET', '/api/manage/places/00000000-0000-4000-8000-000000000000', keys.functionKey);
  } catch (error) {
    if (!(error instanceof UnreachableError)) throw error;
    throw new SeedAbort(`The devhost is not reachable at ${baseUrl}: start it with \`npm start\` (or give --url). ${error.message}`);
  }
  if (answer.status !== 404)
    throw new SeedAbort(`${baseUrl} does not look like the devhost: GET /api/manage/places/<unknown id> answered ${describe(answer)}`);
}

function readPlaces(file: string): SamplePlace[] {
  if (!existsSync(file)) throw new SeedAbort(`No data file at ${file}.`);
  const parsed = dataFileSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new SeedAbort(
      `${file} is not a places file ({"places": [{"name", "town", "geolocation", …}]}): ${issue ? `${issue.path.join('.')}: ${issue.message}` : ''}`,
    );
  }
  return parsed.data.places;
}

/** As the devhost decides them: the environment first, then the keys file it writes. */
function readKeys(file: string): Keys {
  const stored = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Partial<Keys>) : {};
  const functionKey = process.env.DEVHOST_FUNCTION_KEY ?? stored.functionKey;
  const masterKey = process.env.DEVHOST_MASTER_KEY ?? stored.masterKey;
  if (functionKey === undefined || masterKey === undefined) {
    throw new SeedAbort(
      `No keys: set DEVHOST_FUNCTION_KEY and DEVHOST_MASTER_KEY, or start the devhost once so that it writes ${file} (or give --keys).`,
    );
  }
  return { functionKey, masterKey };
}

function describe(answer: Answer): string {
  const problem = answer.body as { title?: unknown; detail?: unknown; errors?: { field: string; message: string }[] } | undefined;
  const title = typeof problem?.detail === 'string' ? problem.detail : typeof problem?.title === 'string' ? problem.title : '';
  const fields = Array.isArray(problem?.errors) ? problem.errors.map((e) => `${e.field} ${e.message}`).join('; ') : '';
  return `HTTP ${answer.status}${title ? ` ${title}` : ''}${fields ? ` (${fields})` : ''}`;
}

function errorText(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = (error as Error & { cause?: unknown }).cause;
  return cause instanceof Error ? `${error.message}: ${cause.message}` : error.message;
}

function wholeNumber(name: string, raw: string, min: number, max: number): number {
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < min || value > max)
    throw new SeedAbort(`${name} must be a whole number from ${min} to ${max}, not ${raw}`);
  return value;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof SeedAbort ? error.message : error);
    process.exit(1);
  },
);
