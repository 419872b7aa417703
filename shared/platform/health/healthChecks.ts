import { HealthCheckFailure, describeFailure, type HealthCheck } from './health';
import type { PublishEvidence } from '../publishing/adapters/eventGridPublisher';
import type { ProviderEvidence, WeatherProviderHealth } from '../../regions/application/weatherProvider';

/*
 * The dependency checks behind GET /api/health. Each is cheap enough to run every minute (Azure's
 * health probes do), writes nothing, publishes nothing and spends none of the weather budget when it
 * has recent evidence. Critical: Cosmos DB and storage (without them the app can neither take nor
 * serve anything, nor run its triggers). Degraded only: Event Grid and the weather provider (places
 * are still proposed and served; the change feed keeps unpublished events, forecasts wait for the
 * next cycle).
 */

/** Cosmos DB: the `events` container answers a metadata read (no query, about 1 RU). */
export function cosmosHealthCheck(container: { read(options: { abortSignal: AbortSignal }): Promise<unknown> }): HealthCheck {
  return {
    name: 'cosmos',
    critical: true,
    check: async (abortSignal) => {
      await container.read({ abortSignal });
      return undefined;
    },
  };
}

/** What the storage check reads of a queue (a QueueClient's getProperties). */
export interface QueueProperties {
  getProperties(options: { abortSignal: AbortSignal }): Promise<{ readonly approximateMessagesCount?: number }>;
}

/**
 * AzureWebJobsStorage: the forecast-refresh-requests queue and its poison queue answer a properties
 * read, which proves the account is reachable and the credentials valid. The counts go in the detail:
 * messages piling up in the poison queue need someone (docs/operations.md). A queue that does not exist
 * yet is an answer too: the poison queue exists only once a message failed.
 */
export function storageHealthCheck(
  queues: { readonly requests: QueueProperties; readonly poison: QueueProperties },
  queueName: string,
): HealthCheck {
  const waiting = async (queue: QueueProperties, abortSignal: AbortSignal): Promise<number> => {
    try {
      return (await queue.getProperties({ abortSignal })).approximateMessagesCount ?? 0;
    } catch (error) {
      if (isNotFound(error)) return 0;
      throw error;
    }
  };
  return {
    name: 'storage',
    critical: true,
    check: async (abortSignal) => {
      const [requests, poison] = await Promise.all([waiting(queues.requests, abortSignal), waiting(queues.poison, abortSignal)]);
      return `${queueName}: ${requests} waiting, ${poison} in ${queueName}-poison`;
    },
  };
}

export interface EventGridCheckOptions {
  readonly fetch?: typeof fetch;
  /** This process's last publish (EventGridEventPublisher.lastPublish). */
  readonly lastPublish?: () => PublishEvidence | undefined;
  readonly now?: () => number;
  /** A failed publish older than this no longer counts (default 15 minutes). */
  readonly publishEvidenceMs?: number;
}

/**
 * The Event Grid topic. Publishing is the only full test of the credentials, and the health check
 * must not publish, so it checks two things and says which: the topic's endpoint answers an
 * unauthenticated GET (any answer below 500, typically 401 or 405, means DNS, network, TLS and the
 * service's front end are up; the request carries no events and no key), and this process's last
 * publish did not fail in the last 15 minutes (which catches a wrong key or a missing role).
 */
export function eventGridHealthCheck(topicEndpoint: string, options: EventGridCheckOptions = {}): HealthCheck {
  const fetchImpl = options.fetch ?? fetch;
  const now = options.now ?? Date.now;
  const evidenceMs = options.publishEvidenceMs ?? 15 * 60_000;
  return {
    name: 'eventGrid',
    critical: false,
    check: async (signal) => {
      const response = await fetchImpl(topicEndpoint, {
        method: 'GET',
        redirect: 'manual',
        signal,
        headers: { accept: 'application/json' },
      });
      await response.body?.cancel().catch(() => undefined);
      if (response.status >= 500) throw new HealthCheckFailure(`the topic answered HTTP ${response.status}`);
      const reachable = `topic reachable (HTTP ${response.status} to an unauthenticated GET)`;
      const last = options.lastPublish?.();
      if (last === undefined || now() - last.at > evidenceMs)
        return `${reachable}; no publish in the last ${Math.round(evidenceMs / 60_000)} min to vouch for the credentials`;
      const ago = secondsAgo(now(), last.at);
      if (!last.ok) throw new HealthCheckFailure(`${reachable}, but the last publish (${ago}) failed: ${describeFailure(last.error)}`);
      return `${reachable}; last publish (${ago}) accepted`;
    },
  };
}

export interface WeatherCheckOptions {
  readonly now?: () => number;
  /** A successful answer younger than this is evidence enough: no probe (default 30 minutes). */
  readonly probeEveryMs?: number;
  /** After a failed answer, the next probe waits this long (default 5 minutes). */
  readonly failedProbeEveryMs?: number;
}

export const DEFAULT_WEATHER_PROBE_EVERY_MS = 30 * 60_000;
export const DEFAULT_WEATHER_FAILED_PROBE_EVERY_MS = 5 * 60_000;

/**
 * The weather provider, without spending its daily budget on every probe. An open circuit breaker is
 * unhealthy at once (no request). Otherwise the last answer this process had (from a forecast fetch or
 * an earlier probe) stands while it is recent: 30 minutes for a success, 5 for a failure. Only when
 * there is none does the check send one probe (one location, one attempt, outside the breaker), and
 * concurrent checks share it. So probes cost at most 48 provider calls a day per instance while
 * healthy, 288 while failing.
 */
export function weatherHealthCheck(provider: WeatherProviderHealth, options: WeatherCheckOptions = {}): HealthCheck {
  const now = options.now ?? Date.now;
  const probeEveryMs = options.probeEveryMs ?? DEFAULT_WEATHER_PROBE_EVERY_MS;
  const failedProbeEveryMs = options.failedProbeEveryMs ?? DEFAULT_WEATHER_FAILED_PROBE_EVERY_MS;
  let probing: Promise<ProviderEvidence> | undefined;
  let probed: ProviderEvidence | undefined;

  const probe = (): Promise<ProviderEvidence> =>
    (probing ??= provider
      .probe()
      .catch((error: unknown) => ({ ok: false as const, reason: describeFailure(error) }))
      .then((answer): ProviderEvidence => (answer.ok ? { ok: true, at: now() } : { ok: false, at: now(), reason: answer.reason }))
      .then((evidence) => {
        probed = evidence;
        return evidence;
      })
      .finally(() => {
        probing = undefined;
      }));

  return {
    name: 'weather',
    critical: false,
    check: async () => {
      const circuit = provider.circuitState();
      if (circuit === 'open' || circuit === 'isolated') {
        const last = provider.lastAnswer();
        throw new HealthCheckFailure(
          `${provider.name} circuit ${circuit} after repeated failures, no request sent${last && !last.ok ? `; last: ${last.reason}` : ''}`,
        );
      }
      const latest = [provider.lastAnswer(), probed].reduce<ProviderEvidence | undefined>(
        (a, b) => (b !== undefined && (a === undefined || b.at > a.at) ? b : a),
        undefined,
      );
      const fresh = latest !== undefined && now() - latest.at < (latest.ok ? probeEveryMs : failedProbeEveryMs);
      const evidence = fresh ? latest : await probe();
      const source = fresh ? `last answer ${secondsAgo(now(), evidence.at)}` : 'probed now';
      if (!evidence.ok) throw new HealthCheckFailure(`${provider.name} ${source} failed: ${evidence.reason}`);
      return `${provider.name} answered (${source}); circuit ${circuit}`;
    },
  };
}

function isNotFound(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { statusCode?: unknown }).statusCode === 404;
}

function secondsAgo(now: number, at: number): string {
  const seconds = Math.max(0, Math.round((now - at) / 1000));
  return seconds < 120 ? `${seconds} s ago` : `${Math.round(seconds / 60)} min ago`;
}
