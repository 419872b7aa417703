/**
 * The local Cosmos endpoint with `persistDir`, through the real @azure/cosmos SDK: what it held
 * before a restart (close() or SIGKILL) it holds after, with the same _rid, _etag, _ts and _lsn;
 * change-feed continuations taken before a restart resume exactly after it; the journal's torn last
 * line is ignored; a batch is never half there after a crash; compaction while running lets requests
 * in and loses none of their writes.
 */
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BulkOperationType,
  ChangeFeedStartFrom,
  CosmosClient,
  StatusCodes,
  type ChangeFeedPullModelIterator,
  type Container,
  type ContainerDefinition,
  type ItemDefinition,
  type OperationInput,
} from '@azure/cosmos';
import {
  localCosmosClientOptions,
  startLocalCosmosEndpoint,
  type LocalCosmosEndpoint,
  type LocalCosmosOptions,
} from '../../src/cosmos/localCosmosEndpoint';
import { eventually } from '../support/eventually';

interface Doc extends ItemDefinition {
  id: string;
  pk: string;
  n?: number;
  batch?: string;
}

interface Stored extends Doc {
  _rid: string;
  _etag: string;
  _ts: number;
  _lsn: number;
}

const ROOT = join(__dirname, '..', '..');
const directories: string[] = [];

function newDirectory(): string {
  const dir = mkdtempSync(join(tmpdir(), 'local-cosmos-persist-'));
  directories.push(dir);
  return dir;
}

/** Endpoints a failed test left running. */
const openEndpoints = new Set<Running>();

afterEach(async () => {
  for (const leftOver of [...openEndpoints]) await leftOver.stop();
});

afterAll(() => {
  for (const dir of directories) rmSync(dir, { recursive: true, force: true });
});

/** A started endpoint on `dir` with an SDK client; stop() closes both. */
interface Running {
  readonly endpoint: LocalCosmosEndpoint;
  readonly client: CosmosClient;
  container(database: string, container: string): Container;
  stop(): Promise<void>;
}

async function start(dir: string, options: LocalCosmosOptions = {}): Promise<Running> {
  const endpoint = await startLocalCosmosEndpoint({ ...options, persistDir: dir });
  const client = new CosmosClient(localCosmosClientOptions(endpoint));
  const started: Running = {
    endpoint,
    client,
    container: (database, container) => client.database(database).container(container),
    stop: async () => {
      openEndpoints.delete(started);
      client.dispose();
      await endpoint.close();
    },
  };
  openEndpoints.add(started);
  return started;
}

async function readAll(container: Container): Promise<Stored[]> {
  const { resources } = await container.items.readAll<Stored>().fetchAll();
  return resources;
}

async function definition(container: Container): Promise<ContainerDefinition | undefined> {
  return (await container.read()).resource;
}

type StartFrom = ReturnType<typeof ChangeFeedStartFrom.Beginning> | ReturnType<typeof ChangeFeedStartFrom.Continuation>;

/** See localCosmosEndpoint.test.ts: the SDK's start-from factories only match its options structurally. */
function changeFeed(container: Container, changeFeedStartFrom: StartFrom): ChangeFeedPullModelIterator<Stored> {
  // eslint-disable-next-line @typescript-eslint/no-unsafe-class-instance-assignment -- the SDK's own factory result
  return container.items.getChangeFeedIterator<Stored>({ changeFeedStartFrom, maxItemCount: 1000 });
}

/** Read until 304: the documents seen and the continuation token after them. */
async function drain(iterator: ChangeFeedPullModelIterator<Stored>): Promise<{ documents: Stored[]; continuationToken: string }> {
  const documents: Stored[] = [];
  for (let i = 0; i < 1000; i += 1) {
    const response = await iterator.readNext();
    if (response.statusCode === StatusCodes.NotModified) return { documents, continuationToken: response.continuationToken };
    expect(response.statusCode).toBe(StatusCodes.Ok);
    documents.push(...response.result);
  }
  throw new Error('the change feed never reported 304');
}

const ids = (documents: { id: string }[]): string[] => documents.map((document) => document.id);
const byLsn = (documents: Stored[]): Stored[] => [...documents].sort((a, b) => a._lsn - b._lsn);

function creates(partition: string, ...names: string[]): OperationInput[] {
  return names.map((id) => ({ operationType: BulkOperationType.Create, resourceBody: { id, pk: partition } }));
}

describe('a persistent endpoint restarted on the same directory', () => {
  it('keeps databases, containers and documents with their system properties, ETags and LSNs', async () => {
    const dir = newDirectory();
    let running = await start(dir);
    const { database } = await running.client.databases.create({ id: 'app' });
    const { container: events } = await database.containers.create({
      id: 'events',
      partitionKey: { paths: ['/pk'] },
      defaultTtl: -1,
      uniqueKeyPolicy: { uniqueKeys: [{ paths: ['/n'] }] },
    });
    const { container: plain } = await database.containers.create({ id: 'plain' });

    const { resource: a } = await events.items.create<Doc>({ id: 'a', pk: 'p', n: 1 });
    await events.items.upsert<Doc>({ id: 'b', pk: 'p', n: 2 });
    await events.items.upsert<Doc>({ id: 'b', pk: 'p', n: 3 });
    await events.items.create<Doc>({ id: 'c', pk: 'q', n: 4 });
    await events.item('c', 'q').replace<Doc>({ id: 'c', pk: 'q', n: 5 });
    await events.items.create<Doc>({ id: 'd', pk: 'q', n: 6 });
    await events.item('d', 'q').patch([{ op: 'incr', path: '/n', value: 10 }]);
    await events.items.create<Doc>({ id: 'gone', pk: 'q', n: 7 });
    await events.item('gone', 'q').delete();
    const batch: OperationInput[] = [
      { operationType: BulkOperationType.Create, resourceBody: { id: 'e', pk: 'r', n: 8 } },
      { operationType: BulkOperationType.Create, resourceBody: { id: 'f', pk: 'r', n: 9 } },
      { operationType: BulkOperationType.Upsert, resourceBody: { id: 'a2', pk: 'r', n: 10 } },
    ];
    expect((await events.items.batch(batch, 'r')).code).toBe(200);
    // A failed batch leaves nothing, before and after the restart.
    const failed = await events.items.batch(
      [
        { operationType: BulkOperationType.Create, resourceBody: { id: 'g', pk: 'r', n: 11 } },
        { operationType: BulkOperationType.Create, resourceBody: { id: 'e', pk: 'r', n: 12 } },
      ],
      'r',
    );
    expect(failed.code).toBe(207);
    await plain.items.create({ id: 'x' });
    await plain.scripts.userDefinedFunctions.create({ id: 'double', body: 'function (n) { return n * 2; }' });

    const before = {
      databases: (await running.client.databases.readAll().fetchAll()).resources,
      events: await definition(events),
      plain: await definition(plain),
      documents: await readAll(events),
      plainDocuments: await readAll(plain),
      changes: running.endpoint.changesSince('app', 'events'),
      lsn: running.endpoint.currentLsn(),
    };
    expect(ids(before.documents).sort()).toEqual(['a', 'a2', 'b', 'c', 'd', 'e', 'f']);
    const port = running.endpoint.endpoint;
    await running.stop();

    running = await start(dir);
    expect(running.endpoint.restored).toMatchObject({ documents: 8, tornTail: false, lsn: before.lsn });
    const restartedEvents = running.container('app', 'events');
    const restartedPlain = running.container('app', 'plain');
    expect((await running.client.databases.readAll().fetchAll()).resources).toEqual(before.databases);
    expect(await definition(restartedEvents)).toEqual(before.events);
    expect(await definition(restartedPlain)).toEqual(before.plain);
    // Every document, in the same order, with the same _rid, _self, _etag, _ts and _lsn.
    expect(await readAll(restartedEvents)).toEqual(before.documents);
    expect(await readAll(restartedPlain)).toEqual(before.plainDocuments);
    expect(running.endpoint.changesSince('app', 'events')).toEqual(before.changes);
    expect(running.endpoint.currentLsn()).toBe(before.lsn);
    process.stdout.write(`restarted on ${running.endpoint.endpoint} (was ${port})\n`);

    // ETags survive: If-Match with the ETag from before the restart still matches; a stale one 412s.
    const { resource: replaced } = await restartedEvents
      .item('a', 'p')
      .replace<Doc>({ id: 'a', pk: 'p', n: 11 }, { accessCondition: { type: 'IfMatch', condition: a?._etag ?? '' } });
    expect(replaced?.n).toBe(11);
    await expect(
      restartedEvents
        .item('a', 'p')
        .replace<Doc>({ id: 'a', pk: 'p', n: 12 }, { accessCondition: { type: 'IfMatch', condition: a?._etag ?? '' } }),
    ).rejects.toMatchObject({ code: StatusCodes.PreconditionFailed });
    // Unique keys, ids and _rid counters survive too.
    await expect(restartedEvents.items.create<Doc>({ id: 'other', pk: 'p', n: 3 })).rejects.toMatchObject({ code: StatusCodes.Conflict });
    await expect(restartedEvents.items.create<Doc>({ id: 'b', pk: 'p' })).rejects.toMatchObject({ code: StatusCodes.Conflict });
    const { resource: fresh } = await restartedEvents.items.create<Doc>({ id: 'new', pk: 'p' });
    expect(before.documents.map((document) => document._rid)).not.toContain((fresh as Stored | undefined)?._rid);
    expect((fresh as Stored | undefined)?._lsn).toBe(before.lsn + 2);
    // UDFs are back (by id and body).
    const { resources: doubled } = await restartedPlain.items.query<number>('SELECT VALUE udf.double(3) FROM c').fetchAll();
    expect(doubled).toEqual([6]);
    await running.stop();
  });

  it('resumes a change-feed continuation from before one and two restarts with exactly the later changes', async () => {
    const dir = newDirectory();
    let running = await start(dir);
    const { database } = await running.client.databases.create({ id: 'app' });
    const { container } = await database.containers.create({ id: 'events', partitionKey: { paths: ['/pk'] } });
    for (const id of ['a', 'b', 'c']) await container.items.create<Doc>({ id, pk: 'p' });
    const first = await drain(changeFeed(container, ChangeFeedStartFrom.Beginning()));
    expect(ids(first.documents)).toEqual(['a', 'b', 'c']);
    // Writes after the token, before the restart: the token must see them after it.
    await container.items.create<Doc>({ id: 'd', pk: 'p' });
    await container.items.upsert<Doc>({ id: 'a', pk: 'p', n: 1 });
    await running.stop();

    running = await start(dir);
    let restarted = running.container('app', 'events');
    await restarted.items.create<Doc>({ id: 'e', pk: 'q' });
    const second = await drain(changeFeed(restarted, ChangeFeedStartFrom.Continuation(first.continuationToken)));
    expect(ids(second.documents)).toEqual(['d', 'a', 'e']);
    // Nothing else after it: 304 straight away.
    expect(ids((await drain(changeFeed(restarted, ChangeFeedStartFrom.Continuation(second.continuationToken)))).documents)).toEqual([]);

    // More writes, into the journal on top of the snapshot the restart wrote; then restart again.
    await restarted.items.batch(creates('r', 'f', 'g'), 'r');
    await restarted.item('b', 'p').delete();
    await restarted.item('c', 'p').patch([{ op: 'set', path: '/n', value: 3 }]);
    const beforeSecondRestart = await readAll(restarted);
    await running.stop();

    running = await start(dir);
    restarted = running.container('app', 'events');
    expect(running.endpoint.restored?.journalRecords).toBe(4);
    expect(await readAll(restarted)).toEqual(beforeSecondRestart);
    expect(ids((await drain(changeFeed(restarted, ChangeFeedStartFrom.Continuation(second.continuationToken)))).documents)).toEqual([
      'f',
      'g',
      'c',
    ]);
    expect(ids((await drain(changeFeed(restarted, ChangeFeedStartFrom.Continuation(first.continuationToken)))).documents)).toEqual([
      'd',
      'a',
      'e',
      'f',
      'g',
      'c',
    ]);
    expect(ids((await drain(changeFeed(restarted, ChangeFeedStartFrom.Beginning()))).documents)).toEqual(ids(byLsn(beforeSecondRestart)));
    await running.stop();
  });

  it('keeps deletes and re-creates of containers and databases', async () => {
    const dir = newDirectory();
    let running = await start(dir);
    const { database } = await running.client.databases.create({ id: 'app' });
    const { container: old } = await database.containers.create({ id: 'c', partitionKey: { paths: ['/pk'] } });
    await old.items.create<Doc>({ id: 'old', pk: 'p' });
    const { continuationToken } = await drain(changeFeed(old, ChangeFeedStartFrom.Beginning()));
    await old.delete();
    const { container } = await database.containers.create({ id: 'c', partitionKey: { paths: ['/other'] } });
    await container.items.create({ id: 'new', other: 'x' });
    const { database: doomed } = await running.client.databases.create({ id: 'doomed' });
    await doomed.containers.create({ id: 'c' });
    await doomed.delete();
    const recreated = await definition(container);
    // A replaced container: whatever the emulator holds after a replace, the restart holds too.
    const { container: replacedContainer } = await database.containers.create({ id: 'r', partitionKey: { paths: ['/pk'] } });
    await replacedContainer.items.create<Doc>({ id: 'before-replace', pk: 'p' });
    await replacedContainer.replace({ id: 'r', partitionKey: { paths: ['/pk'] }, defaultTtl: 3600 });
    await replacedContainer.items.create<Doc>({ id: 'after-replace', pk: 'p' });
    const replaced = { definition: await definition(replacedContainer), documents: await readAll(replacedContainer) };
    expect(replaced.definition?.defaultTtl).toBe(3600);
    await running.stop();

    running = await start(dir);
    const restarted = running.container('app', 'c');
    expect(await definition(restarted)).toEqual(recreated);
    expect(ids(await readAll(restarted))).toEqual(['new']);
    expect(ids((await running.client.databases.readAll().fetchAll()).resources)).toEqual(['app']);
    expect(await definition(running.container('app', 'r'))).toEqual(replaced.definition);
    expect(await readAll(running.container('app', 'r'))).toEqual(replaced.documents);
    // The old container's continuation names the old _rid, so the SDK refuses it, as real Cosmos does.
    await expect(drain(changeFeed(restarted, ChangeFeedStartFrom.Continuation(continuationToken)))).rejects.toThrow(/container/);
    await running.stop();
  });

  it('ignores a torn last journal line, and refuses a corrupt one in the middle', async () => {
    const dir = newDirectory();
    let running = await start(dir);
    const { database } = await running.client.databases.create({ id: 'app' });
    const { container } = await database.containers.create({ id: 'events', partitionKey: { paths: ['/pk'] } });
    await container.items.create<Doc>({ id: 'a', pk: 'p' });
    await container.items.create<Doc>({ id: 'b', pk: 'p' });
    const documents = await readAll(container);
    await running.stop();

    // A record cut short by a crash in the middle of its write: no newline at the end.
    const journal = join(dir, 'journal.ndjson');
    const lines = readFileSync(journal, 'utf8').split('\n').filter(Boolean);
    const lastRecord = lines.at(-1) ?? '';
    const torn = JSON.parse(lastRecord) as { seq: number };
    appendFileSync(journal, JSON.stringify({ ...torn, seq: torn.seq + 1 }).slice(0, 60));

    running = await start(dir);
    expect(running.endpoint.restored).toMatchObject({ tornTail: true, documents: 2 });
    expect(await readAll(running.container('app', 'events'))).toEqual(documents);
    await running.container('app', 'events').items.create<Doc>({ id: 'c', pk: 'p' });
    await running.stop();
    running = await start(dir);
    expect(ids(await readAll(running.container('app', 'events')))).toEqual(['a', 'b', 'c']);
    await running.stop();

    // Damage that is not a torn tail is reported, not silently dropped.
    const journalText = readFileSync(journal, 'utf8');
    writeFileSync(journal, `{"seq":\n${journalText}`);
    await expect(startLocalCosmosEndpoint({ persistDir: dir })).rejects.toThrow(/journal\.ndjson: line 1 is not JSON.*--fresh/);
  });

  it('skips the journal records a snapshot already holds (a crash between its rename and the journal truncation)', async () => {
    const dir = newDirectory();
    let running = await start(dir);
    const { database } = await running.client.databases.create({ id: 'app' });
    const { container } = await database.containers.create({ id: 'events', partitionKey: { paths: ['/pk'] } });
    await container.items.create<Doc>({ id: 'a', pk: 'p' });
    await container.items.batch(creates('p', 'b', 'c'), 'p');
    await running.stop();
    const journal = join(dir, 'journal.ndjson');
    const stale = readFileSync(journal, 'utf8');

    running = await start(dir); // snapshot now holds those records; the journal is empty
    const documents = await readAll(running.container('app', 'events'));
    await running.stop();
    writeFileSync(journal, stale); // as if the truncation had not happened

    running = await start(dir);
    expect(running.endpoint.restored).toMatchObject({ journalRecords: 0, documents: 3 });
    expect(await readAll(running.container('app', 'events'))).toEqual(documents);
    expect(running.endpoint.changesSince('app', 'events').map((change) => change.id)).toEqual(['a', 'b', 'c']);
    await running.stop();
  });

  it('compacts the journal into the snapshot while running once it outgrows the snapshot', async () => {
    const dir = newDirectory();
    let running = await start(dir, { compactAfterBytes: 1 });
    const { database } = await running.client.databases.create({ id: 'app' });
    const { container } = await database.containers.create({ id: 'events', partitionKey: { paths: ['/pk'] } });
    for (let i = 0; i < 200; i += 1) await container.items.create<Doc>({ id: `d${i}`, pk: `p${i % 7}`, n: i });
    const files = await eventually(
      () => ({
        journal: statSync(join(dir, 'journal.ndjson')).size,
        snapshot: statSync(join(dir, 'snapshot.ndjson')).size,
        snapshotSeq: snapshotHeader(dir).seq,
        temporary: existsSync(join(dir, 'snapshot.ndjson.tmp')) || existsSync(join(dir, 'journal.ndjson.tmp')),
      }),
      (settled) => !settled.temporary && settled.journal <= settled.snapshot,
    );
    // Compacted many times over (each write is a record), never letting the journal outgrow the snapshot for long.
    expect(files.snapshotSeq).toBeGreaterThan(100);
    expect(files).toMatchObject({ temporary: false, journal: expect.any(Number) });
    expect(files.journal).toBeLessThanOrEqual(files.snapshot);
    const documents = await readAll(container);
    await running.stop();

    running = await start(dir);
    expect(running.endpoint.restored).toMatchObject({ documents: 200 });
    expect(await readAll(running.container('app', 'events'))).toEqual(documents);
    await running.stop();
  });

  it('answers requests while it writes a large snapshot, and keeps the writes they made', async () => {
    const dir = newDirectory();
    let running = await start(dir, { compactAfterBytes: 1 });
    const { database } = await running.client.databases.create({ id: 'app' });
    const { container } = await database.containers.create({ id: 'events', partitionKey: { paths: ['/pk'] } });
    const temporary = join(dir, 'snapshot.ndjson.tmp');
    const body = 'x'.repeat(500);
    /** 100 documents of half a kilobyte in one batch, in partition `${prefix}${round}`. */
    const writeHundred = (target: Container, prefix: string, round: number) =>
      target.items.batch(
        Array.from({ length: 100 }, (_, i) => ({
          operationType: BulkOperationType.Create,
          resourceBody: { id: `${prefix}${round}-${i}`, pk: `${prefix}${round}`, body },
        })),
        `${prefix}${round}`,
      );
    const writeBatch = (round: number) => writeHundred(container, 'r', round);
    // The journal outgrows the snapshot each time the store doubles. Once it holds 5,000 documents
    // or more, a compaction writes at least 25 lines, each in a turn of its own; the endpoint runs in
    // this process, so a snapshot written in one synchronous stretch would never be seen half-way.
    let round = 0;
    const untilCompacting = async () => {
      for (; round < 400 && !(round > 50 && existsSync(temporary)); round += 1) await writeBatch(round);
      expect(existsSync(temporary)).toBe(true);
    };
    await untilCompacting();
    const during: string[] = [];
    while (existsSync(temporary) && during.length < 2) {
      const id = `written-mid-way-${during.length}`;
      await container.items.create<Doc>({ id, pk: 'late', n: round });
      const { resource } = await container.item(id, 'late').read<Doc>();
      if (existsSync(temporary) && resource?.n === round) during.push(id);
    }
    expect(during).toEqual(['written-mid-way-0', 'written-mid-way-1']);

    // Once that compaction is done, the writes made during it are in the journal kept after it, not in its snapshot.
    const settled = await eventually(
      () => ({
        temporary: existsSync(temporary) || existsSync(join(dir, 'journal.ndjson.tmp')),
        inJournal: during.filter((id) => readFileSync(join(dir, 'journal.ndjson'), 'utf8').includes(`"${id}"`)),
        inSnapshot: during.filter((id) => readFileSync(join(dir, 'snapshot.ndjson'), 'utf8').includes(`"${id}"`)),
      }),
      (files) => !files.temporary,
    );
    expect(settled).toEqual({ temporary: false, inJournal: during, inSnapshot: [] });
    await running.stop();
    running = await start(dir, { compactAfterBytes: 1 });
    const afterCompaction = running.container('app', 'events');
    expect(ids(await readAll(afterCompaction))).toEqual(expect.arrayContaining(during));

    // Stopped in the middle of the next compaction (usually: it has dozens of lines left): it is abandoned, and nothing is lost.
    const writeMore = (more: number) => writeHundred(afterCompaction, 'm', more);
    for (let more = 0; more < 400 && !existsSync(temporary); more += 1) await writeMore(more);
    expect(existsSync(temporary)).toBe(true);
    const documents = await readAll(afterCompaction);
    await running.stop();
    expect(existsSync(temporary)).toBe(false);

    running = await start(dir);
    const restored = await readAll(running.container('app', 'events'));
    expect(restored).toEqual(documents);
    expect(running.endpoint.changesSince('app', 'events').map((change) => change.id)).toEqual(ids(byLsn(documents)));
    await running.stop();
  }, 60_000);
});

function snapshotHeader(dir: string): { seq: number } {
  return JSON.parse(readFileSync(join(dir, 'snapshot.ndjson'), 'utf8').split('\n')[0] ?? '') as { seq: number };
}

describe('a persistent endpoint killed with SIGKILL', () => {
  /** Run the crash writer on `dir` until it has acknowledged `acks` batches (or a while), then SIGKILL it. */
  async function writeUntilKilled(dir: string, round: number, acks: number): Promise<Set<string>> {
    const child = spawn(
      process.execPath,
      ['-r', 'ts-node/register/transpile-only', join(__dirname, 'localCosmosEndpoint.crashWriter.ts'), dir, String(round), '32768'],
      {
        cwd: ROOT,
        env: { ...process.env, TS_NODE_PROJECT: join(ROOT, 'tsconfig.json') },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const acknowledged = new Set<string>();
    let stderr = '';
    let buffered = '';
    const exited = new Promise<NodeJS.Signals | number | null>((resolve) => child.once('exit', (code, signal) => resolve(signal ?? code)));
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(resolve, 20_000);
        child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
        child.stdout.on('data', (chunk: Buffer) => {
          buffered += chunk.toString();
          const lines = buffered.split('\n');
          buffered = lines.pop() ?? '';
          for (const line of lines) if (line.startsWith('ok ')) acknowledged.add(line.slice(3));
          if (acknowledged.size >= acks) {
            clearTimeout(timer);
            resolve();
          }
        });
        void exited.then((status) => {
          clearTimeout(timer);
          reject(new Error(`the crash writer exited (${String(status)}) before it was killed: ${stderr}`));
        });
      });
    } finally {
      child.kill('SIGKILL');
    }
    expect(await exited).toBe('SIGKILL');
    expect(acknowledged.size).toBeGreaterThan(0);
    return acknowledged;
  }

  it('restores every batch whole or not at all, every acknowledged one, and a change feed of exactly what is stored', async () => {
    const dir = newDirectory();
    const acknowledged = new Set<string>();
    for (let round = 1; round <= 3; round += 1) {
      // A random moment: after between 20 and 400 acknowledged batches, with 8 more in flight.
      const acks = 20 + Math.floor(Math.random() * 380);
      for (const batch of await writeUntilKilled(dir, round, acks)) acknowledged.add(batch);

      const running = await start(dir);
      const container = running.container('crash', 'docs');
      const documents = await readAll(container);
      const batches = new Map<string, string[]>();
      for (const document of documents) batches.set(document.batch ?? '', [...(batches.get(document.batch ?? '') ?? []), document.id]);
      const halves = [...batches].filter(([, members]) => members.length !== 2);
      expect(halves).toEqual([]);
      for (const [batch, members] of batches) expect(members.sort()).toEqual([`${batch}:1`, `${batch}:2`]);
      expect([...acknowledged].filter((batch) => !batches.has(batch))).toEqual([]);

      const feed = await drain(changeFeed(container, ChangeFeedStartFrom.Beginning()));
      expect(feed.documents).toEqual(byLsn(documents));
      process.stdout.write(
        `crash round ${round}: ${acknowledged.size} batches acknowledged in all, ${batches.size} stored (${documents.length} documents), restored ${JSON.stringify(running.endpoint.restored)}\n`,
      );
      await running.stop();
    }
  }, 120_000);
});

describe('restart time', () => {
  it('restores 20,000 documents from the journal, then from the snapshot, in reasonable time', async () => {
    const dir = newDirectory();
    let running = await start(dir);
    const { database } = await running.client.databases.create({ id: 'app' });
    const { container } = await database.containers.create({ id: 'events', partitionKey: { paths: ['/pk'] } });
    const loadStarted = Date.now();
    let next = 0;
    const worker = async (): Promise<void> => {
      for (let partition = next++; partition < 200; partition = next++) {
        const operations: OperationInput[] = Array.from({ length: 100 }, (_, i) => ({
          operationType: BulkOperationType.Create,
          resourceBody: {
            id: `s${partition}:${i}`,
            pk: `s${partition}`,
            n: i,
            payload: { type: 'SomethingHappened', at: new Date(0).toISOString() },
          },
        }));
        expect((await container.items.batch(operations, `s${partition}`)).code).toBe(200);
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    const loadMs = Date.now() - loadStarted;
    const lsn = running.endpoint.currentLsn();
    await running.stop();
    const journalBytes = statSync(join(dir, 'journal.ndjson')).size;

    let started = Date.now();
    running = await start(dir);
    const fromJournalMs = Date.now() - started;
    expect(running.endpoint.restored).toMatchObject({ documents: 20_000, journalRecords: 202, lsn });
    await running.stop();
    const snapshotBytes = statSync(join(dir, 'snapshot.ndjson')).size;

    started = Date.now();
    running = await start(dir);
    const fromSnapshotMs = Date.now() - started;
    expect(running.endpoint.restored).toMatchObject({ documents: 20_000, journalRecords: 0, lsn });
    const { resources } = await running.container('app', 'events').items.query<number>('SELECT VALUE COUNT(1) FROM c').fetchAll();
    expect(resources).toEqual([20_000]);
    await running.stop();

    process.stdout.write(
      `20,000 documents: loaded through the SDK in ${loadMs} ms; restart from a ${(journalBytes / 1e6).toFixed(1)} MB journal ` +
        `${fromJournalMs} ms, from a ${(snapshotBytes / 1e6).toFixed(1)} MB snapshot ${fromSnapshotMs} ms\n`,
    );
    // Loose bounds: this is about not being pathological, not a benchmark.
    expect(fromJournalMs).toBeLessThan(15_000);
    expect(fromSnapshotMs).toBeLessThan(15_000);
  }, 120_000);
});
