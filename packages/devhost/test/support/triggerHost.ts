import { getProgrammingModel } from '../../src/functionsCore';
import { invokeFunction } from '../../src/invoke';
import type { Logger } from '../../src/logger';
import type { HostJson, TriggerHostContext } from '../../src/triggers/triggerHost';

/** What a trigger service logged in a test: warnings, errors and the reasons of the invocations it started. */
export interface CapturedLog {
  readonly warnings: string[];
  readonly errors: string[];
  readonly reasons: string[];
}

/**
 * The context a trigger service gets from the devhost, for a test: functions registered in this
 * process through @azure/functions, invoked through its own invocation model, logs captured.
 */
export function testTriggerContext(options: { readonly settings: Readonly<Record<string, string>>; readonly hostJson?: HostJson }): {
  context: TriggerHostContext;
  log: CapturedLog;
} {
  const log: CapturedLog = { warnings: [], errors: [], reasons: [] };
  const logger: Logger = {
    info: (message) => {
      const reason = /Reason='([^']*)'/.exec(message)?.[1];
      if (reason !== undefined) log.reasons.push(reason);
    },
    warn: (message) => log.warnings.push(message),
    error: (message) => log.errors.push(message),
    functionLog: () => undefined,
  };
  const model = getProgrammingModel();
  if (!model) throw new Error('@azure/functions did not set its programming model');
  return {
    context: {
      invoke: (registration, request, reason) => invokeFunction(model, registration, request, logger, reason),
      logger,
      settings: options.settings,
      hostJson: options.hostJson ?? {},
      dataDir: '/nonexistent',
    },
    log,
  };
}
