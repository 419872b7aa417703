import { app } from '@azure/functions';
import { lazyHandler } from '../shared/platform/composition/lazyHandler';

app.http('requestEditorAccess', {
  methods: ['POST'],
  route: 'api/editor-access',
  authLevel: 'anonymous',
  handler: lazyHandler(async () => (await import('../handlers/requestEditorAccess.http')).requestEditorAccessFunction),
});
