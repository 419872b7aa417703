/**
 * The devhost's Cosmos DB trigger against the local Cosmos endpoint, driving functions registered
 * with @azure/functions' app.cosmosDB through the library's own invocation model.
 */
import { randomUUID } from 'node:crypto';
import { CosmosClient, type Database } from '@azure/cosmos';
import { app, type CosmosDBv4FunctionOptions, type InvocationContext } from '@azure/functions';
import { localCosmosClientOptions, startLocalCosmosEndpoint, type LocalCosmosEndpoint } from '../../src/cosmos/localCosmosEndpoint';
import { getProgrammingModel, registeredFunctions, type Registration } from '../../src/functionsCore';
import { invokeFunction } from '../../src/invoke';
import type { Logger } from '../../src/logger';
import {
  cosmosTriggerLeaseId,
  startCosmosTriggers,
  type CosmosTriggerLease,
  type RunningCosmosTriggers,
} from '../../src/triggers/cosmosTrigger';
import type { TriggerHostContext } from '../../src/triggers/triggerHost';

interface Doc {
  id: string;
  streamId: string;
  n: number;
  _lsn?: number;
  _etag?: string;
}

interface Attempt {
  readonly ids: string[];
  readonly ok: boolean;
  readonly at: number;
  readonly retryCount: number | undefined;
}

/** The monitored container (partitioned on /streamId) and the lease container (the trigger's default name, on /id). */
const MONITORED = 'items';
const LEASES = 'leases';

/** Retry without end (waits shortened by start()'s options). */
const RETRY_FOREVER = {
  strategy: 'exponentialBackoff',
  maxRetryCount: -1,
  minimumInterval: { seconds: 1 },
  maximumInterval: { minutes: 1 },
} as const;

let endpoint: LocalCosmosEndpoint;
let client: CosmosClient;
let database: Database;
let logs: { level: string; message: string }[];
let counter = 0;
const running: RunningCosmosTriggers[] = [];

beforeAll(async () => {
  endpoint = await startLocalCosmosEndpoint();
  client = new CosmosClient(localCosmosClientOptions(endpoint));
});

afterAll(async () => {
  client.dispose();
  await endpoint.close();
});

beforeEach(async () => {
  logs = [];
  ({ database } = await client.databases.create({ id: `trigger-${randomUUID()}` }));
  await database.containers.create({ id: MONITORED, partitionKey: { paths: ['/streamId'] } });
  await database.containers.create({ id: LEASES, partitionKey: { paths: ['/id'] } });
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((service) => service.stop()));
});

const logger: Logger = {
  info: (message) => logs.push({ level: 'info', message }),
  warn: (message) => logs.push({ level: 'warn', message }),
  error: (message) => logs.push({ level: 'error', message }),
  functionLog: (_name, _id, level, _category, message) => logs.push({ level, message }),
};

function hostContext(settings: Record<string, string> = { COSMOS_CONNECTION: endpoint.connectionString }): TriggerHostContext {
  const model = getProgrammingModel();
  if (!model) throw new Error('no function registered yet');
  return {
    invoke: (registration, request, reason) => invokeFunction(model, registration, request, logger, reason),
    logger,
    settings,
    hostJson: {},
    dataDir: '/nonexistent',
  };
}

type TriggerOptions = Partial<Omit<CosmosDBv4FunctionOptions, 'handler'>>;

/** Registers a function on the monitored container; every attempt is recorded; `body` may throw to fail it. */
function feedFunction(options: TriggerOptions = {}, body: (documents: Doc[], attempt: number) => Promise<void> | void = () => undefined) {
  counter += 1;
  const name = `feed${String(counter)}`;
  const attempts: Attempt[] = [];
  const documents: Doc[] = [];
  app.cosmosDB(name, {
    connection: 'COSMOS_CONNECTION',
    databaseName: database.id,
    containerName: MONITORED,
    ...options,
    handler: async (batch: unknown[], context: InvocationContext) => {
      const docs = batch as Doc[];
      const ids = docs.map((doc) => doc.id);
      const retryCount = context.retryContext?.retryCount;
      try {
        await body(docs, attempts.length + 1);
      } catch (error) {
        attempts.push({ ids, ok: false, at: Date.now(), retryCount });
        throw error;
      }
      attempts.push({ ids, ok: true, at: Date.now(), retryCount });
      documents.push(...docs);
    },
  });
  const registration = registeredFunctions().find((candidate) => candidate.metadata.name === name)!;
  /** The batches the function completed, in order. */
  const delivered = () => attempts.filter((attempt) => attempt.ok).map((attempt) => attempt.ids);
  return { registration, attempts, documents, delivered };
}

async function start(registrations: Registration[], context = hostContext()): Promise<RunningCosmosTriggers> {
  const service = await startCosmosTriggers(registrations, context, { feedPollDelayMs: 20, retry: { initialDelayMs: 10, maxDelayMs: 40 } });
  running.push(service);
  return service;
}

async function stop(service: RunningCosmosTriggers): Promise<void> {
  running.splice(running.indexOf(service), 1);
  await service.stop();
}

async function write(...ids: string[]): Promise<void> {
  for (const [index, id] of ids.entries())
    await database.container(MONITORED).items.create<Doc>({ id, streamId: `stream-${id}`, n: index });
}

async function readLease(prefix: string): Promise<CosmosTriggerLease | undefined> {
  const id = cosmosTriggerLeaseId(prefix, endpoint.endpoint, database.id, MONITORED);
  const { resource } = await database.container(LEASES).item(id, id).read<CosmosTriggerLease>();
  return resource;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function waitFor(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await sleep(5);
  }
}

describe('where a function starts', () => {
  it('sees documents written before start with startFromBeginning, and only later ones without it', async () => {
    await write('a', 'b');
    const fromBeginning = feedFunction({ leaseContainerPrefix: 'beginning-', startFromBeginning: true });
    const fromNow = feedFunction({ leaseContainerPrefix: 'now-' });
    const service = await start([fromBeginning.registration, fromNow.registration]);
    await service.idle();
    await write('c');
    await service.idle();
    expect(fromBeginning.delivered().flat()).toEqual(['a', 'b', 'c']);
    expect(fromNow.delivered().flat()).toEqual(['c']);
    // The handler gets the documents as stored, system properties included.
    expect(fromNow.documents[0]).toMatchObject({
      id: 'c',
      streamId: 'stream-c',
      n: 0,
      _lsn: expect.any(Number),
      _etag: expect.any(String),
    });
  });

  it('starts from startFromTime when there is no lease (the service compares whole seconds)', async () => {
    await write('a');
    const fromPast = feedFunction({ leaseContainerPrefix: 'past-', startFromTime: '2000-01-01T00:00:00Z' });
    const fromFuture = feedFunction({ leaseContainerPrefix: 'future-', startFromTime: '2100-01-01T00:00:00Z' });
    const service = await start([fromPast.registration, fromFuture.registration]);
    await service.idle();
    await write('b');
    await service.idle();
    expect(fromPast.delivered().flat()).toEqual(['a', 'b']);
    expect(fromFuture.delivered()).toEqual([]);
  });

  it('delivers every document to each of two functions with different lease prefixes, each with its own lease', async () => {
    await write('a', 'b', 'c');
    const projections = feedFunction({ leaseContainerPrefix: 'projections-', startFromBeginning: true });
    const publish = feedFunction({ leaseContainerPrefix: 'publish-', startFromBeginning: true });
    const service = await start([projections.registration, publish.registration]);
    await service.idle();
    await write('d', 'e');
    await service.idle();
    expect(projections.delivered().flat()).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(publish.delivered().flat()).toEqual(['a', 'b', 'c', 'd', 'e']);
    const leases = await Promise.all([readLease('projections-'), readLease('publish-')]);
    expect(leases.map((lease) => lease?.functionName)).toEqual([
      projections.registration.metadata.name,
      publish.registration.metadata.name,
    ]);
    expect(leases[0]?.id).toBe(`projections-127.0.0.1_${database.id}_items`);
  });

  it('caps each batch at maxItemsPerInvocation, in change feed order', async () => {
    await write('a', 'b', 'c', 'd', 'e', 'f', 'g');
    const capped = feedFunction({ startFromBeginning: true, maxItemsPerInvocation: 3 });
    const service = await start([capped.registration]);
    await service.idle();
    expect(capped.delivered()).toEqual([['a', 'b', 'c'], ['d', 'e', 'f'], ['g']]);
  });

  it('ignores startFromBeginning once the function has a lease, and refuses 3.x option names', async () => {
    const fn = feedFunction({ startFromBeginning: true, leaseContainerPrefix: 'x-' });
    const first = await start([fn.registration]);
    await first.idle();
    await write('a');
    await first.idle();
    await stop(first);
    const second = await start([fn.registration]);
    await second.idle();
    expect(fn.delivered().flat()).toEqual(['a']);

    counter += 1;
    app.cosmosDB(`legacy${String(counter)}`, {
      connectionStringSetting: 'COSMOS_CONNECTION',
      databaseName: database.id,
      collectionName: MONITORED,
      handler: () => undefined,
    });
    const legacy = registeredFunctions().find((candidate) => candidate.metadata.name === `legacy${String(counter)}`)!;
    await expect(start([legacy])).rejects.toThrow('extension 3.x names');
  });
});

describe('failures and checkpoints', () => {
  it('with a retry policy without end, gives a failing batch again, with backoff, until it succeeds; skips nothing; the lease stays put meanwhile', async () => {
    const leaseTokensDuringAttempts: (string | undefined)[] = [];
    let failuresLeft = 2;
    const fn = feedFunction({ leaseContainerPrefix: 'retry-', retry: RETRY_FOREVER }, async (documents) => {
      if (!documents.some((doc) => doc.id === 'c')) return;
      leaseTokensDuringAttempts.push((await readLease('retry-'))?.continuationToken);
      if (failuresLeft > 0) {
        failuresLeft -= 1;
        throw new Error('projection store unavailable');
      }
    });
    const service = await start([fn.registration]);
    await service.idle();
    await write('a', 'b');
    await service.idle();
    const checkpointBefore = (await readLease('retry-'))?.continuationToken;
    expect(checkpointBefore).toEqual(expect.any(String));

    await write('c', 'd');
    await service.idle();

    // Nothing skipped, nothing delivered twice once it succeeded.
    expect(fn.delivered().flat()).toEqual(['a', 'b', 'c', 'd']);
    // The two failures each got the very same batch again.
    const failed = fn.attempts.filter((attempt) => !attempt.ok);
    expect(failed).toHaveLength(2);
    for (const failure of failed) {
      const next = fn.attempts[fn.attempts.indexOf(failure) + 1];
      expect(next?.ids).toEqual(failure.ids);
    }
    // Exponential backoff between the attempts (10 ms, then 20 ms).
    const retried = fn.attempts.slice(fn.attempts.indexOf(failed[0]!));
    expect(retried[1]!.at - retried[0]!.at).toBeGreaterThanOrEqual(9);
    expect(retried[2]!.at - retried[1]!.at).toBeGreaterThanOrEqual(19);
    // The checkpoint held while the batch kept failing, and moved only after it succeeded.
    expect(leaseTokensDuringAttempts).toEqual([checkpointBefore, checkpointBefore, checkpointBefore]);
    expect((await readLease('retry-'))?.continuationToken).not.toEqual(checkpointBefore);
    expect(logs.filter((log) => log.level === 'warn' && log.message.includes('retrying the same batch'))).toHaveLength(2);
    expect(fn.attempts.slice(fn.attempts.indexOf(failed[0]!)).map((attempt) => attempt.retryCount)).toEqual([0, 1, 2]);
  });

  it('without a retry policy, moves the lease past a failed batch after one attempt, as the host does, and logs it', async () => {
    const fn = feedFunction({ leaseContainerPrefix: 'nopolicy-' }, (documents) => {
      if (documents.some((doc) => doc.id === 'x')) throw new Error('bad document');
    });
    const service = await start([fn.registration]);
    await service.idle();
    await write('x');
    await service.idle();
    await write('y');
    await service.idle();
    expect(fn.attempts.map((attempt) => [attempt.ids, attempt.ok, attempt.retryCount])).toEqual([
      [['x'], false, undefined],
      [['y'], true, undefined],
    ]);
    expect(logs.some((log) => log.level === 'error' && /has no retry policy; the lease moves past the batch/.test(log.message))).toBe(true);
  });

  it('with maxRetryCount 2, tries a failing batch three times (retryContext 0, 1, 2), then moves past it', async () => {
    const fn = feedFunction(
      { leaseContainerPrefix: 'bounded-', retry: { strategy: 'fixedDelay', maxRetryCount: 2, delayInterval: { seconds: 1 } } },
      (documents) => {
        if (documents.some((doc) => doc.id === 'p')) throw new Error('still bad');
      },
    );
    const service = await start([fn.registration]);
    await service.idle();
    await write('p');
    await service.idle();
    await write('q');
    await service.idle();
    expect(fn.attempts.map((attempt) => [attempt.ids, attempt.ok, attempt.retryCount])).toEqual([
      [['p'], false, 0],
      [['p'], false, 1],
      [['p'], false, 2],
      [['q'], true, 0],
    ]);
  });

  it('resumes after the last checkpoint on restart: what was written while stopped once, nothing again', async () => {
    await write('a', 'b');
    const fn = feedFunction({ leaseContainerPrefix: 'resume-', startFromBeginning: true });
    const first = await start([fn.registration]);
    await first.idle();
    await stop(first);
    expect(fn.delivered().flat()).toEqual(['a', 'b']);

    await write('c', 'd');
    const second = await start([fn.registration]);
    await second.idle();
    await write('e');
    await second.idle();
    expect(fn.delivered().flat()).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('resumes from where a "from now" function began listening, even if it never got a document', async () => {
    const fn = feedFunction({ leaseContainerPrefix: 'quiet-' });
    const first = await start([fn.registration]);
    await first.idle();
    await stop(first);
    await write('a');
    const second = await start([fn.registration]);
    await second.idle();
    expect(fn.delivered().flat()).toEqual(['a']);
  });

  it('stop() waits for the in-flight batch and its checkpoint', async () => {
    let release: () => void = () => undefined;
    const fn = feedFunction({ leaseContainerPrefix: 'inflight-' }, () => new Promise<void>((resolve) => (release = resolve)));
    const service = await start([fn.registration]);
    await service.idle();
    const before = (await readLease('inflight-'))?.continuationToken;
    await write('a');
    await waitFor(() => logs.some((log) => log.message.startsWith(`Executing 'Functions.${fn.registration.metadata.name}'`)));
    let stopped = false;
    const stopping = stop(service).then(() => (stopped = true));
    await sleep(100);
    expect(stopped).toBe(false);
    release();
    await stopping;
    expect(fn.delivered()).toEqual([['a']]);
    expect((await readLease('inflight-'))?.continuationToken).not.toEqual(before);
  });

  it('a batch still failing at stop is not checkpointed, and is delivered at the next start', async () => {
    let healthy = false;
    const fn = feedFunction({ leaseContainerPrefix: 'poison-', retry: RETRY_FOREVER }, () => {
      if (!healthy) throw new Error('down');
    });
    const first = await start([fn.registration]);
    await first.idle();
    await write('a');
    await waitFor(() => fn.attempts.length >= 2);
    await stop(first);
    expect(fn.delivered()).toEqual([]);

    healthy = true;
    const second = await start([fn.registration]);
    await second.idle();
    expect(fn.delivered()).toEqual([['a']]);
  });
});

describe('configuration', () => {
  it('needs the lease container unless createLeaseContainerIfNotExists, which creates it partitioned on /id', async () => {
    const missing = feedFunction({ leaseContainerName: 'otherLeases' });
    await expect(start([missing.registration])).rejects.toThrow(
      `Cosmos DB trigger of function "${missing.registration.metadata.name}": the lease container ${database.id}/otherLeases does not exist`,
    );
    const creating = feedFunction({
      leaseContainerName: 'otherLeases',
      leaseDatabaseName: `${database.id}-leases`,
      createLeaseContainerIfNotExists: true,
      startFromBeginning: true,
    });
    await write('a');
    const service = await start([creating.registration]);
    await service.idle();
    expect(creating.delivered()).toEqual([['a']]);
    const { resource } = await client.database(`${database.id}-leases`).container('otherLeases').read();
    expect(resource?.partitionKey?.paths).toEqual(['/id']);
  });

  it('names the function and the problem: unset connection setting, shared lease, conflicting start options, unknown container', async () => {
    const fn = feedFunction();
    await expect(start([fn.registration], hostContext({}))).rejects.toThrow(
      `function "${fn.registration.metadata.name}": the connection app setting COSMOS_CONNECTION`,
    );
    const twin = feedFunction();
    await expect(start([fn.registration, twin.registration])).rejects.toThrow('give each a different leaseContainerPrefix');
    const both = feedFunction({ leaseContainerPrefix: 'both-', startFromBeginning: true, startFromTime: '2024-01-01T00:00:00Z' });
    await expect(start([both.registration])).rejects.toThrow('startFromBeginning and startFromTime cannot both be set');
    const nowhere = feedFunction({ containerName: 'nowhere' });
    await expect(start([nowhere.registration])).rejects.toThrow(`the monitored container ${database.id}/nowhere does not exist`);
  });
});
