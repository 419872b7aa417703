/**
 * Blob storage triggers, served the way the Functions host's Blob storage extension (v5, source
 * "LogsAndContainerScan") serves them. What was checked, in Azure/azure-sdk-for-net
 * sdk/storage/Microsoft.Azure.WebJobs.Extensions.Storage.Blobs/src:
 *
 * - Detection (Listeners/ScanBlobScanLogHybridPollingStrategy.cs): every watched container is listed
 *   on a timer (the host: every 10 s, besides reading the account's `$logs`, which Azurite does not
 *   write). The devhost lists every `scanIntervalMs` (default 2 s: a local listing is cheap and a
 *   developer waits on it). The host also keeps a "latest scan" time per container so it re-checks
 *   fewer blobs; that is only an optimisation over the receipts, so the devhost keeps it in memory.
 * - Once per blob version (Listeners/BlobTriggerExecutor.cs, BlobReceiptManager.cs, BlobReceipt.cs):
 *   for each matching blob the host looks for a receipt blob
 *   `azure-webjobs-hosts/blobreceipts/<hostId>/<functionId>/<ETag>/<container>/<blob>`; a complete
 *   one means done. Otherwise it creates it (metadata `Incomplete`, if-none-match *), leases it for
 *   30 s, reads it again, puts a message for the blob on the host's queue
 *   `azure-webjobs-blobtrigger-<hostId>` and only then marks the receipt complete. A blob changed
 *   while the devhost was down has a new ETag, hence no receipt, and runs after start; one already
 *   done does not run again.
 * - Running it (Listeners/SharedBlobQueueListenerFactory.cs, BlobQueueTriggerExecutor.cs): that queue
 *   is served like a queue trigger (the same QueueMessagePump), but with its own options: host.json
 *   `extensions.blobs` `maxDegreeOfParallelism` (default 8 per core; the devhost counts one core) split into batchSize
 *   = min(32, n/2 + 1) and newBatchThreshold = n - batchSize, and `poisonBlobThreshold` (default 5)
 *   attempts. `extensions.queues` does not apply to blob triggers in v5 (azure-sdk-for-net issues
 *   #33672 and #34269). A message whose blob is gone or has another ETag is dropped (the newer
 *   version has its own receipt). Failure releases the message at once; the last failure copies it to
 *   `webjobs-blobtrigger-poison` in the blob's account. Messages are base64 (QueueServiceClientProvider.cs).
 * - The message (Listeners/BlobTriggerMessage.cs) is
 *   `{"Type":"BlobTrigger","FunctionId":"Host.Functions.<name>","BlobType":"BlockBlob","ContainerName":…,"BlobName":…,"ETag":"\"0x…\""}`.
 * - Trigger metadata (Triggers/BlobTriggerBinding.cs): BlobTrigger (`container/blob`), Uri, Properties,
 *   Metadata, then the path's captures, which win over those on a clash. The input is the blob's bytes
 *   (a string with `dataType: 'string'`). The reason logged is `New blob detected(LogsAndContainerScan): container/blob`.
 * - Paths (BlobPathSource.cs, ParameterizedBlobPathSource.cs and the WebJobs SDK's BindingTemplateToken.cs):
 *   `container[/blob-pattern]`, no `{…}` in the container, each `{name}` captures `.*` (greedy),
 *   `{{` and `}}` are literal braces, the whole of `container/blob` must match.
 * - `source: 'EventGrid'` needs an Event Grid subscription on the account's BlobCreated events; the
 *   devhost has no way to raise those from a blob write, so it refuses such a function at start-up.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import {
  BlobServiceClient,
  type BlobDownloadResponseParsed,
  type BlobItem,
  type BlockBlobClient,
  type ContainerClient,
} from '@azure/storage-blob';
import { QueueServiceClient, type QueueClient, type ReceivedMessageItem } from '@azure/storage-queue';
import type { Registration } from '../functionsCore';
import { triggerOf, type InvocationRequest, type RpcTypedData } from '../invoke';
import { codeOf, describe, statusOf } from '../azureErrors';
import { QueueMessagePump, sleep, type MessageOutcome } from './queueMessagePump';
import { decodeBase64 } from './queueTrigger';
import { resolveBindingExpression, type HostJson, type RunningService, type TriggerHostContext } from './triggerHost';

/** host.json `extensions.blobs` with the host's defaults, and the queue options the host derives from it. */
export interface BlobsOptions {
  readonly maxDegreeOfParallelism: number;
  readonly poisonBlobThreshold: number;
  readonly batchSize: number;
  readonly newBatchThreshold: number;
}

export interface BlobListenerOptions {
  /** Names the receipts and the host's blob-trigger queue (default: as the host derives it locally). */
  readonly hostId?: string;
  /** How often every watched container is listed (default 2 s; the host: 10 s). */
  readonly scanIntervalMs?: number;
  /** How long a fetched message stays invisible while it runs (renewed at half-time); host: 10 minutes. */
  readonly messageLeaseMs?: number;
}

export const BLOB_TRIGGER_POISON_QUEUE = 'webjobs-blobtrigger-poison';
export const HOSTS_CONTAINER = 'azure-webjobs-hosts';
const DEFAULT_CONNECTION = 'AzureWebJobsStorage';
const DEFAULT_SCAN_INTERVAL_MS = 2000;
const MINIMUM_SCAN_INTERVAL_MS = 50;
/** BlobReceiptManager.LeasePeriod. */
const RECEIPT_LEASE_SECONDS = 30;
/** QueuesOptions defaults for the blob queue: first retry at once, an idle queue polled at least every minute. */
const RETRY_DELAY_SECONDS = 0;
const MAXIMUM_POLLING_INTERVAL_MS = 60_000;
/** The devhost counts one core, as readQueuesOptions does (a Consumption instance). */
const PROCESSOR_COUNT = 1;
/** Storage container names: 3–63 lowercase letters, digits and single hyphens, starting and ending alphanumeric. */
const CONTAINER_NAME = /^(?=.{3,63}$)[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9]))*$/;
/** A host id as the host accepts one: at most 32 lowercase letters, digits and single hyphens. */
const HOST_ID = /^(?=.{1,32}$)[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9]))*$/;

export function blobTriggerQueueName(hostId: string): string {
  return `azure-webjobs-blobtrigger-${hostId}`;
}

/** The function id the host gives a function of a Functions app (its receipts and messages carry it). */
export function blobFunctionId(functionName: string): string {
  return `Host.Functions.${functionName}`;
}

/** Reads host.json `extensions.blobs` with the host's defaults and limits (BlobsOptions.cs). */
export function readBlobsOptions(hostJson: HostJson): BlobsOptions {
  const blobs = hostJson.extensions?.blobs ?? {};
  const maxDegreeOfParallelism = blobs.maxDegreeOfParallelism ?? 8 * PROCESSOR_COUNT;
  if (!Number.isInteger(maxDegreeOfParallelism) || maxDegreeOfParallelism < 1) {
    throw new Error(
      `host.json extensions.blobs.maxDegreeOfParallelism must be a positive integer, not ${String(blobs.maxDegreeOfParallelism)}.`,
    );
  }
  const poisonBlobThreshold = blobs.poisonBlobThreshold ?? 5;
  if (!Number.isInteger(poisonBlobThreshold) || poisonBlobThreshold < 1) {
    throw new Error(`host.json extensions.blobs.poisonBlobThreshold must be a positive integer, not ${String(blobs.poisonBlobThreshold)}.`);
  }
  // SharedBlobQueueListenerFactory.BlobsOptionsToQueuesOptions: at most maxDegreeOfParallelism run at once.
  const batchSize = Math.min(32, Math.floor(maxDegreeOfParallelism / 2) + 1);
  return { maxDegreeOfParallelism, poisonBlobThreshold, batchSize, newBatchThreshold: maxDegreeOfParallelism - batchSize };
}

/**
 * The host id the host derives when not in Azure (ScriptHostIdProvider.GetDefaultHostId): the machine
 * name's letters and digits, a hash of the app's folder, cut to 32 characters, lower case. The hash
 * has the host's shape; nothing outside the devhost reads its value, it only has to be stable.
 */
export function defaultHostId(appRoot: string, machineName: string = hostname()): string {
  const sanitized = machineName.replace(/[^\p{L}\p{Nd}]/gu, '') || 'localhost';
  let hash = 23;
  for (let index = 0; index < appRoot.length; index++) hash = (Math.imul(hash, 31) + appRoot.charCodeAt(index)) | 0;
  return `${sanitized}-${Math.abs(hash)}`.slice(0, 32).toLowerCase().replace(/-+$/, '');
}

/**
 * The listener options for an app: the host id from `AzureFunctionsJobHost__id` (as the host reads
 * it) or derived from the app's folder; DEVHOST_BLOB_SCAN_INTERVAL_MS (tests only) lists the
 * containers more often; DEVHOST_QUEUE_MESSAGE_LEASE_SECONDS (tests only) applies to the blob queue
 * as to the queue triggers.
 */
export function blobListenerOptions(appRoot: string, env: Readonly<Record<string, string | undefined>>): BlobListenerOptions {
  const configuredId = env.AzureFunctionsJobHost__id;
  if (configuredId !== undefined && configuredId !== '' && !HOST_ID.test(configuredId)) {
    throw new Error(`AzureFunctionsJobHost__id must be 1-32 lowercase letters, digits and single hyphens, not "${configuredId}".`);
  }
  const hostId = configuredId !== undefined && configuredId !== '' ? configuredId : defaultHostId(appRoot);
  const scanText = env.DEVHOST_BLOB_SCAN_INTERVAL_MS;
  let scanIntervalMs: number | undefined;
  if (scanText !== undefined && scanText !== '') {
    scanIntervalMs = Number(scanText);
    if (!Number.isInteger(scanIntervalMs) || scanIntervalMs < MINIMUM_SCAN_INTERVAL_MS) {
      throw new Error(`DEVHOST_BLOB_SCAN_INTERVAL_MS must be a whole number ≥ ${MINIMUM_SCAN_INTERVAL_MS}, not "${scanText}".`);
    }
  }
  const leaseText = env.DEVHOST_QUEUE_MESSAGE_LEASE_SECONDS;
  const leaseSeconds = leaseText === undefined || leaseText === '' ? undefined : Number(leaseText);
  const messageLeaseMs =
    leaseSeconds !== undefined && Number.isInteger(leaseSeconds) && leaseSeconds >= 2 ? leaseSeconds * 1000 : undefined;
  return {
    hostId,
    ...(scanIntervalMs === undefined ? {} : { scanIntervalMs }),
    ...(messageLeaseMs === undefined ? {} : { messageLeaseMs }),
  };
}

export interface BlobPathPattern {
  readonly container: string;
  /** The blob part as written; empty: every blob of the container. */
  readonly blobPattern: string;
  readonly parameterNames: readonly string[];
  /** The captures for this blob, or undefined when the path does not match it. */
  match(container: string, blobName: string): Record<string, string> | undefined;
}

type TemplateToken = { readonly literal: string } | { readonly parameter: string };

/** A blob trigger path as the host parses it (BlobPathSource.Create). */
export function parseBlobPath(path: string): BlobPathPattern {
  const slash = path.indexOf('/');
  const container = slash === -1 ? path : path.slice(0, slash);
  const blobPattern = slash === -1 ? '' : path.slice(slash + 1);
  if ((slash !== -1 && (slash === 0 || slash === path.length - 1)) || container.includes('\\')) {
    throw new Error(`Invalid blob trigger path '${path}'. Paths must be in the format 'container/blob'.`);
  }
  if (container.includes('{')) throw new Error(`Invalid blob trigger path '${path}'. Container paths cannot contain {resolve} tokens.`);
  if (!CONTAINER_NAME.test(container)) {
    throw new Error(
      `Invalid blob trigger path '${path}': "${container}" is not a valid container name (3-63 lowercase letters, digits and single hyphens).`,
    );
  }
  const tokens = templateTokens(path);
  const parameterNames = tokens.flatMap((token) => ('parameter' in token ? [token.parameter] : []));
  const duplicate = parameterNames.find((name, index) => parameterNames.indexOf(name) !== index);
  if (duplicate !== undefined) throw new Error(`Invalid blob trigger path '${path}': {${duplicate}} appears more than once.`);
  const capture = new RegExp(
    `^${tokens.map((token) => ('parameter' in token ? `(?<${token.parameter}>.*)` : escapeRegExp(token.literal))).join('')}$`,
  );
  return {
    container,
    blobPattern,
    parameterNames,
    match: (actualContainer, blobName) => {
      if (actualContainer.toLowerCase() !== container.toLowerCase()) return undefined;
      if (blobPattern === '') return {};
      const found = capture.exec(`${container}/${blobName}`);
      if (found === null) return undefined;
      return Object.fromEntries(parameterNames.map((name) => [name, found.groups?.[name] ?? '']));
    },
  };
}

/** Literal text and `{parameter}`s; `{{` and `}}` are literal braces (the host's BindingTemplateParser). */
function templateTokens(pattern: string): TemplateToken[] {
  const tokens: TemplateToken[] = [];
  let literal = '';
  for (let index = 0; index < pattern.length; index++) {
    const character = pattern.charAt(index);
    const next = pattern.charAt(index + 1);
    if ((character === '{' && next === '{') || (character === '}' && next === '}')) {
      literal += character;
      index++;
    } else if (character === '{') {
      const end = pattern.indexOf('}', index + 1);
      if (end === -1) throw new Error(`Invalid blob trigger path '${pattern}': a '{' is never closed.`);
      const name = pattern.slice(index + 1, end).trim();
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
        throw new Error(`Invalid blob trigger path '${pattern}': the parameter name '${name}' is invalid.`);
      if (literal !== '') tokens.push({ literal });
      literal = '';
      tokens.push({ parameter: name });
      index = end;
    } else if (character === '}') {
      throw new Error(`Invalid blob trigger path '${pattern}': a '}' closes nothing (write '}}' for a literal brace).`);
    } else {
      literal += character;
    }
  }
  if (literal !== '') tokens.push({ literal });
  return tokens;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** One blob-triggered function: its path, its account and how it wants its input. */
class BlobFunction {
  readonly registration: Registration;
  readonly name: string;
  readonly functionId: string;
  readonly bindingName: string;
  readonly path: BlobPathPattern;
  readonly asString: boolean;
  /** The account the blobs are in (`connection`); its poison queue is there too. */
  readonly connectionString: string;
  readonly blobs: BlobServiceClient;
  readonly poisonQueue: QueueClient;

  constructor(registration: Registration, context: TriggerHostContext) {
    this.registration = registration;
    this.name = registration.metadata.name;
    this.functionId = blobFunctionId(this.name);
    const { name, binding } = triggerOf(registration);
    this.bindingName = name;
    const source: unknown = binding.source ?? 'LogsAndContainerScan';
    if (typeof source === 'string' && source.toLowerCase() === 'eventgrid') {
      throw new Error(
        `Function "${this.name}": its blobTrigger has source 'EventGrid', which runs on Event Grid BlobCreated events from a subscription ` +
          `on the storage account. The devhost cannot raise those from a blob write, so it does not serve this function; ` +
          `without a source (LogsAndContainerScan) it would poll the container.`,
      );
    }
    if (typeof source !== 'string' || source.toLowerCase() !== 'logsandcontainerscan') {
      throw new Error(
        `Function "${this.name}": its blobTrigger source must be 'LogsAndContainerScan' or 'EventGrid', not ${JSON.stringify(source)}.`,
      );
    }
    if (typeof binding.path !== 'string' || binding.path === '') throw new Error(`Function "${this.name}": its blobTrigger has no path.`);
    try {
      this.path = parseBlobPath(resolveBindingExpression(binding.path, context.settings));
    } catch (error) {
      throw new Error(`Function "${this.name}": ${describe(error)}`, { cause: error });
    }
    this.asString = typeof binding.dataType === 'string' && binding.dataType.toLowerCase() === 'string';
    const connection = typeof binding.connection === 'string' && binding.connection !== '' ? binding.connection : DEFAULT_CONNECTION;
    const connectionString = context.settings[connection];
    if (connectionString === undefined || connectionString === '') {
      throw new Error(`Function "${this.name}": the app setting "${connection}" (its blob connection) is not set.`);
    }
    this.connectionString = connectionString;
    this.blobs = BlobServiceClient.fromConnectionString(connectionString, { retryOptions: STORAGE_RETRIES });
    const queues = QueueServiceClient.fromConnectionString(connectionString, { retryOptions: STORAGE_RETRIES });
    this.poisonQueue = queues.getQueueClient(BLOB_TRIGGER_POISON_QUEUE);
  }
}

const STORAGE_RETRIES = { maxTries: 3, retryDelayInMs: 200, maxRetryDelayInMs: 2000 };

/** A watched container with the functions whose paths name it, and which blob versions are known done. */
interface WatchedContainer {
  readonly client: ContainerClient;
  readonly functions: BlobFunction[];
  /** `<function id>\n<blob name>` → the ETag whose receipt is complete, so that a scan skips it without a request. */
  readonly done: Map<string, string>;
}

export async function startBlobTriggers(
  registrations: readonly Registration[],
  context: TriggerHostContext,
  options: BlobListenerOptions = {},
): Promise<RunningService> {
  const served = registrations.filter((registration) => triggerOf(registration).binding.type === 'blobTrigger');
  if (served.length === 0) return { stop: () => Promise.resolve() };
  const functions = served.map((registration) => new BlobFunction(registration, context));
  const blobsOptions = readBlobsOptions(context.hostJson);
  const hostConnection = context.settings[DEFAULT_CONNECTION];
  if (hostConnection === undefined || hostConnection === '') {
    throw new Error(`Blob triggers need the app setting "${DEFAULT_CONNECTION}": the host keeps its blob receipts and queue there.`);
  }
  const hostId = options.hostId ?? defaultHostId(process.cwd());
  if (!HOST_ID.test(hostId)) throw new Error(`The host id "${hostId}" is not 1-32 lowercase letters, digits and single hyphens.`);
  const hostQueues = QueueServiceClient.fromConnectionString(hostConnection, { retryOptions: STORAGE_RETRIES });
  const hostBlobs = BlobServiceClient.fromConnectionString(hostConnection, { retryOptions: STORAGE_RETRIES });

  const queue = new BlobQueueListener(
    hostQueues.getQueueClient(blobTriggerQueueName(hostId)),
    hostQueues.getQueueClient(BLOB_TRIGGER_POISON_QUEUE),
    functions,
    context,
    blobsOptions,
    options.messageLeaseMs,
  );
  const scanner = new BlobScanner(functions, hostBlobs.getContainerClient(HOSTS_CONTAINER), hostId, queue, context, {
    scanIntervalMs: options.scanIntervalMs ?? DEFAULT_SCAN_INTERVAL_MS,
  });
  // A storage account that is not there shows at start-up, as with the queue triggers.
  await queue.prepare();
  queue.start();
  scanner.start();
  let stopping: Promise<void> | undefined;
  return {
    // Detection first, so nothing is enqueued after the queue listener stopped; then the running invocations finish.
    stop: () =>
      (stopping ??= (async () => {
        await scanner.stop();
        await queue.stop();
      })()),
  };
}

/** Finds new and changed blobs and hands each version once to the host's blob-trigger queue, through receipts. */
class BlobScanner {
  readonly #containers: WatchedContainer[] = [];
  readonly #receipts: ContainerClient;
  readonly #hostId: string;
  readonly #queue: BlobQueueListener;
  readonly #context: TriggerHostContext;
  readonly #scanIntervalMs: number;
  readonly #stopController = new AbortController();
  #receiptsReady = false;
  #failures = 0;
  #running: Promise<void> | undefined;

  constructor(
    functions: readonly BlobFunction[],
    receipts: ContainerClient,
    hostId: string,
    queue: BlobQueueListener,
    context: TriggerHostContext,
    options: { scanIntervalMs: number },
  ) {
    this.#receipts = receipts;
    this.#hostId = hostId;
    this.#queue = queue;
    this.#context = context;
    this.#scanIntervalMs = options.scanIntervalMs;
    for (const fn of functions) {
      const watched = this.#containers.find(
        (candidate) =>
          candidate.functions[0]?.connectionString === fn.connectionString && candidate.client.containerName === fn.path.container,
      );
      if (watched) watched.functions.push(fn);
      else this.#containers.push({ client: fn.blobs.getContainerClient(fn.path.container), functions: [fn], done: new Map() });
    }
  }

  start(): void {
    for (const { client, functions } of this.#containers) {
      for (const fn of functions) {
        this.#context.logger.info(
          `Blob trigger "${fn.name}" is watching '${client.containerName}'${fn.path.blobPattern === '' ? '' : ` for '${fn.path.blobPattern}'`}.`,
        );
      }
    }
    this.#running = this.#loop();
  }

  /** Stops scanning; a blob being handed over finishes its receipt first. */
  async stop(): Promise<void> {
    this.#stopController.abort();
    await this.#running;
  }

  #stopped(): boolean {
    return this.#stopController.signal.aborted;
  }

  async #loop(): Promise<void> {
    while (!this.#stopped()) {
      for (const watched of this.#containers) {
        if (this.#stopped()) return;
        await this.#scan(watched);
      }
      await sleep(this.#scanIntervalMs, this.#stopController.signal);
    }
  }

  async #scan(watched: WatchedContainer): Promise<void> {
    const containerName = watched.client.containerName;
    let items: BlobItem[];
    try {
      items = [];
      for await (const item of watched.client.listBlobsFlat()) items.push(item);
    } catch (error) {
      // A container that does not exist yet is watched all the same (the host logs it and carries on).
      if (statusOf(error) === 404) return;
      this.#warn(`cannot list '${containerName}'`, error);
      return;
    }
    this.#recovered();
    for (const item of items) {
      // Listings give the ETag bare; the host takes it from the blob's properties (the header), quoted, and so it is in receipts and messages.
      const etag = item.properties.etag.startsWith('"') ? item.properties.etag : `"${item.properties.etag}"`;
      for (const fn of watched.functions) {
        if (this.#stopped()) return;
        if (fn.path.match(containerName, item.name) === undefined) continue;
        const key = `${fn.functionId}\n${item.name}`;
        if (watched.done.get(key) === etag) continue;
        try {
          if (await this.#handOver(fn, containerName, item.name, etag, item.properties.blobType ?? 'BlockBlob'))
            watched.done.set(key, etag);
          this.#recovered();
        } catch (error) {
          this.#warn(`could not hand over '${containerName}/${item.name}'`, error);
        }
      }
    }
  }

  #recovered(): void {
    if (this.#failures > 0) this.#context.logger.info('Blob trigger scan: storage answers again.');
    this.#failures = 0;
  }

  /** Logs the first of a run of failures only: storage being down is one event, not one per blob and scan. */
  #warn(what: string, error: unknown): void {
    if (this.#failures++ === 0 && !this.#stopped()) {
      this.#context.logger.warn(`Blob trigger scan: ${what} (will keep trying): ${describe(error)}`);
    }
  }

  /**
   * BlobTriggerExecutor: true when this version is done (already, or now enqueued and its receipt
   * complete), false when another holder of the receipt is at it (tried again on the next scan).
   */
  async #handOver(fn: BlobFunction, containerName: string, blobName: string, etag: string, blobType: string): Promise<boolean> {
    const receipt = this.#receipts.getBlockBlobClient(`blobreceipts/${this.#hostId}/${fn.functionId}/${etag}/${containerName}/${blobName}`);
    const existing = await readReceipt(receipt);
    if (existing === 'complete') return true;
    if (existing === undefined && !(await this.#createReceipt(receipt))) return false;
    const leaseId = await acquireReceiptLease(receipt);
    if (leaseId === undefined) return false;
    try {
      if ((await readReceipt(receipt)) === 'complete') return true;
      await this.#queue.enqueue({
        Type: 'BlobTrigger',
        FunctionId: fn.functionId,
        BlobType: blobType,
        ContainerName: containerName,
        BlobName: blobName,
        ETag: etag,
      });
      await markReceiptComplete(receipt, leaseId);
      return true;
    } finally {
      await receipt
        .getBlobLeaseClient(leaseId)
        .releaseLease()
        .catch((error: unknown) => {
          if (statusOf(error) !== 404 && codeOf(error) !== 'LeaseIdMismatchWithLeaseOperation') throw error;
        });
    }
  }

  /** BlobReceiptManager.TryCreateAsync: an empty blob with `Incomplete` metadata, only if there is none. */
  async #createReceipt(receipt: BlockBlobClient): Promise<boolean> {
    const create = () => receipt.upload('', 0, { metadata: { Incomplete: 'Incomplete' }, conditions: { ifNoneMatch: '*' } });
    try {
      if (!this.#receiptsReady) {
        await this.#receipts.createIfNotExists();
        this.#receiptsReady = true;
      }
      await create();
      return true;
    } catch (error) {
      if (codeOf(error) === 'ContainerNotFound') {
        this.#receiptsReady = false;
        return false;
      }
      // Someone else created it first (409 BlobAlreadyExists, or 412 from the condition): not ours this time.
      if (statusOf(error) === 409 || statusOf(error) === 412) return false;
      throw error;
    }
  }
}

async function readReceipt(receipt: BlockBlobClient): Promise<'complete' | 'incomplete' | undefined> {
  try {
    const { metadata = {} } = await receipt.getProperties();
    return Object.keys(metadata).some((key) => key.toLowerCase() === 'incomplete') ? 'incomplete' : 'complete';
  } catch (error) {
    if (statusOf(error) === 404) return undefined;
    throw error;
  }
}

/** BlobReceiptManager.TryAcquireLeaseAsync: undefined when someone else holds the lease or the receipt is gone. */
async function acquireReceiptLease(receipt: BlockBlobClient): Promise<string | undefined> {
  try {
    return (await receipt.getBlobLeaseClient().acquireLease(RECEIPT_LEASE_SECONDS)).leaseId;
  } catch (error) {
    if (statusOf(error) === 404 || codeOf(error) === 'LeaseAlreadyPresent') return undefined;
    throw error;
  }
}

async function markReceiptComplete(receipt: BlockBlobClient, leaseId: string): Promise<void> {
  try {
    const { metadata = {} } = await receipt.getProperties();
    const complete = Object.fromEntries(Object.entries(metadata).filter(([key]) => key.toLowerCase() !== 'incomplete'));
    await receipt.setMetadata(complete, { conditions: { leaseId } });
  } catch (error) {
    // As the host: a receipt deleted meanwhile, or a lease that expired, is left as it is.
    if (statusOf(error) === 404 || statusOf(error) === 412) return;
    throw error;
  }
}

interface BlobTriggerMessage {
  readonly Type: 'BlobTrigger';
  readonly FunctionId: string;
  readonly BlobType: string;
  readonly ContainerName: string;
  readonly BlobName: string;
  readonly ETag: string;
}

/** The host's shared blob-trigger queue: one message per blob version to run, retried and poisoned as the host does. */
class BlobQueueListener {
  readonly #queue: QueueClient;
  readonly #functions: ReadonlyMap<string, BlobFunction>;
  readonly #context: TriggerHostContext;
  readonly #pump: QueueMessagePump;

  constructor(
    queue: QueueClient,
    hostPoisonQueue: QueueClient,
    functions: readonly BlobFunction[],
    context: TriggerHostContext,
    options: BlobsOptions,
    messageLeaseMs: number | undefined,
  ) {
    this.#queue = queue;
    this.#functions = new Map(functions.map((fn) => [fn.functionId, fn]));
    this.#context = context;
    this.#pump = new QueueMessagePump({
      queue,
      batchSize: options.batchSize,
      newBatchThreshold: options.newBatchThreshold,
      maxPollingIntervalMs: MAXIMUM_POLLING_INTERVAL_MS,
      maxDequeueCount: options.poisonBlobThreshold,
      retryDelaySeconds: RETRY_DELAY_SECONDS,
      messageLeaseMs,
      // SharedBlobQueueProcessor: the blob's account; the host account's when the function is unknown (the host's fallback).
      poisonQueueFor: (message) => this.#functionOf(parseMessage(message.messageText))?.poisonQueue ?? hostPoisonQueue,
      handle: (message) => this.#handle(message),
      logger: context.logger,
      logSubject: 'Blob triggers',
      logPrefix: 'Blob trigger',
    });
  }

  prepare(): Promise<void> {
    return this.#pump.prepare();
  }

  start(): void {
    this.#pump.start();
  }

  stop(): Promise<void> {
    return this.#pump.stop();
  }

  /** BlobTriggerQueueWriter: the message as JSON, base64, the queue created if needed; the listener is woken (SharedQueueWatcher). */
  async enqueue(message: BlobTriggerMessage): Promise<void> {
    const text = Buffer.from(JSON.stringify(message), 'utf8').toString('base64');
    try {
      await this.#queue.sendMessage(text);
    } catch (error) {
      if (statusOf(error) !== 404) throw error;
      await this.#queue.createIfNotExists();
      await this.#queue.sendMessage(text);
    }
    this.#pump.wake();
  }

  #functionOf(message: BlobTriggerMessage | undefined): BlobFunction | undefined {
    return message === undefined ? undefined : this.#functions.get(message.FunctionId);
  }

  async #handle(message: ReceivedMessageItem): Promise<MessageOutcome> {
    const parsed = parseMessage(message.messageText);
    const fn = this.#functionOf(parsed);
    if (parsed !== undefined && fn === undefined) {
      // BlobQueueTriggerExecutor: a function that is no longer there (renamed, disabled) makes the message moot.
      this.#context.logger.info(
        `Blob trigger: no function '${parsed.FunctionId}' for '${parsed.ContainerName}/${parsed.BlobName}'; message dropped.`,
      );
      return 'done';
    }
    try {
      if (parsed === undefined || fn === undefined) throw new Error('Invalid blob trigger message.');
      await this.#run(fn, parsed);
      return 'done';
    } catch (error) {
      // The devhost's invoke has logged a failing function; anything else is logged here.
      if (!(error instanceof FunctionFailed))
        this.#context.logger.error(`Blob trigger: message ${message.messageId} could not be run`, error);
      return 'failed';
    }
  }

  /** BlobQueueTriggerExecutor: the blob as it is now, if it is still this version, to the function. */
  async #run(fn: BlobFunction, message: BlobTriggerMessage): Promise<void> {
    const blob = fn.blobs.getContainerClient(message.ContainerName).getBlobClient(message.BlobName);
    let download: BlobDownloadResponseParsed;
    try {
      download = await blob.download(0, undefined, { conditions: { ifMatch: message.ETag } });
    } catch (error) {
      // Gone, or changed since (412): this version is moot; a newer one has its own receipt and message.
      if (statusOf(error) === 404 || statusOf(error) === 412) return;
      throw error;
    }
    const content = await readAll(download.readableStreamBody);
    const captures = fn.path.match(message.ContainerName, message.BlobName) ?? {};
    // The host serialises Azure.Storage.Blobs' BlobProperties (the worker camel-cases the names); these are the ones a function reads.
    const properties = {
      LastModified: dotNetDateTimeOffset(download.lastModified),
      CreatedOn: dotNetDateTimeOffset(download.createdOn),
      Metadata: download.metadata ?? {},
      BlobType: download.blobType ?? message.BlobType,
      ContentLength: download.contentLength ?? content.length,
      ContentType: download.contentType ?? null,
      ContentEncoding: download.contentEncoding ?? null,
      ContentLanguage: download.contentLanguage ?? null,
      ContentDisposition: download.contentDisposition ?? null,
      CacheControl: download.cacheControl ?? null,
      ContentHash: download.contentMD5 === undefined ? null : Buffer.from(download.contentMD5).toString('base64'),
      ETag: download.etag ?? message.ETag,
      LeaseState: download.leaseState ?? null,
      LeaseStatus: download.leaseStatus ?? null,
      IsServerEncrypted: download.isServerEncrypted ?? false,
      VersionId: download.versionId ?? null,
    };
    const builtIn: Record<string, RpcTypedData> = {
      BlobTrigger: { string: `${message.ContainerName}/${message.BlobName}` },
      Uri: { json: JSON.stringify(blob.url) },
      Properties: { json: JSON.stringify(properties) },
      Metadata: { json: JSON.stringify(download.metadata ?? {}) },
    };
    // Binding data is case-insensitive in the host; a capture wins over a built-in of the same name.
    const captured = new Set(Object.keys(captures).map((name) => name.toLowerCase()));
    const triggerMetadata: Record<string, RpcTypedData> = {
      ...Object.fromEntries(Object.entries(builtIn).filter(([key]) => !captured.has(key.toLowerCase()))),
      ...Object.fromEntries(Object.entries(captures).map(([name, value]) => [name, { string: value }])),
      sys: { json: JSON.stringify({ MethodName: fn.name, UtcNow: new Date().toISOString(), RandGuid: randomUUID() }) },
    };
    const request: InvocationRequest = {
      inputData: [{ name: fn.bindingName, data: fn.asString ? { string: content.toString('utf8') } : { bytes: content } }],
      triggerMetadata,
    };
    try {
      await this.#context.invoke(
        fn.registration,
        request,
        `New blob detected(LogsAndContainerScan): ${message.ContainerName}/${message.BlobName}`,
      );
    } catch (error) {
      throw new FunctionFailed(error);
    }
  }
}

/** Marks a failure of the function itself (already logged by invoke), as against the devhost's own bookkeeping. */
class FunctionFailed extends Error {
  constructor(cause: unknown) {
    super('The function failed.', { cause });
  }
}

function parseMessage(text: string): BlobTriggerMessage | undefined {
  const bytes = decodeBase64(text);
  if (bytes === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(bytes.toString('utf8'));
    if (typeof value !== 'object' || value === null) return undefined;
    const fields = value as Record<string, unknown>;
    const { FunctionId, ContainerName, BlobName, ETag, BlobType } = fields;
    if (typeof FunctionId !== 'string' || typeof ContainerName !== 'string' || typeof BlobName !== 'string' || typeof ETag !== 'string')
      return undefined;
    return {
      Type: 'BlobTrigger',
      FunctionId,
      ContainerName,
      BlobName,
      ETag,
      BlobType: typeof BlobType === 'string' ? BlobType : 'BlockBlob',
    };
  } catch {
    return undefined;
  }
}

async function readAll(stream: NodeJS.ReadableStream | undefined): Promise<Buffer> {
  if (stream === undefined) return Buffer.alloc(0);
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks);
}

/** How the host serialises a DateTimeOffset for the worker: "2024-05-01T10:00:00+00:00". */
function dotNetDateTimeOffset(date: Date | undefined): string | null {
  if (date === undefined) return null;
  return date
    .toISOString()
    .replace(/\.000Z$/, '+00:00')
    .replace(/Z$/, '+00:00');
}
