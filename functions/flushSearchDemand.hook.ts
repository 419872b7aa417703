import { app } from '@azure/functions';
import { builtAppServices } from '../shared/platform/composition/appServices';

// The search counts an instance buffers (up to a minute's) would be lost when the host stops it
// (scale-in, a deployment, a recycle): they are written before it goes.
app.hook.appTerminate(async () => {
  await builtAppServices()?.searchDemand.flush();
});
