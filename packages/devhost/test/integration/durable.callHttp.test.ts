/**
 * context.df.callHttp through the devhost's durable engine, against a local HTTP server: the request
 * made as the extension's built-in HTTP activity (recorded in history), the 202 + Location polling
 * pattern with durable timers, failures the orchestrator can catch, and a tokenSource refused.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { DurableStore } from '../../src/durable/store';
import { startAzurite, type RunningAzurite } from '../../src/storage/azurite';
import { startDurableTestHost, type DurableTestHost } from '../fixtures/harness';

let azurite: RunningAzurite;
let host: DurableTestHost;
let server: Server;
let serverUrl: string;
const hubName = 'DurableCallHttp';
/** Engine time ×20: Retry-After 1 s waits 50 ms, the default 30 s sleep 1.5 s. */
const TIME_SCALE = 20;

interface Seen {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}
const seen: Seen[] = [];
/** Poll counts of the 202 scenario, by job id. */
const polls = new Map<string, number>();

beforeAll(async () => {
  azurite = await startAzurite({ inMemory: true });
  server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const url = new URL(request.url ?? '/', 'http://localhost');
      seen.push({
        method: request.method ?? '',
        url: url.pathname + url.search,
        headers: request.headers,
        body: Buffer.concat(chunks).toString(),
      });
      if (url.pathname === '/json') {
        response.writeHead(200, { 'content-type': 'application/json', 'x-sample': 'yes' });
        response.end(JSON.stringify({ hello: 'world', method: request.method, body: Buffer.concat(chunks).toString() }));
      } else if (url.pathname.startsWith('/jobs/')) {
        // 202 + Location twice (Retry-After 1 s, then none: the default sleep), then 200.
        const job = url.pathname.slice('/jobs/'.length);
        const count = (polls.get(job) ?? 0) + 1;
        polls.set(job, count);
        if (count === 1) response.writeHead(202, { location: `${serverUrl}/jobs/${job}`, 'retry-after': '1' }).end();
        else if (count === 2) response.writeHead(202, { location: `/jobs/${job}` }).end();
        else response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ done: job, polls: count }));
      } else {
        response.writeHead(404).end('not found');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  serverUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  host = await startDurableTestHost({ storageConnectionString: azurite.connectionString, hubName, timeScale: TIME_SCALE });
}, 60_000);

afterAll(async () => {
  await host.stop();
  await new Promise((resolve) => server.close(resolve));
  await azurite.stop();
});

afterEach(() => {
  expect(host.errors).toEqual([]);
});

async function history(instanceId: string): Promise<{ EventType: string; Name?: string; Input?: string; Result?: string }[]> {
  const store = await DurableStore.open(azurite.connectionString, hubName);
  return (await store.readPartition(instanceId)).history as unknown as {
    EventType: string;
    Name?: string;
    Input?: string;
    Result?: string;
  }[];
}

describe('durable callHttp', () => {
  it('makes a request and answers its status, headers and content, recorded in history', async () => {
    const before = seen.length;
    const id = await host.start('callsHttp', {
      url: `${serverUrl}/json?x=1`,
      method: 'POST',
      body: { a: 1 },
      headers: { 'content-type': 'application/json', 'x-custom': 'v' },
    });
    const status = await host.waitFor(id);
    expect(status.runtimeStatus).toBe('Completed');
    expect(status.output).toEqual({
      statusCode: 200,
      headers: expect.objectContaining({ 'content-type': 'application/json', 'x-sample': 'yes' }) as unknown,
      content: { hello: 'world', method: 'POST', body: '{"a":1}' },
    });
    const requests = seen.slice(before);
    expect(requests).toHaveLength(1);
    expect(requests[0]).toMatchObject({ method: 'POST', url: '/json?x=1', body: '{"a":1}' });
    expect(requests[0]?.headers).toMatchObject({ 'content-type': 'application/json', 'x-custom': 'v' });
    const events = await history(id);
    const scheduled = events.filter((event) => event.EventType === 'TaskScheduled');
    expect(scheduled).toHaveLength(1);
    expect(scheduled[0]?.Name).toBe('BuiltIn::HttpActivity');
    expect(JSON.parse(scheduled[0]?.Input ?? 'null')).toEqual([expect.objectContaining({ method: 'POST', uri: `${serverUrl}/json?x=1` })]);
    expect(events.filter((event) => event.EventType === 'TaskCompleted')).toHaveLength(1);
  });

  it('follows 202 + Location with durable timers until the final answer', async () => {
    const job = randomUUID().slice(0, 8);
    const before = seen.length;
    const id = await host.start('callsHttp', {
      url: `${serverUrl}/jobs/${job}`,
      method: 'POST',
      body: 'start',
      headers: { 'x-functions-key': 'k', 'x-keep': 'yes' },
    });
    const status = await host.waitFor(id);
    expect(status.runtimeStatus).toBe('Completed');
    expect(status.output).toMatchObject({ statusCode: 200, content: { done: job, polls: 3 } });
    const requests = seen.slice(before);
    expect(requests.map((request) => `${request.method} ${request.url}`)).toEqual([
      `POST /jobs/${job}`,
      `GET /jobs/${job}`,
      `GET /jobs/${job}`,
    ]);
    // The polls: GET, no content, the original headers but x-functions-key.
    for (const poll of requests.slice(1)) {
      expect(poll.body).toBe('');
      expect(poll.headers['x-keep']).toBe('yes');
      expect(poll.headers['x-functions-key']).toBeUndefined();
    }
    const events = await history(id);
    expect(events.filter((event) => event.EventType === 'TaskScheduled')).toHaveLength(3);
    const timers = events.filter((event) => event.EventType === 'TimerCreated') as unknown as { Timestamp: string; FireAt: string }[];
    expect(timers).toHaveLength(2);
    // Retry-After: 1 s, then the extension's default of 30 s.
    expect(Date.parse(timers[0]?.FireAt ?? '') - Date.parse(timers[0]?.Timestamp ?? '')).toBe(1000);
    expect(Date.parse(timers[1]?.FireAt ?? '') - Date.parse(timers[1]?.Timestamp ?? '')).toBe(30_000);
  });

  it('answers a 202 as it is when polling is off', async () => {
    const job = randomUUID().slice(0, 8);
    const id = await host.start('callsHttp', { url: `${serverUrl}/jobs/${job}`, enablePolling: false });
    const status = await host.waitFor(id);
    expect(status.output).toMatchObject({ statusCode: 202, headers: expect.objectContaining({ 'retry-after': '1' }) as unknown });
    expect(polls.get(job)).toBe(1);
  });

  it('fails the task on a refused connection, and the orchestrator catches it', async () => {
    // A port that was just free: nothing listens there.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    const id = await host.start('callsHttp', { url: `http://127.0.0.1:${port}/nothing` });
    const status = await host.waitFor(id);
    expect(status.runtimeStatus).toBe('Completed');
    const output = status.output as { caught: string };
    expect(output.caught).toContain(`callHttp GET http://127.0.0.1:${port}/nothing failed`);
    expect(output.caught).toContain('ECONNREFUSED');
    expect((await history(id)).some((event) => event.EventType === 'TaskFailed')).toBe(true);
  });

  it('refuses a tokenSource clearly instead of calling without the token', async () => {
    const before = seen.length;
    const id = await host.start('callsHttp', { url: `${serverUrl}/json`, tokenResource: 'https://management.core.windows.net/' });
    const status = await host.waitFor(id);
    expect(status.runtimeStatus).toBe('Completed');
    const output = status.output as { caught: string };
    expect(output.caught).toContain("managed identity token (resource 'https://management.core.windows.net/')");
    expect(output.caught).toContain('the request was not sent');
    expect(seen.length).toBe(before);
  });

  it('keeps the recorded answer across a restart (the request is not made again)', async () => {
    const before = seen.length;
    const id = await host.start('callsHttp', { url: `${serverUrl}/json`, waitAfter: true });
    await host.waitFor(id, ['Running']);
    for (
      let waited = 0;
      seen.length === before || (await history(id)).every((event) => event.EventType !== 'TaskCompleted');
      waited += 20
    ) {
      if (waited > 10_000) throw new Error('the HTTP call was not recorded');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await host.durable.idle(id);
    await host.stop();
    host = await startDurableTestHost({ storageConnectionString: azurite.connectionString, hubName, timeScale: TIME_SCALE });
    await host.raise(id, 'go', null);
    const status = await host.waitFor(id);
    expect(status.runtimeStatus).toBe('Completed');
    expect(status.output).toMatchObject({ statusCode: 200, content: { hello: 'world', method: 'GET' } });
    expect(seen.length - before).toBe(1);
  });
});
