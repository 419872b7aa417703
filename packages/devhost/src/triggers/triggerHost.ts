import type { Registration } from '../functionsCore';
import type { InvocationRequest, InvocationResult } from '../invoke';
import type { Logger } from '../logger';

/** host.json, as far as the devhost reads it. */
export interface HostJson {
  readonly functionTimeout?: unknown;
  readonly logging?: { readonly logLevel?: unknown };
  readonly extensions?: {
    readonly http?: { readonly routePrefix?: string; readonly maxConcurrentRequests?: unknown; readonly maxOutstandingRequests?: unknown };
    readonly queues?: {
      readonly batchSize?: number;
      readonly newBatchThreshold?: number;
      readonly maxDequeueCount?: number;
      readonly visibilityTimeout?: string;
      readonly maxPollingInterval?: string;
      readonly messageEncoding?: 'base64' | 'none';
    };
    /** Blob extension v5: the blob trigger's own queue ignores `queues` (see triggers/blobTrigger.ts). */
    readonly blobs?: { readonly maxDegreeOfParallelism?: number; readonly poisonBlobThreshold?: number };
    readonly durableTask?: {
      readonly hubName?: string;
      readonly maxConcurrentActivityFunctions?: number;
      readonly maxConcurrentOrchestratorFunctions?: number;
    };
  };
}

/** What every trigger service gets from the devhost. */
export interface TriggerHostContext {
  /** Invokes a function through @azure/functions' invocation model, logging it like the host. Rejects when the function fails. */
  readonly invoke: (registration: Registration, request: InvocationRequest, reason: string) => Promise<InvocationResult>;
  readonly logger: Logger;
  /** The app settings as the app sees them (binding `connection` properties name one of these). */
  readonly settings: Readonly<Record<string, string | undefined>>;
  readonly hostJson: HostJson;
  /** Folder for the devhost's own durable state (leases, timers, dead letters…); survives restarts unless --fresh. */
  readonly dataDir: string;
}

/** A running trigger service; `stop` finishes in-flight invocations' bookkeeping and releases resources. */
export interface RunningService {
  stop(): Promise<void>;
}

/** Resolves a binding's `%SETTING%` expressions against the app settings, as the host does. */
export function resolveBindingExpression(value: string, settings: Readonly<Record<string, string | undefined>>): string {
  return value.replace(/%([^%]+)%/g, (_, name: string) => {
    const resolved = settings[name];
    if (resolved === undefined) throw new Error(`Binding expression %${name}% names a setting that is not set.`);
    return resolved;
  });
}
