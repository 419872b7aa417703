import * as df from 'durable-functions';
import { registeredFunctions } from 'functions-devhost/functionsCore';
import {
  durableClientInput,
  registerActivity,
  registerOrchestration,
  RetryOptions,
} from '../../shared/platform/composition/durableRegistration';

/**
 * The app registers its durable functions without loading durable-functions at start (cold start),
 * through deep paths of the package: these must register exactly what df.app.* registers, and the
 * wrappers they load on first use must be there.
 */
const metadataOf = (name: string) => {
  const found = registeredFunctions().find((registration) => registration.metadata.name === name);
  if (!found) throw new Error(`${name} is not registered`);
  const { name: _name, ...rest } = found.metadata;
  return rest;
};

it('registers an orchestration and an activity as df.app.orchestration and df.app.activity do', () => {
  // eslint-disable-next-line require-yield -- registration only
  df.app.orchestration('packageOrchestration', function* () {
    return undefined;
  });
  // eslint-disable-next-line require-yield -- registration only
  registerOrchestration('ourOrchestration', function* () {
    return undefined;
  });
  df.app.activity('packageActivity', { handler: () => 1 });
  registerActivity('ourActivity', () => Promise.resolve(() => 1));
  expect(metadataOf('ourOrchestration')).toEqual(metadataOf('packageOrchestration'));
  expect(metadataOf('ourActivity')).toEqual(metadataOf('packageActivity'));
  expect(durableClientInput()).toEqual(df.input.durableClient());
});

it("finds the package's own wrappers and RetryOptions where it keeps them", () => {
  /* eslint-disable @typescript-eslint/no-require-imports -- the deep paths themselves are under test */
  expect(typeof (require('durable-functions/lib/src/util/testingUtils') as { createOrchestrator: unknown }).createOrchestrator).toBe(
    'function',
  );
  expect(typeof (require('durable-functions/lib/src/app') as { wrapActivityHandler: unknown }).wrapActivityHandler).toBe('function');
  /* eslint-enable @typescript-eslint/no-require-imports */
  expect(new RetryOptions(1000, 3)).toBeInstanceOf(df.RetryOptions);
});
