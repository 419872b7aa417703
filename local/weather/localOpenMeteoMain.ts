import { parseArgs } from 'node:util';
import { startLocalOpenMeteo, type WeatherFaults } from './localOpenMeteo';

/**
 * `node dist/local/weather/localOpenMeteoMain.js [--port 8090] [--host H] [--latency-ms N]
 * [--error-rate R] [--error-status S] [--hang-rate R] [--rate-limit N --retry-after S] [--seed N]
 * [--quiet]`: the local Open-Meteo server on its own, for manual runs and benchmarks.
 */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '8090' },
      host: { type: 'string', default: '127.0.0.1' },
      'latency-ms': { type: 'string' },
      'error-rate': { type: 'string' },
      'error-status': { type: 'string' },
      'hang-rate': { type: 'string' },
      'rate-limit': { type: 'string' },
      'retry-after': { type: 'string', default: '60' },
      seed: { type: 'string', default: '1' },
      quiet: { type: 'boolean', default: false },
    },
  });
  const number = (name: string, raw: string | undefined, min: number, max: number): number | undefined => {
    if (raw === undefined) return undefined;
    const value = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(value) || value < min || value > max)
      throw new Error(`--${name} must be a number from ${min} to ${max}, not ${raw}`);
    return value;
  };
  const port = number('port', values.port, 0, 65535) ?? 8090;
  const rateLimit = number('rate-limit', values['rate-limit'], 0, Number.MAX_SAFE_INTEGER);
  const faults: WeatherFaults = {
    ...optional('latencyMs', number('latency-ms', values['latency-ms'], 0, 600_000)),
    ...optional('errorRate', number('error-rate', values['error-rate'], 0, 1)),
    ...optional('errorStatus', number('error-status', values['error-status'], 400, 599)),
    ...optional('hangRate', number('hang-rate', values['hang-rate'], 0, 1)),
    ...(rateLimit !== undefined && {
      rateLimit: { next: rateLimit, retryAfterSeconds: number('retry-after', values['retry-after'], 0, 86_400) ?? 60 },
    }),
  };

  const server = await startLocalOpenMeteo({ port, host: values.host, faults, seed: number('seed', values.seed, 0, 2 ** 32 - 1) ?? 1 });
  console.log(
    `Local Open-Meteo forecast API at ${server.url}/v1/forecast${Object.keys(faults).length > 0 ? ` with faults ${JSON.stringify(faults)}` : ''}`,
  );

  if (!values.quiet) {
    // Each request is printed once answered; a hung one never is.
    let seen = 0;
    let waiting: number[] = [];
    const timer = setInterval(() => {
      for (; seen < server.requests.length; seen += 1) waiting.push(seen);
      waiting = waiting.filter((index) => {
        const entry = server.requests[index];
        if (!entry || entry.status === 0) return true;
        console.log(`${entry.path} (${entry.locations} location${entry.locations === 1 ? '' : 's'}) → ${entry.status}`);
        return false;
      });
    }, 250);
    timer.unref();
  }

  const stop = (signal: string) => {
    console.log(`${signal}: stopping`);
    server.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}

function optional<K extends string>(key: K, value: number | undefined): Partial<Record<K, number>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, number>);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
