import { existsSync, readFileSync } from 'node:fs';
import { z } from 'zod';
import type { Registration } from '../functionsCore';
import { triggerOf } from '../invoke';
import { typeAndSubject, type TopicEvent } from './events';

/** The file beside host.json that gives eventGrid-triggered functions' subscriptions their filters. */
export const EVENT_GRID_CONFIG_FILE = 'devhost.eventgrid.json';

/** A subscription's filter, as the service's (absent = everything). Matching is case-insensitive unless asked. */
export interface SubscriptionFilter {
  readonly includedEventTypes?: readonly string[];
  readonly subjectBeginsWith?: string;
  readonly subjectEndsWith?: string;
  readonly isSubjectCaseSensitive?: boolean;
}

/** A subscription's own retry policy (the service's names); it overrides the devhost's default attempts and time to live. */
export interface SubscriptionRetryPolicy {
  readonly maxDeliveryAttempts?: number;
  readonly eventTimeToLiveInMinutes?: number;
}

/** One subscription: every eventGridTrigger registration is one. */
export interface Subscription {
  readonly functionName: string;
  readonly registration: Registration;
  readonly bindingName: string;
  readonly filter: SubscriptionFilter;
  readonly retryPolicy: SubscriptionRetryPolicy;
}

const subscriptionSchema = z.strictObject({
  includedEventTypes: z.array(z.string().min(1)).min(1).optional(),
  subjectBeginsWith: z.string().min(1).optional(),
  subjectEndsWith: z.string().min(1).optional(),
  isSubjectCaseSensitive: z.boolean().optional(),
  retryPolicy: z
    .strictObject({
      maxDeliveryAttempts: z.int().min(1).max(30).optional(),
      eventTimeToLiveInMinutes: z.int().min(1).max(1440).optional(),
    })
    .optional(),
});

const configSchema = z.strictObject({
  $schema: z.string().optional(),
  subscriptions: z.record(z.string(), subscriptionSchema).default({}),
});

export type EventGridConfig = z.input<typeof configSchema>;

/**
 * Reads `devhost.eventgrid.json` (absent = no filters) and makes one subscription per eventGridTrigger
 * registration. Throws, naming the file, on malformed content or on a function name that is not an
 * eventGrid-triggered function of the app.
 */
export function loadSubscriptions(registrations: readonly Registration[], configFile: string | undefined): Subscription[] {
  let raw: unknown = {};
  if (configFile !== undefined && existsSync(configFile)) {
    try {
      raw = JSON.parse(readFileSync(configFile, 'utf8'));
    } catch (error) {
      throw new Error(`${configFile} is not valid JSON: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  return subscriptionsFrom(registrations, raw, configFile ?? 'the Event Grid configuration');
}

/** As {@link loadSubscriptions}, from an already-read configuration. */
export function subscriptionsFrom(registrations: readonly Registration[], raw: unknown, source: string): Subscription[] {
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`);
    throw new Error(`${source} is invalid:\n- ${problems.join('\n- ')}`);
  }
  const subscribers = registrations.filter((registration) => triggerOf(registration).binding.type === 'eventGridTrigger');
  const known = new Set(subscribers.map((registration) => registration.metadata.name));
  const unknown = Object.keys(parsed.data.subscriptions).filter((name) => !known.has(name));
  if (unknown.length > 0) {
    const list = known.size === 0 ? 'the app has none' : `they are: ${[...known].join(', ')}`;
    throw new Error(
      `${source} names ${unknown.map((name) => `"${name}"`).join(', ')}, which ${unknown.length === 1 ? 'is not an eventGrid-triggered function' : 'are not eventGrid-triggered functions'} of the app (${list}).`,
    );
  }
  return subscribers.map((registration) => {
    const name = registration.metadata.name;
    const { retryPolicy, ...filter } = parsed.data.subscriptions[name] ?? {};
    return { functionName: name, registration, bindingName: triggerOf(registration).name, filter, retryPolicy: retryPolicy ?? {} };
  });
}

/** Whether an event passes a subscription's filter, as the service decides it. */
export function matchesFilter(filter: SubscriptionFilter, topicEvent: TopicEvent): boolean {
  const { eventType, subject } = typeAndSubject(topicEvent);
  if (filter.includedEventTypes && !filter.includedEventTypes.some((type) => type.toLowerCase() === eventType.toLowerCase())) return false;
  const fold = (text: string) => (filter.isSubjectCaseSensitive ? text : text.toLowerCase());
  if (filter.subjectBeginsWith !== undefined && !fold(subject).startsWith(fold(filter.subjectBeginsWith))) return false;
  if (filter.subjectEndsWith !== undefined && !fold(subject).endsWith(fold(filter.subjectEndsWith))) return false;
  return true;
}

/** A one-line description of a filter for the start-up log. */
export function describeFilter(filter: SubscriptionFilter): string {
  const parts = [
    ...(filter.includedEventTypes ? [`types ${filter.includedEventTypes.join('|')}`] : []),
    ...(filter.subjectBeginsWith !== undefined ? [`subject begins "${filter.subjectBeginsWith}"`] : []),
    ...(filter.subjectEndsWith !== undefined ? [`subject ends "${filter.subjectEndsWith}"`] : []),
  ];
  return parts.length === 0 ? 'all events' : parts.join(', ');
}
