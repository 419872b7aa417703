import type { RpcHttpCookie } from './http/responseCookies';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { appHookData, runHooks, type ProgrammingModel, type Registration, type RpcBindingInfo } from './functionsCore';
import type { Logger } from './logger';

/** Typed data as the host sends it to the worker (the subset the devhost uses). */
export interface RpcTypedData {
  readonly string?: string;
  readonly json?: string;
  readonly bytes?: Uint8Array;
  readonly int?: number | string;
  readonly double?: number;
  readonly http?: RpcHttpData;
}

export interface RpcHttpData {
  readonly method?: string;
  readonly url?: string;
  readonly headers?: Record<string, string>;
  readonly query?: Record<string, string>;
  readonly params?: Record<string, string>;
  readonly statusCode?: string;
  readonly body?: RpcTypedData | null;
  readonly cookies?: readonly RpcHttpCookie[] | null;
}

export interface InvocationRequest {
  readonly inputData: readonly { name: string; data: RpcTypedData }[];
  readonly triggerMetadata?: Record<string, RpcTypedData>;
  readonly retryContext?: { retryCount: number; maxRetryCount: number };
}

export interface InvocationResult {
  readonly returnValue?: RpcTypedData | null;
  readonly outputData: readonly { name: string; data: RpcTypedData }[];
}

/** The part of @azure/functions' InvocationModel (what `getInvocationModel` answers) a host calls. */
export interface InvocationModel {
  getArguments(): Promise<{ context: unknown; inputs: unknown[] }>;
  invokeFunction(context: unknown, inputs: unknown[], callback: (...args: unknown[]) => unknown): Promise<unknown>;
  getResponse(context: unknown, result: unknown): Promise<InvocationResult>;
}

/**
 * The worker's invocation states (@azure/functions-core `InvocationState`), which it sets on the core context around each
 * phase (azure-functions-nodejs-worker, eventHandlers/InvocationHandler.ts): none while the arguments are built,
 * `preInvocationHooks`, none, `invocation` while the handler runs, none, `postInvocationHooks`, none again while the
 * response is made. The library reads it: a `context.log` after the handler has returned warns ("Unexpected call to
 * 'log' on the context object after function execution has completed") unless it comes from a postInvocation hook.
 */
export type InvocationState = 'preInvocationHooks' | 'postInvocationHooks' | 'invocation';

/**
 * A deadline for a whole invocation (host.json `functionTimeout`), from the moment the invocation model is asked for to
 * the response: building the arguments (input bindings, the streamed request), the hooks, the handler and the response
 * (output bindings). `expired` gives the error the invocation fails with (and may log what the host logs then).
 */
export interface InvocationDeadline {
  readonly ms: number;
  expired(): Error;
}

const deadlines = new WeakMap<object, InvocationDeadline>();

/**
 * Bounds the invocation whose core context this is: a programming model wrapper (hostLimits.ts `withFunctionTimeout`)
 * calls it from `getInvocationModel`, and `invokeFunction` holds the whole invocation to it.
 */
export function setInvocationDeadline(coreContext: unknown, deadline: InvocationDeadline): void {
  if (typeof coreContext === 'object' && coreContext !== null) deadlines.set(coreContext, deadline);
}

export function triggerOf(registration: Registration): { name: string; binding: RpcBindingInfo } {
  const entry = Object.entries(registration.metadata.bindings).find(
    ([, binding]) => binding.direction === 'in' && /trigger$/i.test(binding.type),
  );
  if (!entry) throw new Error(`Function ${registration.metadata.name} has no trigger binding.`);
  return { name: entry[0], binding: entry[1] };
}

/**
 * Invokes one function the way the Functions host does: through @azure/functions' own invocation
 * model, which turns host-shaped data into handler arguments and the handler's result back.
 * Logs the invocation like the host ("Executing …" / "Executed … (Succeeded|Failed, Duration=…)").
 * With a deadline (setInvocationDeadline), the whole invocation fails once it passes it, and nothing
 * of it that is still to come (hooks, response, output bindings) runs afterwards.
 */
export async function invokeFunction(
  model: ProgrammingModel,
  registration: Registration,
  request: InvocationRequest,
  logger: Logger,
  reason: string,
): Promise<InvocationResult> {
  const invocationId = randomUUID();
  const name = registration.metadata.name;
  const started = performance.now();
  // Categories as the host names them: its own lines about a function, and the function's.
  const hostLines = (level: string) => logger.enabled?.(`Function.${name}`, level) ?? true;
  if (hostLines('information')) logger.info(`Executing 'Functions.${name}' (Reason='${reason}', Id=${invocationId})`);
  // The worker's core context: the library keeps it and reads its state when the function logs.
  const coreContext: { invocationId: string; state?: InvocationState } & Record<string, unknown> = {
    invocationId,
    metadata: registration.metadata,
    request: { invocationId, ...request },
    state: undefined,
    log: (level: string, category: string, message: string) => {
      if (logger.enabled?.(category === 'user' ? `Function.${name}.User` : `Function.${name}`, level) ?? true)
        logger.functionLog(name, invocationId, level, category, message);
    },
  };
  let expired: Error | undefined;
  // Each phase awaited through this: once the deadline has passed, the rest of the invocation is dropped.
  const phase = async <T>(state: InvocationState | undefined, running: () => Promise<T>): Promise<T> => {
    if (expired) throw expired;
    coreContext.state = state;
    try {
      return await running();
    } finally {
      coreContext.state = undefined;
    }
  };
  const run = async (invocation: InvocationModel): Promise<InvocationResult> => {
    const { context, inputs } = await phase(undefined, () => invocation.getArguments());
    // As the worker: preInvocation hooks may replace the inputs and the handler; postInvocation hooks
    // see (and may replace) the result or the error; both share one hookData per invocation.
    const hookData: Record<string, unknown> = {};
    const before = { hookData, appHookData, invocationContext: context, functionCallback: registration.callback, inputs };
    await phase('preInvocationHooks', () => runHooks('preInvocation', before));
    const after: { result: unknown; error: unknown } & Record<string, unknown> = {
      hookData,
      appHookData,
      invocationContext: context,
      inputs: before.inputs,
      result: null,
      error: null,
    };
    try {
      after.result = await phase('invocation', () => invocation.invokeFunction(context, before.inputs, before.functionCallback));
    } catch (error) {
      after.error = error;
    }
    await phase('postInvocationHooks', () => runHooks('postInvocation', after));
    // A postInvocation hook may clear the error (the invocation then succeeds with its result).
    if (after.error instanceof Error) throw after.error;
    if (after.error !== null && after.error !== undefined)
      throw new Error('The function threw a value that is not an Error.', { cause: after.error });
    return phase(undefined, () => invocation.getResponse(context, after.result));
  };
  try {
    const invocation = model.getInvocationModel(coreContext) as InvocationModel;
    const deadline = deadlines.get(coreContext);
    let timer: NodeJS.Timeout | undefined;
    const response = await (deadline === undefined
      ? run(invocation)
      : Promise.race([
          run(invocation),
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => {
              expired = deadline.expired();
              reject(expired);
            }, deadline.ms);
          }),
        ]).finally(() => clearTimeout(timer)));
    if (hostLines('information'))
      logger.info(`Executed 'Functions.${name}' (Succeeded, Id=${invocationId}, Duration=${Math.round(performance.now() - started)}ms)`);
    return response;
  } catch (error) {
    if (hostLines('error'))
      logger.error(
        `Executed 'Functions.${name}' (Failed, Id=${invocationId}, Duration=${Math.round(performance.now() - started)}ms)`,
        error,
      );
    throw error;
  }
}
