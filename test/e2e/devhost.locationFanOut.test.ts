/**
 * Part 5 through the devhost, everything embedded (`npm start`): the scenarios are in
 * test/support/locationFanOut.ts, which test/e2e/devhost.emulators.test.ts runs against `npm run emulators` too.
 */
import { startDevhostProcess } from '../support/devhostProcess';
import { describeLocationFanOut } from '../support/locationFanOut';

describeLocationFanOut('through the devhost: validate locations, activate regions, request forecasts', async (env, extraModules) => {
  const devhost = await startDevhostProcess({ extraModules, env });
  return {
    devhost,
    stop: async () => {
      await devhost.stop();
    },
  };
});
