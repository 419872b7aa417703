import { app, input, trigger, type FunctionHandler, type FunctionInput, type InvocationContext } from '@azure/functions';
import type { ActivityHandler, DurableClient, OrchestrationHandler, RetryOptions as DurableRetryOptions } from 'durable-functions';
import { lazyHandler } from './lazyHandler';

/*
 * durable-functions' df.app.orchestration/activity load the whole package (~80 ms) when they register.
 * What they register is plain @azure/functions: app.generic with an `orchestrationTrigger` or
 * `activityTrigger` trigger, and a handler wrapped by the package. These register the same, and load
 * the package's own wrapper on the first invocation. The wrappers are not in its public types, hence
 * the deep paths: durable-functions is pinned (3.5.0 exactly; test/unit/durableRegistration.test.ts holds
 * the registrations to what the package itself registers), and the devhost durable tests run through here.
 */

interface DurableWrappers {
  readonly createOrchestrator: (handler: OrchestrationHandler) => FunctionHandler;
  readonly wrapActivityHandler: (handler: ActivityHandler) => FunctionHandler;
}

function durableWrappers(): DurableWrappers {
  /* eslint-disable @typescript-eslint/no-require-imports -- untyped deep paths, loaded on first use */
  const { createOrchestrator } = require('durable-functions/lib/src/util/testingUtils') as Pick<DurableWrappers, 'createOrchestrator'>;
  const { wrapActivityHandler } = require('durable-functions/lib/src/app') as Pick<DurableWrappers, 'wrapActivityHandler'>;
  /* eslint-enable @typescript-eslint/no-require-imports */
  return { createOrchestrator, wrapActivityHandler };
}

/** As df.app.orchestration(name, handler). */
export function registerOrchestration(name: string, handler: OrchestrationHandler): void {
  app.generic(name, {
    trigger: trigger.generic({ type: 'orchestrationTrigger' }),
    handler: lazyHandler(() => Promise.resolve(durableWrappers().createOrchestrator(handler))),
  });
}

/** As df.app.activity(name, { handler }); `load` gives the handler on the first invocation. */
export function registerActivity(name: string, load: () => Promise<ActivityHandler>): void {
  app.generic(name, {
    trigger: trigger.generic({ type: 'activityTrigger' }),
    handler: lazyHandler(async () => durableWrappers().wrapActivityHandler(await load())),
  });
}

/** As df.input.durableClient(): the extra input df.getClient reads. */
export function durableClientInput(): FunctionInput {
  return input.generic({ type: 'durableClient' });
}

/** As df.getClient(context), loading durable-functions on first use. */
export async function durableClientOf(context: InvocationContext): Promise<DurableClient> {
  const df = await import('durable-functions');
  return df.getClient(context);
}

/** df.RetryOptions without loading the rest of the package (an orchestrator builds them as it replays). */
export type RetryOptions = DurableRetryOptions;
export const RetryOptions: typeof DurableRetryOptions =
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- untyped deep path: the class alone, a few ms
  (require('durable-functions/lib/src/RetryOptions') as { RetryOptions: typeof DurableRetryOptions }).RetryOptions;
