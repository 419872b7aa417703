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

interface InvocationModel {
  getArguments(): Promise<{ context: unknown; inputs: unknown[] }>;
  invokeFunction(context: unknown, inputs: unknown[], callback: (...args: unknown[]) => unknown): Promise<unknown>;
  getResponse(context: unknown, result: unknown): Promise<InvocationResult>;
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
  const invocation = model.getInvocationModel({
    invocationId,
    metadata: registration.metadata,
    request: { invocationId, ...request },
    state: 'invocation',
    log: (level: string, category: string, message: string) => {
      if (logger.enabled?.(category === 'user' ? `Function.${name}.User` : `Function.${name}`, level) ?? true)
        logger.functionLog(name, invocationId, level, category, message);
    },
  }) as InvocationModel;
  try {
    const { context, inputs } = await invocation.getArguments();
    // As the worker: preInvocation hooks may replace the inputs and the handler; postInvocation hooks
    // see (and may replace) the result or the error; both share one hookData per invocation.
    const hookData: Record<string, unknown> = {};
    const before = { hookData, appHookData, invocationContext: context, functionCallback: registration.callback, inputs };
    await runHooks('preInvocation', before);
    const after: { result: unknown; error: unknown } & Record<string, unknown> = {
      hookData,
      appHookData,
      invocationContext: context,
      inputs: before.inputs,
      result: null,
      error: null,
    };
    try {
      after.result = await invocation.invokeFunction(context, before.inputs, before.functionCallback);
    } catch (error) {
      after.error = error;
    }
    await runHooks('postInvocation', after);
    // A postInvocation hook may clear the error (the invocation then succeeds with its result).
    if (after.error instanceof Error) throw after.error;
    if (after.error !== null && after.error !== undefined)
      throw new Error('The function threw a value that is not an Error.', { cause: after.error });
    const response = await invocation.getResponse(context, after.result);
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
