/** Host-style console logging for the devhost; `quiet` keeps tests and benchmarks readable. */
export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string, error?: unknown): void;
  functionLog(functionName: string, invocationId: string, level: string, category: string, message: string): void;
  /** Whether lines of `level` in the host's log `category` are written (host.json logging.logLevel); all when absent. */
  enabled?(category: string, level: string): boolean;
}

export function consoleLogger(options: { quiet?: boolean; enabled?: (category: string, level: string) => boolean } = {}): Logger {
  const stamp = () => new Date().toISOString();
  return {
    ...(options.enabled && { enabled: options.enabled }),
    info: (message) => {
      if (!options.quiet) console.log(`[${stamp()}] ${message}`);
    },
    warn: (message) => console.warn(`[${stamp()}] ${message}`),
    error: (message, error) => console.error(`[${stamp()}] ${message}${error instanceof Error ? `: ${error.stack ?? error.message}` : ''}`),
    functionLog: (functionName, invocationId, level, category, message) => {
      const line = `[${stamp()}] ${functionName} (${invocationId.slice(0, 8)}) ${level}: ${message}`;
      if (level === 'error' || level === 'critical') console.error(line);
      else if (level === 'warning') console.warn(line);
      else if (!options.quiet && category === 'user') console.log(line);
    },
  };
}
