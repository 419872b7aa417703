import { app } from '@azure/functions';
import { KEY_CHECK_ROUTES } from '../shared/platform/adapters/hostKeyCheck';

// The host answers 401 before these run unless the key has the level: the app asks them, through the
// host, which level a presented key has (shared/platform/adapters/hostKeyCheck.ts). 204 says nothing more.
app.http('checkFunctionKey', {
  methods: ['GET'],
  route: KEY_CHECK_ROUTES.function,
  authLevel: 'function',
  handler: () => Promise.resolve({ status: 204, headers: { 'cache-control': 'no-store' } }),
});

app.http('checkMasterKey', {
  methods: ['GET'],
  route: KEY_CHECK_ROUTES.admin,
  authLevel: 'admin',
  handler: () => Promise.resolve({ status: 204, headers: { 'cache-control': 'no-store' } }),
});
