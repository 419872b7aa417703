/**
 * Cosmos DB triggers (extension 4.x option names), served from the monitored container's change
 * feed through the real @azure/cosmos SDK (`getChangeFeedIterator`), with the continuation kept in the
 * lease container as the Functions host's change feed processor keeps its leases:
 *   - one lease document per function, id `<leaseContainerPrefix><account host>_<database>_<container>`,
 *     in `leaseContainerName` (default `leases`) of `leaseDatabaseName` (default the monitored
 *     database); the lease container is partitioned on `/id`. `leaseContainerPrefix` lets several
 *     functions share one lease container, each seeing every change.
 *   - `startFromBeginning` / `startFromTime` apply only while the function has no lease yet; after
 *     that it resumes from its checkpoint. Without either it starts from now.
 *   - A failed batch is retried as the function's retry policy says (`retry`: fixedDelay or
 *     exponentialBackoff, up to maxRetryCount, -1 without end), the same documents each time, and
 *     the checkpoint holds meanwhile. Without a policy, or once its retries are spent, the lease
 *     moves past the batch, as the host's change feed processor does; each failure is logged. A
 *     batch still failing when the devhost stops is delivered again at the next start.
 *   - One batch at a time per function, in change feed order, at most `maxItemsPerInvocation` each.
 *   - When a poll finds nothing new, the next one waits `feedPollDelay` ms (default 5000).
 * The handler receives the array of documents (with their system properties), as in Azure.
 */
import {
  ChangeFeedStartFrom,
  type ChangeFeedPullModelIterator,
  type Container,
  type CosmosClient,
  type ItemDefinition,
  type Resource,
} from '@azure/cosmos';
import { connectionStringPart, cosmosClientFor, type CosmosConnection } from '../cosmos/cosmosConnection';
import type { Registration } from '../functionsCore';
import { triggerOf } from '../invoke';
import { readRetryPolicy, type RetryPolicy } from './retryPolicy';
import { resolveBindingExpression, type RunningService, type TriggerHostContext } from './triggerHost';

export interface CosmosTriggerOptions {
  /** Used instead of every function's `feedPollDelay` (ms): tests and benchmarks poll faster. */
  readonly feedPollDelayMs?: number;
  /**
   * Waits for tests: between retries of a failing batch (in place of the function's policy's) and after
   * the devhost's own transient failures: `initialDelayMs` (default 1000) doubling up to `maxDelayMs` (default 60000).
   */
  readonly retry?: { readonly initialDelayMs?: number; readonly maxDelayMs?: number };
}

export interface RunningCosmosTriggers extends RunningService {
  /**
   * Resolves when every function has caught up: each has checkpointed everything and then polled
   * and found nothing new, in a poll begun after this call. Rejects if a function stopped on an error.
   */
  idle(): Promise<void>;
}

/** The lease document, one per function (lease prefix) and monitored container. */
export interface CosmosTriggerLease {
  readonly id: string;
  /** The SDK's change feed continuation after the last batch the function completed. */
  readonly continuationToken: string;
  readonly owner: string;
  readonly timestamp: string;
  readonly functionName: string;
  readonly leaseContainerPrefix: string;
  readonly monitored: { readonly account: string; readonly database: string; readonly container: string };
}

export const DEFAULT_FEED_POLL_DELAY_MS = 5000;
export const DEFAULT_LEASE_CONTAINER = 'leases';

/** The lease document id for a function's lease prefix and monitored container. */
export function cosmosTriggerLeaseId(
  leaseContainerPrefix: string,
  accountEndpoint: string,
  databaseName: string,
  containerName: string,
): string {
  const host = URL.canParse(accountEndpoint) ? new URL(accountEndpoint).hostname : accountEndpoint;
  // Cosmos ids may not contain / \ ? #.
  return `${leaseContainerPrefix}${host}_${databaseName}_${containerName}`.replace(/[/\\?#]/g, '_');
}

export async function startCosmosTriggers(
  registrations: readonly Registration[],
  context: TriggerHostContext,
  options: CosmosTriggerOptions = {},
): Promise<RunningCosmosTriggers> {
  const feeds = registrations.filter((registration) => triggerOf(registration).binding.type === 'cosmosDBTrigger');
  const configs = feeds.map((registration) => readFeedConfig(registration, context, options));
  refuseSharedLeases(configs);

  const clients = new Map<string, CosmosClient>();
  const clientFor = (connection: CosmosConnection): CosmosClient => {
    const key = connection.connectionString ?? `identity:${connection.accountEndpoint}`;
    let client = clients.get(key);
    if (!client) {
      client = cosmosClientFor(connection);
      clients.set(key, client);
    }
    return client;
  };
  const disposeClients = () => {
    for (const client of clients.values()) client.dispose();
  };

  const runners: FeedRunner[] = [];
  try {
    for (const config of configs) {
      const monitored = await monitoredContainer(clientFor(config.connection), config);
      const leases = await leaseContainer(clientFor(config.leaseConnection), config);
      const lease = await FeedLease.load(leases, config);
      runners.push(new FeedRunner(config, context, monitored, lease));
    }
  } catch (error) {
    disposeClients();
    throw error;
  }
  for (const runner of runners) runner.start();

  let stopping: Promise<void> | undefined;
  return {
    idle: async () => {
      await Promise.all(runners.map((runner) => runner.idle()));
    },
    stop: () =>
      (stopping ??= (async () => {
        try {
          await Promise.all(runners.map((runner) => runner.stop()));
        } finally {
          disposeClients();
        }
      })()),
  };
}

// --- configuration ---------------------------------------------------------------------------

interface FeedConfig {
  readonly registration: Registration;
  readonly functionName: string;
  readonly bindingName: string;
  readonly connection: CosmosConnection;
  readonly leaseConnection: CosmosConnection;
  readonly databaseName: string;
  readonly containerName: string;
  readonly leaseDatabaseName: string;
  readonly leaseContainerName: string;
  readonly leaseContainerPrefix: string;
  readonly createLeaseContainerIfNotExists: boolean;
  readonly leaseId: string;
  readonly startFrom: { readonly kind: 'beginning' } | { readonly kind: 'now' } | { readonly kind: 'time'; readonly time: Date };
  readonly maxItemsPerInvocation: number | undefined;
  readonly feedPollDelayMs: number;
  /** The function's retry policy, as the host applies it to a failed batch (none: the batch is given up). */
  readonly retryPolicy: RetryPolicy | undefined;
  /** Tests' shorter waits between retries, in place of the policy's. */
  readonly retryDelayOverride: { readonly initialDelayMs: number; readonly maxDelayMs: number } | undefined;
  /** Backoff for the devhost's own transient failures (reading the feed, writing the lease). */
  readonly retryInitialDelayMs: number;
  readonly retryMaxDelayMs: number;
}

function readFeedConfig(registration: Registration, context: TriggerHostContext, options: CosmosTriggerOptions): FeedConfig {
  const functionName = registration.metadata.name;
  const { name: bindingName, binding } = triggerOf(registration);
  const fail = (message: string): never => {
    throw new Error(`Cosmos DB trigger of function "${functionName}": ${message}`);
  };
  const text = (property: string): string | undefined => {
    const value = binding[property];
    if (value === undefined || value === null || value === '') return undefined;
    if (typeof value !== 'string') return fail(`${property} must be a string.`);
    try {
      return resolveBindingExpression(value, context.settings);
    } catch (error) {
      return fail(error instanceof Error ? error.message : String(error));
    }
  };
  const flag = (property: string): boolean => binding[property] === true || binding[property] === 'true';
  const positiveNumber = (property: string): number | undefined => {
    const value = binding[property];
    if (value === undefined || value === null) return undefined;
    const number = typeof value === 'string' ? Number(value) : value;
    if (typeof number !== 'number' || !Number.isFinite(number) || number <= 0) return fail(`${property} must be a positive number.`);
    return number;
  };

  if (binding.collectionName !== undefined || binding.leaseCollectionName !== undefined) {
    fail(
      'it uses the extension 3.x names (collectionName, leaseCollectionName…); extension 4.x uses containerName, leaseContainerName, leaseContainerPrefix.',
    );
  }
  const changeFeedMode = text('changeFeedMode');
  if (changeFeedMode !== undefined && changeFeedMode !== 'LatestVersion')
    fail(`changeFeedMode '${changeFeedMode}' is not served by the devhost (only LatestVersion).`);

  const connectionName = text('connection') ?? fail('connection (the name of the app setting with the connection) is missing.');
  const connection = readConnection(connectionName, context, fail);
  const leaseConnectionName = text('leaseConnection');
  const leaseConnection = leaseConnectionName === undefined ? connection : readConnection(leaseConnectionName, context, fail);
  const databaseName = text('databaseName') ?? fail('databaseName is missing.');
  const containerName = text('containerName') ?? fail('containerName is missing.');
  const leaseContainerPrefix = text('leaseContainerPrefix') ?? '';

  const startFromBeginning = flag('startFromBeginning');
  const startFromTime = text('startFromTime');
  if (startFromBeginning && startFromTime !== undefined) fail('startFromBeginning and startFromTime cannot both be set.');
  let startFrom: FeedConfig['startFrom'] = { kind: startFromBeginning ? 'beginning' : 'now' };
  if (startFromTime !== undefined) {
    const time = Date.parse(startFromTime);
    if (Number.isNaN(time)) fail(`startFromTime '${startFromTime}' is not a date and time (e.g. 2021-02-16T14:19:29Z).`);
    startFrom = { kind: 'time', time: new Date(time) };
  }

  const maxItemsPerInvocation = positiveNumber('maxItemsPerInvocation');
  if (maxItemsPerInvocation !== undefined && !Number.isInteger(maxItemsPerInvocation))
    fail('maxItemsPerInvocation must be a whole number.');

  return {
    registration,
    functionName,
    bindingName,
    connection,
    leaseConnection,
    databaseName,
    containerName,
    leaseDatabaseName: text('leaseDatabaseName') ?? databaseName,
    leaseContainerName: text('leaseContainerName') ?? DEFAULT_LEASE_CONTAINER,
    leaseContainerPrefix,
    createLeaseContainerIfNotExists: flag('createLeaseContainerIfNotExists'),
    leaseId: cosmosTriggerLeaseId(leaseContainerPrefix, connection.accountEndpoint, databaseName, containerName),
    startFrom,
    maxItemsPerInvocation,
    feedPollDelayMs: options.feedPollDelayMs ?? positiveNumber('feedPollDelay') ?? DEFAULT_FEED_POLL_DELAY_MS,
    retryPolicy: readRetryPolicy(registration.metadata),
    retryDelayOverride: options.retry && {
      initialDelayMs: options.retry.initialDelayMs ?? 1000,
      maxDelayMs: options.retry.maxDelayMs ?? 60_000,
    },
    retryInitialDelayMs: options.retry?.initialDelayMs ?? 1000,
    retryMaxDelayMs: options.retry?.maxDelayMs ?? 60_000,
  };
}

/** A connection setting: a connection string, or `<name>__accountEndpoint` for identity-based access. */
function readConnection(name: string, context: TriggerHostContext, fail: (message: string) => never): CosmosConnection {
  const connectionString = context.settings[name];
  if (connectionString) {
    const accountEndpoint = connectionStringPart(connectionString, 'AccountEndpoint');
    if (!accountEndpoint) return fail(`the app setting ${name} is not a Cosmos DB connection string (AccountEndpoint=…;AccountKey=…;).`);
    return { connectionString, accountEndpoint };
  }
  const accountEndpoint = context.settings[`${name}__accountEndpoint`];
  if (accountEndpoint) return { accountEndpoint };
  return fail(`the connection app setting ${name} (or ${name}__accountEndpoint) is not set.`);
}

/** Two functions on one lease document would share (and split) one checkpoint: refuse, as a hint. */
function refuseSharedLeases(configs: readonly FeedConfig[]): void {
  const seen = new Map<string, string>();
  for (const config of configs) {
    const key = JSON.stringify([
      config.leaseConnection.accountEndpoint,
      config.leaseDatabaseName,
      config.leaseContainerName,
      config.leaseId,
    ]);
    const other = seen.get(key);
    if (other !== undefined) {
      throw new Error(
        `Cosmos DB triggers of functions "${other}" and "${config.functionName}" watch the same container with the same lease container and prefix, so they would share one checkpoint; give each a different leaseContainerPrefix.`,
      );
    }
    seen.set(key, config.functionName);
  }
}

async function monitoredContainer(client: CosmosClient, config: FeedConfig): Promise<Container> {
  const container = client.database(config.databaseName).container(config.containerName);
  if (!(await exists(container))) {
    throw new Error(
      `Cosmos DB trigger of function "${config.functionName}": the monitored container ${config.databaseName}/${config.containerName} does not exist.`,
    );
  }
  return container;
}

async function leaseContainer(client: CosmosClient, config: FeedConfig): Promise<Container> {
  const container = client.database(config.leaseDatabaseName).container(config.leaseContainerName);
  if (await exists(container)) return container;
  if (!config.createLeaseContainerIfNotExists) {
    throw new Error(
      `Cosmos DB trigger of function "${config.functionName}": the lease container ${config.leaseDatabaseName}/${config.leaseContainerName} does not exist. ` +
        'Create it (partition key /id) or set createLeaseContainerIfNotExists to true.',
    );
  }
  const { database } = await client.databases.createIfNotExists({ id: config.leaseDatabaseName });
  const { container: created } = await database.containers.createIfNotExists({
    id: config.leaseContainerName,
    partitionKey: { paths: ['/id'] },
  });
  return created;
}

async function exists(container: Container): Promise<boolean> {
  try {
    await container.read();
    return true;
  } catch (error) {
    if (statusOf(error) === 404) return false;
    throw error;
  }
}

function statusOf(error: unknown): unknown {
  return typeof error === 'object' && error !== null && 'code' in error ? error.code : undefined;
}

// --- lease -----------------------------------------------------------------------------------

class LeaseLostError extends Error {}

/** The function's lease document; written with the ETag read, so a second owner is noticed. */
class FeedLease {
  private constructor(
    private readonly container: Container,
    private readonly config: FeedConfig,
    private etag: string | undefined,
    private token: string | undefined,
  ) {}

  static async load(container: Container, config: FeedConfig): Promise<FeedLease> {
    const { resource } = await container.item(config.leaseId, config.leaseId).read<CosmosTriggerLease>();
    const token = typeof resource?.continuationToken === 'string' ? resource.continuationToken : undefined;
    return new FeedLease(container, config, resource?._etag, token);
  }

  get continuationToken(): string | undefined {
    return this.token;
  }

  async checkpoint(continuationToken: string): Promise<void> {
    const { config } = this;
    const document: CosmosTriggerLease = {
      id: config.leaseId,
      continuationToken,
      owner: `devhost:${String(process.pid)}`,
      timestamp: new Date().toISOString(),
      functionName: config.functionName,
      leaseContainerPrefix: config.leaseContainerPrefix,
      monitored: { account: config.connection.accountEndpoint, database: config.databaseName, container: config.containerName },
    };
    try {
      const { resource } =
        this.etag === undefined
          ? await this.container.items.create<CosmosTriggerLease>(document)
          : await this.container
              .item(config.leaseId, config.leaseId)
              .replace<CosmosTriggerLease>(document, { accessCondition: { type: 'IfMatch', condition: this.etag } });
      this.etag = resource?._etag;
      this.token = continuationToken;
    } catch (error) {
      const status = statusOf(error);
      if (status === 409 || status === 412 || status === 404) {
        throw new LeaseLostError(
          `the lease ${config.leaseDatabaseName}/${config.leaseContainerName}/${config.leaseId} was changed by someone else (HTTP ${String(status)})`,
          { cause: error },
        );
      }
      throw error;
    }
  }
}

// --- the feed loop ---------------------------------------------------------------------------

type ChangeFeedStart =
  | ReturnType<typeof ChangeFeedStartFrom.Beginning>
  | ReturnType<typeof ChangeFeedStartFrom.Now>
  | ReturnType<typeof ChangeFeedStartFrom.Time>
  | ReturnType<typeof ChangeFeedStartFrom.Continuation>;

type Document = ItemDefinition & Resource;

interface IdleWaiter {
  /** Resolved by an empty poll begun after this poll number. */
  readonly afterPoll: number;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

class FeedRunner {
  private loop: Promise<void> | undefined;
  private stopping = false;
  private failure: Error | undefined;
  private polls = 0;
  private idleWaiters: IdleWaiter[] = [];
  /** Cuts the current sleep short: `poll` sleeps end on idle() and stop(), `backoff` sleeps on stop() only. */
  private wakeSleep: { readonly kind: 'poll' | 'backoff'; readonly wake: () => void } | undefined;

  constructor(
    private readonly config: FeedConfig,
    private readonly context: TriggerHostContext,
    private readonly monitored: Container,
    private readonly lease: FeedLease,
  ) {}

  start(): void {
    const { config } = this;
    const from =
      this.lease.continuationToken !== undefined
        ? 'its lease checkpoint'
        : config.startFrom.kind === 'time'
          ? config.startFrom.time.toISOString()
          : config.startFrom.kind;
    this.context.logger.info(
      `Cosmos DB trigger '${config.functionName}': ${config.databaseName}/${config.containerName} from ${from}; lease ${config.leaseDatabaseName}/${config.leaseContainerName}/${config.leaseId}`,
    );
    this.loop = this.run().then(
      () => {
        this.settleWaiters();
      },
      (error: unknown) => {
        this.failure = error instanceof Error ? error : new Error(String(error));
        this.context.logger.error(`Cosmos DB trigger '${config.functionName}' stopped`, error);
        this.settleWaiters();
      },
    );
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.wakeSleep?.wake();
    await this.loop;
  }

  idle(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.stopping || !this.loop) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.idleWaiters.push({ afterPoll: this.polls, resolve, reject });
      if (this.wakeSleep?.kind === 'poll') this.wakeSleep.wake();
    });
  }

  private async run(): Promise<void> {
    let iterator = this.newIterator();
    let readFailures = 0;
    while (!this.isStopping()) {
      this.polls += 1;
      const poll = this.polls;
      let page: Awaited<ReturnType<ChangeFeedPullModelIterator<ItemDefinition>['readNext']>>;
      try {
        page = await iterator.readNext();
        readFailures = 0;
      } catch (error) {
        readFailures += 1;
        const delay = this.backoff(readFailures);
        this.context.logger.error(
          `Cosmos DB trigger '${this.config.functionName}': reading the change feed failed (attempt ${readFailures}); retrying in ${delay} ms`,
          error,
        );
        await this.sleep(delay, 'backoff');
        // Start again from the checkpoint: the failed iterator's own state is unknown.
        iterator = this.newIterator();
        continue;
      }
      if (this.isStopping()) break;

      const documents: Document[] = page.statusCode === 304 ? [] : page.result;
      if (documents.length === 0) {
        // Caught up. Keep the position even when nothing came: a later start then resumes here
        // rather than at its start option (from "now" it would miss what was written meanwhile).
        const token = page.continuationToken;
        if (token && token !== this.lease.continuationToken && !(await this.checkpoint(token))) break;
        this.caughtUp(poll);
        if (this.idleWaiters.length === 0) await this.sleep(this.config.feedPollDelayMs, 'poll');
        continue;
      }

      if (!(await this.deliver(documents))) break;
      if (!(await this.checkpoint(page.continuationToken))) break;
    }
  }

  private newIterator(): ChangeFeedPullModelIterator<ItemDefinition> {
    const { config } = this;
    const token = this.lease.continuationToken;
    let changeFeedStartFrom: ChangeFeedStart;
    if (token !== undefined) changeFeedStartFrom = ChangeFeedStartFrom.Continuation(token);
    else if (config.startFrom.kind === 'beginning') changeFeedStartFrom = ChangeFeedStartFrom.Beginning();
    else if (config.startFrom.kind === 'time') changeFeedStartFrom = ChangeFeedStartFrom.Time(config.startFrom.time);
    else changeFeedStartFrom = ChangeFeedStartFrom.Now();
    return this.monitored.items.getChangeFeedIterator<ItemDefinition>({
      // The SDK's ChangeFeedStartFrom.* factories return sibling classes that match the option's
      // abstract ChangeFeedStartFrom only structurally, which this rule reports.
      // eslint-disable-next-line @typescript-eslint/no-unsafe-class-instance-assignment -- the SDK's own factory result
      changeFeedStartFrom,
      ...(config.maxItemsPerInvocation === undefined ? {} : { maxItemCount: config.maxItemsPerInvocation }),
    });
  }

  /**
   * Invokes the function with the batch as the host does: once without a retry policy, else again
   * after each failure as the policy says (its delays scaled by `options.retry` in tests), each retry
   * told its retryContext. True when the lease may move past the batch: it succeeded, or the host
   * would give up on it (it logs that it does); false if stopped first, so the next start delivers
   * the batch again.
   */
  private async deliver(documents: readonly Document[]): Promise<boolean> {
    const { config } = this;
    const policy = config.retryPolicy;
    const reason = `New changes on container ${config.containerName} at ${new Date().toISOString()}`;
    for (let retry = 0; ; retry += 1) {
      try {
        await this.context.invoke(
          config.registration,
          {
            inputData: [{ name: config.bindingName, data: { json: JSON.stringify(documents) } }],
            triggerMetadata: {},
            ...(policy && { retryContext: { retryCount: retry, maxRetryCount: policy.maxRetryCount } }),
          },
          reason,
        );
        return true;
      } catch {
        // context.invoke logged the error itself.
        if (this.isStopping()) {
          this.context.logger.warn(
            `Cosmos DB trigger '${config.functionName}': a batch of ${documents.length} documents failed while stopping; it is delivered again at the next start.`,
          );
          return false;
        }
        if (!policy || (policy.maxRetryCount !== -1 && retry >= policy.maxRetryCount)) {
          this.context.logger.error(
            `Cosmos DB trigger '${config.functionName}': the function failed on a batch of ${documents.length} documents` +
              (policy ? ` and its ${policy.maxRetryCount} retries` : ' and it has no retry policy') +
              '; the lease moves past the batch, as the host does.',
          );
          return true;
        }
        const delay = this.retryDelay(policy, retry + 1);
        this.context.logger.warn(
          `Cosmos DB trigger '${config.functionName}': the function failed on a batch of ${documents.length} documents; ` +
            `retrying the same batch in ${delay} ms (retry ${retry + 1}${policy.maxRetryCount === -1 ? '' : ` of ${policy.maxRetryCount}`}). The lease stays at its last checkpoint.`,
        );
        await this.sleep(delay, 'backoff');
        if (this.isStopping()) return false;
      }
    }
  }

  private retryDelay(policy: RetryPolicy, retry: number): number {
    const scaled = this.config.retryDelayOverride;
    return scaled ? Math.min(scaled.initialDelayMs * 2 ** Math.min(retry - 1, 30), scaled.maxDelayMs) : policy.delayMs(retry);
  }

  /** Moves the lease; retried on transient errors. False if stopped before it could be written. */
  private async checkpoint(continuationToken: string): Promise<boolean> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        await this.lease.checkpoint(continuationToken);
        return true;
      } catch (error) {
        if (error instanceof LeaseLostError) throw error;
        const delay = this.backoff(attempt);
        this.context.logger.error(
          `Cosmos DB trigger '${this.config.functionName}': writing the lease failed (attempt ${attempt}); retrying in ${delay} ms`,
          error,
        );
        if (this.isStopping()) return false;
        await this.sleep(delay, 'backoff');
        if (this.isStopping()) return false;
      }
    }
  }

  /** A method, not the field: the field's narrowing would not survive the awaits in between. */
  private isStopping(): boolean {
    return this.stopping;
  }

  private backoff(attempt: number): number {
    return Math.min(this.config.retryInitialDelayMs * 2 ** Math.min(attempt - 1, 30), this.config.retryMaxDelayMs);
  }

  private sleep(ms: number, kind: 'poll' | 'backoff'): Promise<void> {
    if (this.isStopping()) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakeSleep = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakeSleep = { kind, wake: done };
    });
  }

  private caughtUp(poll: number): void {
    const waiting: IdleWaiter[] = [];
    for (const waiter of this.idleWaiters) {
      if (poll > waiter.afterPoll) waiter.resolve();
      else waiting.push(waiter);
    }
    this.idleWaiters = waiting;
  }

  private settleWaiters(): void {
    for (const waiter of this.idleWaiters) {
      if (this.failure) waiter.reject(this.failure);
      else waiter.resolve();
    }
    this.idleWaiters = [];
  }
}
