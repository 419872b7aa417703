/**
 * A stand-in for `@azure/functions-core`, the module the Functions worker gives @azure/functions.
 * With it, every `app.*` registration is captured with the metadata the real host would receive
 * (bindings, routes, auth levels, setting names), and the library's own programming model is handed
 * back to us, so handlers can be invoked exactly as the host invokes them.
 */

export interface RpcBindingInfo {
  readonly type: string;
  readonly direction: 'in' | 'out' | 'inout';
  readonly [property: string]: unknown;
}

export interface FunctionMetadata {
  readonly name: string;
  readonly bindings: Readonly<Record<string, RpcBindingInfo>>;
  readonly retryOptions?: unknown;
}

export type FunctionCallback = (...args: unknown[]) => unknown;
export type HookCallback = (context: unknown) => unknown;

/** The part of @azure/functions' ProgrammingModel a host uses. */
export interface ProgrammingModel {
  readonly name: string;
  readonly version: string;
  getInvocationModel(coreContext: unknown): unknown;
}

export interface Registration {
  readonly metadata: FunctionMetadata;
  readonly callback: FunctionCallback;
}

export class Disposable {
  static from(...inputs: { dispose(): unknown }[]): Disposable {
    return new Disposable(() => {
      for (const input of inputs) input.dispose();
    });
  }
  #callOnDispose: (() => unknown) | undefined;
  constructor(callOnDispose: () => unknown) {
    this.#callOnDispose = callOnDispose;
  }
  dispose(): void {
    this.#callOnDispose?.();
    this.#callOnDispose = undefined;
  }
}

const registrations: Registration[] = [];
const hooks = new Map<string, HookCallback[]>();
let programmingModel: ProgrammingModel | undefined;

export function registerFunction(metadata: FunctionMetadata, callback: FunctionCallback): Disposable {
  if (registrations.some((registration) => registration.metadata.name === metadata.name)) {
    throw new Error(`A function named "${metadata.name}" is already registered.`);
  }
  const registration = { metadata, callback };
  registrations.push(registration);
  return new Disposable(() => registrations.splice(registrations.indexOf(registration), 1));
}

export function registerHook(hookName: string, callback: HookCallback): Disposable {
  const list = hooks.get(hookName) ?? [];
  list.push(callback);
  hooks.set(hookName, list);
  return new Disposable(() => list.splice(list.indexOf(callback), 1));
}

export function setProgrammingModel(model: ProgrammingModel): void {
  programmingModel = model;
}

export function getProgrammingModel(): ProgrammingModel | undefined {
  return programmingModel;
}

/** Worker log sink used by the library for system messages. */
export function log(level: string, category: string, message: string): void {
  if (level === 'error' || level === 'critical' || level === 'warning') console.warn(`[${category}] ${message}`);
}

/** What the app registered so far (for the devhost and tests). */
export function registeredFunctions(): readonly Registration[] {
  return registrations;
}

export function registeredHooks(hookName: string): readonly HookCallback[] {
  return hooks.get(hookName) ?? [];
}

/**
 * The worker's two hook data objects: `appHookData` shared by every hook of the app, and the one
 * that only the app-level hooks (appStart, appTerminate) share as their `hookData`.
 */
export const appHookData: Record<string, unknown> = {};
export const appLevelOnlyHookData: Record<string, unknown> = {};

/** Runs the hooks of one kind in the order they were registered, each awaited; a throw stops the rest and fails the caller, as in the worker. */
export async function runHooks(hookName: string, context: unknown): Promise<void> {
  for (const hook of [...registeredHooks(hookName)]) await hook(context);
}

/** appStart and appTerminate as the worker calls them. */
export function runAppHooks(hookName: 'appStart' | 'appTerminate', functionAppDirectory: string): Promise<void> {
  return runHooks(hookName, {
    hookData: appLevelOnlyHookData,
    appHookData,
    ...(hookName === 'appStart' && { functionAppDirectory }),
  });
}
