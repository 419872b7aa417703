import { performance } from 'node:perf_hooks';
import { TableClient, type TransactionAction } from '@azure/data-tables';
import type { OrchestrationContext } from 'durable-functions';
import { startDurable, type RunningDurable } from 'functions-devhost/durable/index';
import { installFunctionsCore } from 'functions-devhost/functionApp';
import { getProgrammingModel, registeredFunctions } from 'functions-devhost/functionsCore';
import { invokeFunction, triggerOf } from 'functions-devhost/invoke';
import { consoleLogger } from 'functions-devhost/logger';
import { startAzurite } from 'functions-devhost/storage/azurite';
import type { TriggerHostContext } from 'functions-devhost/triggers/triggerHost';
import { round, summarise, type LatencySummary } from './stats';

const CHAIN_LENGTH = 200;
const FAN_OUT = 1000;
const BARE_INVOCATIONS = 2000;
const ENTITY_CALLS = 200;
const ENTITY_SIGNALS = 1000;

export interface DurableBenchmark {
  /** One no-op activity invoked directly through @azure/functions' invocation model, as the engine invokes it. */
  readonly bareInvocation: LatencySummary;
  readonly chain: {
    readonly activities: number;
    readonly wallMs: number;
    /** From one activity's start to the next one's, through the engine (result recorded, episode, checkpoint). */
    readonly stepLatency: LatencySummary;
    /** stepLatency p50 minus the bare invocation p50: what the engine adds per activity. */
    readonly overheadP50Ms: number;
    /** wall time / activities minus the bare invocation p50. */
    readonly overheadMeanMs: number;
    /**
     * p50 of one 5-row entity-group transaction on the same Azurite: the floor of a step, whose checkpoint
     * is such a transaction (OrchestratorStarted, TaskCompleted, TaskScheduled, OrchestratorCompleted, sentinel).
     */
    readonly azuriteCheckpointP50Ms: number;
    /** overheadP50Ms minus that floor: the engine's own work per activity (replay, bookkeeping). */
    readonly engineShareP50Ms: number;
  };
  readonly fanOut: { readonly activities: number; readonly wallMs: number; readonly activitiesPerSecond: number };
  readonly entities: {
    /** One orchestration calling a counter entity ENTITY_CALLS times in a row: wall time per call (request, batch, answer, episode). */
    readonly calls: number;
    readonly perCallMs: number;
    /** The same orchestration's chain of activities in this run, per activity: the reference for a call. */
    readonly perActivityMs: number;
    /** ENTITY_SIGNALS signals sent at once to one counter (each acknowledged once durable), until its state counts them all. */
    readonly signals: number;
    readonly signalsWallMs: number;
    readonly signalsPerSecond: number;
  };
}

/**
 * The durable engine's cost per activity, against Azurite in memory: a sequential chain of no-op
 * activities (each step = result written to the inbox, an orchestrator episode replaying the whole
 * history, a checkpoint, the next activity), and the time to run a fan-out of 1,000 no-op activities
 * to completion (maxConcurrentActivityFunctions 10, as host.json).
 */
let recordActivityStart: () => void = () => undefined;

export async function benchmarkDurable(options: { inboxFirst?: boolean } = {}): Promise<DurableBenchmark> {
  installFunctionsCore();
  // Loaded after the stand-in is installed, so the registrations are captured as the host would see them.
  const df = await import('durable-functions');
  const starts: number[] = [];
  // Registered once per process (each run of a median-of-N uses the same functions); each run counts its own starts.
  recordActivityStart = () => starts.push(performance.now());
  if (!registeredFunctions().some((registration) => registration.metadata.name === 'benchDurableNoop')) {
    df.app.activity('benchDurableNoop', {
      handler: () => {
        recordActivityStart();
        return null;
      },
    });
    df.app.orchestration('benchDurableChain', function* (context: OrchestrationContext) {
      const count = context.df.getInput<number>();
      for (let index = 0; index < count; index++) yield context.df.callActivity('benchDurableNoop');
      return count;
    });
    df.app.entity('benchDurableCounter', (context) => {
      const value = Number(context.df.getState(() => 0) ?? 0);
      if (context.df.operationName === 'add') context.df.setState(value + 1);
      else context.df.return(value);
    });
    df.app.orchestration('benchDurableEntityChain', function* (context: OrchestrationContext) {
      const count = context.df.getInput<number>();
      const counter = new df.EntityId('benchDurableCounter', context.df.instanceId);
      for (let index = 0; index < count; index++) yield context.df.callEntity(counter, 'add');
      return count;
    });
    df.app.orchestration('benchDurableFanOut', function* (context: OrchestrationContext) {
      const count = context.df.getInput<number>();
      yield context.df.Task.all(Array.from({ length: count }, () => context.df.callActivity('benchDurableNoop')));
      return count;
    });
  }
  const model = getProgrammingModel();
  if (!model) throw new Error('No programming model was registered.');
  const registrations = registeredFunctions().filter((registration) => registration.metadata.name.startsWith('benchDurable'));
  const logger = consoleLogger({ quiet: true });
  const context: TriggerHostContext = {
    invoke: (registration, request, reason) => invokeFunction(model, registration, request, logger, reason),
    logger,
    settings: process.env,
    hostJson: {},
    dataDir: '/nonexistent',
  };

  const noop = registrations.find((registration) => registration.metadata.name === 'benchDurableNoop');
  if (!noop) throw new Error('benchDurableNoop was not registered.');
  const bare: number[] = [];
  for (let index = 0; index < BARE_INVOCATIONS + 200; index++) {
    const t0 = performance.now();
    await context.invoke(noop, { inputData: [{ name: triggerOf(noop).name, data: {} }], triggerMetadata: {} }, 'bench');
    if (index >= 200) bare.push(performance.now() - t0);
  }
  const bareSummary = summarise(bare);

  const azurite = await startAzurite({ inMemory: true });
  let durable: RunningDurable | undefined;
  try {
    durable = await startDurable(registrations, context, {
      storageConnectionString: azurite.connectionString,
      hubName: 'DurableBench',
      keys: { functionKey: 'bench-function-key', masterKey: 'bench-master-key' },
      baseUrl: () => 'http://localhost:7071',
      maxConcurrentActivities: 10,
      ...(options.inboxFirst ? { inboxFirst: true } : {}),
    });
    // Warm-up.
    await run(durable, 'benchDurableChain', 20);
    const floor = await checkpointFloor(azurite.connectionString);

    starts.length = 0;
    const chainWall = await run(durable, 'benchDurableChain', CHAIN_LENGTH);
    const gaps = starts.slice(1).map((at, index) => at - (starts[index] ?? at));
    const stepLatency = summarise(gaps);

    const fanOutWall = await run(durable, 'benchDurableFanOut', FAN_OUT);

    await run(durable, 'benchDurableEntityChain', 20);
    const entityChainWall = await run(durable, 'benchDurableEntityChain', ENTITY_CALLS);
    const signalsWall = await signalCounter(durable, ENTITY_SIGNALS);
    return {
      bareInvocation: bareSummary,
      chain: {
        activities: CHAIN_LENGTH,
        wallMs: round(chainWall),
        stepLatency,
        overheadP50Ms: round(stepLatency.p50Ms - bareSummary.p50Ms),
        overheadMeanMs: round(chainWall / CHAIN_LENGTH - bareSummary.p50Ms),
        azuriteCheckpointP50Ms: floor,
        engineShareP50Ms: round(stepLatency.p50Ms - bareSummary.p50Ms - floor),
      },
      fanOut: { activities: FAN_OUT, wallMs: round(fanOutWall), activitiesPerSecond: round((FAN_OUT / fanOutWall) * 1000, 0) },
      entities: {
        calls: ENTITY_CALLS,
        perCallMs: round(entityChainWall / ENTITY_CALLS),
        perActivityMs: round(chainWall / CHAIN_LENGTH),
        signals: ENTITY_SIGNALS,
        signalsWallMs: round(signalsWall),
        signalsPerSecond: round((ENTITY_SIGNALS / signalsWall) * 1000, 0),
      },
    };
  } finally {
    await durable?.stop();
    await azurite.stop();
  }
}

/** p50 of a 5-row entity-group transaction (the size of a chain step's checkpoint) on this Azurite. */
async function checkpointFloor(connectionString: string): Promise<number> {
  const table = TableClient.fromConnectionString(connectionString, 'DurableBenchFloor', { allowInsecureConnection: true });
  await table.createTable();
  const samples: number[] = [];
  for (let index = 0; index < 220; index++) {
    const rows = Array.from({ length: 5 }, (_, row): TransactionAction => [
      'upsert',
      {
        partitionKey: 'floor',
        rowKey: (index * 8 + row).toString(16).padStart(16, '0'),
        EventType: 'TaskScheduled',
        EventId: index,
        _Timestamp: new Date().toISOString(),
        ExecutionId: 'floor',
        Name: 'noop',
      },
      'Replace',
    ]);
    const t0 = performance.now();
    await table.submitTransaction(rows);
    if (index >= 20) samples.push(performance.now() - t0);
  }
  await table.deleteTable();
  return summarise(samples).p50Ms;
}

/** Sends `count` signals to a fresh counter at once; returns the ms until its state counts them all. */
async function signalCounter(durable: RunningDurable, count: number): Promise<number> {
  const entity = { name: 'benchDurableCounter', key: `signals-${Date.now()}` };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: count }, () => durable.engine.entities.signal(entity, 'add', undefined)));
  for (;;) {
    const read = await durable.engine.entities.readState(entity);
    if (read.state === count) return performance.now() - t0;
    if (performance.now() - t0 > 60_000) throw new Error(`The counter reached ${String(read.state)} of ${count} signals in 60 s.`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** Runs one instance to completion; returns the wall time in ms. */
async function run(durable: RunningDurable, name: string, count: number): Promise<number> {
  const t0 = performance.now();
  const { instanceId } = await durable.engine.startNew({ name, input: JSON.stringify(count) });
  for (;;) {
    await durable.idle(instanceId);
    const status = await durable.engine.status(instanceId);
    if (status?.runtimeStatus === 'Completed') return performance.now() - t0;
    if (status && status.runtimeStatus !== 'Running' && status.runtimeStatus !== 'Pending')
      throw new Error(`${name} ended ${status.runtimeStatus}: ${JSON.stringify(status.output)}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

if (require.main === module) {
  // `ts-node bench/durable.bench.ts --inbox-first`: every result written to the inbox before its episode.
  benchmarkDurable({ inboxFirst: process.argv.includes('--inbox-first') })
    .then((result) => {
      console.log(`Bare activity invocation: p50 ${result.bareInvocation.p50Ms} ms, p99 ${result.bareInvocation.p99Ms} ms`);
      console.log(
        `Chain of ${result.chain.activities} no-op activities: ${result.chain.wallMs} ms; per step p50 ${result.chain.stepLatency.p50Ms} ms, p99 ${result.chain.stepLatency.p99Ms} ms; ` +
          `engine overhead per activity p50 ${result.chain.overheadP50Ms} ms (mean ${result.chain.overheadMeanMs} ms), of which Azurite's checkpoint transaction p50 ${result.chain.azuriteCheckpointP50Ms} ms`,
      );
      console.log(
        `Fan-out of ${result.fanOut.activities} no-op activities: ${result.fanOut.wallMs} ms (${result.fanOut.activitiesPerSecond} activities/s)`,
      );
      console.log(
        `Entities: ${result.entities.calls} calls ${result.entities.perCallMs} ms per call (activities ${result.entities.perActivityMs} ms); ${result.entities.signals} signals ${result.entities.signalsWallMs} ms (${result.entities.signalsPerSecond}/s)`,
      );
    })
    .catch((error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    });
}

export function printDurable(durable: DurableBenchmark): void {
  console.log('\nDurable engine in the devhost (Azurite tables)');
  console.table({
    'overhead per activity (sequential chain)': {
      'p50 ms': durable.chain.overheadP50Ms,
      'mean ms': durable.chain.overheadMeanMs,
      'of which Azurite p50 ms': durable.chain.azuriteCheckpointP50Ms,
    },
  });
  console.log(
    `Fan-out of ${durable.fanOut.activities} no-op activities: ${durable.fanOut.wallMs} ms (${durable.fanOut.activitiesPerSecond} activities/s)`,
  );
  console.log(
    `Entities: ${durable.entities.calls} calls in a row ${durable.entities.perCallMs} ms per call (activity chain, same run: ${durable.entities.perActivityMs} ms per activity); ` +
      `${durable.entities.signals} signals at once to one entity ${durable.entities.signalsWallMs} ms (${durable.entities.signalsPerSecond} signals/s)`,
  );
}
