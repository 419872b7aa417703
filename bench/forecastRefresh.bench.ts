import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import { CosmosClient, type Container } from '@azure/cosmos';
import ngeohash from 'ngeohash';
import {
  localCosmosClientOptions,
  startLocalCosmosEndpoint,
  type DocumentChange,
  type LocalCosmosEndpoint,
} from 'functions-devhost/cosmos/localCosmosEndpoint';
import { readDurableTaskOptions, startDurable, type DurableClock, type RunningDurable } from 'functions-devhost/durable/index';
import { DurableStore, type PartitionSnapshot } from 'functions-devhost/durable/store';
import { installFunctionsCore } from 'functions-devhost/functionApp';
import { getProgrammingModel, registeredFunctions, type Registration } from 'functions-devhost/functionsCore';
import { invokeFunction, type InvocationResult } from 'functions-devhost/invoke';
import { consoleLogger } from 'functions-devhost/logger';
import { startAzurite, type RunningAzurite } from 'functions-devhost/storage/azurite';
import type { HostJson, TriggerHostContext } from 'functions-devhost/triggers/triggerHost';
import { startLocalOpenMeteo, type WeatherFaults } from '../local/weather/localOpenMeteo';
import type { RequestEntry } from '../local/weather/faultyServer';
import type { ForecastRefreshStatus } from '../functions/forecastRefresh.orchestration';
import { appServices, type AppServices } from '../shared/platform/composition/appServices';
import { activateRegion } from '../shared/regions/application/activateRegion';
import { projectEvents } from '../shared/platform/views/projectEvents';
import { recordForecastOutcome } from '../shared/regions/application/refreshForecasts';
import type { LocationForecast } from '../shared/regions/application/weatherProvider';
import { CONTAINERS, ensureCosmosContainers } from '../shared/platform/adapters/cosmosClient';
import { fromDocument, toEventDocumentId } from '../shared/platform/eventSourcing/adapters/cosmosEventStore';
import { FORECAST_EVENT_TTL_SECONDS } from '../shared/regions/domain/region';
import { InMemoryForecastRefreshQueue } from '../shared/regions/application/forecastRefreshRequests';
import { regionCentre } from '../shared/regions/domain/geohash';
import { toRegionStreamId } from '../shared/regions/domain/region';
import { round, summarise, withConcurrency } from '../packages/devhost/bench/stats';
import { REGION_FORECASTS_PARTITION, regionForecastKey } from '../shared/regions/projection/regionForecastDocument';
import { seededRandom } from '../local/seededRandom';

const REGIONS = 2000;
const REGION_PRECISION = 5;
const BATCH_SIZE = 50;
const PARALLELISM = 4;
const LATENCY_MS = 200;
/** The app's default period. The bench owns the engine's clock, so a cycle's timer fires when the bench says. */
const REFRESH_MINUTES = 60;
/** Allowance per cycle = budget × 60 / 1440 = 4,166 ≥ 2,000 regions: nothing deferred. */
const DAILY_CALL_BUDGET = 100_000;
/**
 * Latency of each cycle: a first one at 0 ms that only warms the process up (the code paths compiled,
 * the views given forecasts) and is left out of the figures, then two at LATENCY_MS and two at 0 ms,
 * ordered A B B A so that a drift over the run falls on both sides alike. Medians over each; `npm run
 * bench` takes the median over its runs (each a fresh process).
 */
const CYCLE_LATENCIES = [0, LATENCY_MS, 0, 0, LATENCY_MS] as const;
const WARM_UP_CYCLES = 1;
/** A cycle's wall time at LATENCY_MS may be at most this many times the ideal. */
const WALL_TARGET_TIMES_IDEAL = 1.3;
/** Bytes a region's recorded forecast may take, as its event and as its view document (JSON). */
const DOCUMENT_BYTES_TARGET = 4096;
const HISTORY_CYCLES = 300;
const HISTORY_MILESTONES = [10, 100] as const;
/** Engine time per wall-clock time in the history phase: a 60-minute timer is due 0.36 ms after its cycle started. */
const HISTORY_CLOCK_RATE = 1e7;
const HISTORY_SAMPLE_EVERY_MS = 20;
/** Places per region if there is no sample data to go by. */
const ASSUMED_PLACES_PER_REGION = 5;
/** Recording cost against forecasts already in the region stream: up to a full TTL's worth at 60-minute cycles. */
const GROWTH_REGIONS = 16;
const GROWTH_LEVELS = [0, 6, 12, 24, (FORECAST_EVENT_TTL_SECONDS / 60 / REFRESH_MINUTES) | 0] as const;
const CYCLE_TIMEOUT_MS = 300_000;

export interface ForecastCycleMeasurement {
  readonly cycle: number;
  readonly latencyMs: number;
  /** From the cycle's start (startNew for cycle 1, the episode the timer wakes after) to customStatus phase 'waiting'. */
  readonly wallMs: number;
  /** Requests the weather server received during the cycle, and the locations they asked for. */
  readonly requests: number;
  readonly locations: number;
  readonly due: number;
  readonly planned: number;
  readonly deferred: number;
  readonly updated: number;
  readonly failed: number;
  /** The plan activity's duration (views query + plan), and the size of its result (kept in the history). */
  readonly planActivityMs: number;
  readonly planResultKiB: number;
  /** Batch activity durations: fetch one request + record its 50 outcomes. */
  readonly batchActivityP50Ms: number;
  readonly batchActivityMeanMs: number;
  /** Provider time per request as the activities measured it (customStatus.providerMs / requests). */
  readonly providerMsPerRequest: number;
  /** batchActivityMeanMs − providerMsPerRequest: recording 50 outcomes in the event store. */
  readonly recordingMsPerBatch: number;
  /** Orchestrator episodes in the cycle and the time spent inside them (replaying the cycle's history). */
  readonly episodes: number;
  readonly episodeMs: number;
  /** Share of the cycle this process's event loop was busy (engine, activities, recording). */
  readonly eventLoopUtilization: number;
  /** (1 − eventLoopUtilization) × wall: time the process had nothing to do, i.e. waited on the provider, Cosmos or Azurite. */
  readonly idleMs: number;
  /** CPU time this process used in the cycle (user + system, all its threads); less sensitive than wall time to other load on the machine. */
  readonly processCpuMs: number;
  /**
   * Time the local weather server (a process of its own) spent making its answers: a real provider's
   * work, done elsewhere, so not the app's.
   */
  readonly weatherServerMs: number;
  /** CPU time of the local Cosmos endpoint's own process in the cycle (Cosmos DB's work, not the app's). */
  readonly cosmosEndpointMs: number;
  /** Committed history rows of the instance once the cycle is waiting. */
  readonly historyRowsAtWaiting: number;
}

export interface ForecastRefreshBenchmark {
  readonly regions: number;
  readonly batchSize: number;
  readonly parallelism: number;
  readonly latencyMs: number;
  readonly refreshMinutes: number;
  readonly runs: number;
  /** The machine's 1-minute load average before and after the measured cycles (other processes compete for the CPUs). */
  readonly loadAverage: { readonly before: number; readonly after: number };
  readonly setup: { readonly activateMs: number; readonly projectMs: number; readonly regionsListed: number };
  readonly requestsPerCycle: number;
  readonly callsIfOnePerRegion: number;
  readonly callsIfOnePerPlace: readonly { readonly assumption: string; readonly placesPerRegion: number; readonly calls: number }[];
  /** requests × latency / parallelism */
  readonly idealWallMs: number;
  /** Median wall time of the cycles at `latencyMs`. */
  readonly measuredWallMs: number;
  /** Median wall time of the same cycle at 0 ms latency: engine, activities, recording, Cosmos, Azurite. */
  readonly overheadMs: number;
  readonly target: {
    /** wall ≤ 1.3 × ideal */
    readonly rule: string;
    readonly limitMs: number;
    readonly wallMs: number;
    readonly holds: boolean;
    /** The rule for every cycle at `latencyMs` as run. */
    readonly holdsInEveryRun: boolean;
    /** The same rule for the latency the cycle sat waiting on: latencyExposedMs ≤ 1.3 × ideal. */
    readonly holdsByIdleTime: boolean;
  };
  /**
   * Where a cycle at `latencyMs` spends its wall time (medians): the app's CPU (engine, activities,
   * recording: this process), the weather server's and the local Cosmos endpoint's own work (each a
   * process of its own), and the time this process sat idle (waiting on the provider, Cosmos or Azurite).
   */
  readonly breakdown: {
    readonly wallMs: number;
    readonly weatherServerMs: number;
    readonly cosmosEndpointMs: number;
    readonly appCpuMs: number;
    readonly idleMs: number;
    /** The same at 0 ms latency: what the cycle costs with nothing to wait for. */
    readonly atZeroLatency: {
      readonly wallMs: number;
      readonly weatherServerMs: number;
      readonly cosmosEndpointMs: number;
      readonly appCpuMs: number;
      readonly idleMs: number;
    };
  };
  /**
   * What one recorded region forecast writes to Cosmos DB (JSON.stringify length, without Cosmos's own
   * system properties), over every region of the first cycle: its ForecastUpdated event and its view.
   */
  readonly bytes: {
    readonly eventMedian: number;
    readonly eventMax: number;
    readonly viewMedian: number;
    readonly viewMax: number;
    readonly target: { readonly rule: string; readonly limit: number; readonly holds: boolean };
  };
  /** Median over the pairs of (wall at latencyMs − wall at 0 ms): what the latency adds, against idealWallMs. */
  readonly latencyAddsMs: number;
  /**
   * Median idle time of the cycles at latencyMs minus that of the cycles at 0 ms: the latency the cycle
   * sat waiting on, with nothing else to do. Less sensitive to other load on the machine than wall times.
   */
  readonly latencyExposedMs: number;
  /** Every cycle (the warm-up first) starts from the same state: each region's stream holds its RegionActivated only. */
  readonly cycles: readonly ForecastCycleMeasurement[];
  readonly history: {
    readonly cycles: number;
    readonly wallMs: number;
    readonly cyclesPerSecond: number;
    /** Mean per empty cycle: orchestrator episodes and their time, the plan activity's time. */
    readonly perCycle: { readonly episodes: number; readonly episodeMs: number; readonly planActivityMs: number };
    /** Every history-phase cycle planned nothing (the views were cleared). */
    readonly planWasEmpty: boolean;
    readonly samples: readonly {
      readonly atCycle: number;
      readonly observedCycle: number;
      readonly historyRows: number;
      readonly partitionRows: number;
    }[];
    /** Samples taken while history-phase cycles ran, every ~20 ms (milestones included). */
    readonly sampleCount: number;
    readonly maxHistoryRows: number;
    readonly maxPartitionRows: number;
    readonly maxHistoryRowsFirst10Cycles: number;
    /** Rows of a full 2,000-region cycle once waiting (the measured cycles). */
    readonly fullCycleHistoryRows: number;
    /**
     * The max over all the cycles is no more than over the first 10 (+ 10 rows' slack), and the full
     * cycles' rows differ by no more than 10 (the engine runs one episode more or less as results arrive).
     */
    readonly flat: boolean;
  };
  /**
   * What recording one region's outcome costs as its stream keeps the unexpired forecasts (sequential,
   * one at a time): probing the stream first (a fetch-now, or a planned version that was wrong), and
   * appending at the version the plan read from the view (what a cycle does).
   */
  readonly recordingGrowth: readonly {
    readonly forecastsInStream: number;
    readonly streamKiB: number;
    readonly probeThenAppendP50Ms: number;
    readonly appendAtVersionP50Ms: number;
  }[];
}

export interface ForecastRefreshOptions {
  /** Progress lines (the standalone run prints them to stderr). */
  readonly progress?: (message: string) => void;
}

/**
 * One run of the forecast refresh benchmark (below) in a fresh child process, so that every run starts
 * from nothing: appServices() reads the settings once per process and the function registrations are
 * made once per process. What `npm run bench` calls, as many times as it has runs.
 */
export function benchmarkForecastRefresh(options: ForecastRefreshOptions = {}): Promise<ForecastRefreshBenchmark> {
  return new Promise((resolve, reject) => {
    const child = fork(__filename, [CHILD_FLAG], {
      // Under ts-node (npm run bench), the child compiles this file the same way. FORECAST_BENCH_NODE_ARGS
      // (e.g. `--cpu-prof`) profiles the run, which NODE_OPTIONS does not allow.
      execArgv: [
        ...(__filename.endsWith('.ts') ? ['-r', 'ts-node/register/transpile-only'] : []),
        ...(process.env.FORECAST_BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? []),
      ],
      env: { ...process.env, TS_NODE_PROJECT: process.env.TS_NODE_PROJECT ?? join(__dirname, '..', 'tsconfig.json') },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let result: ForecastRefreshBenchmark | undefined;
    child.on('message', (message: ChildMessage) => {
      if (message.kind === 'progress') options.progress?.(message.text);
      else if (message.kind === 'result') result = message.result;
      else reject(new Error(`The forecast benchmark failed: ${message.error}`));
    });
    child.once('error', reject);
    child.once('exit', (code) => {
      if (result) resolve(result);
      else reject(new Error(`The forecast benchmark's process exited with ${code} and no result.`));
    });
  });
}

const CHILD_FLAG = '--forecast-refresh-run';
const COSMOS_FLAG = '--local-cosmos';
const WEATHER_FLAG = '--local-open-meteo';

/**
 * The local Cosmos endpoint and the local Open-Meteo server each run in a process of their own: both
 * stand for remote services, and their work on the benchmark's event loop would count as the app's
 * and hold its activities up.
 */
interface CosmosProcess extends Pick<LocalCosmosEndpoint, 'endpoint' | 'key' | 'connectionString'> {
  changesSince(databaseId: string, containerId: string, afterLsn: number): Promise<DocumentChange[]>;
  /** CPU time the endpoint's process has used so far. */
  cpuMs(): Promise<number>;
  close(): Promise<void>;
}

interface WeatherProcess {
  readonly url: string;
  /** Replaces the server's faults (answered once they apply). */
  setFaults(faults: WeatherFaults): Promise<void>;
  /** The requests the server has seen from index `from` on, and its time spent making answers so far. */
  requestsSince(from: number): Promise<{ readonly requests: readonly RequestEntry[]; readonly total: number; readonly busyMs: number }>;
  /** How many requests it has seen and its time spent making answers so far (no requests copied). */
  counters(): Promise<{ readonly total: number; readonly busyMs: number }>;
  close(): Promise<void>;
}

type ServiceRequest =
  | { readonly kind: 'changes'; readonly databaseId: string; readonly containerId: string; readonly afterLsn: number }
  | { readonly kind: 'cpu' }
  | { readonly kind: 'faults'; readonly faults: WeatherFaults }
  | { readonly kind: 'requests'; readonly from: number };
type ServiceReply =
  | { readonly kind: 'changes'; readonly changes: DocumentChange[] }
  | { readonly kind: 'cpu'; readonly ms: number }
  | { readonly kind: 'faults' }
  | { readonly kind: 'requests'; readonly requests: readonly RequestEntry[]; readonly total: number; readonly busyMs: number }
  | { readonly kind: 'refused'; readonly reason: string };
type ServiceStarted =
  | { readonly kind: 'cosmos'; readonly endpoint: string; readonly key: string; readonly connectionString: string }
  | { readonly kind: 'weather'; readonly url: string };

interface ServiceProcess {
  readonly started: ServiceStarted;
  ask(request: ServiceRequest): Promise<ServiceReply>;
  close(): Promise<void>;
}

/** Forks this file as the service `flag` names; resolves once it says it started. */
function startServiceProcess(flag: string): Promise<ServiceProcess> {
  const child = fork(__filename, [flag], {
    execArgv: __filename.endsWith('.ts') ? ['-r', 'ts-node/register/transpile-only'] : [],
    env: { ...process.env, TS_NODE_PROJECT: process.env.TS_NODE_PROJECT ?? join(__dirname, '..', 'tsconfig.json') },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    // Change feed pages hold thousands of documents: no JSON round trip of their own.
    serialization: 'advanced',
  });
  const waiting = new Map<number, { readonly answered: (reply: ServiceReply) => void; readonly failed: (error: Error) => void }>();
  let nextId = 0;
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => {
      const error = new Error(`The ${flag} process exited with ${code}.`);
      // Before it started, or with questions unanswered: either way nothing will answer now.
      reject(error);
      for (const { failed } of waiting.values()) failed(error);
      waiting.clear();
    });
    child.on('message', (message: { readonly id: number; readonly reply: ServiceReply } | { readonly started: ServiceStarted }) => {
      if ('id' in message) {
        const asked = waiting.get(message.id);
        waiting.delete(message.id);
        if (message.reply.kind === 'refused') asked?.failed(new Error(`The ${flag} process refused: ${message.reply.reason}`));
        else asked?.answered(message.reply);
        return;
      }
      resolve({
        started: message.started,
        ask: (request) =>
          new Promise<ServiceReply>((answered, failed) => {
            const id = nextId++;
            waiting.set(id, { answered, failed });
            child.send({ id, request });
          }),
        close: () =>
          new Promise<void>((done) => {
            child.removeAllListeners('exit');
            child.once('exit', () => done());
            child.kill();
          }),
      });
    });
  });
}

async function startCosmosProcess(): Promise<CosmosProcess> {
  const service = await startServiceProcess(COSMOS_FLAG);
  if (service.started.kind !== 'cosmos') throw new Error('The local Cosmos process started something else.');
  const { endpoint, key, connectionString } = service.started;
  return {
    endpoint,
    key,
    connectionString,
    changesSince: async (databaseId, containerId, afterLsn) => {
      const answer = await service.ask({ kind: 'changes', databaseId, containerId, afterLsn });
      return answer.kind === 'changes' ? answer.changes : [];
    },
    cpuMs: async () => {
      const answer = await service.ask({ kind: 'cpu' });
      return answer.kind === 'cpu' ? answer.ms : Number.NaN;
    },
    close: service.close,
  };
}

async function startWeatherProcess(): Promise<WeatherProcess> {
  const service = await startServiceProcess(WEATHER_FLAG);
  if (service.started.kind !== 'weather') throw new Error('The local Open-Meteo process started something else.');
  const requestsSince = async (from: number) => {
    const answer = await service.ask({ kind: 'requests', from });
    if (answer.kind !== 'requests') throw new Error('The local Open-Meteo process answered something else.');
    return answer;
  };
  return {
    url: service.started.url,
    setFaults: async (faults) => {
      await service.ask({ kind: 'faults', faults });
    },
    requestsSince,
    counters: async () => {
      const { total, busyMs } = await requestsSince(Number.MAX_SAFE_INTEGER);
      return { total, busyMs };
    },
    close: service.close,
  };
}

/** The service side: answers each request in turn until the benchmark goes. */
function serveOverIpc(started: ServiceStarted, answer: (request: ServiceRequest) => ServiceReply): void {
  process.on('message', ({ id, request }: { readonly id: number; readonly request: ServiceRequest }) =>
    process.send?.({ id, reply: answer(request) }),
  );
  // The benchmark gone, so is the service.
  process.once('disconnect', () => process.exit(0));
  process.send?.({ started });
}

function cpuReply(): ServiceReply {
  const { user, system } = process.cpuUsage();
  return { kind: 'cpu', ms: (user + system) / 1000 };
}

async function serveCosmosProcess(): Promise<void> {
  const endpoint = await startLocalCosmosEndpoint();
  serveOverIpc(
    { kind: 'cosmos', endpoint: endpoint.endpoint, key: endpoint.key, connectionString: endpoint.connectionString },
    (request) => {
      switch (request.kind) {
        case 'changes':
          return { kind: 'changes', changes: endpoint.changesSince(request.databaseId, request.containerId, request.afterLsn) };
        case 'cpu':
          return cpuReply();
        default:
          return { kind: 'refused', reason: `the local Cosmos endpoint answers no ${request.kind} request` };
      }
    },
  );
}

async function serveWeatherProcess(): Promise<void> {
  const weather = await startLocalOpenMeteo({ faults: { latencyMs: LATENCY_MS } });
  serveOverIpc({ kind: 'weather', url: weather.url }, (request) => {
    switch (request.kind) {
      case 'faults':
        weather.setFaults(request.faults);
        return { kind: 'faults' };
      case 'requests':
        return { kind: 'requests', requests: weather.requests.slice(request.from), total: weather.requests.length, busyMs: weather.busyMs };
      case 'cpu':
        return cpuReply();
      default:
        return { kind: 'refused', reason: `the local Open-Meteo server answers no ${request.kind} request` };
    }
  });
}

type ChildMessage =
  | { readonly kind: 'progress'; readonly text: string }
  | { readonly kind: 'result'; readonly result: ForecastRefreshBenchmark }
  | { readonly kind: 'error'; readonly error: string };

/**
 * `npm run bench -- forecast`: the forecast refresh orchestration (the app's own registrations,
 * `functions/forecastRefresh.*`) in the devhost's durable engine on Azurite, its activities using the
 * real services from appServices() against the local Cosmos endpoint, fetching from the
 * local Open-Meteo server with 200 ms of latency per request, for 2,000 active regions over Great Britain.
 *
 * Measures a cycle's wall time against the ideal (requests × latency / parallelism) plus what the same
 * cycle costs with no latency at all, then runs 300 empty cycles of continueAsNew while sampling the
 * instance's stored history, which must stay flat. Call once per process: appServices() reads the
 * settings once.
 */
export async function runForecastRefreshInProcess(options: ForecastRefreshOptions = {}): Promise<ForecastRefreshBenchmark> {
  const progress = options.progress ?? (() => undefined);
  installFunctionsCore();
  const savedEnv = { ...process.env };
  let azurite: RunningAzurite | undefined;
  let cosmos: CosmosProcess | undefined;
  let weather: WeatherProcess | undefined;
  let benchClient: CosmosClient | undefined;
  let durable: RunningDurable | undefined;
  try {
    [azurite, cosmos, weather] = await Promise.all([startAzurite({ inMemory: true }), startCosmosProcess(), startWeatherProcess()]);
    const databaseName = `forecast-bench-${Date.now().toString(36)}`;
    benchClient = new CosmosClient(localCosmosClientOptions(cosmos));
    const database = await ensureCosmosContainers(benchClient, databaseName);
    const eventsContainer = database.container(CONTAINERS.events);
    const viewsContainer = database.container(CONTAINERS.views);

    // Before anything calls appServices(): it reads them once per process.
    Object.assign(process.env, {
      AzureWebJobsStorage: azurite.connectionString,
      COSMOS_CONNECTION: cosmos.connectionString,
      COSMOS_DATABASE: databaseName,
      EVENTGRID_TOPIC_ENDPOINT: 'http://127.0.0.1:9/api/events',
      WEATHER_PROVIDER: 'open-meteo',
      WEATHER_BASE_URL: weather.url,
      FORECAST_REFRESH_MINUTES: String(REFRESH_MINUTES),
      FORECAST_DAILY_CALL_BUDGET: String(DAILY_CALL_BUDGET),
      // The default (Open-Meteo's 600 a minute) would defer most of a 2,000-region cycle.
      FORECAST_CALLS_PER_MINUTE: String(REGIONS),
      FORECAST_BATCH_SIZE: String(BATCH_SIZE),
      FORECAST_PARALLELISM: String(PARALLELISM),
      REGION_PRECISION: String(REGION_PRECISION),
    });
    const services = appServices();
    if (services.config.weather.baseUrl !== weather.url || services.config.cosmos.database !== databaseName) {
      throw new Error('appServices() was built before this benchmark set its settings: run the forecast benchmark once per process.');
    }

    // ---- 2,000 active regions, projected into the views the plan reads ----
    const allRegions = greatBritainRegions(REGIONS + GROWTH_REGIONS);
    const firstDrawn = new Set(greatBritainRegions(REGIONS));
    const regions = allRegions.filter((region) => firstDrawn.has(region));
    const growthRegions = allRegions.filter((region) => !firstDrawn.has(region));
    let t0 = performance.now();
    await activate(services, regions);
    const activateMs = performance.now() - t0;
    const projector = changeFeedProjector(cosmos, databaseName, services);
    t0 = performance.now();
    await projector.projectNew();
    const projectMs = performance.now() - t0;
    const listed = await services.views.regionRefreshStates();
    if (listed.length !== REGIONS) throw new Error(`The views list ${listed.length} regions, not ${REGIONS}.`);
    progress(`${REGIONS} regions activated in ${round(activateMs, 0)} ms and projected in ${round(projectMs, 0)} ms`);
    // A real provider answers from forecasts it already has: the local server makes (and keeps) its
    // weeks now, so that the first measured cycle does not count their making.
    await weather.setFaults({});
    await withConcurrency(chunks(regions, BATCH_SIZE), PARALLELISM, async (batch) => {
      await services.weather.fetchForecasts(batch.map((region) => ({ region, ...regionCentre(region) })));
    });

    // ---- the app's orchestration and activities in the durable engine ----
    const orchestration = await import('../functions/forecastRefresh.orchestration');
    await import('../functions/forecastRefresh.activities');
    const model = getProgrammingModel();
    if (!model) throw new Error('No programming model was registered.');
    const names = [orchestration.FORECAST_REFRESH_ORCHESTRATION, orchestration.PLAN_ACTIVITY, orchestration.BATCH_ACTIVITY];
    const registrations = registeredFunctions().filter((registration) => names.includes(registration.metadata.name));
    if (registrations.length !== names.length)
      throw new Error(`Expected the registrations ${names.join(', ')}; found ${registrations.map((r) => r.metadata.name).join(', ')}.`);
    const instanceId = orchestration.FORECAST_REFRESH_INSTANCE_ID;

    const logger = consoleLogger({ quiet: true });
    const invocations: InvocationRecord[] = [];
    const watcher = new StatusWatcher(() => durable, instanceId);
    const context: TriggerHostContext = {
      invoke: async (registration: Registration, request, reason) => {
        const isOrchestrator = registration.metadata.name === orchestration.FORECAST_REFRESH_ORCHESTRATION;
        const record: InvocationRecord = {
          name: registration.metadata.name,
          startedAt: performance.now(),
          endedAt: Number.NaN,
          resultChars: 0,
          // Where a cycle that this episode starts begins, for its event-loop and CPU figures.
          ...(isOrchestrator ? { elu: performance.eventLoopUtilization(), cpu: process.cpuUsage() } : {}),
        };
        invocations.push(record);
        try {
          const result = await invokeFunction(model, registration, request, logger, reason);
          record.resultChars = result.returnValue?.json?.length ?? 0;
          // The episode that ends a cycle: its checkpoint follows, so watch the status closely from now.
          if (isOrchestrator && endsCycle(result)) watcher.hint();
          return result;
        } finally {
          record.endedAt = performance.now();
        }
      },
      logger,
      settings: process.env,
      hostJson: {},
      dataDir: '/nonexistent',
    };
    // As host.json configures the extension (maxConcurrentActivityFunctions 10, …).
    const hostJson = JSON.parse(readFileSync(join(__dirname, '..', 'host.json'), 'utf8')) as HostJson;
    const durableTask = readDurableTaskOptions(hostJson, { ...process.env, DURABLE_TASK_HUB: 'ForecastRefreshBench' });
    const engineClock = new BenchClock();
    durable = await startDurable(registrations, context, {
      storageConnectionString: azurite.connectionString,
      hubName: durableTask.hubName,
      keys: { functionKey: 'bench-function-key', masterKey: 'bench-master-key' },
      baseUrl: () => 'http://localhost:7071',
      clock: engineClock,
      timeScale: 1,
      maxConcurrentActivities: durableTask.maxConcurrentActivities,
      maxConcurrentOrchestrations: durableTask.maxConcurrentOrchestrations,
      existingInstances: durableTask.existingInstances,
    });
    const engine = durable.engine;
    const store = await DurableStore.open(azurite.connectionString, durableTask.hubName);

    // ---- measured cycles, at the latencies of CYCLE_LATENCIES ----
    const cycles: ForecastCycleMeasurement[] = [];
    const eventBytes: number[] = [];
    const viewBytes: number[] = [];
    const loadBefore = loadavg()[0] ?? Number.NaN;
    let waiting: ForecastRefreshStatus | undefined;
    for (const [index, latencyMs] of CYCLE_LATENCIES.entries()) {
      const cycle = index + 1;
      await weather.setFaults({ latencyMs });
      const { total: firstRequest, busyMs: serverBusyBefore } = await weather.counters();
      const firstInvocation = invocations.length;
      const cosmosCpuBefore = await cosmos.cpuMs();
      let elu = performance.eventLoopUtilization();
      let cpu = process.cpuUsage();
      let startedAt = performance.now();
      if (waiting === undefined) {
        await engine.startNew({ name: orchestration.FORECAST_REFRESH_ORCHESTRATION, instanceId, input: JSON.stringify({ cycle }) });
      } else {
        // The previous cycle waits for its timer: fire it now. The cycle starts with the episode the timer wakes.
        const nextRunAt = Date.parse(waiting.nextRunAt ?? '');
        if (Number.isNaN(nextRunAt)) throw new Error(`Cycle ${waiting.cycle} is waiting with no nextRunAt.`);
        engineClock.advanceTo(nextRunAt);
      }
      const reached = await watcher.waitFor(
        (status) => status.cycle === cycle && status.phase === 'waiting',
        (status) => status.cycle > cycle,
        CYCLE_TIMEOUT_MS,
      );
      const window = invocations.slice(firstInvocation);
      if (cycle > 1) {
        const first = window.find((record) => record.name === orchestration.FORECAST_REFRESH_ORCHESTRATION);
        if (!first?.elu || !first.cpu) throw new Error(`Cycle ${cycle} ran no episode.`);
        ({ startedAt, elu, cpu } = first);
      }
      const utilization = performance.eventLoopUtilization(elu).utilization;
      const cpuUsed = process.cpuUsage(cpu);
      waiting = reached.status;
      const { requests, busyMs: serverBusyAfter } = await weather.requestsSince(firstRequest);
      const bad = requests.filter((request) => request.status !== 200);
      if (bad.length > 0)
        throw new Error(`Cycle ${cycle}: ${bad.length} weather requests failed (${bad.map((request) => request.status).join(', ')}).`);
      if (waiting.due !== REGIONS || waiting.deferred !== 0 || waiting.updated !== REGIONS || waiting.failed !== 0) {
        throw new Error(
          `Cycle ${cycle}: due ${waiting.due}, deferred ${waiting.deferred}, updated ${waiting.updated}, failed ${waiting.failed} of ${REGIONS} regions: ${JSON.stringify(waiting.failedRegions.slice(0, 3))}`,
        );
      }
      const batches = window
        .filter((record) => record.name === orchestration.BATCH_ACTIVITY)
        .map((record) => record.endedAt - record.startedAt);
      const plans = window.filter((record) => record.name === orchestration.PLAN_ACTIVITY);
      const episodes = window.filter((record) => record.name === orchestration.FORECAST_REFRESH_ORCHESTRATION);
      const snapshot = await store.readPartition(instanceId);
      const batchMean = batches.reduce((sum, ms) => sum + ms, 0) / Math.max(1, batches.length);
      const providerMsPerRequest = waiting.providerMs / Math.max(1, waiting.requests);
      const measurement: ForecastCycleMeasurement = {
        cycle,
        latencyMs,
        wallMs: round(reached.at - startedAt, 1),
        requests: requests.length,
        locations: requests.reduce((sum, request) => sum + request.locations, 0),
        due: waiting.due,
        planned: waiting.planned,
        deferred: waiting.deferred,
        updated: waiting.updated,
        failed: waiting.failed,
        planActivityMs: round(
          plans.reduce((sum, record) => sum + record.endedAt - record.startedAt, 0),
          1,
        ),
        planResultKiB: round((plans.at(-1)?.resultChars ?? 0) / 1024, 1),
        batchActivityP50Ms: round(summarise(batches).p50Ms, 1),
        batchActivityMeanMs: round(batchMean, 1),
        providerMsPerRequest: round(providerMsPerRequest, 1),
        recordingMsPerBatch: round(batchMean - providerMsPerRequest, 1),
        episodes: episodes.length,
        episodeMs: round(
          episodes.reduce((sum, record) => sum + record.endedAt - record.startedAt, 0),
          1,
        ),
        eventLoopUtilization: round(utilization, 2),
        idleMs: round((1 - utilization) * (reached.at - startedAt), 0),
        processCpuMs: round((cpuUsed.user + cpuUsed.system) / 1000, 0),
        weatherServerMs: round(serverBusyAfter - serverBusyBefore, 0),
        cosmosEndpointMs: round((await cosmos.cpuMs()) - cosmosCpuBefore, 0),
        historyRowsAtWaiting: historyRows(snapshot),
      };
      cycles.push(measurement);
      progress(`cycle ${cycle} at ${latencyMs} ms latency: ${measurement.wallMs} ms, ${measurement.requests} requests`);
      const between = performance.now();
      // What the change feed would have done: the views learn the forecasts, so the later plans read
      // views that hold hourly forecasts (and find every region due only because their clock is an hour
      // on). Once is enough: later cycles change only their dates.
      if (cycle === 1) {
        const recorded = (await projector.projectNew()).filter(({ document }) => isRecord(document) && document.type === 'ForecastUpdated');
        eventBytes.push(...recorded.map(({ document }) => documentBytes(document)));
        viewBytes.push(...(await regionViewDocuments(viewsContainer)).map(documentBytes));
      }
      // Then the streams go back to RegionActivated alone (the cycle appended version 2 to each), so every
      // measured cycle records into the same state. The views, which saw version 2 as the streams'
      // newest event, are set back to version 1 (a deleted event leaves no trace in the change feed):
      // every measured cycle is then the steady state, each region's plan carrying its stream's
      // version and recording appending at it without a probe. (recordingGrowth times the probe.)
      await withConcurrency(regions, 32, async (region) => {
        const streamId = toRegionStreamId(region);
        await eventsContainer.item(toEventDocumentId(streamId, 2), streamId).delete();
        if (cycle === 1)
          await viewsContainer
            .item(regionForecastKey(region).id, REGION_FORECASTS_PARTITION)
            .patch([{ op: 'set', path: '/latestEvent/version', value: 1 }]);
      });
      progress(`  ${cycle === 1 ? 'projected and ' : ''}reset in ${round(performance.now() - between, 0)} ms`);
    }
    const loadAfter = loadavg()[0] ?? Number.NaN;
    const fresh = (await services.views.regionRefreshStates()).filter((state) => state.updatedAt !== null).length;
    if (fresh !== REGIONS) throw new Error(`Only ${fresh} of ${REGIONS} region views have a forecast after projection.`);

    // ---- history bound: HISTORY_CYCLES empty cycles of continueAsNew ----
    await clearRegionViews(viewsContainer);
    if ((await services.views.regionRefreshStates()).length !== 0) throw new Error('The region views are not empty.');
    const lastMeasured = waiting?.cycle ?? 0;
    const firstHistoryInvocation = invocations.length;
    engineClock.setRate(HISTORY_CLOCK_RATE);
    const samples: ForecastRefreshBenchmark['history']['samples'][number][] = [];
    let maxHistoryRows = 0;
    let maxPartitionRows = 0;
    let maxFirst10 = 0;
    let sampleCount = 0;
    let planWasEmpty = true;
    let milestone = 0;
    let lastSample = 0;
    const historyDeadline = performance.now() + 10 * 60_000;
    let historyEnd: number;
    for (;;) {
      const status = readRefreshStatus((await engine.status(instanceId))?.customStatus);
      const now = performance.now();
      const relative = (status?.cycle ?? lastMeasured) - lastMeasured;
      if (status && relative > 0 && status.phase !== 'planning' && (status.due !== 0 || status.requests !== 0)) planWasEmpty = false;
      if (status && relative >= HISTORY_CYCLES && (status.phase === 'waiting' || relative > HISTORY_CYCLES)) {
        historyEnd = now;
        break;
      }
      const nextMilestone = HISTORY_MILESTONES[milestone];
      const atMilestone = nextMilestone !== undefined && relative >= nextMilestone;
      // Only once a history-phase cycle runs: before that the last measured cycle's history is still there.
      if (relative > 0 && (atMilestone || now - lastSample >= HISTORY_SAMPLE_EVERY_MS)) {
        lastSample = now;
        const snapshot = await store.readPartition(instanceId);
        sampleCount++;
        maxHistoryRows = Math.max(maxHistoryRows, historyRows(snapshot));
        maxPartitionRows = Math.max(maxPartitionRows, partitionRows(snapshot));
        if (relative <= 10) maxFirst10 = Math.max(maxFirst10, historyRows(snapshot));
        if (atMilestone) {
          samples.push({
            atCycle: nextMilestone,
            observedCycle: relative,
            historyRows: historyRows(snapshot),
            partitionRows: partitionRows(snapshot),
          });
          milestone++;
        }
      }
      if (now > historyDeadline) throw new Error(`The history phase reached only cycle ${relative} of ${HISTORY_CYCLES} in 10 minutes.`);
      await sleep(1);
    }
    // Time stands still from here: no further cycle starts.
    engineClock.setRate(0);
    const finalSnapshot = await store.readPartition(instanceId);
    samples.push({
      atCycle: HISTORY_CYCLES,
      observedCycle: HISTORY_CYCLES,
      historyRows: historyRows(finalSnapshot),
      partitionRows: partitionRows(finalSnapshot),
    });
    sampleCount++;
    maxHistoryRows = Math.max(maxHistoryRows, historyRows(finalSnapshot));
    maxPartitionRows = Math.max(maxPartitionRows, partitionRows(finalSnapshot));
    const historyWindow = invocations.slice(firstHistoryInvocation);
    const historyStart =
      historyWindow.find((record) => record.name === orchestration.FORECAST_REFRESH_ORCHESTRATION)?.startedAt ?? Number.NaN;
    const historyWallMs = historyEnd - historyStart;
    const historyEpisodes = historyWindow.filter((record) => record.name === orchestration.FORECAST_REFRESH_ORCHESTRATION);
    const historyPlans = historyWindow.filter((record) => record.name === orchestration.PLAN_ACTIVITY);
    const fullCycleRows = cycles.map((cycle) => cycle.historyRowsAtWaiting);
    const fullCycleHistoryRows = Math.max(...fullCycleRows);
    // One empty cycle commits a handful of rows; a history that grew with the cycles would hold thousands.
    const flat = maxHistoryRows <= maxFirst10 + 10 && fullCycleHistoryRows - Math.min(...fullCycleRows) <= 10;
    progress(`history: ${HISTORY_CYCLES} cycles in ${round(historyWallMs, 0)} ms, max ${maxHistoryRows} rows`);

    // ---- recording cost as a region's stream keeps its forecasts (until their 2-day TTL) ----
    await weather.setFaults({});
    const recordingGrowth = await measureRecordingGrowth(services, growthRegions, progress);

    // ---- figures ----
    const measured = cycles.slice(WARM_UP_CYCLES);
    const slow = measured.filter((cycle) => cycle.latencyMs === LATENCY_MS);
    const quick = measured.filter((cycle) => cycle.latencyMs === 0);
    const requestsPerCycle = median(slow.map((cycle) => cycle.requests));
    const idealWallMs = (requestsPerCycle * LATENCY_MS) / PARALLELISM;
    const measuredWallMs = median(slow.map((cycle) => cycle.wallMs));
    const overheadMs = median(quick.map((cycle) => cycle.wallMs));
    const limitMs = WALL_TARGET_TIMES_IDEAL * idealWallMs;
    // Pairs as run: (2, 3), (5, 4).
    const pairs = slow.map((cycle, index) => ({ wallMs: cycle.wallMs, overheadMs: quick[index]?.wallMs ?? Number.NaN }));
    const holdsInEveryRun = slow.every((cycle) => cycle.wallMs <= limitMs);
    const latencyExposedMs = round(median(slow.map((cycle) => cycle.idleMs)) - median(quick.map((cycle) => cycle.idleMs)), 0);
    const breakdownOf = (of: readonly ForecastCycleMeasurement[]) => ({
      wallMs: median(of.map((cycle) => cycle.wallMs)),
      weatherServerMs: median(of.map((cycle) => cycle.weatherServerMs)),
      cosmosEndpointMs: median(of.map((cycle) => cycle.cosmosEndpointMs)),
      appCpuMs: median(of.map((cycle) => cycle.processCpuMs)),
      idleMs: median(of.map((cycle) => cycle.idleMs)),
    });
    const bytesWithin = Math.max(...eventBytes, ...viewBytes) <= DOCUMENT_BYTES_TARGET;
    const samplePlaces = samplePlaceDensity();
    return {
      regions: REGIONS,
      batchSize: BATCH_SIZE,
      parallelism: PARALLELISM,
      latencyMs: LATENCY_MS,
      refreshMinutes: REFRESH_MINUTES,
      runs: slow.length,
      loadAverage: { before: round(loadBefore, 2), after: round(loadAfter, 2) },
      setup: { activateMs: round(activateMs, 0), projectMs: round(projectMs, 0), regionsListed: listed.length },
      requestsPerCycle,
      callsIfOnePerRegion: REGIONS,
      callsIfOnePerPlace: [
        ...(samplePlaces
          ? [
              {
                assumption: `as in the sample data (local/data/uk-places.json: ${samplePlaces.places} places in ${samplePlaces.regions} regions)`,
                placesPerRegion: round(samplePlaces.places / samplePlaces.regions, 2),
                calls: Math.round((REGIONS * samplePlaces.places) / samplePlaces.regions),
              },
            ]
          : []),
        {
          assumption: `${ASSUMED_PLACES_PER_REGION} places per region`,
          placesPerRegion: ASSUMED_PLACES_PER_REGION,
          calls: REGIONS * ASSUMED_PLACES_PER_REGION,
        },
      ],
      idealWallMs: round(idealWallMs, 1),
      measuredWallMs,
      overheadMs,
      target: {
        rule: `wall ≤ ${WALL_TARGET_TIMES_IDEAL} × ideal`,
        limitMs: round(limitMs, 1),
        wallMs: measuredWallMs,
        holds: measuredWallMs <= limitMs,
        holdsInEveryRun,
        holdsByIdleTime: latencyExposedMs <= limitMs,
      },
      breakdown: { ...breakdownOf(slow), atZeroLatency: breakdownOf(quick) },
      bytes: {
        eventMedian: median(eventBytes),
        eventMax: Math.max(...eventBytes),
        viewMedian: median(viewBytes),
        viewMax: Math.max(...viewBytes),
        target: { rule: `event and view ≤ ${DOCUMENT_BYTES_TARGET} bytes each`, limit: DOCUMENT_BYTES_TARGET, holds: bytesWithin },
      },
      latencyAddsMs: median(pairs.map((pair) => round(pair.wallMs - pair.overheadMs, 1))),
      latencyExposedMs,
      cycles,
      history: {
        cycles: HISTORY_CYCLES,
        wallMs: round(historyWallMs, 0),
        cyclesPerSecond: round((HISTORY_CYCLES / historyWallMs) * 1000, 1),
        perCycle: {
          episodes: round(historyEpisodes.length / HISTORY_CYCLES, 2),
          episodeMs: round(historyEpisodes.reduce((sum, record) => sum + record.endedAt - record.startedAt, 0) / HISTORY_CYCLES, 2),
          planActivityMs: round(historyPlans.reduce((sum, record) => sum + record.endedAt - record.startedAt, 0) / HISTORY_CYCLES, 2),
        },
        planWasEmpty,
        samples,
        sampleCount,
        maxHistoryRows,
        maxPartitionRows,
        maxHistoryRowsFirst10Cycles: maxFirst10,
        fullCycleHistoryRows,
        flat,
      },
      recordingGrowth,
    };
  } finally {
    await durable?.stop();
    await weather?.close();
    benchClient?.dispose();
    await cosmos?.close();
    await azurite?.stop();
    for (const key of Object.keys(process.env)) if (!(key in savedEnv)) Reflect.deleteProperty(process.env, key);
    Object.assign(process.env, savedEnv);
  }
}

/** Appends RegionActivated for each region through the app's use case (its refresh request goes to a queue in memory). */
async function activate(services: AppServices, regions: readonly string[]): Promise<void> {
  const queue = new InMemoryForecastRefreshQueue();
  const deps = { eventStore: services.eventStore, clock: () => new Date(), forecastRefreshQueue: queue };
  await withConcurrency(regions, 32, async (region) => {
    await activateRegion(deps, region, { eventId: `bench-place-${region}`, correlationId: 'forecast-refresh-bench' });
  });
}

/**
 * Records one outcome per region, one at a time, with 0, 6, 12, 24 and 48 forecasts already in its
 * stream (48: two days of hourly cycles, the forecast events' TTL): probing the stream first (its
 * versions and event ids, which grow with it), then appending at a version the stream has reached
 * (which does not read it). The second runs with one forecast more in the stream, the first's.
 */
async function measureRecordingGrowth(
  services: AppServices,
  regions: readonly string[],
  progress: (message: string) => void,
): Promise<ForecastRefreshBenchmark['recordingGrowth'][number][]> {
  await activate(services, regions);
  const outcomes = await services.weather.fetchForecasts(regions.map((region) => ({ region, ...regionCentre(region) })));
  if (outcomes.length !== regions.length || outcomes.some((outcome) => !outcome.ok))
    throw new Error('The growth measurement could not fetch its forecasts.');
  const deps = { eventStore: services.eventStore, clock: () => new Date() };
  const results: ForecastRefreshBenchmark['recordingGrowth'][number][] = [];
  let inStream = 0;
  for (const level of GROWTH_LEVELS) {
    for (; inStream < level; inStream++) {
      await withConcurrency(outcomes, 8, async (outcome) => {
        await recordForecastOutcome(deps, outcome, `growth-fill-${inStream}`);
      });
    }
    const streamChars = JSON.stringify(await services.eventStore.read(toRegionStreamId(regions[0] ?? ''))).length;
    const timed = async (record: (outcome: LocationForecast) => Promise<boolean>) => {
      const samples: number[] = [];
      for (const outcome of outcomes) {
        const t0 = performance.now();
        if (!(await record(outcome))) throw new Error(`The growth measurement recorded nothing for ${outcome.region}.`);
        samples.push(performance.now() - t0);
      }
      inStream++;
      return round(summarise(samples).p50Ms, 1);
    };
    const probeThenAppendP50Ms = await timed((outcome) => recordForecastOutcome(deps, outcome, `growth-probe-${level}`));
    // Every stream holds its activation and `inStream` forecasts.
    const version = 1 + inStream;
    const appendAtVersionP50Ms = await timed((outcome) =>
      recordForecastOutcome(deps, outcome, `growth-known-${level}`, { knownVersion: version }),
    );
    results.push({ forecastsInStream: level, streamKiB: round(streamChars / 1024, 0), probeThenAppendP50Ms, appendAtVersionP50Ms });
    progress(
      `recording with ${level} forecasts in the stream: p50 ${probeThenAppendP50Ms} ms probing, ${appendAtVersionP50Ms} ms at the planned version`,
    );
  }
  return results;
}

interface InvocationRecord {
  readonly name: string;
  readonly startedAt: number;
  endedAt: number;
  resultChars: number;
  /** Orchestrator episodes: the process's event-loop and CPU counters as the episode started. */
  readonly elu?: EventLoopUtilization;
  readonly cpu?: NodeJS.CpuUsage;
}

/**
 * Whether an orchestrator episode ends a cycle: its customStatus says 'waiting' and it does not
 * continue as new (the episode the timer wakes replays to 'waiting' too). A cheap look at the text.
 */
function endsCycle(result: InvocationResult): boolean {
  const json = result.returnValue?.json ?? '';
  return /\\?"phase\\?":\\?"waiting\\?"/.test(json) && !/\\?"actionType\\?":4[,}]/.test(json);
}

function historyRows(snapshot: PartitionSnapshot): number {
  return snapshot.history.length;
}

/** Every row of the instance's history partition: history, inbox, leftovers and the sentinel. */
function partitionRows(snapshot: PartitionSnapshot): number {
  return snapshot.history.length + snapshot.inbox.length + snapshot.garbage.length + (snapshot.sentinel ? 1 : 0);
}

/**
 * The engine's clock, owned by the bench: it runs at `rate` × the wall clock (1 at first), jumps
 * forward to fire a waiting cycle's timer when the bench starts the next cycle, and runs 10⁷× faster
 * for the history phase. Never goes back.
 */
class BenchClock implements DurableClock {
  private anchorReal = Date.now();
  private anchorEngine = this.anchorReal;
  private rate = 1;

  now(): number {
    return this.anchorEngine + (Date.now() - this.anchorReal) * this.rate;
  }

  setRate(rate: number): void {
    const now = this.now();
    this.anchorReal = Date.now();
    this.anchorEngine = now;
    this.rate = rate;
  }

  advanceTo(at: number): void {
    const now = this.now();
    if (at > now) this.anchorEngine += at - now;
  }
}

/**
 * Watches the instance's customStatus (the engine's in-memory status, as the status API answers it):
 * every 5 ms, and on every event-loop turn once an episode that ends a cycle has returned, so the
 * moment its checkpoint makes the status 'waiting' is seen within a turn.
 */
class StatusWatcher {
  private hotUntil = 0;

  constructor(
    private readonly durable: () => RunningDurable | undefined,
    private readonly instanceId: string,
  ) {}

  hint(): void {
    this.hotUntil = performance.now() + 500;
  }

  async waitFor(
    done: (status: ForecastRefreshStatus) => boolean,
    missed: (status: ForecastRefreshStatus) => boolean,
    timeoutMs: number,
  ): Promise<{ status: ForecastRefreshStatus; at: number }> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const engine = this.durable()?.engine;
      if (!engine) throw new Error('The durable engine is not running.');
      const instance = await engine.status(this.instanceId);
      const at = performance.now();
      const status = readRefreshStatus(instance?.customStatus);
      if (status && done(status)) {
        this.hotUntil = 0;
        return { status, at };
      }
      if (status && missed(status)) throw new Error(`Missed the awaited status; now ${JSON.stringify(status)}`);
      if (instance && !['Pending', 'Running'].includes(instance.runtimeStatus))
        throw new Error(`The orchestration ended ${instance.runtimeStatus}: ${JSON.stringify(instance.output)}`);
      if (at > deadline) throw new Error(`Timed out after ${timeoutMs} ms; last status ${JSON.stringify(instance?.customStatus)}`);
      if (at < this.hotUntil) await new Promise<void>((resolve) => setImmediate(resolve));
      else await sleep(5);
    }
  }
}

function readRefreshStatus(value: unknown): ForecastRefreshStatus | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  if (!('cycle' in value) || typeof value.cycle !== 'number' || !('phase' in value) || typeof value.phase !== 'string') return undefined;
  // The orchestration's own customStatus shape (functions/forecastRefresh.orchestration.ts).
  return value as ForecastRefreshStatus;
}

/** Projects what was written to `events` since the last call, as the change feed trigger delivers it; returns those changes. */
function changeFeedProjector(
  cosmos: CosmosProcess,
  databaseName: string,
  services: AppServices,
): { projectNew(): Promise<DocumentChange[]> } {
  let lsn = 0;
  return {
    async projectNew() {
      const changes = await cosmos.changesSince(databaseName, CONTAINERS.events, lsn);
      for (const change of changes) lsn = Math.max(lsn, change.lsn);
      for (let at = 0; at < changes.length; at += 500) {
        const outcome = await projectEvents(
          services,
          changes.slice(at, at + 500).map((change) => fromDocument(change.document)),
        );
        if (outcome.deadLettered > 0) throw new Error(`Projection dead-lettered ${outcome.deadLettered} events.`);
      }
      return changes;
    },
  };
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  return Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, (i + 1) * size));
}

/** Every region forecast view as stored. */
async function regionViewDocuments(views: Container): Promise<unknown[]> {
  const { resources } = await views.items
    .query<unknown>(
      {
        query: 'SELECT * FROM c WHERE c.partitionKey = @partitionKey',
        parameters: [{ name: '@partitionKey', value: REGION_FORECASTS_PARTITION }],
      },
      { partitionKey: REGION_FORECASTS_PARTITION },
    )
    .fetchAll();
  return resources;
}

/** A document's JSON length without Cosmos DB's own properties (_rid, _etag, _ts, …): what the app writes. */
function documentBytes(document: unknown): number {
  if (!isRecord(document)) return 0;
  return JSON.stringify(Object.fromEntries(Object.entries(document).filter(([key]) => !key.startsWith('_')))).length;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Deletes every region forecast view, so the plan finds no region at all. */
async function clearRegionViews(views: Container): Promise<void> {
  const { resources } = await views.items
    .query<{ id: string }>(
      {
        query: 'SELECT c.id FROM c WHERE c.partitionKey = @partitionKey',
        parameters: [{ name: '@partitionKey', value: REGION_FORECASTS_PARTITION }],
      },
      { partitionKey: REGION_FORECASTS_PARTITION },
    )
    .fetchAll();
  await withConcurrency(resources, 32, async ({ id }) => {
    await views.item(id, REGION_FORECASTS_PARTITION).delete();
  });
}

/**
 * A rough outline of Great Britain (longitude, latitude), clockwise from Land's End: good enough to
 * keep regions on land, not a coastline.
 */
const GREAT_BRITAIN: readonly (readonly [number, number])[] = [
  [-5.7, 50.05],
  [-4.2, 50.35],
  [-3.0, 50.7],
  [-1.3, 50.75],
  [0.3, 50.75],
  [1.4, 51.15],
  [1.45, 51.4],
  [0.7, 51.55],
  [1.3, 51.85],
  [1.75, 52.5],
  [1.3, 52.95],
  [0.35, 52.95],
  [0.2, 53.5],
  [-0.1, 53.65],
  [-0.2, 54.1],
  [-1.2, 54.6],
  [-1.6, 55.6],
  [-2.0, 55.85],
  [-2.6, 56.05],
  [-2.6, 56.27],
  [-2.5, 56.6],
  [-2.05, 57.1],
  [-1.8, 57.5],
  [-2.5, 57.67],
  [-4.0, 57.6],
  [-3.05, 58.45],
  [-3.3, 58.65],
  [-5.0, 58.6],
  [-5.4, 57.9],
  [-5.7, 57.3],
  [-5.5, 56.4],
  [-5.6, 55.3],
  [-4.7, 55.5],
  [-4.85, 54.65],
  [-3.6, 54.95],
  [-3.6, 54.5],
  [-2.9, 54.0],
  [-3.0, 53.4],
  [-4.6, 53.3],
  [-4.7, 52.8],
  [-4.1, 52.4],
  [-5.2, 51.9],
  [-4.2, 51.6],
  [-3.2, 51.4],
  [-2.7, 51.55],
  [-3.1, 51.2],
  [-4.5, 51.0],
  [-5.0, 50.55],
];

/** The first `count` distinct geohash cells drawn inside the outline by a seeded generator (the same every run), sorted. */
export function greatBritainRegions(count: number, seed = 7): string[] {
  const random = seededRandom(seed);
  const cells = new Set<string>();
  for (let attempt = 0; cells.size < count; attempt++) {
    if (attempt > count * 1000) throw new Error(`Found only ${cells.size} regions inside Great Britain.`);
    const latitude = 49.9 + random() * 8.9;
    const longitude = -5.8 + random() * 7.7;
    if (inside(GREAT_BRITAIN, longitude, latitude)) cells.add(ngeohash.encode(latitude, longitude, REGION_PRECISION));
  }
  return [...cells].sort();
}

function inside(polygon: readonly (readonly [number, number])[], x: number, y: number): boolean {
  let result = false;
  for (let i = 0, j = polygon.length - 1; i < polygon.length; j = i++) {
    const [xi, yi] = polygon[i] ?? [0, 0];
    const [xj, yj] = polygon[j] ?? [0, 0];
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) result = !result;
  }
  return result;
}

/** Places and distinct regions of the sample data, if it is there. */
function samplePlaceDensity(): { places: number; regions: number } | undefined {
  try {
    const data = JSON.parse(readFileSync(join(__dirname, '..', 'local', 'data', 'uk-places.json'), 'utf8')) as {
      places?: { geolocation?: { latitude?: unknown; longitude?: unknown } }[];
    };
    const points = (data.places ?? []).flatMap(({ geolocation }) =>
      typeof geolocation?.latitude === 'number' && typeof geolocation.longitude === 'number'
        ? [[geolocation.latitude, geolocation.longitude] as const]
        : [],
    );
    const regions = new Set(points.map(([latitude, longitude]) => ngeohash.encode(latitude, longitude, REGION_PRECISION)));
    return regions.size > 0 ? { places: points.length, regions: regions.size } : undefined;
  } catch {
    return undefined;
  }
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  if (sorted.length === 0) return Number.NaN;
  return sorted.length % 2 === 1 ? (sorted[middle] ?? Number.NaN) : round(((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2, 1);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Prints the benchmark's tables (run.ts and `ts-node bench/forecastRefresh.bench.ts`). */
export function printForecastRefresh(result: ForecastRefreshBenchmark): void {
  console.log(
    `\nForecast refresh: ${result.regions} regions, batches of ${result.batchSize}, parallelism ${result.parallelism}, weather latency ${result.latencyMs} ms ` +
      `(the app's orchestration in the durable engine on Azurite; real services on the local Cosmos endpoint; the endpoint and the weather server each in a process of their own; medians of ${result.runs} cycles each; load average ${result.loadAverage.before} → ${result.loadAverage.after})`,
  );
  console.table({
    'requests per cycle': { value: result.requestsPerCycle },
    'calls if one per region': { value: result.callsIfOnePerRegion },
    ...Object.fromEntries(
      result.callsIfOnePerPlace.map((place) => [`calls if one per place (${place.placesPerRegion}/region)`, { value: place.calls }]),
    ),
    'ideal wall ms (requests × latency / parallelism)': { value: result.idealWallMs },
    'measured wall ms': { value: result.measuredWallMs },
    'overhead ms (same cycle at 0 ms latency)': { value: result.overheadMs },
    'latency adds ms (median of pairs: wall − wall at 0 ms)': { value: result.latencyAddsMs },
    'latency exposed ms (idle at latency − idle at 0 ms)': { value: result.latencyExposedMs },
    [`target: ${result.target.rule}`]: {
      value: `${result.target.wallMs} ≤ ${result.target.limitMs}: ${result.target.holds} (each pair: ${result.target.holdsInEveryRun})`,
    },
    [`target by idle time: exposed ≤ ${WALL_TARGET_TIMES_IDEAL} × ideal`]: {
      value: `${result.latencyExposedMs} ≤ ${result.target.limitMs}: ${result.target.holdsByIdleTime}`,
    },
  });
  for (const place of result.callsIfOnePerPlace) console.log(`  ${place.placesPerRegion} places/region: ${place.assumption}`);
  console.log('Cycles (each from region streams holding only RegionActivated):');
  console.table(
    result.cycles.map((cycle) => ({
      cycle: cycle.cycle,
      'latency ms': cycle.latencyMs,
      'wall ms': cycle.wallMs,
      requests: cycle.requests,
      'due/updated': `${cycle.due}/${cycle.updated}`,
      'plan ms': cycle.planActivityMs,
      'batch p50 ms': cycle.batchActivityP50Ms,
      'provider ms/req': cycle.providerMsPerRequest,
      'record ms/batch': cycle.recordingMsPerBatch,
      'episodes (ms)': `${cycle.episodes} (${cycle.episodeMs})`,
      'loop busy': cycle.eventLoopUtilization,
      'idle ms': cycle.idleMs,
      'cpu ms': cycle.processCpuMs,
      'history rows': cycle.historyRowsAtWaiting,
    })),
  );
  const history = result.history;
  console.log(
    `History bound: ${history.cycles} empty cycles of continueAsNew in ${history.wallMs} ms (${history.cyclesPerSecond} cycles/s; per cycle ${history.perCycle.episodes} episodes, ` +
      `${history.perCycle.episodeMs} ms in them, plan activity ${history.perCycle.planActivityMs} ms); max ${history.maxHistoryRows} history rows, ${history.maxPartitionRows} partition rows ` +
      `over ${history.sampleCount} samples (first 10 cycles: ${history.maxHistoryRowsFirst10Cycles}; a full ${result.regions}-region cycle: ${history.fullCycleHistoryRows}); ` +
      `flat: ${history.flat}; plan empty throughout: ${history.planWasEmpty}`,
  );
  console.table(
    history.samples.map((sample) => ({
      'at cycle': sample.atCycle,
      'observed at': sample.observedCycle,
      'history rows': sample.historyRows,
      'partition rows': sample.partitionRows,
    })),
  );
  console.log(
    'Recording one outcome, one at a time, by forecasts already in the stream (probe + append, or an append at the planned version):',
  );
  console.table(
    result.recordingGrowth.map((level) => ({
      forecasts: level.forecastsInStream,
      'stream KiB': level.streamKiB,
      'probe + append p50 ms': level.probeThenAppendP50Ms,
      'append at version p50 ms': level.appendAtVersionP50Ms,
    })),
  );
}

if (require.main === module && process.argv.includes(COSMOS_FLAG)) {
  void serveCosmosProcess();
} else if (require.main === module && process.argv.includes(WEATHER_FLAG)) {
  void serveWeatherProcess();
} else if (require.main === module && process.argv.includes(CHILD_FLAG)) {
  const send = (message: ChildMessage) => new Promise<void>((resolve) => process.send?.(message, () => resolve()));
  runForecastRefreshInProcess({ progress: (text) => void send({ kind: 'progress', text }) })
    .then((result) => send({ kind: 'result', result }))
    .catch((error: unknown) => send({ kind: 'error', error: error instanceof Error ? (error.stack ?? error.message) : String(error) }))
    // Azurite's process and the engine's timers would otherwise keep the child alive.
    .finally(() => process.exit(0));
} else if (require.main === module) {
  benchmarkForecastRefresh({ progress: (message) => console.error(`[${new Date().toISOString()}] ${message}`) })
    .then(printForecastRefresh)
    .catch((error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    });
}
