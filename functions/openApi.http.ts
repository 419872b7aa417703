import { app } from '@azure/functions';
import { lazyHandler } from '../shared/platform/composition/lazyHandler';

app.http('openApi', {
  methods: ['GET'],
  route: 'api/openapi.json',
  authLevel: 'anonymous',
  handler: lazyHandler(async () => (await import('../handlers/openApi.http')).openApiFunction),
});
