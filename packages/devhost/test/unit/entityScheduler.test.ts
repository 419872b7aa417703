import {
  completeBatch,
  EMPTY_SCHEDULER_STATE,
  failBatch,
  hasWork,
  parseSchedulerId,
  planBatch,
  schedulerId,
  type EntityMessage,
  type EntityRequest,
  type SchedulerState,
} from '../../src/durable/entityScheduler';

const op = (id: string, operation: string, fields: Partial<EntityRequest> = {}): EntityMessage => ({
  kind: 'op',
  request: { id, op: operation, ...fields },
});
const call = (id: string, operation: string, parent: string) => op(id, operation, { parent, parentExecution: `${parent}-x1` });
const lock = (id: string, parent: string, lockset: string[], pos = 0): EntityMessage => ({
  kind: 'op',
  request: { id, parent, parentExecution: `${parent}-x1`, lockset, pos },
});
const release = (id: string, parent: string): EntityMessage => ({ kind: 'release', release: { id, parent } });
const ids = (requests: readonly EntityRequest[]) => requests.map((request) => request.id);

describe('entity scheduling, as the Durable Task extension schedules entity messages', () => {
  it('entity ids are `@name@key` with the name in lower case, as durable-functions writes them', () => {
    expect(schedulerId({ name: 'Counter', key: 'Apples/1' })).toBe('@counter@Apples/1');
    expect(parseSchedulerId('@counter@a@b')).toEqual({ name: 'counter', key: 'a@b' });
    expect(parseSchedulerId('plain-instance')).toBeUndefined();
  });

  it('given an unlocked entity, when operations arrive, then they run in one batch in arrival order', () => {
    const plan = planBatch(EMPTY_SCHEDULER_STATE, [op('1', 'add'), call('2', 'get', 'orch'), op('3', 'reset')], 100);
    expect(ids(plan.operations)).toEqual(['1', '2', '3']);
    expect(plan.state.queue).toEqual([]);
  });

  it('given a message taken before (sent again after a crash), when it arrives again, then it does not run twice', () => {
    const first = planBatch(EMPTY_SCHEDULER_STATE, [op('1', 'add')], 100);
    const again = planBatch(first.state, [op('1', 'add'), op('2', 'add')], 100);
    expect(ids(again.operations)).toEqual(['2']);
  });

  it('given numbered messages from one sender, when it sends them again after a crash, then each runs once, however many others came between', () => {
    const from = (seq: number, operation: string) => op(`id-${seq}`, operation, { source: 'orch#x1', seq });
    let state = planBatch(EMPTY_SCHEDULER_STATE, [from(1, 'a'), from(2, 'b')], 100).state;
    // More than the key window of others' messages later…
    for (let index = 0; index < 12; index++)
      state = planBatch(
        state,
        Array.from({ length: 100 }, (_, n) => op(`client-${index}-${n}`, 'x')),
        100,
      ).state;
    // …the sender's copies are still recognised, and its next message runs.
    expect(ids(planBatch(state, [from(1, 'a'), from(2, 'b'), from(3, 'c')], 100).operations)).toEqual(['id-3']);
  });

  it('an entity counts the signals it sends, so that their copies are recognised too', () => {
    const plan = planBatch(EMPTY_SCHEDULER_STATE, [op('s', 'go', { signal: true })], 100);
    const result = {
      entityExists: true,
      entityState: '1',
      results: [{ isError: false }],
      signals: [{ target: { name: 'Other', key: 'k' }, name: 'ping' }],
    };
    const first = completeBatch('@me@k', plan, result, () => 'a');
    const second = completeBatch('@me@k', planBatch(first.state, [op('t', 'go', { signal: true })], 100), result, () => 'b');
    const seqs = [first, second].map((done) =>
      done.outgoing[0]?.kind === 'toEntity' && done.outgoing[0].message.kind === 'op' ? done.outgoing[0].message.request.seq : undefined,
    );
    expect(seqs).toEqual([1, 2]);
  });

  it('given a full batch, when more arrive, then the rest wait for the next batch, in order', () => {
    const plan = planBatch(EMPTY_SCHEDULER_STATE, [op('1', 'a'), op('2', 'b'), op('3', 'c')], 2);
    expect(ids(plan.operations)).toEqual(['1', '2']);
    expect(planBatch(plan.state, [], 2).operations.map((request) => request.id)).toEqual(['3']);
  });

  describe('critical sections (lock)', () => {
    const set = ['@account@a', '@account@b'];

    it('given a lock request for the first entity of two, when it is taken, then the entity is locked and the request goes on to the second', () => {
      const plan = planBatch(EMPTY_SCHEDULER_STATE, [lock('L', 'orch', set)], 100);
      expect(plan.state.lockedBy).toBe('orch');
      expect(plan.outgoing).toEqual([{ kind: 'toEntity', target: '@account@b', message: lock('L', 'orch', set, 1) }]);
    });

    it('given the last entity of the set, when the lock request reaches it, then the orchestration is told the lock is granted', () => {
      const plan = planBatch(EMPTY_SCHEDULER_STATE, [lock('L', 'orch', set, 1)], 100);
      expect(plan.outgoing).toEqual([
        expect.objectContaining({ kind: 'toOrchestration', instanceId: 'orch', executionId: 'orch-x1', eventName: 'L', lockset: set }),
      ]);
    });

    it("given a locked entity, when others' messages arrive, then only the lock holder's run; the others wait until it releases, then run in arrival order", () => {
      const locked = planBatch(EMPTY_SCHEDULER_STATE, [lock('L', 'orch', ['@account@a'])], 100).state;
      const during = planBatch(locked, [op('s1', 'deposit'), call('c1', 'get', 'orch'), call('c2', 'get', 'other')], 100);
      expect(ids(during.operations)).toEqual(['c1']);
      expect(during.state.queue.map((message) => (message.kind === 'op' ? message.request.id : ''))).toEqual(['s1', 'c2']);
      expect(hasWork(during.state, 0)).toBe(false);

      const after = planBatch(during.state, [release('L', 'orch'), op('s2', 'deposit')], 100);
      expect(ids(after.operations)).toEqual(['s1', 'c2', 's2']);
      expect(after.state.lockedBy).toBeUndefined();
    });

    it('given a locked entity, when another orchestration asks for the lock, then it gets it only after the release', () => {
      const locked = planBatch(EMPTY_SCHEDULER_STATE, [lock('L1', 'first', ['@account@a'])], 100).state;
      const waiting = planBatch(locked, [lock('L2', 'second', ['@account@a'])], 100);
      expect(waiting.outgoing).toEqual([]);
      const released = planBatch(waiting.state, [release('L1', 'first')], 100);
      expect(released.state.lockedBy).toBe('second');
      expect(released.outgoing).toEqual([expect.objectContaining({ instanceId: 'second', eventName: 'L2' })]);
    });

    it('given a release that overtook its lock request (the orchestration ended meanwhile), when the request arrives, then the entity stays unlocked', () => {
      const released = planBatch(EMPTY_SCHEDULER_STATE, [release('L', 'orch')], 100).state;
      const plan = planBatch(released, [lock('L', 'orch', set, 1), op('s', 'deposit')], 100);
      expect(plan.state.lockedBy).toBeUndefined();
      expect(plan.outgoing).toEqual([]);
      expect(ids(plan.operations)).toEqual(['s']);
    });

    it('given a later lock of the same orchestration, when an old release arrives again (sent again after a restart), then the new lock holds', () => {
      let state = planBatch(EMPTY_SCHEDULER_STATE, [lock('L1', 'orch', ['@account@a']), release('L1', 'orch')], 100).state;
      state = planBatch(state, [lock('L2', 'orch', ['@account@a'])], 100).state;
      expect(planBatch(state, [{ kind: 'release', release: { id: 'L1', parent: 'orch', source: 'x', seq: 9 } }], 100).state.lockedBy).toBe(
        'orch',
      );
    });

    it('given a release from an orchestration that does not hold the lock, then nothing changes', () => {
      const locked = planBatch(EMPTY_SCHEDULER_STATE, [lock('L', 'orch', ['@account@a'])], 100).state;
      expect(planBatch(locked, [release('X', 'intruder')], 100).state.lockedBy).toBe('orch');
    });
  });

  describe('completing a batch', () => {
    const state: SchedulerState = { ...EMPTY_SCHEDULER_STATE, exists: true, state: '1' };

    it('answers each call with its result, not signals; signals the operations sent get fresh ids; the state is the function’s', () => {
      const plan = planBatch(state, [op('s', 'add', { signal: true, input: '2' }), call('c', 'get', 'orch')], 100);
      let next = 0;
      const done = completeBatch(
        '@counter@k',
        plan,
        {
          entityExists: true,
          entityState: '3',
          results: [{ isError: false }, { isError: false, result: '3' }],
          signals: [{ target: { name: 'Audit', key: 'k' }, name: 'log', input: '"added"' }],
        },
        () => `new-${next++}`,
      );
      expect(done.state).toEqual(expect.objectContaining({ exists: true, state: '3' }));
      expect(done.outgoing).toEqual([
        { kind: 'toOrchestration', instanceId: 'orch', executionId: 'orch-x1', eventName: 'c', input: JSON.stringify({ result: '3' }) },
        {
          kind: 'toEntity',
          target: '@audit@k',
          message: op('new-0', 'log', { signal: true, input: '"added"', source: '@counter@k', seq: 1 }),
        },
      ]);
    });

    it('tells the caller an operation failed with an exception type, so the orchestrator sees an error', () => {
      const plan = planBatch(state, [call('c', 'explode', 'orch')], 100);
      const done = completeBatch(
        '@counter@k',
        plan,
        { entityExists: true, entityState: '1', results: [{ isError: true, result: '{}' }], signals: [] },
        () => '',
      );
      const answer = done.outgoing[0];
      expect(answer?.kind === 'toOrchestration' && (JSON.parse(answer.input) as Record<string, unknown>).exceptionType).toEqual(
        expect.any(String),
      );
    });

    it('a deleted entity keeps no state', () => {
      const plan = planBatch(state, [op('d', 'delete', { signal: true })], 100);
      expect(
        completeBatch('@counter@k', plan, { entityExists: false, entityState: '1', results: [{ isError: false }], signals: [] }, () => '')
          .state,
      ).toEqual(expect.not.objectContaining({ state: expect.anything() }));
    });

    it('when the entity function cannot run, every caller gets the failure and the state stays', () => {
      const plan = planBatch(state, [call('c', 'get', 'orch'), op('s', 'add', { signal: true })], 100);
      const done = failBatch(plan, 'no such function');
      expect(done.state.state).toBe('1');
      expect(done.outgoing).toHaveLength(1);
      expect(JSON.parse((done.outgoing[0] as { input: string }).input)).toEqual({
        result: '"no such function"',
        exceptionType: expect.any(String),
      });
    });
  });
});
