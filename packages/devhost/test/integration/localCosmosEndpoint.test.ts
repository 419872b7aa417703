/**
 * The local Cosmos endpoint, exercised through the real @azure/cosmos SDK: atomic transactional
 * batches, the LSN-based change feed, partition-scoped queries, and the change log API; plus the
 * transactional maps the emulator's store runs on.
 */
import { randomUUID } from 'node:crypto';
import { Agent, request as httpRequest } from 'node:http';
import {
  BulkOperationType,
  ChangeFeedStartFrom,
  CosmosClient,
  StatusCodes,
  type ChangeFeedPullModelIterator,
  type Container,
  type Database,
  type FeedOptions,
  type NonePartitionKeyType,
  type OperationInput,
  type OperationResponse,
  type SqlQuerySpec,
} from '@azure/cosmos';
import fc from 'fast-check';
import { localCosmosClientOptions, startLocalCosmosEndpoint, type LocalCosmosEndpoint } from '../../src/cosmos/localCosmosEndpoint';
import { JournaledMap, PartitionedMap } from '../../src/cosmos/transactionalMaps';

interface Doc {
  id: string;
  pk: string;
  n?: number;
  writer?: number;
  /** Stamped by the endpoint on every stored version. */
  _lsn?: number;
}

const EMULATOR_KEY = 'C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU5DE2nQ9nDuVTqobD4b8mGGyPMbIZnqyMsEcaGQy67XyHQ==';

let endpoint: LocalCosmosEndpoint;
let client: CosmosClient;
let database: Database;

beforeAll(async () => {
  endpoint = await startLocalCosmosEndpoint();
  client = new CosmosClient(localCosmosClientOptions(endpoint));
  ({ database } = await client.databases.create({ id: `local-cosmos-endpoint-${randomUUID()}` }));
});

afterAll(async () => {
  client.dispose();
  await endpoint.close();
});

async function newContainer(): Promise<Container> {
  const { container } = await database.containers.create({ id: `c-${randomUUID()}`, partitionKey: { paths: ['/pk'] } });
  return container;
}

async function seed(container: Container, ...docs: Doc[]): Promise<void> {
  for (const doc of docs) await container.items.create(doc);
}

async function readDoc(container: Container, id: string, pk: string): Promise<(Doc & { _etag: string; _lsn: number }) | undefined> {
  const { resource } = await container.item(id, pk).read<Doc & { _etag: string; _lsn: number }>();
  return resource;
}

async function countById(container: Container, id: string): Promise<number> {
  const { resources } = await container.items
    .query<number>({ query: 'SELECT VALUE COUNT(1) FROM c WHERE c.id = @id', parameters: [{ name: '@id', value: id }] })
    .fetchAll();
  return resources[0] ?? 0;
}

const statuses = (results: OperationResponse[] | undefined): number[] => (results ?? []).map((r) => r.statusCode);

/** Read pages until the feed answers 304; returns the pages and the continuation token after them. */
async function readUntilNotModified<T>(iterator: ChangeFeedPullModelIterator<T>): Promise<{ pages: T[][]; continuationToken: string }> {
  const pages: T[][] = [];
  for (let i = 0; i < 100; i += 1) {
    const response = await iterator.readNext();
    if (response.statusCode === StatusCodes.NotModified) return { pages, continuationToken: response.continuationToken };
    expect(response.statusCode).toBe(StatusCodes.Ok);
    pages.push(response.result);
  }
  throw new Error('the change feed never reported 304');
}

const ids = (pages: { id: string }[][]): string[] => pages.flat().map((d) => d.id);

type StartFrom =
  | ReturnType<typeof ChangeFeedStartFrom.Beginning>
  | ReturnType<typeof ChangeFeedStartFrom.Now>
  | ReturnType<typeof ChangeFeedStartFrom.Time>
  | ReturnType<typeof ChangeFeedStartFrom.Continuation>;

/**
 * A change feed iterator. The SDK's ChangeFeedStartFrom.* factories return sibling classes that
 * match the options' abstract ChangeFeedStartFrom only structurally, which typescript-eslint's
 * no-unsafe-class-instance-assignment reports; this is the one place that accepts it.
 */
function changeFeed(container: Container, changeFeedStartFrom: StartFrom, maxItemCount?: number): ChangeFeedPullModelIterator<Doc> {
  // eslint-disable-next-line @typescript-eslint/no-unsafe-class-instance-assignment -- the SDK's own factory result, see above
  return container.items.getChangeFeedIterator<Doc>({ changeFeedStartFrom, ...(maxItemCount === undefined ? {} : { maxItemCount }) });
}

describe('the endpoint', () => {
  it('describes itself and serves the SDK', async () => {
    expect(endpoint.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(endpoint.key).toBe(EMULATOR_KEY);
    expect(endpoint.connectionString).toBe(`AccountEndpoint=${endpoint.endpoint};AccountKey=${EMULATOR_KEY};`);

    const container = await newContainer();
    const before = endpoint.currentLsn();
    const { resource: created } = await container.items.create<Doc>({ id: 'a', pk: 'p', n: 1 });
    const { resource: replaced } = await container.item('a', 'p').replace<Doc>({ id: 'a', pk: 'p', n: 2 });
    const stored = await readDoc(container, 'a', 'p');

    expect(created?._lsn).toBe(before + 1);
    expect(typeof created?._ts).toBe('number');
    expect(replaced?._lsn).toBe(before + 2);
    expect(stored).toMatchObject({ n: 2, _lsn: before + 2 });
    expect(endpoint.currentLsn()).toBe(before + 2);
  });

  it('numbers writes with one sequence across containers', async () => {
    const [first, second] = [await newContainer(), await newContainer()];
    await seed(first, { id: 'x', pk: 'p' });
    await seed(second, { id: 'x', pk: 'p' });
    await first.items.upsert<Doc>({ id: 'x', pk: 'p', n: 1 });
    const lsns = [
      ...endpoint.changesSince(database.id, first.id).map((c) => c.lsn),
      ...endpoint.changesSince(database.id, second.id).map((c) => c.lsn),
    ];
    expect(lsns).toEqual([endpoint.currentLsn(), endpoint.currentLsn() - 1]);
  });

  it('keeps an idle keep-alive connection open for the client to reuse (a server time-out races the next request)', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const get = () =>
      new Promise<{ reused: boolean; status: number | undefined }>((resolve, reject) => {
        const request = httpRequest(endpoint.endpoint, { agent }, (response) => {
          response.resume();
          response.on('end', () => resolve({ reused: request.reusedSocket, status: response.statusCode }));
        });
        request.on('error', reject);
        request.end();
      });
    try {
      expect(await get()).toMatchObject({ reused: false });
      // Longer than Node's default keep-alive time-out (5 s, checked about every second), after which the server used to close it.
      await new Promise((resolve) => setTimeout(resolve, 7_000));
      expect(await get()).toMatchObject({ reused: true });
    } finally {
      agent.destroy();
    }
  }, 15_000);

  it('closes promptly, keep-alive connections included, and only once', async () => {
    const other = await startLocalCosmosEndpoint();
    const otherClient = new CosmosClient(localCosmosClientOptions(other));
    await otherClient.databases.create({ id: 'db' }); // leaves a keep-alive socket open
    const started = Date.now();
    await other.close();
    await other.close();
    expect(Date.now() - started).toBeLessThan(1000);
    await expect(otherClient.database('db').read()).rejects.toThrow();
    otherClient.dispose();
  });
});

describe('transactional batch', () => {
  it('applies every operation and reports each result', async () => {
    const container = await newContainer();
    await seed(container, { id: 'replace-me', pk: 'p', n: 1 }, { id: 'delete-me', pk: 'p' }, { id: 'patch-me', pk: 'p', n: 1 });
    const etag = (await readDoc(container, 'replace-me', 'p'))!._etag;

    const operations: OperationInput[] = [
      { operationType: BulkOperationType.Create, resourceBody: { id: 'new', pk: 'p', n: 1 } },
      { operationType: BulkOperationType.Upsert, resourceBody: { id: 'upserted', pk: 'p', n: 1 } },
      { operationType: BulkOperationType.Replace, id: 'replace-me', ifMatch: etag, resourceBody: { id: 'replace-me', pk: 'p', n: 2 } },
      { operationType: BulkOperationType.Delete, id: 'delete-me' },
      { operationType: BulkOperationType.Patch, id: 'patch-me', resourceBody: { operations: [{ op: 'incr', path: '/n', value: 4 }] } },
      { operationType: BulkOperationType.Read, id: 'new' },
    ];
    const response = await container.items.batch(operations, 'p');

    expect(response.code).toBe(200);
    expect(statuses(response.result)).toEqual([201, 201, 200, 204, 200, 200]);
    const [created, , , deleted, patched, read] = response.result!;
    expect(created?.resourceBody).toMatchObject({ id: 'new', n: 1 });
    expect(typeof created?.eTag).toBe('string');
    expect(created?.eTag).toBe(created?.resourceBody?._etag);
    expect(deleted?.resourceBody).toBeUndefined();
    expect(patched?.resourceBody).toMatchObject({ id: 'patch-me', n: 5 });
    expect(read?.resourceBody).toMatchObject({ id: 'new' });

    expect(await readDoc(container, 'new', 'p')).toMatchObject({ n: 1 });
    expect(await readDoc(container, 'upserted', 'p')).toMatchObject({ n: 1 });
    expect(await readDoc(container, 'replace-me', 'p')).toMatchObject({ n: 2 });
    expect(await readDoc(container, 'delete-me', 'p')).toBeUndefined();
    expect(await readDoc(container, 'patch-me', 'p')).toMatchObject({ n: 5 });
  });

  it('leaves resource bodies out of write results when asked for minimal responses', async () => {
    const container = await newContainer();
    const response = await container.items.batch(
      [
        { operationType: BulkOperationType.Create, resourceBody: { id: 'a', pk: 'p' } },
        { operationType: BulkOperationType.Read, id: 'a' },
      ],
      'p',
      { contentResponseOnWriteEnabled: false },
    );
    expect(statuses(response.result)).toEqual([201, 200]);
    expect(response.result![0]).not.toHaveProperty('resourceBody');
    expect(typeof response.result![0]!.eTag).toBe('string');
    expect(response.result![1]!.resourceBody).toMatchObject({ id: 'a' });
  });

  it('writes nothing when a later operation conflicts, and reports 409 behind a 207', async () => {
    const container = await newContainer();
    await seed(container, { id: 'taken', pk: 'p', n: 1 });
    const lsnBefore = endpoint.currentLsn();

    const response = await container.items.batch(
      [
        { operationType: BulkOperationType.Create, resourceBody: { id: 'fresh', pk: 'p' } },
        { operationType: BulkOperationType.Create, resourceBody: { id: 'taken', pk: 'p', n: 2 } },
      ],
      'p',
    );

    expect(response.code).toBe(207);
    expect(statuses(response.result)).toEqual([424, 409]);
    expect(await readDoc(container, 'fresh', 'p')).toBeUndefined();
    expect(await readDoc(container, 'taken', 'p')).toMatchObject({ n: 1 });
    expect(endpoint.currentLsn()).toBe(lsnBefore);
    expect(endpoint.changesSince(database.id, container.id).map((c) => c.id)).toEqual(['taken']);
  });

  const failures: { failure: string; failing: OperationInput; status: number }[] = [
    {
      failure: 'a stale ifMatch',
      failing: { operationType: BulkOperationType.Replace, id: 'kept', ifMatch: '"stale"', resourceBody: { id: 'kept', pk: 'p', n: 9 } },
      status: 412,
    },
    { failure: 'a missing document', failing: { operationType: BulkOperationType.Read, id: 'missing' }, status: 404 },
    { failure: 'a delete of a missing document', failing: { operationType: BulkOperationType.Delete, id: 'missing' }, status: 404 },
    {
      failure: 'a document of another partition',
      failing: { operationType: BulkOperationType.Create, resourceBody: { id: 'elsewhere', pk: 'other' } },
      status: 400,
    },
  ];
  it.each(failures)('rolls back every operation on $failure', async ({ failing, status }) => {
    const container = await newContainer();
    await seed(container, { id: 'kept', pk: 'p', n: 1 }, { id: 'doomed', pk: 'p' });

    const response = await container.items.batch(
      [
        { operationType: BulkOperationType.Delete, id: 'doomed' },
        { operationType: BulkOperationType.Upsert, resourceBody: { id: 'kept', pk: 'p', n: 2 } },
        { operationType: BulkOperationType.Create, resourceBody: { id: 'fresh', pk: 'p' } },
        failing,
        { operationType: BulkOperationType.Create, resourceBody: { id: 'after', pk: 'p' } },
      ],
      'p',
    );

    expect(response.code).toBe(207);
    expect(statuses(response.result)).toEqual([424, 424, 424, status, 424]);
    expect(await readDoc(container, 'doomed', 'p')).toBeDefined();
    expect(await readDoc(container, 'kept', 'p')).toMatchObject({ n: 1 });
    expect(await readDoc(container, 'fresh', 'p')).toBeUndefined();
    expect(await readDoc(container, 'after', 'p')).toBeUndefined();
  });

  it('lets exactly one of 50 concurrent batches creating the same ids succeed', async () => {
    const container = await newContainer();
    const responses = await Promise.all(
      Array.from({ length: 50 }, (_, writer) =>
        container.items.batch(
          [
            { operationType: BulkOperationType.Create, resourceBody: { id: 'first', pk: 'p', writer } },
            { operationType: BulkOperationType.Create, resourceBody: { id: 'second', pk: 'p', writer } },
          ],
          'p',
        ),
      ),
    );

    const winners = responses.filter((r) => r.code === 200);
    expect(winners).toHaveLength(1);
    for (const loser of responses.filter((r) => r.code !== 200)) {
      expect(loser.code).toBe(207);
      expect(statuses(loser.result)).toEqual([409, 424]);
    }
    expect(await countById(container, 'first')).toBe(1);
    expect(await countById(container, 'second')).toBe(1);
    const winner = winners[0]!.result![0]!.resourceBody!.writer;
    expect((await readDoc(container, 'first', 'p'))?.writer).toBe(winner);
    expect((await readDoc(container, 'second', 'p'))?.writer).toBe(winner);
  });
});

describe('queries with a partition key', () => {
  /** Every page of a query, as the SDK pages it. */
  async function pagesOf<T>(container: Container, query: SqlQuerySpec | string, options: FeedOptions): Promise<T[][]> {
    const iterator = container.items.query<T>(query, options);
    const pages: T[][] = [];
    while (iterator.hasMoreResults()) {
      const { resources } = await iterator.fetchNext();
      if (resources.length > 0) pages.push(resources);
    }
    return pages;
  }

  it('see only that partition, even when the query does not filter on the key (as in real Cosmos)', async () => {
    const container = await newContainer();
    await seed(container, { id: 'a', pk: 'p1' }, { id: 'b', pk: 'p2' }, { id: 'c', pk: 'p1' });

    const scoped = await container.items.query<Doc>('SELECT * FROM c', { partitionKey: 'p1' }).fetchAll();
    expect(scoped.resources.map((d) => d.id)).toEqual(['a', 'c']);
    expect((await container.items.readAll<Doc>({ partitionKey: 'p2' }).fetchAll()).resources.map((d) => d.id)).toEqual(['b']);
    expect((await container.items.query<number>('SELECT VALUE COUNT(1) FROM c', { partitionKey: 'nowhere' }).fetchAll()).resources).toEqual(
      [0],
    );
    // Without a partition key a query still spans the container.
    expect((await container.items.query<Doc>('SELECT * FROM c').fetchAll()).resources.map((d) => d.id).sort()).toEqual(['a', 'b', 'c']);
  });

  it('answer exactly like the same query across partitions: ORDER BY, TOP, VALUE, COUNT, parameters, paging', async () => {
    const container = await newContainer();
    for (const pk of ['p', 'q']) {
      await seed(container, ...[5, 3, 9, 1, 7, 3, 8].map((n, i) => ({ id: `${pk}-${i}`, pk, n })));
    }
    const param = (query: string, extra: { name: string; value: number }[] = []): SqlQuerySpec => ({
      query,
      parameters: [{ name: '@pk', value: 'p' }, ...extra],
    });
    const queries: SqlQuerySpec[] = [
      param('SELECT * FROM c WHERE c.pk = @pk ORDER BY c.n'),
      param('SELECT * FROM c WHERE c.pk = @pk ORDER BY c.n DESC'),
      param('SELECT * FROM c WHERE c.pk = @pk AND c.n >= @min ORDER BY c.n', [{ name: '@min', value: 4 }]),
      param('SELECT TOP 3 c.id, c.n FROM c WHERE c.pk = @pk ORDER BY c.n DESC'),
      param('SELECT VALUE c.n FROM c WHERE c.pk = @pk'),
      param('SELECT VALUE COUNT(1) FROM c WHERE c.pk = @pk'),
      param('SELECT * FROM c WHERE c.pk = @pk'),
    ];
    for (const query of queries) {
      for (const maxItemCount of [undefined, 2, 3]) {
        const page = maxItemCount === undefined ? {} : { maxItemCount };
        const scoped = await pagesOf<unknown>(container, query, { partitionKey: 'p', ...page });
        const across = await pagesOf<unknown>(container, query, page);
        expect({ query: query.query, maxItemCount, results: scoped.flat() }).toEqual({
          query: query.query,
          maxItemCount,
          results: across.flat(),
        });
        if (maxItemCount !== undefined) expect(scoped.every((p) => p.length <= maxItemCount)).toBe(true);
      }
    }
    // Paging really happened: 7 documents in pages of 3.
    expect((await pagesOf<Doc>(container, queries[0]!, { partitionKey: 'p', maxItemCount: 3 })).map((p) => p.length)).toEqual([3, 3, 1]);
  });

  it('see documents without the partition key property under PartitionKey.None', async () => {
    const container = await newContainer();
    await container.items.create({ id: 'keyless' });
    await seed(container, { id: 'keyed', pk: 'p' });
    const none: NonePartitionKeyType = {}; // the SDK's PartitionKey.None: sent as [{}]
    const { resources } = await container.items.query<{ id: string }>('SELECT * FROM c', { partitionKey: none }).fetchAll();
    expect(resources.map((d) => d.id)).toEqual(['keyless']);
  });

  it("keep whole-container evaluation in a container created without a partition key (the SDK's /_partitionKey)", async () => {
    const { container } = await database.containers.create({ id: `c-${randomUUID()}` });
    await container.items.create({ id: 'a' });
    await container.items.create({ id: 'b' });
    const none: NonePartitionKeyType = {};
    const { resources } = await container.items.query<{ id: string }>('SELECT * FROM c ORDER BY c.id', { partitionKey: none }).fetchAll();
    expect(resources.map((d) => d.id)).toEqual(['a', 'b']);
  });

  it('follow creates, replaces, deletes, committed batches and rolled-back batches', async () => {
    const container = await newContainer();
    await seed(container, { id: 'a', pk: 'p', n: 1 }, { id: 'b', pk: 'p', n: 2 }, { id: 'x', pk: 'q', n: 3 });
    const scoped = async (): Promise<[string, number | undefined][]> =>
      (await container.items.query<Doc>('SELECT * FROM c ORDER BY c.id', { partitionKey: 'p' }).fetchAll()).resources.map((d) => [
        d.id,
        d.n,
      ]);

    await container.item('a', 'p').replace<Doc>({ id: 'a', pk: 'p', n: 10 });
    await container.item('b', 'p').delete();
    await container.items.upsert<Doc>({ id: 'c', pk: 'p', n: 3 });
    expect(await scoped()).toEqual([
      ['a', 10],
      ['c', 3],
    ]);

    const failed = await container.items.batch(
      [
        { operationType: BulkOperationType.Upsert, resourceBody: { id: 'a', pk: 'p', n: 99 } },
        { operationType: BulkOperationType.Delete, id: 'c' },
        { operationType: BulkOperationType.Create, resourceBody: { id: 'ghost', pk: 'p' } },
        { operationType: BulkOperationType.Create, resourceBody: { id: 'a', pk: 'p' } },
      ],
      'p',
    );
    expect(failed.code).toBe(207);
    expect(await scoped()).toEqual([
      ['a', 10],
      ['c', 3],
    ]);

    const ok = await container.items.batch(
      [
        { operationType: BulkOperationType.Delete, id: 'a' },
        { operationType: BulkOperationType.Create, resourceBody: { id: 'd', pk: 'p', n: 4 } },
        { operationType: BulkOperationType.Patch, id: 'c', resourceBody: { operations: [{ op: 'incr', path: '/n', value: 1 }] } },
      ],
      'p',
    );
    expect(ok.code).toBe(200);
    expect(await scoped()).toEqual([
      ['c', 4],
      ['d', 4],
    ]);
    expect((await container.items.query<Doc>('SELECT * FROM c', { partitionKey: 'q' }).fetchAll()).resources.map((d) => d.id)).toEqual([
      'x',
    ]);
  });

  it('still reject malformed queries with 400', async () => {
    const container = await newContainer();
    await seed(container, { id: 'a', pk: 'p' });
    await expect(container.items.query('SELECT * FROM', { partitionKey: 'p' }).fetchAll()).rejects.toMatchObject({ code: 400 });
  });

  it('evaluate over that partition only; the SDK query-plan request over nothing', async () => {
    const container = await newContainer();
    await seed(container, ...Array.from({ length: 30 }, (_, i) => ({ id: `d${i}`, pk: `p${i % 3}` })));
    const before = endpoint.counters();
    const { resources } = await container.items.query<Doc>('SELECT * FROM c', { partitionKey: 'p1' }).fetchAll();
    const after = endpoint.counters();
    expect(resources).toHaveLength(10);
    expect(after.queries - before.queries).toBe(2); // the query-plan request and the query
    expect(after.queryDocumentsScanned - before.queryDocumentsScanned).toBe(10);
    expect(after.documentStoreScans - before.documentStoreScans).toBe(0);
  });
});

describe('change feed', () => {
  it('from the beginning sees every document, in write order, then reports 304', async () => {
    const container = await newContainer();
    await seed(container, { id: 'a', pk: 'p1' }, { id: 'b', pk: 'p2' }, { id: 'c', pk: 'p1' });

    const { pages } = await readUntilNotModified(changeFeed(container, ChangeFeedStartFrom.Beginning()));

    expect(ids(pages)).toEqual(['a', 'b', 'c']);
    const lsns = pages.flat().map((d) => d._lsn ?? 0);
    expect(lsns.every((lsn, i) => lsn > (lsns[i - 1] ?? 0))).toBe(true);
  });

  it('from now sees only later writes', async () => {
    const container = await newContainer();
    await seed(container, { id: 'before', pk: 'p' });
    const iterator = changeFeed(container, ChangeFeedStartFrom.Now());
    expect((await iterator.readNext()).statusCode).toBe(StatusCodes.NotModified);

    await seed(container, { id: 'after', pk: 'p' });
    const { pages } = await readUntilNotModified(iterator);
    expect(ids(pages)).toEqual(['after']);
  });

  it('from a time sees writes made since then (to the second, as the SDK sends an HTTP date)', async () => {
    const container = await newContainer();
    await seed(container, { id: 'a', pk: 'p' }, { id: 'b', pk: 'p' });
    expect(ids((await readUntilNotModified(changeFeed(container, ChangeFeedStartFrom.Time(new Date(0))))).pages)).toEqual(['a', 'b']);
    const future = changeFeed(container, ChangeFeedStartFrom.Time(new Date(Date.now() + 60_000)));
    expect((await future.readNext()).statusCode).toBe(StatusCodes.NotModified);
  });

  it('pages by maxItemCount', async () => {
    const container = await newContainer();
    await seed(container, ...['a', 'b', 'c', 'd', 'e'].map((id) => ({ id, pk: 'p' })));
    const { pages } = await readUntilNotModified(changeFeed(container, ChangeFeedStartFrom.Beginning(), 2));
    expect(pages.map((page) => page.map((d) => d.id))).toEqual([['a', 'b'], ['c', 'd'], ['e']]);
  });

  it('resumes from a continuation token exactly after the last item seen', async () => {
    const container = await newContainer();
    await seed(container, ...['d1', 'd2', 'd3', 'd4', 'd5'].map((id) => ({ id, pk: 'p' })));
    const first = changeFeed(container, ChangeFeedStartFrom.Beginning(), 2);
    const page1 = await first.readNext();
    const page2 = await first.readNext();
    expect(ids([page1.result, page2.result])).toEqual(['d1', 'd2', 'd3', 'd4']);

    await seed(container, { id: 'd6', pk: 'p' });
    await container.items.upsert<Doc>({ id: 'd1', pk: 'p', n: 1 });

    const resumed = changeFeed(container, ChangeFeedStartFrom.Continuation(page2.continuationToken));
    const { pages } = await readUntilNotModified(resumed);
    expect(ids(pages)).toEqual(['d5', 'd6', 'd1']);
    expect(pages.flat().at(-1)).toMatchObject({ id: 'd1', n: 1 });
  });

  it('shows a document changed twice between reads once, at its latest version', async () => {
    const container = await newContainer();
    const iterator = changeFeed(container, ChangeFeedStartFrom.Beginning());
    await seed(container, { id: 'a', pk: 'p', n: 0 }, { id: 'b', pk: 'p' });
    expect(ids((await readUntilNotModified(iterator)).pages)).toEqual(['a', 'b']);

    await container.item('a', 'p').replace<Doc>({ id: 'a', pk: 'p', n: 1 });
    await container.item('a', 'p').patch([{ op: 'set', path: '/n', value: 2 }]);

    const { pages } = await readUntilNotModified(iterator);
    expect(pages.flat()).toEqual([expect.objectContaining({ id: 'a', n: 2 })]);
  });

  it('per partition key sees only that partition, from the beginning, from now and from its continuation', async () => {
    const container = await newContainer();
    await seed(container, { id: 'a', pk: 'p1' }, { id: 'b', pk: 'p2' }, { id: 'c', pk: 'p1' });

    const fromBeginning = changeFeed(container, ChangeFeedStartFrom.Beginning('p1'));
    const fromNow = changeFeed(container, ChangeFeedStartFrom.Now('p1'));
    const seen = await readUntilNotModified(fromBeginning);
    expect(ids(seen.pages)).toEqual(['a', 'c']);
    expect((await fromNow.readNext()).statusCode).toBe(StatusCodes.NotModified);

    await seed(container, { id: 'd', pk: 'p2' }, { id: 'e', pk: 'p1' });
    expect(ids((await readUntilNotModified(fromNow)).pages)).toEqual(['e']);
    const resumed = changeFeed(container, ChangeFeedStartFrom.Continuation(seen.continuationToken));
    expect(ids((await readUntilNotModified(resumed)).pages)).toEqual(['e']);
  });

  it("includes a batch's documents and nothing from a failed batch", async () => {
    const container = await newContainer();
    const iterator = changeFeed(container, ChangeFeedStartFrom.Now());
    expect((await iterator.readNext()).statusCode).toBe(StatusCodes.NotModified);

    const ok = await container.items.batch(
      ['x', 'y', 'z'].map((id) => ({ operationType: BulkOperationType.Create, resourceBody: { id, pk: 'p' } })),
      'p',
    );
    const failed = await container.items.batch(
      [
        { operationType: BulkOperationType.Create, resourceBody: { id: 'ghost', pk: 'p' } },
        { operationType: BulkOperationType.Create, resourceBody: { id: 'x', pk: 'p' } },
      ],
      'p',
    );
    expect([ok.code, failed.code]).toEqual([200, 207]);
    expect(ids((await readUntilNotModified(iterator)).pages)).toEqual(['x', 'y', 'z']);
  });

  it('drops deleted documents from the latest-version feed', async () => {
    const container = await newContainer();
    await seed(container, { id: 'stays', pk: 'p' }, { id: 'goes', pk: 'p' });
    await container.item('goes', 'p').delete();
    const { pages } = await readUntilNotModified(changeFeed(container, ChangeFeedStartFrom.Beginning()));
    expect(ids(pages)).toEqual(['stays']);
  });

  it('speaks the wire protocol: etag continuation, item count, 304 with the etag unchanged', async () => {
    const container = await newContainer();
    await seed(container, { id: 'a', pk: 'p' }, { id: 'b', pk: 'p' });
    const url = new URL(`dbs/${database.id}/colls/${container.id}/docs`, endpoint.endpoint);
    const get = (headers: Record<string, string>): Promise<Response> => fetch(url, { headers: { 'a-im': 'Incremental feed', ...headers } });

    const first = await get({ 'x-ms-max-item-count': '1' });
    expect(first.status).toBe(200);
    expect(first.headers.get('x-ms-item-count')).toBe('1');
    const firstBody = (await first.json()) as { Documents: Doc[]; _count: number };
    expect(firstBody.Documents.map((d) => d.id)).toEqual(['a']);
    expect(firstBody._count).toBe(1);
    const afterA = first.headers.get('etag')!;
    expect(afterA).toBe(String(endpoint.changesSince(database.id, container.id)[0]!.lsn));

    const second = await get({ 'if-none-match': afterA });
    const afterB = second.headers.get('etag')!;
    expect(((await second.json()) as { Documents: Doc[] }).Documents.map((d) => d.id)).toEqual(['b']);

    const nothingNew = await get({ 'if-none-match': afterB });
    expect(nothingNew.status).toBe(304);
    expect(nothingNew.headers.get('etag')).toBe(afterB);

    const fromNow = await get({ 'if-none-match': '*' });
    expect(fromNow.status).toBe(304);
    expect(fromNow.headers.get('etag')).toBe(String(endpoint.currentLsn()));

    const otherPartition = await get({ 'x-ms-documentdb-partitionkey': '["elsewhere"]' });
    expect(otherPartition.status).toBe(304);
  });
});

describe('changesSince after a rolled-back batch', () => {
  it('keeps every document at its original LSN, in LSN order', async () => {
    const container = await newContainer();
    await seed(container, { id: 'a', pk: 'p', n: 1 }, { id: 'b', pk: 'p' }, { id: 'c', pk: 'p' });
    const before = endpoint.changesSince(database.id, container.id).map((c) => [c.id, c.lsn, c.document.n]);

    const response = await container.items.batch(
      [
        { operationType: BulkOperationType.Upsert, resourceBody: { id: 'a', pk: 'p', n: 2 } },
        { operationType: BulkOperationType.Delete, id: 'b' },
        { operationType: BulkOperationType.Create, resourceBody: { id: 'new', pk: 'p' } },
        { operationType: BulkOperationType.Create, resourceBody: { id: 'c', pk: 'p' } },
      ],
      'p',
    );

    expect(response.code).toBe(207);
    expect(endpoint.changesSince(database.id, container.id).map((c) => [c.id, c.lsn, c.document.n])).toEqual(before);
    await container.items.upsert<Doc>({ id: 'b', pk: 'p', n: 5 });
    expect(endpoint.changesSince(database.id, container.id).map((c) => c.id)).toEqual(['a', 'c', 'b']);
  });
});

describe('changesSince', () => {
  it('lists the latest version of changed documents after an LSN, in LSN order, as copies', async () => {
    const container = await newContainer();
    await seed(container, { id: 'a', pk: 'p' }, { id: 'b', pk: 'q' }, { id: 'c', pk: 'p' });
    await container.items.upsert<Doc>({ id: 'a', pk: 'p', n: 1 });

    const all = endpoint.changesSince(database.id, container.id);
    expect(all.map((c) => [c.id, c.partitionKey])).toEqual([
      ['b', 'q'],
      ['c', 'p'],
      ['a', 'p'],
    ]);
    expect(all.map((c) => c.document._lsn)).toEqual(all.map((c) => c.lsn));
    expect(all[2]?.document).toMatchObject({ id: 'a', n: 1 });

    expect(endpoint.changesSince(database.id, container.id, all[0]!.lsn, 1).map((c) => c.id)).toEqual(['c']);
    (all[2]!.document as { n?: number }).n = 99;
    expect(endpoint.changesSince(database.id, container.id).at(-1)?.document).toMatchObject({ n: 1 });
    expect(endpoint.changesSince(database.id, 'no-such-container')).toEqual([]);
  });
});

describe('transactional maps', () => {
  type Value = { readonly p: string; readonly n: number };
  type Op = { readonly kind: 'set'; readonly key: string; readonly value: Value } | { readonly kind: 'delete'; readonly key: string };
  // A key keeps its partition, as a document's _rid does (the emulator never moves one between partitions).
  const partitionOfKey: Record<string, string> = { k0: 'a', k1: 'a', k2: 'b', k3: 'b', k4: 'c', k5: 'c' };
  const key = fc.constantFrom(...Object.keys(partitionOfKey));
  const op: fc.Arbitrary<Op> = fc.oneof(
    fc.tuple(key, fc.nat(99)).map(([k, n]): Op => ({ kind: 'set', key: k, value: { p: partitionOfKey[k] ?? '?', n } })),
    key.map((k): Op => ({ kind: 'delete', key: k })),
  );
  const apply = (map: Map<string, Value>, o: Op): void => {
    if (o.kind === 'set') map.set(o.key, o.value);
    else map.delete(o.key);
  };
  const byPartition = (entries: [string, Value][], p: string): [string, Value][] => entries.filter(([, v]) => v.p === p);

  it('PartitionedMap: commit gives what a plain Map gives, rollback what it had, order and partition index included', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 20 }), fc.array(op, { maxLength: 20 }), fc.boolean(), (setup, transaction, commit) => {
        const map = new PartitionedMap<Value>((v) => v.p);
        const model = new Map<string, Value>();
        for (const o of setup) {
          apply(map, o);
          apply(model, o);
        }
        const before = [...model];
        map.begin();
        for (const o of transaction) {
          apply(map, o);
          apply(model, o);
          expect(map.get(o.key)).toEqual(model.get(o.key));
          expect(map.has(o.key)).toBe(model.has(o.key));
        }
        expect(map.journalSize).toBeLessThanOrEqual(transaction.length);
        if (commit) map.commit();
        else map.rollback();
        const expected = commit ? [...model] : before;
        expect([...map]).toEqual(expected);
        for (const p of ['a', 'b', 'c']) expect(map.partitionEntries(p)).toEqual(byPartition(expected, p));
        expect(map.partitionCount).toBe(new Set(expected.map(([, v]) => v.p)).size);
      }),
    );
  });

  it('JournaledMap: rollback restores exactly the entries before the transaction', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 20 }), fc.array(op, { maxLength: 20 }), (setup, transaction) => {
        const map = new JournaledMap<string, Value>();
        for (const o of setup) apply(map, o);
        const before = new Map(map);
        map.begin();
        for (const o of transaction) apply(map, o);
        map.rollback();
        expect(new Map(map)).toEqual(before);
        expect(map.size).toBe(before.size);
      }),
    );
  });
});
