/**
 * handleCommand's start of a new stream (`newStream`, used for proposals): given/when/then on an
 * event store that counts its reads, with a small decider whose stream may be started once.
 */
import { IllegalStateError } from '../../../shared/kernel/errors';
import type { Decider } from '../../../shared/kernel/decider';
import type { Event } from '../../../shared/kernel/event';
import { InMemoryEventStore } from '../../../shared/platform/eventSourcing/adapters/inMemoryEventStore';
import { handleCommand, type CommandContext } from '../../../shared/platform/eventSourcing/handleCommand';

type Started = Event<'Started', { by: string }>;
type Noted = Event<'Noted', { text: string }>;
type TestEvent = Started | Noted;
type Command = { type: 'Start'; by: string } | { type: 'Note'; text: string };
interface State {
  readonly started: boolean;
  readonly notes: number;
}

const decider: Decider<Command, State, TestEvent> = {
  initialState: () => ({ started: false, notes: 0 }),
  evolve: (state, event) => (event.type === 'Started' ? { ...state, started: true } : { ...state, notes: state.notes + 1 }),
  decide: (command, state) => {
    if (command.type === 'Start') {
      if (state.started) throw new IllegalStateError('Already started.');
      return [{ type: 'Started', data: { by: command.by } }];
    }
    if (!state.started) throw new IllegalStateError('Not started.');
    return [{ type: 'Noted', data: { text: command.text } }];
  },
};
const isTestEvent = (event: Event): event is TestEvent => event.type === 'Started' || event.type === 'Noted';

class CountingStore extends InMemoryEventStore {
  reads = 0;
  override read(...args: Parameters<InMemoryEventStore['read']>): ReturnType<InMemoryEventStore['read']> {
    this.reads += 1;
    return super.read(...args);
  }
}

const context = (commandId: string): CommandContext => ({
  correlationId: 'correlation',
  causationId: 'cause',
  now: new Date('2026-12-07T10:00:00.000Z'),
  eventId: (index) => `${commandId}/${index}`,
});

describe('handleCommand with newStream', () => {
  it('given no stream, when a command starts it, then it is appended as version 1 without reading the stream', async () => {
    const store = new CountingStore();
    const result = await handleCommand(store, 's-1', decider, isTestEvent, { type: 'Start', by: 'ann' }, context('c1'), {
      newStream: true,
    });
    expect(result).toMatchObject({ version: 1, state: { started: true }, appended: [{ type: 'Started' }] });
    expect(store.reads).toBe(0);
    expect((await store.read('s-1')).map((event) => event.metadata.eventId)).toEqual(['c1/0']);
  });

  it('given the stream started by this very command (a retried request), then it answers as the first time and stores nothing twice', async () => {
    const store = new CountingStore();
    await handleCommand(store, 's-1', decider, isTestEvent, { type: 'Start', by: 'ann' }, context('c1'), { newStream: true });
    const retried = await handleCommand(store, 's-1', decider, isTestEvent, { type: 'Start', by: 'ann' }, context('c1'), {
      newStream: true,
    });
    expect(retried).toMatchObject({ version: 1, state: { started: true } });
    expect(await store.read('s-1')).toHaveLength(1);
  });

  it('given a stream started by another command, then the command is decided on the stream as it is', async () => {
    const store = new CountingStore();
    await handleCommand(store, 's-1', decider, isTestEvent, { type: 'Start', by: 'ann' }, context('c1'), { newStream: true });
    store.reads = 0;
    await expect(
      handleCommand(store, 's-1', decider, isTestEvent, { type: 'Start', by: 'bob' }, context('c2'), { newStream: true }),
    ).rejects.toThrow('Already started.');
    expect(store.reads).toBe(1);
    expect(await store.read('s-1')).toHaveLength(1);
  });

  it('given a stream that has moved on since this command started it, then a retry still answers as the first time did', async () => {
    // As an Idempotency-Key promises: the answer the first request got, not one decided on today's state.
    const store = new CountingStore();
    const first = await handleCommand(store, 's-1', decider, isTestEvent, { type: 'Start', by: 'ann' }, context('c1'), {
      newStream: true,
    });
    await handleCommand(store, 's-1', decider, isTestEvent, { type: 'Note', text: 'hello' }, context('c2'));
    const retried = await handleCommand(store, 's-1', decider, isTestEvent, { type: 'Start', by: 'ann' }, context('c1'), {
      newStream: true,
    });
    expect(retried).toEqual(first);
    expect(await store.read('s-1')).toHaveLength(2);
  });

  it('given a command the initial state refuses, then the stream is read and its state decides', async () => {
    const store = new CountingStore();
    await handleCommand(store, 's-1', decider, isTestEvent, { type: 'Start', by: 'ann' }, context('c1'));
    store.reads = 0;
    const noted = await handleCommand(store, 's-1', decider, isTestEvent, { type: 'Note', text: 'hello' }, context('c2'), {
      newStream: true,
    });
    expect(noted).toMatchObject({ version: 2, state: { started: true, notes: 1 } });
    expect(store.reads).toBe(1);
  });
});
