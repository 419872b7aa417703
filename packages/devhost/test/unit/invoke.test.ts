import { FunctionTimeoutError, withFunctionTimeout } from '../../src/hostLimits';
import { registerHook, type Disposable, type ProgrammingModel, type Registration } from '../../src/functionsCore';
import { invokeFunction, type InvocationModel, type InvocationResult } from '../../src/invoke';
import type { Logger } from '../../src/logger';

/**
 * invokeFunction (invoke.ts) as the Node worker runs an invocation, with a stand-in for @azure/functions' invocation
 * model that records what the host does to it.
 */
const registration: Registration = {
  metadata: { name: 'probe', bindings: { trigger: { type: 'queueTrigger', direction: 'in' } } },
  callback: () => undefined,
};
const EMPTY_RESPONSE: InvocationResult = { outputData: [] };
const never = new Promise<never>(() => undefined);

/** `promise`, or a rejection if it is still pending after `ms`. */
async function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`still pending after ${ms} ms`)), ms))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

function recordingLogger(): Logger & { errors: string[] } {
  const errors: string[] = [];
  return {
    errors,
    info: () => undefined,
    warn: () => undefined,
    error: (message) => errors.push(message),
    functionLog: () => undefined,
  };
}

/** A model whose invocation model is `make(coreContext)`. */
function modelOf(make: (coreContext: { state?: string }) => Partial<InvocationModel>): ProgrammingModel {
  return {
    name: 'stand-in',
    version: '0',
    getInvocationModel: (coreContext) => ({
      getArguments: () => Promise.resolve({ context: {}, inputs: [] }),
      invokeFunction: (_context: unknown, inputs: unknown[], callback: (...args: unknown[]) => unknown) =>
        Promise.resolve(callback(...inputs)),
      getResponse: () => Promise.resolve(EMPTY_RESPONSE),
      ...make(coreContext as { state?: string }),
    }),
  };
}

describe('invokeFunction', () => {
  const hooks: Disposable[] = [];
  afterEach(() => hooks.splice(0).forEach((hook) => hook.dispose()));

  describe('holds the whole invocation to functionTimeout, as the host does', () => {
    it('cuts off an invocation whose arguments (an input binding, a streamed request) never come', async () => {
      const logger = recordingLogger();
      const model = withFunctionTimeout(
        modelOf(() => ({ getArguments: () => never })),
        100,
        logger,
      );
      const started = Date.now();
      await expect(within(invokeFunction(model, registration, { inputData: [] }, logger, 'test'), 2000)).rejects.toThrow(
        new FunctionTimeoutError('Timeout value of 00:00:00 was exceeded by function: Functions.probe'),
      );
      expect(Date.now() - started).toBeLessThan(2000);
      expect(logger.errors).toEqual([
        expect.stringMatching(
          /^Timeout value of 00:00:00 exceeded by function 'Functions\.probe' \(Id: '[0-9a-f-]{36}'\)\. The invocation fails/,
        ),
        expect.stringMatching(/^Executed 'Functions\.probe' \(Failed, Id=/),
      ]);
    });

    it('cuts off a preInvocation hook, or a response (output bindings), that never ends', async () => {
      const logger = recordingLogger();
      const stuckResponse = withFunctionTimeout(
        modelOf(() => ({ getResponse: () => never })),
        100,
        logger,
      );
      await expect(within(invokeFunction(stuckResponse, registration, { inputData: [] }, logger, 'test'), 2000)).rejects.toBeInstanceOf(
        FunctionTimeoutError,
      );
      hooks.push(registerHook('preInvocation', () => never));
      const stuckHook = withFunctionTimeout(
        modelOf(() => ({})),
        100,
        logger,
      );
      await expect(within(invokeFunction(stuckHook, registration, { inputData: [] }, logger, 'test'), 2000)).rejects.toBeInstanceOf(
        FunctionTimeoutError,
      );
    });

    it('runs nothing more of a timed-out invocation once its handler returns: no postInvocation hooks, no response', async () => {
      const logger = recordingLogger();
      let finish: () => void = () => undefined;
      const seen: string[] = [];
      hooks.push(registerHook('postInvocation', () => void seen.push('postInvocation')));
      const model = withFunctionTimeout(
        modelOf(() => ({
          invokeFunction: () => new Promise((resolve) => (finish = () => resolve('late'))),
          getResponse: () => {
            seen.push('getResponse');
            return Promise.resolve(EMPTY_RESPONSE);
          },
        })),
        100,
        logger,
      );
      await expect(within(invokeFunction(model, registration, { inputData: [] }, logger, 'test'), 2000)).rejects.toBeInstanceOf(
        FunctionTimeoutError,
      );
      finish();
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(seen).toEqual([]);
    });

    it('leaves an invocation within the limit alone', async () => {
      const logger = recordingLogger();
      const model = withFunctionTimeout(
        modelOf(() => ({})),
        1000,
        logger,
      );
      await expect(within(invokeFunction(model, registration, { inputData: [] }, logger, 'test'), 2000)).resolves.toEqual(EMPTY_RESPONSE);
      expect(logger.errors).toEqual([]);
    });
  });

  it("sets the worker's invocation state on the core context around each phase, as the Node worker does", async () => {
    const states: Record<string, string | undefined> = {};
    let core: { state?: string } = {};
    hooks.push(registerHook('preInvocation', () => void (states.preInvocation = core.state)));
    hooks.push(registerHook('postInvocation', () => void (states.postInvocation = core.state)));
    const model = modelOf((coreContext) => {
      core = coreContext;
      return {
        getArguments: () => {
          states.getArguments = coreContext.state;
          return Promise.resolve({ context: {}, inputs: [] });
        },
        invokeFunction: () => {
          states.invokeFunction = coreContext.state;
          return Promise.resolve(undefined);
        },
        getResponse: () => {
          states.getResponse = coreContext.state;
          return Promise.resolve(EMPTY_RESPONSE);
        },
      };
    });
    await invokeFunction(model, registration, { inputData: [] }, recordingLogger(), 'test');
    expect(states).toEqual({
      getArguments: undefined,
      preInvocation: 'preInvocationHooks',
      invokeFunction: 'invocation',
      postInvocation: 'postInvocationHooks',
      getResponse: undefined,
    });
    expect(core.state).toBeUndefined();
  });
});
