import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEventGrid, type EventGridRetryOptions, type RunningEventGrid } from 'functions-devhost/eventGrid/eventGrid';
import { getProgrammingModel, type Registration } from 'functions-devhost/functionsCore';
import { startHttpHost, type ExtraRoute } from 'functions-devhost/http/httpHost';
import { invokeFunction } from 'functions-devhost/invoke';
import type { Logger } from 'functions-devhost/logger';
import type { TriggerHostContext } from 'functions-devhost/triggers/triggerHost';

export const LOCAL_TOPIC_KEY = 'local-event-grid-topic-key';

export interface LocalTopic {
  /** EVENTGRID_TOPIC_ENDPOINT of this topic. */
  readonly topicEndpoint: string;
  readonly eventGrid: RunningEventGrid;
  readonly dataDir: string;
  /** While `down`, the topic answers publishes 503 (`unavailable`) or drops the connection (`unreachable`). */
  readonly outage: { down: boolean; mode: 'unavailable' | 'unreachable'; refused: number };
  readonly logs: string[];
  stop(): Promise<void>;
}

/**
 * The devhost's Event Grid topic on its own HTTP server, with the given eventGrid-triggered functions
 * as subscriptions (invoked through @azure/functions as the devhost invokes them) and an outage switch
 * in front of the topic endpoint.
 */
export async function startLocalTopic(
  registrations: readonly Registration[],
  retry: EventGridRetryOptions = {},
  deliveryTimeoutMs = 30_000,
): Promise<LocalTopic> {
  const dataDir = mkdtempSync(join(tmpdir(), 'local-topic-'));
  const logs: string[] = [];
  const logger: Logger = {
    info: () => undefined,
    warn: (message) => logs.push(message),
    error: (message, error) => logs.push(`${message} ${error instanceof Error ? error.message : ''}`),
    functionLog: (_name, _id, level, _category, message) => {
      if (level !== 'information' && level !== 'Information') logs.push(`${level}: ${message}`);
    },
  };
  const model = getProgrammingModel();
  if (!model) throw new Error('@azure/functions registered no programming model');
  const context: TriggerHostContext = {
    invoke: (registration, request, reason) => invokeFunction(model, registration, request, logger, reason),
    logger,
    settings: {},
    hostJson: {},
    dataDir,
  };
  const keys = { functionKey: 'function-key-for-tests', masterKey: 'master-key-for-tests' };
  const eventGrid = await startEventGrid(registrations, context, { topicKey: LOCAL_TOPIC_KEY, keys, retry, deliveryTimeoutMs });
  const outage: LocalTopic['outage'] = { down: false, mode: 'unavailable', refused: 0 };
  const outageRoute: ExtraRoute = (request, response, url) => {
    if (!outage.down || url.pathname !== eventGrid.topicEndpointPath) return false;
    outage.refused += 1;
    if (outage.mode === 'unreachable') {
      request.socket.destroy();
      return true;
    }
    request.resume();
    response
      .writeHead(503, { 'content-type': 'application/json' })
      .end(JSON.stringify({ error: { code: 'ServiceUnavailable', message: 'The topic is down for a test.' } }));
    return true;
  };
  const http = await startHttpHost(model, [], { port: 0, routePrefix: 'api', keys, corsOrigins: [] }, logger, [
    outageRoute,
    ...eventGrid.routes,
  ]);
  const base = `http://127.0.0.1:${(http.server.address() as AddressInfo).port}`;
  return {
    topicEndpoint: `${base}${eventGrid.topicEndpointPath}`,
    eventGrid,
    dataDir,
    outage,
    logs,
    stop: async () => {
      await eventGrid.stop();
      await http.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
