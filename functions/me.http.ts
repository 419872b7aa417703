import { app } from '@azure/functions';
import { lazyHandler } from '../shared/platform/composition/lazyHandler';

app.http('me', {
  methods: ['GET'],
  route: 'api/me',
  authLevel: 'anonymous',
  handler: lazyHandler(async () => (await import('../handlers/me.http')).meFunction),
});
