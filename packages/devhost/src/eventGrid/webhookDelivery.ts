import type { Logger } from '../logger';
import { CLOUD_EVENT_CONTENT_TYPE, EVENT_GRID_CONTENT_TYPE, type TopicEvent } from './events';
import type { AttemptResult, DeliverEvent } from './eventGrid';
import type { Subscription } from './subscriptions';
import { WEBHOOK_PATH } from './webhook';

/**
 * Delivery to a Functions host's Event Grid webhook over HTTP, as Event Grid delivers to a function
 * (learn.microsoft.com/azure/event-grid/delivery-and-retry, .../webhook-event-delivery): one event per
 * POST (the default batch of one: an Event Grid schema event in an array, a CloudEvent on its own as
 * `application/cloudevents+json`), `aeg-event-type: Notification` and the other `aeg-*` headers.
 * 200–204 is delivered; 400, 401, 403 and 413 are not retried (the event is dead-lettered), as Event
 * Grid treats them; anything else, a refused connection included, is retried with the topic's backoff.
 */
export interface WebhookDeliveryOptions {
  /** The host's base address, e.g. http://127.0.0.1:7071 (func start's default). */
  readonly deliverTo: string;
  /**
   * Sent as `code`, as Azure's subscriptions carry the host's Event Grid extension key. Core Tools
   * checks no key locally; the devhost's webhook takes its master key.
   */
  readonly webhookKey?: string;
  readonly logger: Logger;
}

/** Answers Event Grid does not retry from a webhook: the event goes to the dead letters at once. */
const NOT_RETRIED = new Set([400, 401, 403, 413]);

/** `<deliverTo>/runtime/webhooks/eventgrid?functionName=<name>[&code=<key>]`, as Azure's subscription for a function names it. */
export function webhookUrl(deliverTo: string, functionName: string, webhookKey?: string): URL {
  const url = new URL(WEBHOOK_PATH, `${deliverTo.replace(/\/+$/, '')}/`);
  url.searchParams.set('functionName', functionName);
  if (webhookKey !== undefined) url.searchParams.set('code', webhookKey);
  return url;
}

export function deliverToWebhook(options: WebhookDeliveryOptions): DeliverEvent {
  return async (subscription, topicEvent, attempt) => {
    const url = webhookUrl(options.deliverTo, subscription.functionName, options.webhookKey);
    // The key stays out of logs and dead-letter records.
    const shown = webhookUrl(options.deliverTo, subscription.functionName).toString();
    const started = performance.now();
    let response: Response;
    try {
      response = await fetch(url, {
        method: 'POST',
        headers: deliveryHeaders(subscription, topicEvent, attempt.number),
        body: deliveryBody(topicEvent),
        signal: attempt.signal,
      });
    } catch (error) {
      return { ok: false, outcome: 'GenericError', error: new Error(`POST ${shown} failed: ${causeOf(error)}`) };
    }
    const text = await response.text().catch(() => '');
    const ms = Math.round(performance.now() - started);
    if (response.status >= 200 && response.status <= 204) {
      options.logger.info(
        `Event Grid: event ${topicEvent.event.id} delivered to ${subscription.functionName} (${response.status}, ${ms} ms).`,
      );
      return { ok: true };
    }
    const result: AttemptResult = {
      ok: false,
      outcome: 'GenericError',
      httpStatus: response.status,
      error: new Error(`POST ${shown} answered ${response.status}${text === '' ? '' : `: ${text.slice(0, 300)}`}`),
      retryable: !NOT_RETRIED.has(response.status),
    };
    if (response.status === 401 || response.status === 403)
      options.logger.warn(
        `Event Grid: ${subscription.functionName}'s webhook refused the delivery (${response.status}): a devhost's webhook needs its master key (--webhook-key).`,
      );
    return result;
  };
}

function deliveryHeaders(subscription: Subscription, topicEvent: TopicEvent, attempt: number): Record<string, string> {
  const common = {
    'aeg-event-type': 'Notification',
    // Event Grid names the subscription in upper case; this one is named after its function.
    'aeg-subscription-name': subscription.functionName.toUpperCase(),
    'aeg-delivery-count': String(attempt - 1),
    'aeg-metadata-version': '1',
  };
  return topicEvent.schema === 'EventGridSchema'
    ? { ...common, 'content-type': `${EVENT_GRID_CONTENT_TYPE}; charset=utf-8`, 'aeg-data-version': topicEvent.event.dataVersion }
    : { ...common, 'content-type': `${CLOUD_EVENT_CONTENT_TYPE}; charset=utf-8` };
}

function deliveryBody(topicEvent: TopicEvent): string {
  return topicEvent.schema === 'EventGridSchema' ? JSON.stringify([topicEvent.event]) : JSON.stringify(topicEvent.event);
}

/** fetch's "fetch failed" hides the reason (ECONNREFUSED, …) in `cause`. */
function causeOf(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause: unknown = error.cause;
  if (cause instanceof Error) return `${error.message} (${'code' in cause && typeof cause.code === 'string' ? cause.code : cause.message})`;
  return error.message;
}
