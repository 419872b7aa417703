import { startDevhostProcess, type DevhostProcess } from '../support/devhostProcess';
import { startFixtureApp, type RunningFixtureApp } from '../support/fixtureApps';

/**
 * Durable entities in an app written for Core Tools (test/fixtures/apps/entities): orchestrations call
 * and signal them, clients signal and read them, critical sections lock them, and their state survives
 * a kill -9 — checked through the app's own HTTP functions and the extension's entities HTTP API.
 */
describe('the devhost runs durable entities', () => {
  let app: RunningFixtureApp;
  let devhost: DevhostProcess;

  beforeAll(async () => {
    app = await startFixtureApp('entities');
    devhost = app.devhost;
  }, 60_000);
  afterAll(async () => {
    await devhost.stop();
    await app.stop();
  });

  const webhook = (path: string, init?: RequestInit) =>
    fetch(`${devhost.url}/runtime/webhooks/durabletask/${path}`, {
      ...init,
      headers: { 'x-functions-key': devhost.keys.masterKey, ...(init?.body ? { 'content-type': 'application/json' } : {}) },
    });
  const start = async (name: string, input?: unknown): Promise<unknown> => {
    const answer = await fetch(`${devhost.url}/api/start/${name}`, {
      method: 'POST',
      ...(input !== undefined ? { body: JSON.stringify(input) } : {}),
    });
    expect(answer.status).toBe(200);
    return answer.json();
  };
  const entityState = async (name: string, key: string): Promise<{ status: number; body: unknown }> => {
    const answer = await webhook(`entities/${name}/${key}`);
    return { status: answer.status, body: answer.status === 200 ? await answer.json() : undefined };
  };
  const eventually = async (check: () => Promise<boolean>, what: string, ms = 15_000): Promise<void> => {
    const deadline = Date.now() + ms;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}.\n${devhost.output().slice(-3000)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };

  it('starts an app with entities, and an orchestration run three times calls and signals the entity: its state is 3 over the entities API', async () => {
    expect(devhost.output()).toMatch(/Functions: .*Counter.*Account.*CountOnce/);
    for (const expected of [1, 2, 3]) expect(await start('CountOnce', 'apples')).toEqual({ before: expected - 1, after: expected });
    expect(await entityState('Counter', 'apples')).toEqual({ status: 200, body: 3 });
    // The signals are one-way: they arrive in their own time.
    await eventually(async () => (await entityState('counter', 'apples-signals')).body === 3, 'the three signals');
  });

  it('numbers entity messages among activities, Task.all and a critical section as the library does (no non-determinism on replay)', async () => {
    expect(await start('Mixed')).toEqual({ x: 6, y: 42, z: 96, after: 7 });
    // Its critical section ended: others are served again.
    await webhook('entities/Counter/mixed-a?op=add', { method: 'POST', body: '1' });
    await eventually(async () => (await entityState('Counter', 'mixed-a')).body === 8, 'a signal after the critical section');
  });

  it('delivers a signal and a call from one episode to one entity in the order they were sent', async () => {
    for (const key of ['order-1', 'order-2', 'order-3']) expect(await start('SignalThenGet', key)).toBe(10);
  });

  it('sends the messages of an execution’s last episode: signals and releases before continue-as-new and before returning', async () => {
    const answer = await fetch(`${devhost.url}/api/start/Eternal`, { method: 'POST', body: '1' });
    expect([200, 202]).toContain(answer.status);
    await eventually(async () => (await entityState('Counter', 'eternal')).body === 3, 'the signals of the three executions');
    // Every lock was released: the account takes others' signals.
    await webhook('entities/Account/dave?op=deposit', { method: 'POST', body: '5' });
    await eventually(async () => (await entityState('Account', 'dave')).body === 5, 'a deposit after the locks');
  });

  it('reads an entity that does not exist as 404 over the API and as entityExists false through the client', async () => {
    expect((await entityState('Counter', 'nobody')).status).toBe(404);
    expect(await (await fetch(`${devhost.url}/api/counter/nobody`)).json()).toEqual({ exists: false, state: null });
  });

  it('takes signals from the client and from the API, one at a time, in order, and lists the entities that exist', async () => {
    await Promise.all(Array.from({ length: 20 }, () => fetch(`${devhost.url}/api/counter/pears?amount=2`, { method: 'POST' })));
    const signalled = await webhook('entities/Counter/pears?op=add', { method: 'POST', body: '5' });
    expect(signalled.status).toBe(202);
    await eventually(async () => (await entityState('Counter', 'pears')).body === 45, 'the 21 signals');
    expect(await (await fetch(`${devhost.url}/api/counter/pears`)).json()).toEqual({ exists: true, state: 45 });

    // Deleted entities are not listed.
    await webhook('entities/Counter/gone?op=add', { method: 'POST', body: '1' });
    await webhook('entities/Counter/gone?op=delete', { method: 'POST' });
    await eventually(async () => (await entityState('Counter', 'gone')).status === 404, 'the deletion');

    const listed = (await (await webhook('entities/Counter?fetchState=true')).json()) as {
      entityId: { name: string; key: string };
      state?: unknown;
    }[];
    expect(listed).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ entityId: { name: 'counter', key: 'pears' }, state: 45, lastOperationTime: expect.any(String) }),
      ]),
    );
    expect(listed.map((entity) => entity.entityId.key)).not.toContain('gone');
    expect((await webhook('entities/NoSuchEntity/k?op=add', { method: 'POST' })).status).toBe(404);
  });

  it('passes an operation that throws to the orchestrator as an error it can catch', async () => {
    expect(await start('CatchEntityFailure')).toBe('caught');
  });

  it('runs an entity that signals another entity', async () => {
    await fetch(`${devhost.url}/api/counter/plums?op=addAndTell&amount=1`, { method: 'POST' });
    await eventually(async () => (await entityState('Counter', 'audit')).body === 1, 'the signal between entities');
  });

  it('holds signals to locked entities until the critical section ends, so nobody sees half a transfer', async () => {
    await webhook('entities/Account/alice?op=deposit', { method: 'POST', body: '100' });
    await eventually(async () => (await entityState('Account', 'alice')).body === 100, 'the deposit');
    const transfer = start('Transfer', { from: 'alice', to: 'bob', amount: 30 });
    // Wait until alice has been debited: bob's deposit is still to come, and both are locked.
    await eventually(async () => (await entityState('Account', 'alice')).body === 70, 'the withdrawal');
    await webhook('entities/Account/bob?op=deposit', { method: 'POST', body: '1' });
    await new Promise((resolve) => setTimeout(resolve, 300));
    // bob's signal waits for the lock: bob does not exist yet.
    expect((await entityState('Account', 'bob')).status).toBe(404);
    expect(await transfer).toEqual({ moved: true, locked: true, after: false });
    await eventually(async () => (await entityState('Account', 'bob')).body === 31, 'the held signal');
  });

  it('releases the locks of an orchestration that finishes without releasing them', async () => {
    expect(await start('ForgetToRelease', 'carol')).toBe('done');
    await webhook('entities/Account/carol?op=deposit', { method: 'POST', body: '7' });
    await eventually(async () => (await entityState('Account', 'carol')).body === 7, 'the deposit after the lock');
  });

  it('keeps entity state, and every signal it acknowledged, across a kill -9 and a restart', async () => {
    const accepted = await Promise.all(
      Array.from({ length: 30 }, () =>
        fetch(`${devhost.url}/api/counter/durable?amount=1`, { method: 'POST' }).then((answer) => answer.status),
      ),
    );
    expect(accepted.every((status) => status === 202)).toBe(true);
    const { dataDir } = devhost;
    // Killed at once: some signals are still waiting, maybe one batch is half done.
    await devhost.stop('SIGKILL');
    devhost = await startDevhostProcess({ args: ['--app', app.appDir], dataDir });
    expect(await entityState('Counter', 'apples')).toEqual({ status: 200, body: 3 });
    await eventually(async () => (await entityState('Counter', 'durable')).body === 30, 'the 30 acknowledged signals, each once');
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect((await entityState('Counter', 'durable')).body).toBe(30);
    // And the app goes on as before.
    expect(await start('CountOnce', 'apples')).toEqual({ before: 3, after: 4 });
  }, 90_000);
});
