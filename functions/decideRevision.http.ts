import { app } from '@azure/functions';
import { lazyHandler } from '../shared/platform/composition/lazyHandler';

app.http('approveRevision', {
  methods: ['POST'],
  route: 'api/places/{id}/revisions/{revision}/approve',
  authLevel: 'anonymous',
  handler: lazyHandler(async () => (await import('../handlers/decideRevision.http')).approveRevisionFunction),
});

app.http('rejectRevision', {
  methods: ['POST'],
  route: 'api/places/{id}/revisions/{revision}/reject',
  authLevel: 'anonymous',
  handler: lazyHandler(async () => (await import('../handlers/decideRevision.http')).rejectRevisionFunction),
});
