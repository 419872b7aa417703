import { app } from '@azure/functions';
import { lazyHandler } from '../shared/platform/composition/lazyHandler';

app.http('rejectPlace', {
  methods: ['POST'],
  route: 'api/places/{id}/reject',
  authLevel: 'anonymous',
  handler: lazyHandler(async () => (await import('../handlers/rejectPlace.http')).rejectPlaceFunction),
});
