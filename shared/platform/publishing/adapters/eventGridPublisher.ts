import type { EventGridPublisherClient, EventGridPublisherClientOptions, SendCloudEventInput } from '@azure/eventgrid';
import type { AppConfig } from '../../config';
import { loadOnce } from '../../loadOnce';
import { appCredential } from '../../adapters/azureCredential';
import { cloudEventBytes, type OutgoingCloudEvent } from '../cloudEvents';
import type { EventPublisher } from '../eventPublisher';

/** Event Grid takes at most 1 MB per publish request; stay under it with room for the JSON array. */
const MAX_REQUEST_BYTES = 1_000_000;

/**
 * The {@link EventPublisher} on an Event Grid custom topic (CloudEvents 1.0 input schema), through
 * `@azure/eventgrid`. Events go in requests of at most 1 MB, one after another in the order given,
 * so a failed request leaves only earlier events published. The client's own retries cover a
 * blip; a longer outage rejects and the caller (the change feed) retries the batch.
 */
export class EventGridEventPublisher implements EventPublisher {
  private last: PublishEvidence | undefined;

  constructor(private readonly client: CloudEventSender) {}

  async publish(events: readonly OutgoingCloudEvent[]): Promise<void> {
    try {
      for (const request of requests(events)) await this.client.send(request.map(toSendInput));
    } catch (error) {
      this.last = { ok: false, at: Date.now(), error };
      throw error;
    }
    if (events.length > 0) this.last = { ok: true, at: Date.now() };
  }

  /** How this process's last publish went (for the health check: the only test of the credentials). */
  lastPublish(): PublishEvidence | undefined {
    return this.last;
  }
}

/** The outcome of a publish: when, and the error when the topic did not take the events. */
export type PublishEvidence =
  { readonly ok: true; readonly at: number } | { readonly ok: false; readonly at: number; readonly error: unknown };

/** What the publisher sends with: the SDK's client, or {@link createEventGridPublisherClient}'s. */
export type CloudEventSender = Pick<EventGridPublisherClient<'CloudEvent'>, 'send'>;

/**
 * A client for the topic in the settings: the topic key when EVENTGRID_TOPIC_KEY is set, otherwise
 * the app's managed identity (EventGrid Data Sender role). Plain http is allowed only for an http
 * endpoint (the devhost's local topic); the client refuses http otherwise. The SDK loads and the
 * client is built at the first send: only the change feed's publisher sends.
 */
export function createEventGridPublisherClient(
  eventGrid: AppConfig['eventGrid'],
  options: EventGridPublisherClientOptions = {},
): CloudEventSender {
  const insecure = new URL(eventGrid.topicEndpoint).protocol === 'http:';
  const client = loadOnce(async () => {
    const { AzureKeyCredential, EventGridPublisherClient } = await import('@azure/eventgrid');
    const credential = eventGrid.topicKey === undefined ? appCredential : new AzureKeyCredential(eventGrid.topicKey);
    return new EventGridPublisherClient(eventGrid.topicEndpoint, 'CloudEvent', credential, {
      ...options,
      ...(insecure && { allowInsecureConnection: true }),
    });
  });
  return { send: async (events, sendOptions) => (await client()).send(events, sendOptions) };
}

function toSendInput(event: OutgoingCloudEvent): SendCloudEventInput<unknown> {
  return {
    id: event.id,
    type: event.type,
    source: event.source,
    subject: event.subject,
    time: new Date(event.time),
    datacontenttype: event.datacontenttype,
    data: event.data,
    extensionAttributes: { correlationid: event.correlationid },
  };
}

/** Splits events, in order, into requests under the size limit. */
function* requests(events: readonly OutgoingCloudEvent[]): Generator<OutgoingCloudEvent[]> {
  let current: OutgoingCloudEvent[] = [];
  let bytes = 2;
  for (const event of events) {
    const size = cloudEventBytes(event) + 1;
    if (current.length > 0 && bytes + size > MAX_REQUEST_BYTES) {
      yield current;
      current = [];
      bytes = 2;
    }
    current.push(event);
    bytes += size;
  }
  if (current.length > 0) yield current;
}
