import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { Agent, request, type IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { DevhostProcess } from '../support/devhostProcess';
import { startFixtureApp, type RunningFixtureApp } from '../support/fixtureApps';

/**
 * An app in HTTP stream mode (`app.setup({ enableHttpStream: true })`): @azure/functions then takes every HTTP request
 * from its own proxy, which the host must forward to, and writes the response there (devhost/http/httpStream.ts).
 * A plain Functions app like devhost.anyApp.test.ts's (test/fixtures/apps/stream), copied inside the repository so
 * that it finds @azure/functions.
 */
const MB = 1024 * 1024;
/** The app's FUNCTIONS_REQUEST_BODY_SIZE_LIMIT (its local.settings.json). */
const LIMIT = 33 * MB;
/** The size of the chunks the app's download generates, and of those the test sends. */
const CHUNK = 64 * 1024;

/** Chunk i of the app's generated download (the app has the same), so the test knows what the 32 MB should hash to. */
const downloadChunk = (i: number, size: number) => Buffer.alloc(size, Buffer.from([i & 255, (i >> 8) & 255, 0x5a]));

describe('the devhost serves an app in HTTP stream mode', () => {
  let app: RunningFixtureApp;
  let devhost: DevhostProcess;

  beforeAll(async () => {
    app = await startFixtureApp('stream');
    ({ devhost } = app);
  });
  afterAll(() => app.stop());

  it('streams a 32 MB request body to the function, which reads it as a stream', async () => {
    const sent = createHash('sha256');
    const body = Readable.from(
      (function* () {
        for (let offset = 0; offset < 32 * MB; offset += CHUNK) {
          const chunk = randomBytes(CHUNK);
          sent.update(chunk);
          yield chunk;
        }
      })(),
    );
    // No content-length: sent chunked, as a stream.
    const answer = await send(`${devhost.url}/api/upload`, 'POST', body);
    expect(answer.status).toBe(200);
    const seen = JSON.parse(answer.body.toString()) as { bytes: number; chunks: number; sha256: string };
    expect(seen.bytes).toBe(32 * MB);
    expect(seen.sha256).toBe(sent.digest('hex'));
    expect(seen.chunks).toBeGreaterThan(1);
  });

  it('hands the function each piece of the body as it arrives, and the client each piece of the answer', async () => {
    // Each piece waits for the function's answer to the one before: anything held whole on the way would stall it.
    const call = request(`${devhost.url}/api/progress`, { method: 'POST', agent: false });
    const response = await new Promise<IncomingMessage>((resolve, reject) => {
      call.on('response', resolve);
      call.on('error', reject);
      call.write(Buffer.alloc(1000, 1));
    });
    expect(response.statusCode).toBe(200);
    const lines = lineReader(response);
    expect(await lines.next()).toBe('1000');
    call.write(Buffer.alloc(500, 2));
    expect(await lines.next()).toBe('1500');
    call.write(Buffer.alloc(2500, 3));
    expect(await lines.next()).toBe('4000');
    call.end();
    expect(await lines.next()).toBeUndefined();
  });

  it('streams a 32 MB response body that the function generates in chunks', async () => {
    const expected = createHash('sha256');
    for (let i = 0; i * CHUNK < 32 * MB; i++) expected.update(downloadChunk(i, Math.min(CHUNK, 32 * MB - i * CHUNK)));
    const answer = await fetch(`${devhost.url}/api/download?bytes=${32 * MB}`, { signal: AbortSignal.timeout(20_000) });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toBe('application/octet-stream');
    const received = createHash('sha256');
    let bytes = 0;
    const reader = (answer.body as WebReadableStream<Uint8Array> | null)?.getReader();
    for (let read = await reader?.read(); read && !read.done; read = await reader?.read()) {
      received.update(read.value);
      bytes += read.value.length;
    }
    expect(bytes).toBe(32 * MB);
    expect(received.digest('hex')).toBe(expected.digest('hex'));
  });

  it("passes on the start of a response (a Node Readable) before the function's body is complete", async () => {
    const answer = await fetch(`${devhost.url}/api/held`, { signal: AbortSignal.timeout(15_000) });
    expect(answer.status).toBe(200);
    const lines = lineReader(Readable.fromWeb(answer.body as WebReadableStream<Uint8Array>));
    expect(await lines.next()).toBe('first');
    expect((await fetch(`${devhost.url}/api/release`, { method: 'POST' })).status).toBe(204);
    expect(await lines.next()).toBe('rest');
    expect(await lines.next()).toBeUndefined();
  });

  it('still gives the function its route params, query, headers and URL, and the client its status and headers', async () => {
    const answer = await fetch(`${devhost.url}/api/shops/toys/items/42?colour=red&size=s`, {
      headers: { 'x-visit': 'museum' },
      signal: AbortSignal.timeout(15_000),
    });
    expect(answer.status).toBe(201);
    expect(answer.headers.get('x-answer')).toBe('yes');
    expect(await answer.json()).toEqual({
      url: `${devhost.url}/api/shops/toys/items/42?colour=red&size=s`,
      method: 'GET',
      params: { shop: 'toys', id: '42' },
      query: { colour: 'red', size: 's' },
      header: 'museum',
      invocation: 'string',
    });
  });

  it('answers 500 when the function throws, with a body or without', async () => {
    expect((await fetch(`${devhost.url}/api/broken`, { signal: AbortSignal.timeout(15_000) })).status).toBe(500);
    const posted = await send(`${devhost.url}/api/broken`, 'POST', Readable.from([Buffer.alloc(4 * MB, 7)]));
    expect(posted.status).toBe(500);
    expect(devhost.output()).toMatch(/Executed 'Functions\.broken' \(Failed, Id=/);
  });

  it('still asks for the function key on a function-level route', async () => {
    expect((await fetch(`${devhost.url}/api/keyed`, { signal: AbortSignal.timeout(15_000) })).status).toBe(401);
    const keyed = await fetch(`${devhost.url}/api/keyed`, {
      headers: { 'x-functions-key': devhost.keys.functionKey },
      signal: AbortSignal.timeout(15_000),
    });
    expect(keyed.status).toBe(200);
    expect(await keyed.text()).toBe('in');
  });

  it('holds streamed bodies to FUNCTIONS_REQUEST_BODY_SIZE_LIMIT: 413 for one declared or sent beyond it', async () => {
    const declared = await send(`${devhost.url}/api/upload`, 'POST', Readable.from([]), { 'content-length': String(LIMIT + 1) });
    expect(declared.status).toBe(413);
    const body = Readable.from(
      (function* () {
        for (let offset = 0; offset < LIMIT + CHUNK; offset += CHUNK) yield Buffer.alloc(CHUNK, 1);
      })(),
    );
    expect((await send(`${devhost.url}/api/upload`, 'POST', body)).status).toBe(413);
    // Within the limit, the devhost still serves the next request.
    expect((await fetch(`${devhost.url}/api/keyed`, { signal: AbortSignal.timeout(15_000) })).status).toBe(401);
  });
});

/**
 * The same app with one request at a time (host.json maxConcurrentRequests: 1) and a 1000-byte body limit: a request
 * whose invocation never ends would hold the only slot, and every request after it would wait for good.
 */
describe('the devhost ends every streamed invocation, whatever happens to its request', () => {
  let app: RunningFixtureApp;
  let devhost: DevhostProcess;

  beforeAll(async () => {
    app = await startFixtureApp('stream', {
      tag: 'stream-one',
      prepare: (appDir) =>
        writeFileSync(join(appDir, 'host.json'), JSON.stringify({ version: '2.0', extensions: { http: { maxConcurrentRequests: 1 } } })),
      env: { FUNCTIONS_REQUEST_BODY_SIZE_LIMIT: '1000' },
    });
    ({ devhost } = app);
  });
  afterAll(() => app.stop());

  /** A request the function serves at once, within 10 s: the throttle's one slot is free. */
  const served = async () => {
    const answer = await fetch(`${devhost.url}/api/shops/toys/items/42`, { signal: AbortSignal.timeout(10_000) });
    expect(answer.status).toBe(201);
  };
  const executed = (name: string) => [...devhost.output().matchAll(new RegExp(`Executed 'Functions\\.${name}' \\(`, 'g'))].length;

  it('serves the next request after a client that went away before sending any of its body', async () => {
    const call = request(`${devhost.url}/api/upload`, { method: 'POST', agent: false });
    call.on('error', () => undefined);
    // The head only: nothing of the body yet.
    call.flushHeaders();
    const deadline = Date.now() + 10_000;
    while (!/Executing 'Functions\.upload'/.test(devhost.output()) && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 20));
    call.destroy();
    await served();
    // The invocation ended (failed: its body was cut off), as the host logs it.
    await waitFor(() => executed('upload') === 1);
    expect(devhost.output()).toMatch(/Executed 'Functions\.upload' \(Failed, Id=/);
  });

  it('serves the next request after a chunked body whose first chunk is already over the limit (413)', async () => {
    const before = executed('upload');
    const status = await new Promise<number>((resolve, reject) => {
      const call = request(`${devhost.url}/api/upload`, { method: 'POST', agent: false }, (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
        call.destroy();
      });
      call.on('error', reject);
      call.write(Buffer.alloc(16 * 1024, 1));
    });
    expect(status).toBe(413);
    await served();
    await waitFor(() => executed('upload') === before + 1);
    // A body within the limit still reaches the function whole.
    const within = await send(`${devhost.url}/api/upload`, 'POST', Readable.from([Buffer.alloc(600, 2), Buffer.alloc(400, 3)]));
    expect(within.status).toBe(200);
    expect((JSON.parse(within.body.toString()) as { bytes: number }).bytes).toBe(1000);
  });
});

/** Waits up to 10 s for `condition`. */
async function waitFor(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('Timed out waiting for the condition');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Sends `body` as it comes (chunked unless a content-length is given) and reads the whole answer. */
function send(
  url: string,
  method: string,
  body: Readable,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      call.destroy();
      reject(new Error(`No answer from ${method} ${url} within 30 s`));
    }, 30_000);
    // A connection of its own (one that declared more body than it sent is not fit to reuse), but kept
    // alive: with 'Connection: close' (agent: false) a server that answers before the body is in closes
    // the socket under the upload, and the client may see EPIPE before it reads the answer. Kept alive,
    // the devhost reads what is left of the body and the answer always arrives.
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const call = request(url, { method, headers, agent }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        clearTimeout(timer);
        agent.destroy();
        resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks) });
      });
    });
    call.on('error', (error) => {
      clearTimeout(timer);
      agent.destroy();
      reject(error);
    });
    body.pipe(call);
  });
}

/** Reads a response line by line; `next()` is undefined once it has ended. */
function lineReader(stream: Readable): { next(): Promise<string | undefined> } {
  let buffered = '';
  let ended = false;
  const waiting: (() => void)[] = [];
  stream.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    waiting.splice(0).forEach((wake) => wake());
  });
  stream.on('end', () => {
    ended = true;
    waiting.splice(0).forEach((wake) => wake());
  });
  return {
    async next() {
      const deadline = Date.now() + 10_000;
      for (;;) {
        const newline = buffered.indexOf('\n');
        if (newline >= 0) {
          const line = buffered.slice(0, newline);
          buffered = buffered.slice(newline + 1);
          return line;
        }
        if (ended) return undefined;
        if (Date.now() > deadline) throw new Error(`No line within 10 s (so far: ${JSON.stringify(buffered)})`);
        await new Promise<void>((resolve) => {
          waiting.push(resolve);
          setTimeout(resolve, 1000);
        });
      }
    },
  };
}
