import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Registration } from '../functionsCore';
import type { ExtraRoute } from '../http/httpHost';
import type { HostKeys } from '../http/keys';
import type { RunningService, TriggerHostContext } from '../triggers/triggerHost';
import { MAX_PUBLISH_BYTES, parsePublishRequest, type TopicEvent } from './events';
import { DeliveryJournal, type DeliveryState, type JournalEntry } from './journal';
import { describeFilter, EVENT_GRID_CONFIG_FILE, loadSubscriptions, matchesFilter, type Subscription } from './subscriptions';
import { topicAuthProblem } from './topicAuth';
import { eventGridInvocation, eventGridReason } from './trigger';
import { eventGridWebhookRoute, WEBHOOK_PATH } from './webhook';
import { normalisedPath, readBody, sendError } from './wire';

/** Where the devhost serves its topic; EVENTGRID_TOPIC_ENDPOINT is `<devhost url>` + this. */
export const TOPIC_ENDPOINT_PATH = '/devhost/eventgrid/api/events';

/** The local topic's key unless DEVHOST_EVENTGRID_TOPIC_KEY says otherwise (the devhost's and `devhost emulators`' alike). */
export const DEFAULT_TOPIC_KEY = 'local-event-grid-topic-key';

/** The local topic's key (the devhost's and `devhost emulators`' alike) from the app's merged settings. */
export function topicKeyOf(settings: Readonly<Record<string, string | undefined>>): string {
  return settings.DEVHOST_EVENTGRID_TOPIC_KEY ?? DEFAULT_TOPIC_KEY;
}

/**
 * The retry schedule. The service retries for up to 30 attempts or 24 hours, waiting longer each time;
 * here attempt n+1 waits about `baseDelayMs × 2^(n-1)` (capped at `maxDelayMs`), randomised to between
 * half and all of that so retries spread out.
 */
export interface EventGridRetryOptions {
  /** Attempts per event and subscription before it is dead-lettered (default 30, the service's). */
  readonly maxDeliveryAttempts?: number;
  /** How long after publishing an event may still be delivered (default 24 h, the service's). */
  readonly eventTimeToLiveMs?: number;
  /** Wait before the first retry (default 10 s). */
  readonly baseDelayMs?: number;
  /** Longest wait between attempts (default 1 h). */
  readonly maxDelayMs?: number;
}

export interface EventGridOptions {
  /** The topic's access key (EVENTGRID_TOPIC_KEY): publishers present it in `aeg-sas-key` or sign an `aeg-sas-token` with it. */
  readonly topicKey: string;
  /** The host's keys: the webhook route takes the master key. */
  readonly keys: HostKeys;
  /** The default retry schedule; a subscription's `retryPolicy` in devhost.eventgrid.json overrides attempts and time to live. */
  readonly retry?: EventGridRetryOptions;
  /** The folder holding devhost.eventgrid.json (the app root). Without it, or without the file, subscriptions have no filters. */
  readonly appRoot?: string;
  /** Deliveries running at once over all subscriptions (default 16). */
  readonly maxConcurrentDeliveries?: number;
  /**
   * An attempt still running after this long counts as failed (`TimedOut`) and is retried, as Event Grid
   * gives up on a webhook after 30 s (the default); the invocation itself runs on, as it would in Azure.
   */
  readonly deliveryTimeoutMs?: number;
  /** The topic's name in the resource id stamped on events (default "devhost"). */
  readonly topicName?: string;
  /** The path publishers post to (default {@link TOPIC_ENDPOINT_PATH}); a topic on its own port uses Azure's `/api/events`. */
  readonly topicPath?: string;
}

export interface SubscriptionStats {
  readonly pending: number;
  readonly delivered: number;
  readonly deadLettered: number;
}

export interface EventGridStats {
  /** Events accepted by the topic since this start. */
  readonly published: number;
  /** Deliveries owed now (waiting, retrying or running), including those resumed from the journal. */
  readonly pending: number;
  /** Attempts running now. */
  readonly inFlight: number;
  /** Deliveries completed since this start. */
  readonly delivered: number;
  /** Deliveries dead-lettered since this start. */
  readonly deadLettered: number;
  /** Failed attempts since this start. */
  readonly failedAttempts: number;
  readonly subscriptions: Readonly<Record<string, SubscriptionStats>>;
}

export interface RunningEventGrid extends RunningService {
  /** Mount these on an HTTP server: the topic endpoint, and (delivering in-process) the host's Event Grid webhook. */
  readonly routes: ExtraRoute[];
  readonly topicEndpointPath: string;
  readonly webhookPath: string;
  /** The resource id stamped as `topic` on Event Grid schema events. */
  readonly topicId: string;
  stats(): EventGridStats;
  /** Resolves when no delivery is pending (or the service has stopped). */
  idle(): Promise<void>;
}

interface Delivery {
  readonly entry: JournalEntry;
  readonly subscription: Subscription;
}

export type AttemptResult =
  | { readonly ok: true }
  | {
      readonly ok: false;
      readonly outcome: 'GenericError' | 'TimedOut';
      readonly httpStatus?: number;
      readonly error: unknown;
      /** False for an answer Event Grid does not retry (a webhook's 400, 401, 403 or 413): dead-lettered at once. */
      readonly retryable?: boolean;
    };

/**
 * One attempt to deliver one event to one subscription. `attempt` counts from 1; `signal` aborts once the
 * delivery timeout has passed (what cannot be aborted runs on, as an invocation in Azure would).
 */
export type DeliverEvent = (
  subscription: Subscription,
  topicEvent: TopicEvent,
  attempt: { readonly number: number; readonly signal: AbortSignal },
) => Promise<AttemptResult>;

/** setTimeout's longest wait (a longer one would fire at once); a delivery woken early is scheduled again. */
const MAX_TIMER_MS = 2 ** 31 - 1;

const DEFAULT_RETRY: Required<EventGridRetryOptions> = {
  maxDeliveryAttempts: 30,
  eventTimeToLiveMs: 24 * 60 * 60 * 1000,
  baseDelayMs: 10_000,
  maxDelayMs: 60 * 60 * 1000,
};

/**
 * A local Event Grid topic with one subscription per eventGrid-triggered function: publishers post to
 * {@link TOPIC_ENDPOINT_PATH} as to a real topic; every accepted event is journalled under
 * `<dataDir>/eventgrid/` before the 200, then delivered to each matching subscription independently, at
 * least once, with retries and backoff, and dead-lettered to `<dataDir>/deadletter/<function>/<event id>.json`
 * when the attempts or the time to live run out. A restart resumes what was pending.
 */
export function startEventGrid(
  registrations: readonly Registration[],
  context: TriggerHostContext,
  options: EventGridOptions,
): Promise<RunningEventGrid> {
  const inProcess: DeliverEvent = (subscription, topicEvent) =>
    Promise.resolve()
      .then(() => context.invoke(subscription.registration, eventGridInvocation(subscription.bindingName, topicEvent), eventGridReason()))
      .then(
        (): AttemptResult => ({ ok: true }),
        (error: unknown): AttemptResult => ({ ok: false, outcome: 'GenericError', httpStatus: 500, error }),
      );
  // Everything at start-up is synchronous (reading the configuration and the journal); a problem rejects.
  return Promise.resolve().then(() =>
    start(registrations, context, options, inProcess, (subscriptions) => [eventGridWebhookRoute(subscriptions, context, options.keys)]),
  );
}

/**
 * The same topic (journal, filters, retries, dead letters) for functions that a host elsewhere runs:
 * each attempt is `deliver` (e.g. an HTTP POST to that host's Event Grid webhook, webhookDelivery.ts),
 * and only the topic's route is served. `devhost emulators` runs it for `func start`.
 */
export function startRemoteEventGrid(
  registrations: readonly Registration[],
  context: Pick<TriggerHostContext, 'logger' | 'dataDir'>,
  options: Omit<EventGridOptions, 'keys'> & { readonly deliver: DeliverEvent },
): Promise<RunningEventGrid> {
  return Promise.resolve().then(() => start(registrations, context, options, options.deliver, () => []));
}

function start(
  registrations: readonly Registration[],
  context: Pick<TriggerHostContext, 'logger' | 'dataDir'>,
  options: Omit<EventGridOptions, 'keys'>,
  deliverEvent: DeliverEvent,
  hostRoutes: (subscriptions: readonly Subscription[]) => ExtraRoute[],
): RunningEventGrid {
  if (options.topicKey === '') throw new Error('The Event Grid topic key must not be empty.');
  const retry = { ...DEFAULT_RETRY, ...options.retry };
  for (const [name, value] of Object.entries(retry)) {
    if (!Number.isFinite(value) || value < (name === 'maxDeliveryAttempts' ? 1 : 0))
      throw new Error(`Event Grid retry option ${name} must be a positive number (was ${value}).`);
  }
  const maxConcurrent = options.maxConcurrentDeliveries ?? 16;
  if (!Number.isInteger(maxConcurrent) || maxConcurrent < 1)
    throw new Error('maxConcurrentDeliveries must be a whole number of at least 1.');
  const deliveryTimeoutMs = options.deliveryTimeoutMs ?? 30_000;
  const topicPath = options.topicPath ?? TOPIC_ENDPOINT_PATH;
  const { logger, dataDir } = context;

  const subscriptions = loadSubscriptions(
    registrations,
    options.appRoot === undefined ? undefined : join(options.appRoot, EVENT_GRID_CONFIG_FILE),
  );
  const byName = new Map(subscriptions.map((subscription) => [subscription.functionName, subscription]));
  const topicId = `/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/devhost/providers/Microsoft.EventGrid/topics/${options.topicName ?? 'devhost'}`;
  const journal = DeliveryJournal.open(join(dataDir, 'eventgrid'), new Set(byName.keys()), logger);
  const deadLetterDir = join(dataDir, 'deadletter');

  const counters = { published: 0, delivered: 0, deadLettered: 0, failedAttempts: 0 };
  const perSubscription = new Map(subscriptions.map((subscription) => [subscription.functionName, { delivered: 0, deadLettered: 0 }]));
  const ready: Delivery[] = [];
  const timers = new Map<string, NodeJS.Timeout>();
  const running = new Set<Promise<void>>();
  const invocations = new Set<Promise<unknown>>();
  let idleWaiters: (() => void)[] = [];
  let stopping = false;
  let stopped: Promise<void> | undefined;

  /** (A function, so a check after an await reads the current value.) */
  function isStopping(): boolean {
    return stopping;
  }

  function policyOf(subscription: Subscription): { maxAttempts: number; timeToLiveMs: number } {
    return {
      maxAttempts: subscription.retryPolicy.maxDeliveryAttempts ?? retry.maxDeliveryAttempts,
      timeToLiveMs:
        subscription.retryPolicy.eventTimeToLiveInMinutes !== undefined
          ? subscription.retryPolicy.eventTimeToLiveInMinutes * 60_000
          : retry.eventTimeToLiveMs,
    };
  }

  function backoffMs(failedAttempts: number): number {
    const exponential = Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** Math.min(failedAttempts - 1, 40));
    return Math.round(exponential * (0.5 + Math.random() * 0.5));
  }

  function schedule(delivery: Delivery): void {
    if (stopping) return;
    const state = delivery.entry.pending.get(delivery.subscription.functionName);
    if (!state) return;
    const wait = state.nextAt - Date.now();
    if (wait <= 0) {
      ready.push(delivery);
      pump();
      return;
    }
    const id = `${delivery.entry.key}/${delivery.subscription.functionName}`;
    timers.set(
      id,
      setTimeout(
        () => {
          timers.delete(id);
          schedule(delivery);
        },
        Math.min(wait, MAX_TIMER_MS),
      ),
    );
  }

  function pump(): void {
    while (!stopping && running.size < maxConcurrent) {
      const delivery = ready.shift();
      if (!delivery) break;
      const attempt: Promise<void> = deliver(delivery)
        .catch((error: unknown) =>
          logger.error(`Event Grid: bookkeeping failed for a delivery to "${delivery.subscription.functionName}"`, error),
        )
        .finally(() => {
          running.delete(attempt);
          pump();
          settle();
        });
      running.add(attempt);
    }
  }

  function settle(): void {
    if (journal.pendingCount > 0 && stopped === undefined) return;
    const waiters = idleWaiters;
    idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  async function deliver(delivery: Delivery): Promise<void> {
    const { entry, subscription } = delivery;
    const name = subscription.functionName;
    const state = entry.pending.get(name);
    if (!state) return;
    const policy = policyOf(subscription);
    if (Date.now() > Date.parse(entry.publishedAt) + policy.timeToLiveMs) {
      deadLetter(delivery, state, state.attempts, 'TimeToLiveExceeded', undefined);
      return;
    }
    const attempt = state.attempts + 1;
    const startedAt = new Date();
    const result = await attemptOnce(subscription, entry.topicEvent, attempt);
    if (result.ok) {
      journal.finished('delivered', entry.key, name, attempt, new Date());
      counters.delivered += 1;
      bump(name, 'delivered');
      return;
    }
    counters.failedAttempts += 1;
    const failed: DeliveryState = {
      attempts: attempt,
      nextAt: Date.now() + backoffMs(attempt),
      lastOutcome: result.outcome,
      ...(result.httpStatus !== undefined && { lastHttpStatusCode: result.httpStatus }),
      lastError: errorText(result.error),
      lastAttemptAt: startedAt.toISOString(),
    };
    if (result.retryable === false) {
      deadLetter(delivery, failed, attempt, 'NonRetryableError', result.error);
      return;
    }
    if (attempt >= policy.maxAttempts) {
      deadLetter(delivery, failed, attempt, 'MaxDeliveryAttemptsExceeded', result.error);
      return;
    }
    if (failed.nextAt > Date.parse(entry.publishedAt) + policy.timeToLiveMs) {
      deadLetter(delivery, failed, attempt, 'TimeToLiveExceeded', result.error);
      return;
    }
    logger.warn(
      `Event Grid: delivery of event ${entry.topicEvent.event.id} to "${name}" failed (attempt ${attempt} of ${policy.maxAttempts}, ${result.outcome}: ${failed.lastError ?? ''}); retrying in ${Math.max(0, failed.nextAt - Date.now())} ms.`,
    );
    journal.failed(entry.key, name, failed);
    schedule(delivery);
  }

  /** One attempt, given up on after the delivery timeout (an invocation in this process is left running). */
  async function attemptOnce(subscription: Subscription, topicEvent: TopicEvent, number: number): Promise<AttemptResult> {
    const abort = new AbortController();
    const invocation: Promise<AttemptResult> = Promise.resolve()
      .then(() => deliverEvent(subscription, topicEvent, { number, signal: abort.signal }))
      .catch((error: unknown): AttemptResult => ({ ok: false, outcome: 'GenericError', error }));
    invocations.add(invocation);
    void invocation.finally(() => invocations.delete(invocation));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<AttemptResult>((resolve) => {
      timer = setTimeout(() => {
        abort.abort();
        resolve({ ok: false, outcome: 'TimedOut', error: new Error(`No answer within ${deliveryTimeoutMs} ms.`) });
      }, deliveryTimeoutMs);
    });
    try {
      return await Promise.race([invocation, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  function deadLetter(
    delivery: Delivery,
    state: DeliveryState,
    attempts: number,
    reason: 'MaxDeliveryAttemptsExceeded' | 'TimeToLiveExceeded' | 'NonRetryableError',
    error: unknown,
  ): void {
    const { entry, subscription } = delivery;
    const name = subscription.functionName;
    const now = new Date();
    const record = {
      deadLetterReason: reason,
      deliveryAttempts: attempts,
      lastDeliveryOutcome: state.lastOutcome ?? 'NotAttempted',
      ...(state.lastHttpStatusCode !== undefined && { lastHttpStatusCode: state.lastHttpStatusCode }),
      publishTime: entry.publishedAt,
      ...(state.lastAttemptAt !== undefined && { lastDeliveryAttemptTime: state.lastAttemptAt }),
      deadLetterTime: now.toISOString(),
      topic: topicId,
      subscription: name,
      schema: entry.topicEvent.schema,
      ...(state.lastError !== undefined && { lastError: error instanceof Error ? (error.stack ?? state.lastError) : state.lastError }),
      event: entry.topicEvent.event,
    };
    const file = writeDeadLetter(deadLetterDir, name, entry.topicEvent.event.id, entry.key, record);
    journal.finished('deadLettered', entry.key, name, attempts, now, reason);
    counters.deadLettered += 1;
    bump(name, 'deadLettered');
    logger.warn(
      `Event Grid: dead-lettered event ${entry.topicEvent.event.id} for "${name}" (${reason} after ${attempts} attempts) to ${file}`,
    );
  }

  function bump(name: string, field: 'delivered' | 'deadLettered'): void {
    const stats = perSubscription.get(name);
    if (stats) stats[field] += 1;
  }

  async function topicRoute(request: IncomingMessage, response: ServerResponse, url: URL): Promise<boolean> {
    if (normalisedPath(url) !== topicPath.toLowerCase()) return false;
    if ((request.method ?? 'GET').toUpperCase() !== 'POST') {
      request.resume();
      sendError(response, 405, 'MethodNotAllowed', 'Publish events with POST.', { allow: 'POST' });
      return true;
    }
    if (stopping) {
      request.resume();
      sendError(response, 503, 'ServiceUnavailable', 'The devhost Event Grid topic is stopping.');
      return true;
    }
    const authProblem = topicAuthProblem(request.headers, options.topicKey, topicPath);
    if (authProblem !== undefined) {
      request.resume();
      sendError(response, 401, 'Unauthorized', authProblem);
      return true;
    }
    const body = await readBody(request, MAX_PUBLISH_BYTES);
    if (body === 'tooLarge') {
      sendError(response, 413, 'PayloadTooLarge', `The request is larger than the ${MAX_PUBLISH_BYTES} bytes a publish may be.`, {
        connection: 'close',
      });
      return true;
    }
    const parsed = parsePublishRequest(request.headers['content-type'], body, topicId);
    if (!parsed.ok) {
      sendError(response, parsed.status, parsed.code, parsed.message);
      return true;
    }
    if (isStopping()) {
      sendError(response, 503, 'ServiceUnavailable', 'The devhost Event Grid topic is stopping.');
      return true;
    }
    accept(parsed.events);
    response.writeHead(200, { 'content-length': '0' }).end();
    return true;
  }

  /** Journals accepted events (durably, before the publisher hears 200) and starts their deliveries. */
  function accept(events: readonly TopicEvent[]): void {
    const items = events.map((topicEvent) => ({
      key: randomUUID(),
      topicEvent,
      subscriptions: subscriptions
        .filter((subscription) => matchesFilter(subscription.filter, topicEvent))
        .map((subscription) => subscription.functionName),
    }));
    const entries = journal.publish(items, new Date());
    counters.published += events.length;
    for (const entry of entries)
      for (const name of entry.pending.keys()) schedule({ entry, subscription: byName.get(name) as Subscription });
  }

  logger.info(
    `Event Grid topic: POST ${topicPath}; ${subscriptions.length === 0 ? 'no subscriptions' : `subscriptions: ${subscriptions.map((s) => `${s.functionName} (${describeFilter(s.filter)})`).join(', ')}`}.`,
  );
  if (journal.pendingCount > 0)
    logger.info(
      `Event Grid: resuming ${journal.pendingCount} pending ${journal.pendingCount === 1 ? 'delivery' : 'deliveries'} from the journal.`,
    );
  for (const entry of journal.entries.values()) {
    for (const name of entry.pending.keys()) {
      const subscription = byName.get(name);
      if (subscription) schedule({ entry, subscription });
    }
  }

  return {
    routes: [topicRoute, ...hostRoutes(subscriptions)],
    topicEndpointPath: topicPath,
    webhookPath: WEBHOOK_PATH,
    topicId,
    stats: () => {
      const pendingBy = new Map<string, number>();
      for (const entry of journal.entries.values())
        for (const name of entry.pending.keys()) pendingBy.set(name, (pendingBy.get(name) ?? 0) + 1);
      return {
        ...counters,
        pending: journal.pendingCount,
        inFlight: running.size,
        subscriptions: Object.fromEntries(
          [...perSubscription].map(([name, done]) => [name, { pending: pendingBy.get(name) ?? 0, ...done }]),
        ),
      };
    },
    idle: () =>
      new Promise<void>((resolve) => {
        idleWaiters.push(resolve);
        settle();
      }),
    stop: () => {
      stopped ??= (async () => {
        stopping = true;
        for (const timer of timers.values()) clearTimeout(timer);
        timers.clear();
        ready.length = 0;
        // Attempts under way finish and record their outcome; what has not started stays in the journal.
        while (running.size > 0 || invocations.size > 0) await Promise.allSettled([...running, ...invocations]);
        journal.close();
      })();
      const done = stopped;
      return done.then(settle);
    },
  };
}

function errorText(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  if (typeof error === 'string') return error;
  const json = JSON.stringify(error) as string | undefined;
  return json ?? String(error);
}

/** Writes a dead-letter file atomically: `<dir>/<function>/<event id>.json` (a repeated id gets a suffix). */
function writeDeadLetter(dir: string, functionName: string, eventId: string, key: string, record: object): string {
  const folder = join(dir, functionName);
  mkdirSync(folder, { recursive: true });
  const safeId =
    eventId
      .replace(/[^A-Za-z0-9._-]/g, '_')
      .replace(/^\.+/, '_')
      .slice(0, 200) || '_';
  let file = join(folder, `${safeId}.json`);
  if (existsSync(file)) file = join(folder, `${safeId}.${key.slice(0, 8)}.json`);
  const temporary = `${file}.tmp`;
  const fd = openSync(temporary, 'w');
  try {
    const bytes = Buffer.from(`${JSON.stringify(record, null, 2)}\n`);
    let written = 0;
    while (written < bytes.length) written += writeSync(fd, bytes, written, bytes.length - written);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, file);
  return file;
}
