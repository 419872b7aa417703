import { app } from '@azure/functions';
import { lazyHandler } from '../shared/platform/composition/lazyHandler';

app.http('approveEditor', {
  methods: ['POST'],
  route: 'api/editors/{userId}/approve',
  authLevel: 'anonymous',
  handler: lazyHandler(async () => (await import('../handlers/decideEditor.http')).approveEditorFunction),
});

app.http('suspendEditor', {
  methods: ['POST'],
  route: 'api/editors/{userId}/suspend',
  authLevel: 'anonymous',
  handler: lazyHandler(async () => (await import('../handlers/decideEditor.http')).suspendEditorFunction),
});
