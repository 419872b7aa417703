/**
 * Durable Functions in the devhost: plays the Durable Task extension's part for the app's
 * `orchestrationTrigger`, `activityTrigger` and `entityTrigger` functions and serves the `durableClient` input, with
 * the state in Azurite tables as the Azure Storage provider keeps it. See checkpoint.ts for the write
 * order that makes it crash-safe, replay.ts for how sequence numbers are kept in step with the library,
 * httpApi.ts for the client's HTTP API.
 */
import type { FunctionMetadata, ProgrammingModel, Registration } from '../functionsCore';
import type { ExtraRoute } from '../http/httpHost';
import type { HostKeys } from '../http/keys';
import type { RpcTypedData } from '../invoke';
import { resolveBindingExpression, type HostJson, type RunningService, type TriggerHostContext } from '../triggers/triggerHost';
import { ScaledClock, type DurableClock } from './clock';
import { DurableEngine, type ExistingInstancePolicy } from './engine';
import { startDurableHttpApi, type DurableClientInputData } from './httpApi';
import { isRecord } from './protocol';
import { DurableStore } from './store';

export { DurableEngine, DurableRequestError, type ExistingInstancePolicy, type InstanceQuery, type InstanceStatus } from './engine';
export { ScaledClock, type DurableClock } from './clock';
export { durableSystemKey, WEBHOOK_PATH, type DurableClientInputData } from './httpApi';

/** Trigger types the durable engine serves. */
export const DURABLE_TRIGGER_TYPES: readonly string[] = ['orchestrationTrigger', 'activityTrigger', 'entityTrigger'];
/** Input binding types it supplies (`df.input.durableClient()`; `orchestrationClient` is the v1 name). */
export const DURABLE_INPUT_TYPES: readonly string[] = ['durableClient', 'orchestrationClient'];

export interface DurableOptions {
  /** Storage for the task hub (AzureWebJobsStorage). */
  readonly storageConnectionString: string;
  /** Task hub name (host.json extensions.durableTask.hubName, %SETTING% resolved: see readDurableTaskOptions). */
  readonly hubName: string;
  readonly keys: HostKeys;
  /** The devhost's URL (known once it listens): the base of the webhook links the client hands out. */
  readonly baseUrl: () => string;
  /** Time for orchestrations and timers; default the wall clock (× timeScale). */
  readonly clock?: DurableClock;
  /** Timers fire this many times sooner (tests); the clock runs this much faster. Default 1. */
  readonly timeScale?: number;
  /** host.json maxConcurrentActivityFunctions (default 10). */
  readonly maxConcurrentActivities?: number;
  /** host.json maxConcurrentOrchestratorFunctions (default 10). */
  readonly maxConcurrentOrchestrations?: number;
  /** Starting an instance that is Pending/Running: keep it (default), refuse (NonRunningStates), replace (AnyState). */
  readonly existingInstances?: ExistingInstancePolicy;
  /**
   * Write every activity/timer/child result to the inbox before the episode that consumes it, even when
   * the instance is idle (default false: an idle instance's checkpoint records the result in its own
   * transaction — equally crash-safe, one Azurite round trip per activity instead of three).
   */
  readonly inboxFirst?: boolean;
  /**
   * Resume the instances that were running before (default true). The devhost passes false and calls
   * resume() once everything activities may call is up, as it starts its other triggers last.
   */
  readonly resume?: boolean;
}

export interface RunningDurable extends RunningService {
  /** Serve these on the devhost port (the `/runtime/webhooks/durabletask/…` webhooks). */
  readonly routes: readonly ExtraRoute[];
  readonly hubName: string;
  /** The loopback endpoint the client talks to. */
  readonly rpcBaseUrl: string;
  readonly engine: DurableEngine;
  /** The `durableClient` input binding's value. */
  clientInputData(): DurableClientInputData;
  /** The input data to add to an invocation of a function with these bindings (its durableClient inputs). */
  extraInputData(metadata: FunctionMetadata): { name: string; data: RpcTypedData }[];
  /** Resolves when nothing is running or due for the instance's tree (or for every instance). */
  idle(instanceId?: string): Promise<void>;
  /** Resumes every instance that was running (idempotent); returns how many. */
  resume(): Promise<number>;
}

/** host.json `extensions.durableTask`, with the extension's defaults, the hub name's %SETTING% resolved. */
export function readDurableTaskOptions(
  hostJson: HostJson,
  settings: Readonly<Record<string, string | undefined>>,
): { hubName: string; maxConcurrentActivities: number; maxConcurrentOrchestrations: number; existingInstances: ExistingInstancePolicy } {
  const durableTask: unknown = hostJson.extensions?.durableTask ?? {};
  const options = isRecord(durableTask) ? durableTask : {};
  const rawHub = typeof options.hubName === 'string' && options.hubName !== '' ? options.hubName : 'TestHubName';
  const hubName = resolveBindingExpression(rawHub, settings);
  // Task hub names become table and queue names: 3–45 letters and digits, starting with a letter.
  if (!/^[A-Za-z][A-Za-z0-9]{2,44}$/.test(hubName)) {
    throw new Error(`host.json extensions.durableTask.hubName must be 3–45 letters or digits starting with a letter, not "${hubName}".`);
  }
  const positive = (key: string, fallback: number) => {
    const value = options[key];
    if (value === undefined) return fallback;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1)
      throw new Error(`host.json extensions.durableTask.${key} must be a positive integer, not ${JSON.stringify(value)}.`);
    return value;
  };
  const overridable = options.overridableExistingInstanceStates;
  const existingInstances: ExistingInstancePolicy =
    typeof overridable === 'string' && overridable.toLowerCase() === 'nonrunningstates'
      ? 'NonRunningStates'
      : typeof overridable === 'string' && overridable.toLowerCase() === 'anystate'
        ? 'AnyState'
        : 'keep';
  return {
    hubName,
    maxConcurrentActivities: positive('maxConcurrentActivityFunctions', 10),
    maxConcurrentOrchestrations: positive('maxConcurrentOrchestratorFunctions', 10),
    existingInstances,
  };
}

/** Whether the app registered anything the durable engine serves. */
export function usesDurable(registrations: readonly Registration[]): boolean {
  return registrations.some((registration) =>
    Object.values(registration.metadata.bindings).some(
      (binding) => DURABLE_TRIGGER_TYPES.includes(binding.type) || DURABLE_INPUT_TYPES.includes(binding.type),
    ),
  );
}

/**
 * Starts the engine: opens the task hub's tables, starts the client's endpoint, and resumes every
 * instance that was running (overdue timers fire, unfinished activities run again).
 */
export async function startDurable(
  registrations: readonly Registration[],
  context: TriggerHostContext,
  options: DurableOptions,
): Promise<RunningDurable> {
  const timeScale = options.timeScale ?? 1;
  const clock = options.clock ?? new ScaledClock(timeScale);
  const store = await DurableStore.open(options.storageConnectionString, options.hubName);
  const engine = new DurableEngine({
    store,
    registrations,
    context,
    clock,
    timeScale,
    ...(options.clock ? { clockPollMs: 100 } : {}),
    maxConcurrentActivities: options.maxConcurrentActivities ?? 10,
    maxConcurrentOrchestrations: options.maxConcurrentOrchestrations ?? 10,
    existingInstances: options.existingInstances ?? 'keep',
    ...(options.inboxFirst ? { inboxFirst: true } : {}),
  });
  const api = await startDurableHttpApi(engine, { keys: options.keys, baseUrl: options.baseUrl, logger: context.logger });
  let resuming: Promise<number> | undefined;
  const resume = () =>
    (resuming ??= engine.resume().then((count) => {
      if (count > 0) context.logger.info(`Durable: resumed ${count} instance(s) of task hub ${options.hubName}.`);
      return count;
    }));
  if (options.resume ?? true) {
    try {
      await resume();
    } catch (error) {
      await api.close();
      throw error;
    }
  }
  let stopping: Promise<void> | undefined;
  return {
    routes: [api.route],
    hubName: options.hubName,
    rpcBaseUrl: api.rpcBaseUrl,
    engine,
    clientInputData: () => api.clientInputData(),
    extraInputData: (metadata) => durableClientInputs(metadata, () => api.clientInputData()),
    idle: (instanceId) => engine.idle(instanceId),
    resume,
    stop: () =>
      (stopping ??= (async () => {
        await engine.stop();
        await api.close();
      })()),
  };
}

/** The invocation inputs that carry the durableClient binding's value for a function with these bindings. */
export function durableClientInputs(
  metadata: FunctionMetadata,
  data: () => DurableClientInputData,
): { name: string; data: RpcTypedData }[] {
  const inputs: { name: string; data: RpcTypedData }[] = [];
  for (const [name, binding] of Object.entries(metadata.bindings)) {
    if (binding.direction === 'in' && DURABLE_INPUT_TYPES.includes(binding.type))
      inputs.push({ name, data: { string: JSON.stringify(data()) } });
  }
  return inputs;
}

/**
 * Wraps the app's programming model so that every invocation of a function that declares a
 * `durableClient` input receives its value, as the host supplies it in `inputData`. `durable` is
 * read at invocation time (the engine may start after the model is handed out).
 */
export function withDurableClientInput(
  model: ProgrammingModel,
  durable: () => Pick<RunningDurable, 'extraInputData'> | undefined,
): ProgrammingModel {
  return {
    name: model.name,
    version: model.version,
    getInvocationModel(coreContext: unknown): unknown {
      const engine = durable();
      if (!engine || !isRecord(coreContext) || !isRecord(coreContext.metadata) || !isRecord(coreContext.request))
        return model.getInvocationModel(coreContext);
      const metadata = coreContext.metadata as unknown as FunctionMetadata;
      const extra = engine.extraInputData(metadata);
      if (extra.length === 0) return model.getInvocationModel(coreContext);
      const inputData = Array.isArray(coreContext.request.inputData) ? (coreContext.request.inputData as unknown[]) : [];
      const present = new Set(inputData.map((input) => (isRecord(input) ? input.name : undefined)));
      return model.getInvocationModel({
        ...coreContext,
        request: { ...coreContext.request, inputData: [...inputData, ...extra.filter((input) => !present.has(input.name))] },
      });
    },
  };
}
