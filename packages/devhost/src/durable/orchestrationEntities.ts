/**
 * The orchestration's side of entities: the message each entity task sends (recorded in the history
 * as EventSent, whose Input is the request as the extension writes it), the messages to send again
 * after a restart, and the locks an orchestration still holds when it finishes.
 */
import { createHash } from 'node:crypto';
import type { EntityMessage, EntityRequest, ReleaseMessage } from './entityScheduler';
import type { Live } from './live';
import { isRecord, type EventOf, type HistoryEvent } from './protocol';
import type { EntityOutbound } from './replay';

/**
 * The request id of an entity call or signal: derived from the instance, its execution and the task's
 * sequence number, so the same episode run again (after a lost checkpoint race) sends the same message,
 * which the entity takes once.
 */
export function entityRequestId(live: Pick<Live, 'id' | 'executionId'>, sequence: number): string {
  const hex = createHash('sha256').update(`${live.id}\n${live.executionId}\n${sequence}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** The message an entity task sends. */
export function outboundMessage(live: Pick<Live, 'id' | 'executionId'>, sequence: number, outbound: EntityOutbound): EntityMessage {
  const parent = { parent: live.id, parentExecution: live.executionId };
  // An execution sends its messages in sequence order: the entity drops a copy by its number.
  const mark = { source: `${live.id}#${live.executionId}`, seq: sequence };
  switch (outbound.kind) {
    case 'call':
    case 'signal': {
      const request: EntityRequest = {
        id: entityRequestId(live, sequence),
        op: outbound.operation,
        signal: outbound.kind === 'signal',
        ...(outbound.input !== undefined ? { input: outbound.input } : {}),
        ...(outbound.kind === 'call' ? parent : {}),
        ...mark,
      };
      return { kind: 'op', request };
    }
    case 'lock':
      return { kind: 'op', request: { id: outbound.lockRequestId, ...parent, lockset: outbound.lockset, pos: 0, ...mark } };
    case 'release':
      return { kind: 'release', release: { id: outbound.lockRequestId, parent: live.id, ...mark } };
  }
}

export function sentEvent(target: string, message: EntityMessage, sequence: number, at: string): EventOf<'EventSent'> {
  return {
    EventType: 'EventSent',
    EventId: sequence,
    Timestamp: at,
    InstanceId: target,
    Name: message.kind === 'op' ? 'op' : 'release',
    Input: JSON.stringify(message.kind === 'op' ? message.request : message.release),
  };
}

/** The message an EventSent records. */
export function messageOf(event: EventOf<'EventSent'>): EntityMessage | undefined {
  const body: unknown = event.Input === undefined ? undefined : JSON.parse(event.Input);
  if (!isRecord(body) || typeof body.id !== 'string') return undefined;
  if (event.Name === 'release')
    return typeof body.parent === 'string' ? { kind: 'release', release: body as unknown as ReleaseMessage } : undefined;
  return { kind: 'op', request: body as unknown as EntityRequest };
}

/**
 * Messages of the last episode: the only ones a crash may have kept from being sent (an episode's
 * messages are durable in the entities' inboxes before the instance runs another: sending retries
 * while storage fails).
 */
export function lastEpisodeMessages(history: readonly HistoryEvent[]): EventOf<'EventSent'>[] {
  let from = 0;
  history.forEach((event, index) => {
    if (event.EventType === 'OrchestratorStarted') from = index;
  });
  return history.slice(from).filter((event): event is EventOf<'EventSent'> => event.EventType === 'EventSent');
}

/** The lock the orchestration asked for and has not released, if any (the host releases it when the orchestration ends). */
export function heldLock(history: readonly HistoryEvent[]): { readonly id: string; readonly lockset: readonly string[] } | undefined {
  let held: { id: string; lockset: readonly string[] } | undefined;
  for (const event of history) {
    if (event.EventType !== 'EventSent') continue;
    const message = messageOf(event);
    if (message?.kind === 'release') held = undefined;
    else if (message?.request.lockset) held = { id: message.request.id, lockset: message.request.lockset };
  }
  return held;
}

/** When an orchestration ends holding a lock, the host releases it (the library only releases what the code releases). */
export async function releaseHeldLock(
  live: Live,
  entities: { send(target: string, message: EntityMessage): Promise<unknown> },
): Promise<void> {
  const lock = heldLock(live.history);
  if (!lock) return;
  for (const target of lock.lockset) await entities.send(target, { kind: 'release', release: { id: lock.id, parent: live.id } });
}
