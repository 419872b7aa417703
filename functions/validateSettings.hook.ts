import { app } from '@azure/functions';

// Fail at start, naming every bad setting, rather than at the first request that needs one. Imported
// in the hook, so the config's schemas are built once the worker has loaded every entry.
app.hook.appStart(async () => {
  const { loadConfig } = await import('../shared/platform/config');
  loadConfig(process.env);
});
