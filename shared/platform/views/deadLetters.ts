import type { RecordedEvent } from '../../kernel/event';

/** An event a consumer could not use, kept with the reason for a person to look at. */
export interface DeadLetter {
  readonly id: string;
  readonly streamId: string;
  readonly consumer: string;
  readonly reason: string;
  readonly event: unknown;
  readonly deadLetteredAt: string;
}

/** Where poison events go. Recording the same event twice keeps one letter. */
export interface DeadLetterStore {
  record(letter: DeadLetter): Promise<void>;
}

export function deadLetterOf(
  consumer: string,
  event: RecordedEvent | { streamId?: unknown; version?: unknown },
  reason: string,
  at: Date,
): DeadLetter {
  const streamId = typeof event.streamId === 'string' ? event.streamId : 'unknown';
  const version = typeof event.version === 'number' ? event.version : 'unknown';
  return { id: `${consumer}:${streamId}:${version}`, streamId, consumer, reason, event, deadLetteredAt: at.toISOString() };
}

export class InMemoryDeadLetterStore implements DeadLetterStore {
  readonly letters = new Map<string, DeadLetter>();
  record(letter: DeadLetter): Promise<void> {
    if (!this.letters.has(letter.id)) this.letters.set(letter.id, letter);
    return Promise.resolve();
  }
}
