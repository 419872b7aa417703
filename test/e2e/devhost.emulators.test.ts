/**
 * `npm run emulators` (`devhost emulators`), which those with Core Tools run beside `func start`:
 * Azurite, the local Cosmos DB endpoint with the app's containers, and an Event Grid topic delivering
 * to the host's `/runtime/webhooks/eventgrid?functionName=…`. Core Tools cannot run here, so the host
 * is the devhost, pointed at the emulators by the committed local.settings.example.json with only the
 * ports changed (the emulators run on free ones, never a running `npm start`'s), and the topic
 * delivers to the devhost's own webhook route (with its master key, which Core Tools would not ask
 * for). Then part 5's scenarios run exactly as under `npm start` (test/support/locationFanOut.ts).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EmulatorPorts } from 'functions-devhost';
import {
  emulatorPortsOf,
  freePort,
  startEmulatorsProcess,
  type EmulatorsProcess,
} from '../../packages/devhost/test/support/emulatorsProcess';
import { startDevhostProcess, type DevhostProcess } from '../support/devhostProcess';
import { describeLocationFanOut } from '../support/locationFanOut';

const root = join(__dirname, '..', '..');
const example = (JSON.parse(readFileSync(join(root, 'local.settings.example.json'), 'utf8')) as { Values: Record<string, string> }).Values;
const DEV_ACCOUNT_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

/** local.settings.example.json as committed, with the emulators' well-known ports replaced by these. */
function exampleOnPorts(ports: EmulatorPorts): Record<string, string> {
  const account = (port: number) => `http://127.0.0.1:${port}/devstoreaccount1`;
  expect(example.AzureWebJobsStorage).toBe('UseDevelopmentStorage=true');
  expect(example.COSMOS_CONNECTION).toContain('//127.0.0.1:8081/');
  expect(example.EVENTGRID_TOPIC_ENDPOINT).toBe('http://127.0.0.1:10003/api/events');
  return {
    ...example,
    // What UseDevelopmentStorage=true means, on these ports instead of 10000–10002.
    AzureWebJobsStorage:
      `DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=${DEV_ACCOUNT_KEY};` +
      `BlobEndpoint=${account(ports.blob)};QueueEndpoint=${account(ports.queue)};TableEndpoint=${account(ports.table)};`,
    COSMOS_CONNECTION: example.COSMOS_CONNECTION!.replace(':8081/', `:${ports.cosmos}/`),
    EVENTGRID_TOPIC_ENDPOINT: example.EVENTGRID_TOPIC_ENDPOINT!.replace(':10003/', `:${ports.eventGrid}/`),
  };
}

/** Successful deliveries the emulators logged for a function. */
function deliveries(output: string, functionName: string): number {
  return output.match(new RegExp(`delivered to ${functionName} \\(200`, 'g'))?.length ?? 0;
}

let emulators: EmulatorsProcess | undefined;
let devhost: DevhostProcess | undefined;

describeLocationFanOut('func start with npm run emulators (the devhost standing in for func start)', async (env, extraModules) => {
  const masterKey = randomBytes(24).toString('base64url');
  const port = await freePort();
  emulators = await startEmulatorsProcess({ app: root, deliverTo: `http://127.0.0.1:${port}`, webhookKey: masterKey });
  const settings = exampleOnPorts(emulatorPortsOf(emulators.output()));
  // What the emulators print is the example's values on their ports: nothing else to change.
  expect(emulators.settings).toEqual({
    AzureWebJobsStorage: settings.AzureWebJobsStorage,
    COSMOS_CONNECTION: settings.COSMOS_CONNECTION,
    COSMOS_DATABASE: settings.COSMOS_DATABASE,
    EVENTGRID_TOPIC_ENDPOINT: settings.EVENTGRID_TOPIC_ENDPOINT,
    EVENTGRID_TOPIC_KEY: settings.EVENTGRID_TOPIC_KEY,
  });
  try {
    devhost = await startDevhostProcess({ port, extraModules, env: { ...settings, ...env, DEVHOST_MASTER_KEY: masterKey } });
  } catch (error) {
    await emulators.stop();
    throw error;
  }
  const running = { devhost, emulators };
  return {
    devhost,
    stop: async () => {
      // The last validated place's region activation may still be on its way: let it arrive first.
      const deadline = Date.now() + 10_000;
      while (deliveries(running.emulators.output(), 'activateRegion') < 3 && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 100));
      await running.devhost.stop();
      await running.emulators.stop();
    },
  };
});

describe('npm run emulators, as the scenarios above used them', () => {
  it('left storage and Cosmos DB to the emulators: the devhost started neither of its own', () => {
    expect(devhost?.output()).toMatch(/storage\s+none started: AzureWebJobsStorage names http:\/\/127\.0\.0\.1:\d+\/devstoreaccount1/);
    expect(devhost?.output()).toMatch(/Cosmos DB\s+none started/);
  });

  it("delivered every event through the devhost's Event Grid webhook, at once, and stopped cleanly", async () => {
    const output = emulators?.output() ?? '';
    // Five proposals (each to the validator), three validated (each to the region activator).
    expect(deliveries(output, 'validatePlaceLocation')).toBeGreaterThanOrEqual(5);
    expect(deliveries(output, 'activateRegion')).toBeGreaterThanOrEqual(3);
    expect(output).not.toMatch(/failed \(attempt|dead-lettered/);
    expect(output).toMatch(/SIGTERM: stopping the emulators/);
    await expect(emulators?.stop()).resolves.toBe(0);
  });
});
