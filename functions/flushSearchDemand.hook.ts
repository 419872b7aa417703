import { app } from '@azure/functions';

// The search counts an instance buffers (up to a minute's) would be lost when the host stops it
// (scale-in, a deployment, a recycle): they are written before it goes. The composition root is
// imported here, not at start: the worker loads this file whether or not anything runs.
app.hook.appTerminate(async () => {
  const { builtAppServices } = await import('../shared/platform/composition/appServices');
  await builtAppServices()?.searchDemand.flush();
});
