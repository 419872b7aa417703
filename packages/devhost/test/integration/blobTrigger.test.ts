/**
 * The devhost's blob trigger against Azurite, with functions registered through @azure/functions
 * and invoked through the library's own invocation model, as the devhost does: path captures and
 * trigger metadata, one run per blob version (receipts in azure-webjobs-hosts that survive a
 * restart), attempts and the poison queue, EventGrid refused.
 */
import { randomUUID } from 'node:crypto';
import { app, trigger, type InvocationContext } from '@azure/functions';
import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import { QueueServiceClient } from '@azure/storage-queue';
import { registeredFunctions, type Registration } from '../../src/functionsCore';
import { startAzurite, type RunningAzurite } from '../../src/storage/azurite';
import {
  BLOB_TRIGGER_POISON_QUEUE,
  blobListenerOptions,
  blobTriggerQueueName,
  defaultHostId,
  HOSTS_CONTAINER,
  parseBlobPath,
  readBlobsOptions,
  startBlobTriggers,
} from '../../src/triggers/blobTrigger';
import type { HostJson, RunningService } from '../../src/triggers/triggerHost';
import { testTriggerContext, type CapturedLog } from '../support/triggerHost';

let azurite: RunningAzurite;
let blobs: BlobServiceClient;
let queues: QueueServiceClient;
const running: RunningService[] = [];

beforeAll(async () => {
  azurite = await startAzurite({ inMemory: true });
  blobs = BlobServiceClient.fromConnectionString(azurite.connectionString);
  queues = QueueServiceClient.fromConnectionString(azurite.connectionString);
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((service) => service.stop()));
});

afterAll(async () => {
  await azurite.stop();
});

interface Served extends CapturedLog {
  readonly service: RunningService;
}

async function serve(
  registrations: readonly Registration[],
  options: { hostId?: string; hostJson?: HostJson; settings?: Record<string, string> } = {},
): Promise<Served> {
  const { context, log } = testTriggerContext({
    settings: { AzureWebJobsStorage: azurite.connectionString, ...options.settings },
    ...(options.hostJson && { hostJson: options.hostJson }),
  });
  const service = await startBlobTriggers(registrations, context, { hostId: options.hostId ?? newHostId(), scanIntervalMs: 100 });
  running.push(service);
  return { service, ...log };
}

type Handler = (blob: unknown, context: InvocationContext) => Promise<void> | void;

/** Registers a blob-triggered function through @azure/functions and returns what the host would receive. */
function register(path: string, handler: Handler, extra: Record<string, unknown> = {}): Registration {
  const name = `fn${randomUUID().replace(/-/g, '')}`;
  app.storageBlob(name, {
    path,
    connection: 'AzureWebJobsStorage',
    handler,
    trigger: {
      ...trigger.storageBlob({ path, connection: typeof extra.connection === 'string' ? extra.connection : 'AzureWebJobsStorage' }),
      ...extra,
    },
  });
  const registration = registeredFunctions().find((candidate) => candidate.metadata.name === name);
  if (!registration) throw new Error(`${name} was not registered`);
  return registration;
}

const newContainer = () => `c${randomUUID().replace(/-/g, '').slice(0, 20)}`;
const newHostId = () => `test-${randomUUID().replace(/-/g, '').slice(0, 20)}`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function eventually<T>(probe: () => Promise<T> | T, accept: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (accept(value)) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms; last value: ${JSON.stringify(value)}`);
    await sleep(50);
  }
}

async function upload(container: ContainerClient, name: string, text: string, metadata?: Record<string, string>): Promise<string> {
  const response = await container.getBlockBlobClient(name).upload(text, Buffer.byteLength(text), metadata ? { metadata } : {});
  if (response.etag === undefined) throw new Error('no ETag');
  return response.etag;
}

async function receiptsUnder(prefix: string): Promise<{ name: string; metadata: Record<string, string> }[]> {
  const found: { name: string; metadata: Record<string, string> }[] = [];
  const hosts = blobs.getContainerClient(HOSTS_CONTAINER);
  if (!(await hosts.exists())) return found;
  for await (const item of hosts.listBlobsFlat({ prefix, includeMetadata: true }))
    found.push({ name: item.name, metadata: item.metadata ?? {} });
  return found;
}

async function poisonMessagesFor(functionName: string): Promise<Record<string, unknown>[]> {
  const poison = queues.getQueueClient(BLOB_TRIGGER_POISON_QUEUE);
  if (!(await poison.exists())) return [];
  const { peekedMessageItems } = await poison.peekMessages({ numberOfMessages: 32 });
  return peekedMessageItems
    .map((message) => JSON.parse(Buffer.from(message.messageText, 'base64').toString('utf8')) as Record<string, unknown>)
    .filter((message) => message.FunctionId === `Host.Functions.${functionName}`);
}

describe('blob trigger', () => {
  it("hands a matching blob's bytes to the handler with the host's trigger metadata and the path's captures", async () => {
    const containerName = newContainer();
    const container = blobs.getContainerClient(containerName);
    await container.create();
    const seen: { blob: unknown; metadata: Record<string, unknown> | undefined }[] = [];
    const registration = register(`${containerName}/reports/{name}.txt`, (blob, context) => {
      seen.push({ blob, metadata: context.triggerMetadata });
    });
    const { reasons } = await serve([registration]);
    const etag = await upload(container, 'reports/2024-q1.txt', 'hello, blob', { author: 'Ann' });
    await upload(container, 'reports/2024-q1.md', 'not a .txt');
    await upload(container, 'other/2024-q1.txt', 'not under reports/');

    await eventually(
      () => seen.length,
      (count) => count === 1,
    );
    await sleep(400); // a few more scans: the other blobs never match
    expect(seen).toHaveLength(1);
    const [{ blob, metadata = {} } = { blob: undefined }] = seen;
    expect(Buffer.isBuffer(blob)).toBe(true);
    expect((blob as Buffer).toString('utf8')).toBe('hello, blob');
    expect(metadata).toMatchObject({
      name: '2024-q1',
      blobTrigger: `${containerName}/reports/2024-q1.txt`,
      uri: `${azurite.blobEndpoint}/${containerName}/reports/2024-q1.txt`,
      metadata: { author: 'Ann' },
      properties: { contentLength: 11, blobType: 'BlockBlob', eTag: etag, metadata: { author: 'Ann' } },
      sys: { methodName: registration.metadata.name },
    });
    expect((metadata.properties as Record<string, unknown>).lastModified).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+00:00$/);
    expect(reasons).toContain(`New blob detected(LogsAndContainerScan): ${containerName}/reports/2024-q1.txt`);
  });

  it("gives a string with dataType 'string', and a capture wins over a built-in of the same name", async () => {
    const containerName = newContainer();
    const container = blobs.getContainerClient(containerName);
    await container.create();
    const seen: { blob: unknown; metadata: Record<string, unknown> | undefined }[] = [];
    await serve([
      register(
        `${containerName}/{uri}/{{literal}}-{name}.{ext}`,
        (blob, context) => void seen.push({ blob, metadata: context.triggerMetadata }),
        {
          dataType: 'string',
        },
      ),
    ]);
    await upload(container, 'a/b/{literal}-x.y.json', 'plain text');
    await eventually(
      () => seen.length,
      (count) => count === 1,
    );
    expect(seen[0]?.blob).toBe('plain text');
    // Greedy captures, as the host's (?<name>.*): the last '.' splits name and ext.
    expect(seen[0]?.metadata).toMatchObject({ uri: 'a/b', name: 'x.y', ext: 'json' });
  });

  it('runs once per blob version (ETag), again after the blob changes, and keeps a receipt per version', async () => {
    const containerName = newContainer();
    const container = blobs.getContainerClient(containerName);
    await container.create();
    const texts: string[] = [];
    const registration = register(`${containerName}/{name}`, (blob) => void texts.push((blob as Buffer).toString('utf8')));
    const hostId = newHostId();
    await serve([registration], { hostId });
    const first = await upload(container, 'doc.txt', 'v1');
    await eventually(
      () => texts.length,
      (count) => count === 1,
    );
    await sleep(500); // several scans: the same version does not run again
    expect(texts).toEqual(['v1']);
    const second = await upload(container, 'doc.txt', 'v2');
    expect(second).not.toBe(first);
    await eventually(
      () => texts.length,
      (count) => count === 2,
    );
    await sleep(500);
    expect(texts).toEqual(['v1', 'v2']);

    const receipts = await receiptsUnder(`blobreceipts/${hostId}/Host.Functions.${registration.metadata.name}/`);
    expect(receipts.map((receipt) => receipt.name).sort()).toEqual(
      [first, second]
        .map((etag) => `blobreceipts/${hostId}/Host.Functions.${registration.metadata.name}/${etag}/${containerName}/doc.txt`)
        .sort(),
    );
    // Complete: no `Incomplete` metadata left.
    for (const receipt of receipts) expect(Object.keys(receipt.metadata).map((key) => key.toLowerCase())).not.toContain('incomplete');
    // Every message of the host's blob-trigger queue has been dealt with.
    await eventually(
      async () => (await queues.getQueueClient(blobTriggerQueueName(hostId)).getProperties()).approximateMessagesCount,
      (count) => count === 0,
    );
  });

  it('does not run a version again after a restart, and runs what changed while it was stopped', async () => {
    const containerName = newContainer();
    const container = blobs.getContainerClient(containerName);
    await container.create();
    const texts: string[] = [];
    const registration = register(`${containerName}/{name}.txt`, (blob) => void texts.push((blob as Buffer).toString('utf8')));
    const hostId = newHostId();
    await upload(container, 'kept.txt', 'kept v1');
    await upload(container, 'changed.txt', 'changed v1');
    const before = await serve([registration], { hostId });
    await eventually(
      () => texts.length,
      (count) => count === 2,
    );
    await before.service.stop();

    await upload(container, 'changed.txt', 'changed v2');
    await upload(container, 'added.txt', 'added v1');
    texts.length = 0;
    await serve([registration], { hostId });
    await eventually(
      () => texts.length,
      (count) => count === 2,
    );
    await sleep(500);
    expect(texts.sort()).toEqual(['added v1', 'changed v2']);
  });

  it('tries a failing blob poisonBlobThreshold times, then puts the host message on webjobs-blobtrigger-poison', async () => {
    const containerName = newContainer();
    const container = blobs.getContainerClient(containerName);
    await container.create();
    const attempts: number[] = [];
    const registration = register(`${containerName}/{name}`, () => {
      attempts.push(Date.now());
      throw new Error('always fails');
    });
    const hostId = newHostId();
    // extensions.queues does not apply to blob triggers (extension v5): only extensions.blobs counts.
    const { warnings } = await serve([registration], {
      hostId,
      hostJson: { extensions: { queues: { maxDequeueCount: 1 }, blobs: { poisonBlobThreshold: 3 } } },
    });
    const etag = await upload(container, 'bad.csv', 'x,y');
    const poisoned = await eventually(
      () => poisonMessagesFor(registration.metadata.name),
      (messages) => messages.length === 1,
    );
    expect(poisoned[0]).toEqual({
      Type: 'BlobTrigger',
      FunctionId: `Host.Functions.${registration.metadata.name}`,
      BlobType: 'BlockBlob',
      ContainerName: containerName,
      BlobName: 'bad.csv',
      ETag: etag,
    });
    await sleep(500); // the receipt is complete: no further attempt
    expect(attempts).toHaveLength(3);
    expect(warnings).toContain(`Message has reached MaxDequeueCount of 3. Moving message to queue '${BLOB_TRIGGER_POISON_QUEUE}'.`);
    // Stored as the host stores it: base64 of the JSON, with the host's property order.
    const { peekedMessageItems } = await queues.getQueueClient(BLOB_TRIGGER_POISON_QUEUE).peekMessages({ numberOfMessages: 32 });
    expect(peekedMessageItems.map((message) => Buffer.from(message.messageText, 'base64').toString('utf8'))).toContain(
      JSON.stringify({
        Type: 'BlobTrigger',
        FunctionId: `Host.Functions.${registration.metadata.name}`,
        BlobType: 'BlockBlob',
        ContainerName: containerName,
        BlobName: 'bad.csv',
        ETag: etag,
      }),
    );
  });

  it('makes 5 attempts by default', async () => {
    const containerName = newContainer();
    const container = blobs.getContainerClient(containerName);
    await container.create();
    let attempts = 0;
    const registration = register(`${containerName}/{name}`, () => {
      attempts++;
      return Promise.reject(new Error('async failure'));
    });
    await serve([registration]);
    await upload(container, 'bad.bin', 'x');
    await eventually(
      () => poisonMessagesFor(registration.metadata.name),
      (messages) => messages.length === 1,
    );
    await sleep(300);
    expect(attempts).toBe(5);
  });

  it('retries a blob that fails once, and runs it no more once it succeeded', async () => {
    const containerName = newContainer();
    const container = blobs.getContainerClient(containerName);
    await container.create();
    let attempts = 0;
    const registration = register(`${containerName}/{name}`, () => {
      attempts++;
      if (attempts === 1) throw new Error('first try fails');
    });
    await serve([registration]);
    await upload(container, 'flaky.txt', 'x');
    await eventually(
      () => attempts,
      (count) => count === 2,
    );
    await sleep(500);
    expect(attempts).toBe(2);
    expect(await poisonMessagesFor(registration.metadata.name)).toEqual([]);
  });

  it("refuses source 'EventGrid' at start, naming the function", async () => {
    const registration = register(`${newContainer()}/{name}`, () => undefined, { source: 'EventGrid' });
    await expect(serve([registration])).rejects.toThrow(
      new RegExp(`Function "${registration.metadata.name}": its blobTrigger has source 'EventGrid'.*cannot raise those`),
    );
  });

  it('resolves %SETTING% in the path and reads the blobs from the account the connection names', async () => {
    const containerName = newContainer();
    const container = blobs.getContainerClient(containerName);
    await container.create();
    const names: unknown[] = [];
    await serve([register('%INBOX%/{name}', (_blob, context) => void names.push(context.triggerMetadata?.name), { connection: 'Inbox' })], {
      settings: { INBOX: containerName, Inbox: azurite.connectionString },
    });
    await upload(container, 'letter', 'dear');
    await eventually(
      () => names,
      (list) => list.length === 1,
    );
    expect(names).toEqual(['letter']);
  });

  it('refuses a missing connection setting and an invalid path', async () => {
    await expect(serve([register(`${newContainer()}/{name}`, () => undefined, { connection: 'NoSuchSetting' })])).rejects.toThrow(
      /app setting "NoSuchSetting"/,
    );
    await expect(serve([register('Bad_Container/{name}', () => undefined)])).rejects.toThrow(/not a valid container name/);
    await expect(serve([register('{container}/x', () => undefined)])).rejects.toThrow(/Container paths cannot contain/);
  });

  it('stop() stops scanning and waits for running invocations to finish and their messages to be deleted', async () => {
    const containerName = newContainer();
    const container = blobs.getContainerClient(containerName);
    await container.create();
    let calls = 0;
    let finished = 0;
    const hostId = newHostId();
    const { service } = await serve(
      [
        register(`${containerName}/{name}`, async () => {
          calls++;
          await sleep(500);
          finished++;
        }),
      ],
      { hostId },
    );
    await upload(container, 'one', '1');
    await eventually(
      () => calls,
      (count) => count === 1,
    );
    await service.stop();
    expect(finished).toBe(1);
    expect((await queues.getQueueClient(blobTriggerQueueName(hostId)).getProperties()).approximateMessagesCount).toBe(0);
    await upload(container, 'after-stop', '2');
    await sleep(500);
    expect(calls).toBe(1);
  });
});

describe('blob trigger paths', () => {
  it('matches as the host does: literal prefix and suffix, greedy captures, {{ and }} as braces, the container ignoring case', () => {
    const path = parseBlobPath('images/{{raw}}/{name}.{ext}');
    expect(path.container).toBe('images');
    expect(path.parameterNames).toEqual(['name', 'ext']);
    expect(path.match('images', '{raw}/cat.photo.jpg')).toEqual({ name: 'cat.photo', ext: 'jpg' });
    expect(path.match('IMAGES', '{raw}/cat.jpg')).toEqual({ name: 'cat', ext: 'jpg' });
    expect(path.match('images', 'raw/cat.jpg')).toBeUndefined();
    expect(path.match('other', '{raw}/cat.jpg')).toBeUndefined();
    expect(parseBlobPath('images').match('images', 'any/thing')).toEqual({});
    expect(parseBlobPath('images/fixed.txt').match('images', 'fixed.txt')).toEqual({});
    expect(parseBlobPath('images/fixed.txt').match('images', 'fixed.txt.bak')).toBeUndefined();
  });

  it('refuses the paths the host refuses', () => {
    expect(() => parseBlobPath('/images')).toThrow(/format 'container\/blob'/);
    expect(() => parseBlobPath('images/')).toThrow(/format 'container\/blob'/);
    expect(() => parseBlobPath('images/{name')).toThrow(/never closed/);
    expect(() => parseBlobPath('images/name}')).toThrow(/closes nothing/);
    expect(() => parseBlobPath('images/{na-me}')).toThrow(/parameter name/);
  });
});

describe('host.json extensions.blobs and the host id', () => {
  it('applies the host defaults and splits maxDegreeOfParallelism as the host does', () => {
    expect(readBlobsOptions({})).toEqual({ maxDegreeOfParallelism: 8, poisonBlobThreshold: 5, batchSize: 5, newBatchThreshold: 3 });
    expect(readBlobsOptions({ extensions: { blobs: { maxDegreeOfParallelism: 1 } } })).toMatchObject({
      batchSize: 1,
      newBatchThreshold: 0,
    });
    expect(readBlobsOptions({ extensions: { blobs: { maxDegreeOfParallelism: 100 } } })).toMatchObject({
      batchSize: 32,
      newBatchThreshold: 68,
    });
    expect(() => readBlobsOptions({ extensions: { blobs: { poisonBlobThreshold: 0 } } })).toThrow(/poisonBlobThreshold/);
    expect(() => readBlobsOptions({ extensions: { blobs: { maxDegreeOfParallelism: 0 } } })).toThrow(/maxDegreeOfParallelism/);
  });

  it('derives a stable host id from the machine and the app folder, as the host does locally, unless AzureFunctionsJobHost__id sets one', () => {
    const id = defaultHostId('/apps/contoso', 'Dev-Box_01.local');
    expect(id).toMatch(/^devbox01local-\d+$/);
    expect(id.length).toBeLessThanOrEqual(32);
    expect(defaultHostId('/apps/contoso', 'Dev-Box_01.local')).toBe(id);
    expect(defaultHostId('/apps/other', 'Dev-Box_01.local')).not.toBe(id);
    expect(defaultHostId('/a', 'X'.repeat(40))).toBe('x'.repeat(32));
    expect(blobListenerOptions('/apps/contoso', { AzureFunctionsJobHost__id: 'my-app' }).hostId).toBe('my-app');
    expect(() => blobListenerOptions('/apps/contoso', { AzureFunctionsJobHost__id: 'My App' })).toThrow(/AzureFunctionsJobHost__id/);
    expect(blobListenerOptions('/a', { DEVHOST_BLOB_SCAN_INTERVAL_MS: '200' }).scanIntervalMs).toBe(200);
    expect(() => blobListenerOptions('/a', { DEVHOST_BLOB_SCAN_INTERVAL_MS: '1' })).toThrow(/DEVHOST_BLOB_SCAN_INTERVAL_MS/);
  });
});
