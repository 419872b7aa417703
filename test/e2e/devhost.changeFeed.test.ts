import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDevhostProcess, type DevhostProcess } from '../support/devhostProcess';

const probeModule = join(__dirname, '..', '..', 'dist', 'test', 'fixtures', 'changeFeedProbe.js');

function probed(file: string): { id: string; type: string; streamId: string }[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { id: string; type: string; streamId: string });
}

async function eventually<T>(probe: () => T, accept: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (accept(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('the devhost runs change-feed triggers', () => {
  let devhost: DevhostProcess;
  let probeFile: string;
  beforeAll(async () => {
    probeFile = join(mkdtempSync(join(tmpdir(), 'probe-')), 'received.ndjson');
    devhost = await startDevhostProcess({ extraModules: [probeModule], env: { PROBE_FILE: probeFile } });
  });
  afterAll(async () => {
    await devhost.stop();
  });

  it('delivers the event a proposal appends to a change-feed-triggered function', async () => {
    const answer = await fetch(`${devhost.url}/api/places`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-functions-key': devhost.keys.functionKey },
      body: JSON.stringify({ name: 'Jodrell Bank', geolocation: { latitude: 53.2369, longitude: -2.3075 } }),
    });
    expect(answer.status).toBe(202);
    const { placeId } = (await answer.json()) as { placeId: string };
    const received = await eventually(() => probed(probeFile), (documents) => documents.some((document) => document.streamId === `place-${placeId}`));
    expect(received.filter((document) => document.streamId === `place-${placeId}`)).toEqual([
      expect.objectContaining({ id: `place-${placeId}:1`, type: 'PlaceProposed' }),
    ]);
  });
});
