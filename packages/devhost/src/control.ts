/**
 * The devhost's test controls: faults a test can inject into the running devhost. Served only when
 * the devhost runs with DEVHOST_TEST_CONTROLS=1 (otherwise these paths are 404 like any unknown one),
 * and only to the master key (`x-functions-key` or `?code=`).
 *
 *   POST /devhost/control/restart-cosmos?downMs=N   closes the local Cosmos endpoint, keeps it down N ms
 *                                                   (0–60000, default 0), reopens it from its journal on
 *                                                   the same port; answers 200 {downMs, restored} once it
 *                                                   listens again, 409 while another restart runs.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { CosmosRestartInProgressError, type CosmosRestart } from './cosmos/cosmosRestart';
import type { ExtraRoute } from './http/httpHost';
import { isAuthorised, type HostKeys } from './http/keys';
import type { Logger } from './logger';

export const CONTROL_PATH = '/devhost/control';
export const MAX_COSMOS_DOWN_MS = 60_000;

export interface DevhostControls {
  restartCosmos(downMs: number): Promise<CosmosRestart>;
}

/** Whether the settings ask for the test controls. */
export function testControlsEnabled(env: Readonly<Record<string, string | undefined>>): boolean {
  return env.DEVHOST_TEST_CONTROLS === '1' || env.DEVHOST_TEST_CONTROLS === 'true';
}

export function controlRoute(keys: HostKeys, controls: DevhostControls, logger: Logger): ExtraRoute {
  return async (request, response, url) => {
    const path = url.pathname.replace(/\/+$/, '');
    if (path !== CONTROL_PATH && !path.startsWith(`${CONTROL_PATH}/`)) return false;
    request.resume();
    const presented = firstHeader(request.headers['x-functions-key']) ?? url.searchParams.get('code') ?? undefined;
    if (!isAuthorised('admin', presented, keys)) return reply(response, 401, { error: 'The master key is required.' });
    if (path !== `${CONTROL_PATH}/restart-cosmos`) return reply(response, 404, { error: 'No such control.' });
    if (request.method !== 'POST') return reply(response, 405, { error: 'POST only.' }, { allow: 'POST' });

    const text = url.searchParams.get('downMs') ?? '0';
    const downMs = Number(text);
    if (!/^\d+$/.test(text) || downMs > MAX_COSMOS_DOWN_MS)
      return reply(response, 400, { error: `downMs must be a whole number of milliseconds, 0–${MAX_COSMOS_DOWN_MS}.` });
    logger.warn(`Test control: restarting the local Cosmos endpoint (down for at least ${downMs} ms)…`);
    let restart: CosmosRestart;
    try {
      restart = await controls.restartCosmos(downMs);
    } catch (error) {
      if (error instanceof CosmosRestartInProgressError) return reply(response, 409, { error: error.message });
      logger.error('Test control: the local Cosmos endpoint could not be restarted', error);
      return reply(response, 500, { error: error instanceof Error ? error.message : String(error) });
    }
    logger.warn(`Test control: the local Cosmos endpoint is back after ${restart.downMs} ms.`);
    return reply(response, 200, restart);
  };
}

function reply(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): true {
  response.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers });
  response.end(JSON.stringify(body));
  return true;
}

function firstHeader(value: IncomingMessage['headers'][string]): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
