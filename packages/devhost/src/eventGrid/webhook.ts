import type { ExtraRoute } from '../http/httpHost';
import { isAuthorised, type HostKeys } from '../http/keys';
import type { TriggerHostContext } from '../triggers/triggerHost';
import { CLOUD_EVENT_CONTENT_TYPE, deliveredEvent, mediaType, type TopicEvent } from './events';
import type { Subscription } from './subscriptions';
import { eventGridInvocation, eventGridReason } from './trigger';
import { headerValue, normalisedPath, readBody, sendError, sendJson } from './wire';

export const WEBHOOK_PATH = '/runtime/webhooks/eventgrid';

/** Largest webhook body the devhost reads (the host's request limit). */
const MAX_WEBHOOK_BYTES = 100 * 1024 * 1024;

const VALIDATION_EVENT_TYPE = 'Microsoft.EventGrid.SubscriptionValidationEvent';

/**
 * `POST /runtime/webhooks/eventgrid?functionName=X`, as the Functions host serves it to Event Grid:
 * the master key (`code` query or `x-functions-key`); `aeg-event-type: SubscriptionValidation` answers
 * the handshake with `{validationResponse}`; `Notification` invokes X once per event (Event Grid schema
 * array, one CloudEvent or a CloudEvents array) and answers 200, or 500 when an invocation fails so
 * Event Grid retries. CloudEvents' handshake (OPTIONS with `WebHook-Request-Origin`) is answered too.
 */
export function eventGridWebhookRoute(subscriptions: readonly Subscription[], context: TriggerHostContext, keys: HostKeys): ExtraRoute {
  const byName = new Map(subscriptions.map((subscription) => [subscription.functionName.toLowerCase(), subscription]));
  return async (request, response, url) => {
    if (normalisedPath(url) !== WEBHOOK_PATH) return false;
    const method = (request.method ?? 'GET').toUpperCase();
    if (method !== 'POST' && method !== 'OPTIONS') {
      request.resume();
      sendError(response, 405, 'MethodNotAllowed', 'The Event Grid webhook takes POST (and OPTIONS for the CloudEvents handshake).', {
        allow: 'POST, OPTIONS',
      });
      return true;
    }
    const presentedKey = headerValue(request.headers['x-functions-key']) ?? url.searchParams.get('code') ?? undefined;
    if (!isAuthorised('admin', presentedKey, keys)) {
      request.resume();
      sendError(
        response,
        401,
        'Unauthorized',
        'The Event Grid webhook needs the master key (code query parameter or x-functions-key header).',
      );
      return true;
    }
    const functionName = url.searchParams.get('functionName');
    if (!functionName) {
      request.resume();
      sendError(response, 400, 'BadRequest', 'The functionName query parameter is required.');
      return true;
    }
    const subscription = byName.get(functionName.toLowerCase());
    if (!subscription) {
      request.resume();
      sendError(response, 404, 'NotFound', `No eventGrid-triggered function named "${functionName}".`);
      return true;
    }
    if (method === 'OPTIONS') {
      request.resume();
      const origin = headerValue(request.headers['webhook-request-origin']);
      response.writeHead(200, { ...(origin !== undefined && { 'webhook-allowed-origin': origin }), 'webhook-allowed-rate': '*' }).end();
      return true;
    }
    const body = await readBody(request, MAX_WEBHOOK_BYTES);
    if (body === 'tooLarge') {
      sendError(response, 413, 'PayloadTooLarge', 'The request body is too large.');
      return true;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      sendError(response, 400, 'BadRequest', 'The request body is not valid JSON.');
      return true;
    }
    const items: readonly unknown[] = Array.isArray(parsed) ? parsed : [parsed];
    const eventType = headerValue(request.headers['aeg-event-type']);
    switch (eventType?.toLowerCase()) {
      case 'subscriptionvalidation': {
        const code = validationCode(items);
        if (code === undefined)
          sendError(
            response,
            400,
            'BadRequest',
            `A SubscriptionValidation request carries a ${VALIDATION_EVENT_TYPE} with data.validationCode.`,
          );
        else sendJson(response, 200, { validationResponse: code });
        return true;
      }
      case 'notification': {
        if (mediaType(request.headers['content-type']) === CLOUD_EVENT_CONTENT_TYPE && Array.isArray(parsed)) {
          sendError(response, 400, 'BadRequest', `A ${CLOUD_EVENT_CONTENT_TYPE} body is one event, not an array.`);
          return true;
        }
        const events: TopicEvent[] = [];
        for (const [index, item] of items.entries()) {
          const event = deliveredEvent(item);
          if (typeof event === 'string') {
            sendError(response, 400, 'BadRequest', `Event ${index}: ${event}`);
            return true;
          }
          events.push(event);
        }
        try {
          for (const event of events)
            await context.invoke(subscription.registration, eventGridInvocation(subscription.bindingName, event), eventGridReason());
        } catch {
          // The invocation is logged by the host context; Event Grid only needs to know it must retry.
          sendError(response, 500, 'InternalServerError', `Function "${subscription.functionName}" failed.`);
          return true;
        }
        response.writeHead(200).end();
        return true;
      }
      case 'subscriptiondeletion':
        response.writeHead(202).end();
        return true;
      default:
        sendError(
          response,
          400,
          'BadRequest',
          'The aeg-event-type header must be SubscriptionValidation, Notification or SubscriptionDeletion.',
        );
        return true;
    }
  };
}

function validationCode(items: readonly unknown[]): string | undefined {
  for (const item of items) {
    if (typeof item !== 'object' || item === null) continue;
    const { eventType, type, data } = item as { eventType?: unknown; type?: unknown; data?: unknown };
    if (eventType !== VALIDATION_EVENT_TYPE && type !== VALIDATION_EVENT_TYPE) continue;
    const code = typeof data === 'object' && data !== null ? (data as { validationCode?: unknown }).validationCode : undefined;
    if (typeof code === 'string' && code !== '') return code;
  }
  return undefined;
}
