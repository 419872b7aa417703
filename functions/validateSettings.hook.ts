import { app } from '@azure/functions';
import { loadConfig } from '../shared/platform/config';

// Fail at start, naming every bad setting, rather than at the first request that needs one.
app.hook.appStart(() => {
  loadConfig(process.env);
});
