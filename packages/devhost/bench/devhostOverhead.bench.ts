import { performance } from 'node:perf_hooks';
import { installFunctionsCore } from 'functions-devhost/functionApp';
import { getProgrammingModel, registeredFunctions } from 'functions-devhost/functionsCore';
import { startHttpHost } from 'functions-devhost/http/httpHost';
import { consoleLogger } from 'functions-devhost/logger';
import { round, summarise, type LatencySummary } from './stats';

const REQUESTS = 3000;
const WARM_UP = 300;

export interface DevhostOverheadBenchmark {
  readonly requests: number;
  readonly direct: LatencySummary;
  readonly throughDevhost: LatencySummary;
  readonly overheadP50Ms: number;
  readonly overheadP99Ms: number;
}

/**
 * The cost the devhost adds to one HTTP invocation: the same small function called directly (as a
 * unit test would) and through the devhost over loopback HTTP with keep-alive (route match, key
 * check, @azure/functions' invocation model, response conversion, the socket).
 */
export async function benchmarkDevhostOverhead(): Promise<DevhostOverheadBenchmark> {
  installFunctionsCore();
  // Loaded after the stand-in is installed, so its registration is captured as the host would see it.
  const { app, HttpRequest, HttpResponse } = await import('@azure/functions');
  const handler = async (request: InstanceType<typeof HttpRequest>) => {
    const body = (await request.json()) as { n: number };
    return { jsonBody: { id: request.params.id, n: body.n } };
  };
  // Registered once per process: each run of a median-of-N measures the same function.
  if (!registeredFunctions().some((registration) => registration.metadata.name === 'benchEcho'))
    app.http('benchEcho', { methods: ['POST'], route: 'bench/echo/{id}', authLevel: 'function', handler });

  const direct: number[] = [];
  for (let i = 0; i < WARM_UP + REQUESTS; i++) {
    const t0 = performance.now();
    const request = new HttpRequest({
      method: 'POST',
      url: 'http://localhost/api/bench/echo/42',
      params: { id: '42' },
      body: { string: JSON.stringify({ n: i }) },
      headers: { 'content-type': 'application/json' },
    });
    const response = new HttpResponse(await handler(request));
    await response.json();
    if (i >= WARM_UP) direct.push(performance.now() - t0);
  }

  const model = getProgrammingModel();
  if (!model) throw new Error('No programming model was registered.');
  const keys = { functionKey: 'bench-function-key', masterKey: 'bench-master-key' };
  const host = await startHttpHost(
    model,
    registeredFunctions().filter((r) => r.metadata.name === 'benchEcho'),
    { port: 0, routePrefix: 'api', keys, corsOrigins: [] },
    consoleLogger({ quiet: true }),
  );
  const viaHost: number[] = [];
  try {
    for (let i = 0; i < WARM_UP + REQUESTS; i++) {
      const t0 = performance.now();
      const response = await fetch(`${host.url}/api/bench/echo/42`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-functions-key': keys.functionKey },
        body: JSON.stringify({ n: i }),
      });
      await response.json();
      if (i >= WARM_UP) viaHost.push(performance.now() - t0);
    }
  } finally {
    await host.close();
  }
  const directSummary = summarise(direct);
  const hostSummary = summarise(viaHost);
  return {
    requests: REQUESTS,
    direct: directSummary,
    throughDevhost: hostSummary,
    overheadP50Ms: round(hostSummary.p50Ms - directSummary.p50Ms),
    overheadP99Ms: round(hostSummary.p99Ms - directSummary.p99Ms),
  };
}

export function printDevhostOverhead(devhost: DevhostOverheadBenchmark): void {
  console.log(`\nDevhost overhead per HTTP invocation (${devhost.requests} sequential requests over keep-alive)`);
  console.table({
    'handler called directly': { 'p50 ms': devhost.direct.p50Ms, 'p99 ms': devhost.direct.p99Ms },
    'through the devhost': { 'p50 ms': devhost.throughDevhost.p50Ms, 'p99 ms': devhost.throughDevhost.p99Ms },
    overhead: { 'p50 ms': devhost.overheadP50Ms, 'p99 ms': devhost.overheadP99Ms },
  });
}
