import { app } from '@azure/functions';
import { lazyHandler } from '../shared/platform/composition/lazyHandler';

app.http('listEditors', {
  methods: ['GET'],
  route: 'api/manage/editors',
  authLevel: 'anonymous',
  handler: lazyHandler(async () => (await import('../handlers/listEditors.http')).listEditorsFunction),
});
