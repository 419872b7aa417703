/**
 * The local Cosmos endpoint at scale: 20,000 documents over 2,000 partitions. What it asserts is
 * cost, through the endpoint's work counters rather than wall time (so it is not timing-flaky):
 *   - a query with a partition key evaluates only that partition's documents, whatever the
 *     container holds (and the SDK's query-plan request evaluates none);
 *   - point operations and batches never iterate the container's document store;
 *   - a batch, committed or rolled back, journals O(its operations) entries, not O(documents).
 */
import { randomUUID } from 'node:crypto';
import { BulkOperationType, CosmosClient, type Container, type OperationInput } from '@azure/cosmos';
import {
  localCosmosClientOptions,
  startLocalCosmosEndpoint,
  type LocalCosmosCounters,
  type LocalCosmosEndpoint,
} from '../../src/cosmos/localCosmosEndpoint';

const PARTITIONS = 2000;
const DOCS_PER_PARTITION = 10;
const IN_FLIGHT = 16;

interface Doc {
  id: string;
  pk: string;
  version: number;
  n?: number;
}

let endpoint: LocalCosmosEndpoint;
let client: CosmosClient;
let container: Container;
/** Partitions [0, loaded) hold DOCS_PER_PARTITION documents each. */
let loaded = 0;

const pk = (partition: number): string => `stream-${partition}`;

beforeAll(async () => {
  endpoint = await startLocalCosmosEndpoint();
  client = new CosmosClient(localCosmosClientOptions(endpoint));
  const { database } = await client.databases.create({ id: `scale-${randomUUID()}` });
  ({ container } = await database.containers.create({ id: 'docs', partitionKey: { paths: ['/pk'] } }));
});

afterAll(async () => {
  client.dispose();
  await endpoint.close();
});

/** Fill partitions [loaded, upTo) with one atomic batch of creates each, IN_FLIGHT batches at a time. */
async function loadUpTo(upTo: number): Promise<void> {
  let next = loaded;
  const worker = async (): Promise<void> => {
    for (let partition = next++; partition < upTo; partition = next++) {
      const operations: OperationInput[] = Array.from({ length: DOCS_PER_PARTITION }, (_, i) => ({
        operationType: BulkOperationType.Create,
        resourceBody: { id: `${pk(partition)}:${i + 1}`, pk: pk(partition), version: i + 1 },
      }));
      const response = await container.items.batch(operations, pk(partition));
      if (response.code !== 200) throw new Error(`loading ${pk(partition)} failed with ${response.code ?? '?'}`);
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  loaded = upTo;
}

/** The counters' change while `action` runs. */
async function costOf(action: () => Promise<unknown>): Promise<LocalCosmosCounters> {
  const before = endpoint.counters();
  await action();
  const after = endpoint.counters();
  return {
    containerRequests: after.containerRequests - before.containerRequests,
    queries: after.queries - before.queries,
    queryDocumentsScanned: after.queryDocumentsScanned - before.queryDocumentsScanned,
    documentStoreScans: after.documentStoreScans - before.documentStoreScans,
    batches: after.batches - before.batches,
    batchJournalEntries: after.batchJournalEntries - before.batchJournalEntries,
  };
}

/** The event store's stream read: a single-partition query with the partition key. */
async function readStream(partition: number, fromVersion = 1): Promise<Doc[]> {
  const { resources } = await container.items
    .query<Doc>(
      {
        query: 'SELECT * FROM c WHERE c.pk = @pk AND c.version >= @fromVersion ORDER BY c.version',
        parameters: [
          { name: '@pk', value: pk(partition) },
          { name: '@fromVersion', value: fromVersion },
        ],
      },
      { partitionKey: pk(partition) },
    )
    .fetchAll();
  return resources;
}

describe('at 2,000 and at 20,000 documents', () => {
  it('a stream read evaluates only its partition, and loading journals O(operations) per batch', async () => {
    const loading = await costOf(() => loadUpTo(PARTITIONS / 10));
    expect(loading.batches).toBe(PARTITIONS / 10);
    // Per create: the document, its unique-key (id) index entry and its change-feed record.
    expect(loading.batchJournalEntries).toBe(loading.batches * DOCS_PER_PARTITION * 3);
    expect(loading.documentStoreScans).toBe(0);

    const small = await costOf(async () => {
      expect((await readStream(7, 4)).map((d) => d.version)).toEqual([4, 5, 6, 7, 8, 9, 10]);
    });

    const growing = await costOf(() => loadUpTo(PARTITIONS));
    expect(growing.batchJournalEntries).toBe(growing.batches * DOCS_PER_PARTITION * 3);
    expect(growing.documentStoreScans).toBe(0);

    const large = await costOf(async () => {
      expect((await readStream(7, 4)).map((d) => d.version)).toEqual([4, 5, 6, 7, 8, 9, 10]);
    });

    // The query-plan request and the query; only the query sees documents, and only the stream's.
    for (const cost of [small, large]) {
      expect(cost).toEqual({
        containerRequests: 2,
        queries: 2,
        queryDocumentsScanned: DOCS_PER_PARTITION,
        documentStoreScans: 0,
        batches: 0,
        batchJournalEntries: 0,
      });
    }
  }, 120_000);
});

describe('at 20,000 documents', () => {
  beforeAll(() => loadUpTo(PARTITIONS), 120_000);

  it('partition-scoped queries of every shape cost the partition, and page as before', async () => {
    const partition = 1234;
    const cost = await costOf(async () => {
      const top = await container.items
        .query<number>(
          {
            query: 'SELECT TOP 2 VALUE c.version FROM c WHERE c.pk = @pk ORDER BY c.version DESC',
            parameters: [{ name: '@pk', value: pk(partition) }],
          },
          { partitionKey: pk(partition) },
        )
        .fetchAll();
      expect(top.resources).toEqual([10, 9]);

      const count = await container.items.query<number>('SELECT VALUE COUNT(1) FROM c', { partitionKey: pk(partition) }).fetchAll();
      expect(count.resources).toEqual([DOCS_PER_PARTITION]);

      const iterator = container.items.query<Doc>('SELECT * FROM c ORDER BY c.version', { partitionKey: pk(partition), maxItemCount: 4 });
      const pages: number[][] = [];
      while (iterator.hasMoreResults()) {
        const { resources } = await iterator.fetchNext();
        if (resources.length > 0) pages.push(resources.map((d) => d.version));
      }
      expect(pages).toEqual([
        [1, 2, 3, 4],
        [5, 6, 7, 8],
        [9, 10],
      ]);
    });
    // Each evaluation (a query, a further page) sees at most the partition's documents, plan requests none.
    expect(cost.queries).toBeGreaterThanOrEqual(5);
    expect(cost.documentStoreScans).toBe(0);
    expect(cost.queryDocumentsScanned).toBeLessThanOrEqual(cost.queries * DOCS_PER_PARTITION);
  });

  // The emulator's own query engine needs seconds for 20,000 documents: keep this to one query.
  it('a cross-partition query still sees every document (one scan: the plan request scans nothing)', async () => {
    const cost = await costOf(async () => {
      const { resources } = await container.items.query<number>('SELECT VALUE COUNT(1) FROM c').fetchAll();
      expect(resources).toEqual([PARTITIONS * DOCS_PER_PARTITION]);
    });
    expect(cost).toMatchObject({ queries: 2, queryDocumentsScanned: PARTITIONS * DOCS_PER_PARTITION, documentStoreScans: 1 });
  });

  it('point operations never iterate the document store', async () => {
    const partition = 42;
    const cost = await costOf(async () => {
      const { resource } = await container.item(`${pk(partition)}:3`, pk(partition)).read<Doc>();
      expect(resource?.version).toBe(3);
      await container.items.create<Doc>({ id: `${pk(partition)}:extra`, pk: pk(partition), version: 100 });
      await container.items.upsert<Doc>({ id: `${pk(partition)}:extra`, pk: pk(partition), version: 100, n: 1 });
      await container
        .item(`${pk(partition)}:extra`, pk(partition))
        .replace<Doc>({ id: `${pk(partition)}:extra`, pk: pk(partition), version: 100, n: 2 });
      await container.item(`${pk(partition)}:extra`, pk(partition)).patch([{ op: 'incr', path: '/n', value: 1 }]);
      await container.item(`${pk(partition)}:extra`, pk(partition)).delete();
      expect((await container.item(`${pk(partition)}:extra`, pk(partition)).read()).resource).toBeUndefined();
    });
    expect(cost).toEqual({
      containerRequests: 7,
      queries: 0,
      queryDocumentsScanned: 0,
      documentStoreScans: 0,
      batches: 0,
      batchJournalEntries: 0,
    });
  });

  it('a failed batch rolls back in O(operations) and leaves its partition exactly as it was', async () => {
    const partition = 999;
    const before = await readStream(partition);
    const operations: OperationInput[] = [
      { operationType: BulkOperationType.Read, id: `${pk(partition)}:10` },
      {
        operationType: BulkOperationType.Replace,
        id: `${pk(partition)}:1`,
        resourceBody: { id: `${pk(partition)}:1`, pk: pk(partition), version: 1, n: 1 },
      },
      { operationType: BulkOperationType.Delete, id: `${pk(partition)}:2` },
      { operationType: BulkOperationType.Create, resourceBody: { id: `${pk(partition)}:11`, pk: pk(partition), version: 11 } },
      { operationType: BulkOperationType.Create, resourceBody: { id: `${pk(partition)}:5`, pk: pk(partition), version: 5 } }, // 409
    ];
    const lsn = endpoint.currentLsn();

    const cost = await costOf(async () => {
      const response = await container.items.batch(operations, pk(partition));
      expect(response.code).toBe(207);
      expect(response.result?.map((r) => r.statusCode)).toEqual([424, 424, 424, 424, 409]);
    });

    expect(cost.batches).toBe(1);
    expect(cost.documentStoreScans).toBe(0);
    expect(cost.batchJournalEntries).toBeGreaterThan(0);
    expect(cost.batchJournalEntries).toBeLessThanOrEqual(3 * operations.length);
    expect(endpoint.currentLsn()).toBe(lsn);
    expect(await readStream(partition)).toEqual(before);
  });

  it('an event-store append (Read of the previous event + Create) journals O(operations)', async () => {
    const partition = 1500;
    const cost = await costOf(async () => {
      const response = await container.items.batch(
        [
          { operationType: BulkOperationType.Read, id: `${pk(partition)}:10` },
          { operationType: BulkOperationType.Create, resourceBody: { id: `${pk(partition)}:11`, pk: pk(partition), version: 11 } },
        ],
        pk(partition),
      );
      expect(response.code).toBe(200);
    });
    expect(cost).toEqual({
      containerRequests: 1,
      queries: 0,
      queryDocumentsScanned: 0,
      documentStoreScans: 0,
      batches: 1,
      batchJournalEntries: 3,
    });
    expect((await readStream(partition, 10)).map((d) => d.version)).toEqual([10, 11]);
  });
});
