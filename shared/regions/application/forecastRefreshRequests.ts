import { z } from 'zod';

/** The storage queue of "fetch this region's forecast now" requests (AzureWebJobsStorage). */
export const FORECAST_REFRESH_QUEUE = 'forecast-refresh-requests';

/** Storage queue messages are at most 64 KB; a request is a few hundred bytes. */
export const MAX_QUEUE_MESSAGE_BYTES = 64 * 1024;

const coordinate = (min: number, max: number) => z.number().min(min).max(max);

/**
 * A request to fetch one region's forecast now, rather than at the next scheduled refresh.
 * Consumers must be idempotent: the same region may be requested more than once (at-least-once
 * delivery, and a redelivered activation sends again), and a request may arrive after the region's
 * forecast was already refreshed (check the forecast's age against `requestedAt`).
 */
export const forecastRefreshRequestSchema = z.object({
  region: z.string().regex(/^[0-9b-hjkmnp-z]{1,12}$/, { error: 'must be a geohash' }),
  centre: z.object({ latitude: coordinate(-90, 90), longitude: coordinate(-180, 180) }),
  /**
   * Why the refresh is wanted. `regionActivated`: the region's first place was validated.
   * `searched`: a search found the region's forecast about as old as the searched target allows
   * (the consumer checks the budget, and drops it when a fresher forecast was recorded since).
   */
  reason: z.enum(['regionActivated', 'searched']),
  correlationId: z.string().min(1).max(200),
  /** ISO 8601 UTC. */
  requestedAt: z.iso.datetime({ offset: true }),
});
export type ForecastRefreshRequest = z.infer<typeof forecastRefreshRequestSchema>;

/** Checks a request (from a queue trigger, which hands over the decoded JSON as an object, or as text). */
export function parseForecastRefreshRequest(message: unknown): ForecastRefreshRequest {
  const value: unknown = typeof message === 'string' ? JSON.parse(message) : message;
  return forecastRefreshRequestSchema.parse(value);
}

/**
 * The message text to put on the queue: the JSON, base64-encoded, because the Functions queue
 * trigger decodes base64 (host.json `messageEncoding: base64`) and sends anything else to the
 * poison queue, while the storage SDK sends text as given.
 */
export function encodeForecastRefreshRequest(request: ForecastRefreshRequest): string {
  const text = Buffer.from(JSON.stringify(forecastRefreshRequestSchema.parse(request)), 'utf8').toString('base64');
  if (Buffer.byteLength(text) > MAX_QUEUE_MESSAGE_BYTES)
    throw new RangeError(`A forecast refresh request is over ${MAX_QUEUE_MESSAGE_BYTES} bytes.`);
  return text;
}

/** Reads a raw queue message text (as peeked from storage) back into a request. */
export function decodeForecastRefreshRequest(messageText: string): ForecastRefreshRequest {
  return parseForecastRefreshRequest(Buffer.from(messageText, 'base64').toString('utf8'));
}

/** Where forecast refresh requests go (in Azure, the storage queue {@link FORECAST_REFRESH_QUEUE}). */
export interface ForecastRefreshQueue {
  /** Resolves once the request is stored; rejects otherwise (the caller retries). */
  send(request: ForecastRefreshRequest): Promise<void>;
}

/** A {@link ForecastRefreshQueue} in memory, for tests: keeps the encoded message texts as a queue would. */
export class InMemoryForecastRefreshQueue implements ForecastRefreshQueue {
  readonly messages: string[] = [];

  send(request: ForecastRefreshRequest): Promise<void> {
    this.messages.push(encodeForecastRefreshRequest(request));
    return Promise.resolve();
  }

  requests(): ForecastRefreshRequest[] {
    return this.messages.map(decodeForecastRefreshRequest);
  }
}
