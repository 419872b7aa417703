import type { FunctionMetadata, ProgrammingModel, Registration, RpcBindingInfo } from '../functionsCore';
import type { InvocationModel, InvocationRequest, RpcTypedData } from '../invoke';
import type { HostJson } from '../triggers/triggerHost';
import { readQueuesOptions } from '../triggers/queueTrigger';
import { bindingDataOf, isRecord, odataLiteral, parameterizedQuery, resolveBindingPattern, type BindingData } from './bindingData';
import { CosmosAccounts, readCosmosInput, writeCosmosOutput } from './cosmosBindings';
import { readBlobInput, readTableInput, StorageAccounts, writeBlobOutput, writeQueueOutput, writeTableOutput } from './storageBindings';

/**
 * Input and output bindings beside the trigger, carried out by the devhost as the host's extensions
 * do: inputs read before the function runs and handed to it in `inputData` (the worker's
 * `context.extraInputs`), outputs written after it succeeds from `outputData` and the return value
 * (a failed invocation writes nothing, as in the host). Any other binding stops start-up naming the
 * function and the binding: never a silent drop.
 */
const SERVED_INPUTS = new Set(['blob', 'table', 'cosmosdb']);
const SERVED_OUTPUTS = new Set(['queue', 'blob', 'table', 'cosmosdb']);
/** Bindings another part of the devhost serves: HTTP responses (httpHost.ts) and the durable client (durable/). */
const SERVED_ELSEWHERE = new Set(['http', 'durableclient', 'orchestrationclient']);

export interface BindingHost {
  readonly settings: Readonly<Record<string, string | undefined>>;
  readonly hostJson: HostJson;
}

export interface RunningBindings {
  /** The programming model with every invocation's inputs read and outputs written. */
  readonly model: ProgrammingModel;
  dispose(): void;
}

/** Checks every function's bindings (types, connections, required properties) before anything is served. */
export function refuseUnservedBindings(registrations: readonly Registration[], host: BindingHost): void {
  const storage = new StorageAccounts(host.settings);
  const cosmos = new CosmosAccounts(host.settings);
  for (const registration of registrations) {
    for (const [name, binding] of Object.entries(registration.metadata.bindings)) {
      if (isTriggerBinding(binding)) continue;
      const type = binding.type.toLowerCase();
      if (SERVED_ELSEWHERE.has(type)) continue;
      const served = binding.direction === 'in' ? SERVED_INPUTS : SERVED_OUTPUTS;
      if (!served.has(type) || binding.direction === 'inout') {
        throw new Error(
          `The devhost cannot serve the ${binding.type} ${binding.direction === 'in' ? 'input' : 'output'} binding "${name}" of function "${registration.metadata.name}".`,
        );
      }
      const fn = registration.metadata.name;
      if (type === 'cosmosdb') {
        cosmos.connection(fn, binding);
        required(fn, binding, 'databaseName');
        if (typeof binding.containerName !== 'string' && typeof binding.collectionName !== 'string')
          throw new Error(`Function "${fn}": its cosmosDB binding "${name}" names no containerName.`);
      } else {
        storage.connectionString(fn, binding);
        required(fn, binding, type === 'table' ? 'tableName' : type === 'queue' ? 'queueName' : 'path');
      }
    }
  }
}

export function startBindings(model: ProgrammingModel, host: BindingHost): RunningBindings {
  const storage = new StorageAccounts(host.settings);
  const cosmos = new CosmosAccounts(host.settings);
  const encoding = readQueuesOptions(host.hostJson).messageEncoding;
  const resolve = (pattern: unknown, data: BindingData): string | undefined =>
    typeof pattern === 'string' && pattern !== '' ? resolveBindingPattern(pattern, data, host.settings) : undefined;

  async function readInput(functionName: string, binding: RpcBindingInfo, data: BindingData): Promise<RpcTypedData> {
    switch (binding.type.toLowerCase()) {
      case 'blob':
        return readBlobInput(storage, storage.connectionString(functionName, binding), resolve(binding.path, data) ?? '', binding.dataType);
      case 'table': {
        const partitionKey = resolve(binding.partitionKey, data);
        const rowKey = resolve(binding.rowKey, data);
        // Values spliced into a filter are quoted as OData literals, so a value cannot change the filter.
        const filter =
          typeof binding.filter === 'string' && binding.filter !== ''
            ? resolveBindingPattern(binding.filter, data, host.settings, odataLiteral)
            : undefined;
        return readTableInput(storage, storage.connectionString(functionName, binding), {
          tableName: resolve(binding.tableName, data) ?? '',
          ...(partitionKey !== undefined && { partitionKey }),
          ...(rowKey !== undefined && { rowKey }),
          ...(filter !== undefined && { filter }),
          ...(typeof binding.take === 'number' && { take: binding.take }),
        });
      }
      default: {
        const id = resolve(binding.id, data);
        const partitionKey = resolve(binding.partitionKey, data);
        return readCosmosInput(cosmos.client(cosmos.connection(functionName, binding)), {
          database: resolve(binding.databaseName, data) ?? '',
          container: resolve(binding.containerName ?? binding.collectionName, data) ?? '',
          ...(id !== undefined && { id }),
          ...(partitionKey !== undefined && { partitionKey }),
          ...(typeof binding.sqlQuery === 'string' && { sqlQuery: parameterizedQuery(binding.sqlQuery, data, host.settings) }),
        });
      }
    }
  }

  async function writeOutput(functionName: string, binding: RpcBindingInfo, value: RpcTypedData, data: BindingData): Promise<void> {
    switch (binding.type.toLowerCase()) {
      case 'queue':
        return writeQueueOutput(
          storage,
          storage.connectionString(functionName, binding),
          resolve(binding.queueName, data) ?? '',
          value,
          encoding,
        );
      case 'blob':
        return writeBlobOutput(storage, storage.connectionString(functionName, binding), resolve(binding.path, data) ?? '', value);
      case 'table': {
        const partitionKey = resolve(binding.partitionKey, data);
        const rowKey = resolve(binding.rowKey, data);
        return writeTableOutput(
          storage,
          storage.connectionString(functionName, binding),
          {
            tableName: resolve(binding.tableName, data) ?? '',
            ...(partitionKey !== undefined && { partitionKey }),
            ...(rowKey !== undefined && { rowKey }),
          },
          value,
        );
      }
      default: {
        const connection = cosmos.connection(functionName, binding);
        const database = resolve(binding.databaseName, data) ?? '';
        const container = resolve(binding.containerName ?? binding.collectionName, data) ?? '';
        if (binding.createIfNotExists === true) {
          const path = typeof binding.partitionKey === 'string' && binding.partitionKey.startsWith('/') ? binding.partitionKey : '/id';
          await cosmos.ensureContainer(connection, database, container, path);
        }
        return writeCosmosOutput(cosmos.client(connection), database, container, value);
      }
    }
  }

  const wrapped: ProgrammingModel = {
    name: model.name,
    version: model.version,
    getInvocationModel(coreContext: unknown): unknown {
      const inner = model.getInvocationModel(coreContext) as InvocationModel;
      if (!isRecord(coreContext) || !isRecord(coreContext.metadata) || !isRecord(coreContext.request)) return inner;
      const metadata = coreContext.metadata as unknown as FunctionMetadata;
      const request = coreContext.request as unknown as InvocationRequest & { inputData: { name: string; data: RpcTypedData }[] };
      const { trigger, inputs, outputs } = bindingsOf(metadata);
      if (inputs.length === 0 && outputs.length === 0) return inner;
      let data: BindingData | undefined;
      const bindingData = () => (data ??= bindingDataFor(trigger, request));
      return {
        getArguments: async () => {
          // The worker reads inputData when it builds the arguments: the inputs must be there first.
          for (const [name, binding] of inputs) {
            const value = await readInput(metadata.name, binding, bindingData());
            request.inputData = [...request.inputData.filter((input) => input.name !== name), { name, data: value }];
          }
          return inner.getArguments();
        },
        invokeFunction: (context: unknown, args: unknown[], callback: (...args: unknown[]) => unknown) =>
          inner.invokeFunction(context, args, callback),
        getResponse: async (context: unknown, result: unknown) => {
          const response = await inner.getResponse(context, result);
          for (const [name, binding] of outputs) {
            const value = name === '$return' ? response.returnValue : response.outputData.find((output) => output.name === name)?.data;
            if (value) await writeOutput(metadata.name, binding, value, bindingData());
          }
          return response;
        },
      } satisfies InvocationModel;
    },
  };
  return { model: wrapped, dispose: () => cosmos.dispose() };
}

type NamedBinding = readonly [name: string, binding: RpcBindingInfo];
interface BindingPlan {
  /** The trigger's binding name and type, whose input and metadata give the binding expressions their values. */
  readonly trigger: { readonly name: string; readonly type: string } | undefined;
  readonly inputs: readonly NamedBinding[];
  readonly outputs: readonly NamedBinding[];
}
const planned = new WeakMap<FunctionMetadata, BindingPlan>();

/** A function's trigger and served inputs and outputs, worked out once per function rather than on every invocation. */
function bindingsOf(metadata: FunctionMetadata): BindingPlan {
  let plan = planned.get(metadata);
  if (!plan) {
    const bindings = Object.entries(metadata.bindings);
    const trigger = bindings.find(([, binding]) => isTriggerBinding(binding));
    plan = {
      trigger: trigger && { name: trigger[0], type: trigger[1].type },
      inputs: bindings.filter(
        ([, binding]) => binding.direction === 'in' && !isTriggerBinding(binding) && SERVED_INPUTS.has(binding.type.toLowerCase()),
      ),
      outputs: bindings.filter(([, binding]) => binding.direction === 'out' && SERVED_OUTPUTS.has(binding.type.toLowerCase())),
    };
    planned.set(metadata, plan);
  }
  return plan;
}

function bindingDataFor(trigger: BindingPlan['trigger'], request: InvocationRequest): BindingData {
  const triggerInput = trigger ? request.inputData.find((input) => input.name === trigger.name)?.data : undefined;
  return bindingDataOf(trigger?.type ?? '', triggerInput, request.triggerMetadata);
}

function isTriggerBinding(binding: RpcBindingInfo): boolean {
  return binding.direction === 'in' && /trigger$/i.test(binding.type);
}

function required(functionName: string, binding: RpcBindingInfo, property: string): void {
  if (typeof binding[property] !== 'string' || binding[property] === '')
    throw new Error(`Function "${functionName}": its ${binding.type} binding has no ${property}.`);
}
