import { app } from '@azure/functions';
import { lazyHandler } from '../shared/platform/composition/lazyHandler';

app.http('approvePlace', {
  methods: ['POST'],
  route: 'api/places/{id}/approve',
  authLevel: 'anonymous',
  handler: lazyHandler(async () => (await import('../handlers/approvePlace.http')).approvePlaceFunction),
});
