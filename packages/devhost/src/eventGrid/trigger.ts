import type { InvocationRequest } from '../invoke';
import type { TopicEvent } from './events';

/**
 * The invocation the Functions host makes for an eventGridTrigger: the event as JSON in the trigger
 * binding (the Event Grid schema object, or the CloudEvent as published), no trigger metadata.
 */
export function eventGridInvocation(bindingName: string, topicEvent: TopicEvent): InvocationRequest {
  return { inputData: [{ name: bindingName, data: { json: JSON.stringify(topicEvent.event) } }], triggerMetadata: {} };
}

/** The reason the host logs for an Event Grid invocation. */
export function eventGridReason(at: Date = new Date()): string {
  return `EventGrid trigger fired at ${at.toISOString()}`;
}
