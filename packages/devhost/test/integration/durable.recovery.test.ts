/**
 * What a crash can leave in the tables, set up directly, and what the engine makes of it on start:
 * every window between two writes of the write order (engine.ts) ends in a consistent instance.
 */
import { randomUUID } from 'node:crypto';
import { odata, TableClient, type TransactionAction } from '@azure/data-tables';
import { DurableStore, historyRowKey } from '../../src/durable/store';
import { startAzurite, type RunningAzurite } from '../../src/storage/azurite';
import { startDurableTestHost, type DurableTestHost } from '../fixtures/harness';
import { fixtureState } from '../fixtures/orchestrations';

const HUB = 'DurableRecovery';
let azurite: RunningAzurite;
let store: DurableStore;
let history: TableClient;
let instances: TableClient;
const hosts: DurableTestHost[] = [];

beforeAll(async () => {
  azurite = await startAzurite({ inMemory: true });
  store = await DurableStore.open(azurite.connectionString, HUB);
  history = TableClient.fromConnectionString(azurite.connectionString, `${HUB}History`, { allowInsecureConnection: true });
  instances = TableClient.fromConnectionString(azurite.connectionString, `${HUB}Instances`, { allowInsecureConnection: true });
}, 60_000);

afterEach(async () => {
  for (const host of hosts.splice(0)) {
    expect(host.errors).toEqual([]);
    await host.stop();
  }
});

afterAll(async () => {
  await azurite.stop();
});

async function engine(): Promise<DurableTestHost> {
  const host = await startDurableTestHost({ storageConnectionString: azurite.connectionString, hubName: HUB, timeScale: 20 });
  hosts.push(host);
  return host;
}

async function restart(host: DurableTestHost): Promise<DurableTestHost> {
  hosts.splice(hosts.indexOf(host), 1);
  expect(host.errors).toEqual([]);
  await host.stop();
  return engine();
}

async function sentinel(instanceId: string): Promise<{ ExecutionId: string; HistoryLength: number }> {
  return history.getEntity<{ ExecutionId: string; HistoryLength: number }>(instanceId, 'sentinel');
}

const uniqueId = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;

describe('durable engine recovery', () => {
  it('starts an instance whose Instances row was written but whose start message was not', async () => {
    const id = uniqueId('unstarted');
    const now = Date.now();
    await store.writeInstance(
      {
        instanceId: id,
        name: 'fanOutFanIn',
        executionId: 'e1',
        input: JSON.stringify({ count: 3 }),
        runtimeStatus: 'Pending',
        createdTime: now,
        lastUpdatedTime: now,
      },
      undefined,
    );
    const host = await engine();
    expect(await host.waitFor(id)).toMatchObject({ runtimeStatus: 'Completed', output: 6 });
  });

  it('ignores (and removes) the rows of a checkpoint that was never completed', async () => {
    const host = await engine();
    const id = await host.start('approval');
    await host.durable.idle(id);
    const before = await sentinel(id);
    // A checkpoint larger than one transaction died after its first transaction: rows past the committed length.
    const leftovers = [0, 1, 2].map((offset): TransactionAction => [
      'create',
      {
        partitionKey: id,
        rowKey: historyRowKey(before.HistoryLength + offset),
        ExecutionId: before.ExecutionId,
        EventType: 'TaskScheduled',
        EventId: 90 + offset,
        _Timestamp: new Date().toISOString(),
        Name: 'fail',
        Input: '"leftover"',
      },
    ]);
    await history.submitTransaction(leftovers);
    const restarted = await restart(host);
    await restarted.raise(id, 'Approval', { approved: true, by: 'after the crash' });
    expect(await restarted.waitFor(id)).toMatchObject({ runtimeStatus: 'Completed', output: { approved: true, by: 'after the crash' } });
    const events = (await store.readPartition(id)).history;
    expect(events.some((event) => event.EventType === 'TaskScheduled' && event.Name === 'fail')).toBe(false);
    expect(fixtureState.activityRuns.get('fail:"leftover"')).toBeUndefined();
  });

  it('repairs the Instances row of an instance that finished just before the crash', async () => {
    const host = await engine();
    const id = await host.start('fanOutFanIn', { count: 4 });
    await host.waitFor(id);
    const row = await instances.getEntity(id, '');
    await instances.updateEntity({ partitionKey: id, rowKey: '', RuntimeStatus: 'Running' }, 'Merge', { etag: row.etag });
    expect((await store.readInstance(id))?.runtimeStatus).toBe('Running');
    const restarted = await restart(host);
    expect(await restarted.status(id)).toMatchObject({ runtimeStatus: 'Completed', output: 12 });
  });

  it('never delivers a consumed message twice when its inbox row was left behind', async () => {
    const host = await engine();
    const id = await host.start('twoEvents');
    await host.raise(id, 'first', 'A');
    await host.durable.idle(id);
    const { history: events } = await store.readPartition(id);
    const raised = events.find((event) => event.EventType === 'EventRaised');
    expect(raised?.SourceMessage).toBeDefined();
    expect(await store.countRows(id)).toMatchObject({ inbox: 0 });
    // The checkpoint that consumed it committed; the crash came before its inbox row was deleted.
    await history.createEntity({
      partitionKey: id,
      rowKey: raised?.SourceMessage ?? '',
      Arrival: '000000000000000.000000000',
      EventType: 'EventRaised',
      EventId: -1,
      _Timestamp: new Date().toISOString(),
      Name: 'first',
      Input: JSON.stringify('A again'),
    });
    const restarted = await restart(host);
    await restarted.durable.idle(id);
    expect(await store.countRows(id)).toMatchObject({ inbox: 0 });
    await restarted.raise(id, 'second', 'B');
    expect(await restarted.waitFor(id)).toMatchObject({ runtimeStatus: 'Completed', output: 'A+B' });
    const after = (await store.readPartition(id)).history;
    expect(after.flatMap((event) => (event.EventType === 'EventRaised' ? [event.Input] : []))).toEqual(['"A"', '"B"']);
  });

  it("collects a finished sub-orchestration's result that never reached its parent", async () => {
    const host = await engine();
    const id = uniqueId('orphaned');
    await host.start('parent', { value: 7 }, id);
    const done = await host.waitFor(id);
    expect(done.runtimeStatus).toBe('Completed');
    // Rewind the parent to the moment before its first child's result arrived (the crash lost the message).
    const { history: events } = await store.readPartition(id);
    const firstResult = events.findIndex((event) => event.EventType === 'SubOrchestrationInstanceCompleted');
    const episodeStart = events
      .slice(0, firstResult)
      .map((event) => event.EventType)
      .lastIndexOf('OrchestratorStarted');
    const sentinelRow = await history.getEntity<{ ExecutionId: string; HistoryLength: number }>(id, 'sentinel');
    const doomed: string[] = [];
    for await (const entity of history.listEntities({ queryOptions: { filter: odata`PartitionKey eq ${id}` } })) {
      const key = entity.rowKey ?? '';
      if (/^[0-9A-F]{16}$/.test(key) && Number.parseInt(key, 16) >= episodeStart) doomed.push(key);
    }
    await store.deleteRows(id, doomed);
    await history.updateEntity(
      { partitionKey: id, rowKey: 'sentinel', ExecutionId: sentinelRow.ExecutionId, HistoryLength: episodeStart },
      'Replace',
      { etag: sentinelRow.etag },
    );
    const row = await instances.getEntity(id, '');
    await instances.updateEntity({ partitionKey: id, rowKey: '', RuntimeStatus: 'Running', Output: '' }, 'Merge', { etag: row.etag });

    const restarted = await restart(host);
    const status = await restarted.waitFor(id);
    expect(status).toMatchObject({ runtimeStatus: 'Completed', output: done.output });
    // The children were not run again: each still has its single execution.
    expect((await store.readPartition(`${id}-child`)).history.filter((event) => event.EventType === 'ExecutionStarted')).toHaveLength(1);
  });

  it('runs a fan-out whose checkpoints span several entity-group transactions, across a restart', async () => {
    const host = await engine();
    const id = await host.start('fanOutFanIn', { count: 250 });
    // Stopped as soon as the 250 TaskScheduled rows (three transactions) are committed, while activities run.
    for (;;) {
      const scheduled = (await store.readPartition(id)).history.filter((event) => event.EventType === 'TaskScheduled').length;
      if (scheduled > 0) {
        expect(scheduled).toBe(250);
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const restarted = await restart(host);
    const status = await restarted.waitFor(id, undefined, 60_000);
    expect(status).toMatchObject({ runtimeStatus: 'Completed', output: 250 * 249 });
    const events = (await store.readPartition(id)).history;
    expect(events.filter((event) => event.EventType === 'TaskScheduled')).toHaveLength(250);
    expect(events.filter((event) => event.EventType === 'TaskCompleted')).toHaveLength(250);
    expect(await store.countRows(id)).toMatchObject({ inbox: 0, other: 1 });
  });
});
