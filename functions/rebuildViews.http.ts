import { app } from '@azure/functions';
import { lazyHandler } from '../shared/platform/composition/lazyHandler';

app.http('rebuildViews', {
  methods: ['POST'],
  route: 'api/ops/rebuild-views',
  authLevel: 'admin',
  handler: lazyHandler(async () => (await import('../handlers/rebuildViews.http')).rebuildViewsFunction),
});
