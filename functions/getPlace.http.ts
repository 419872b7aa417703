import { app } from '@azure/functions';
import { lazyHandler } from '../shared/platform/composition/lazyHandler';

app.http('getPlace', {
  methods: ['GET'],
  route: 'api/places/{id}',
  authLevel: 'anonymous',
  handler: lazyHandler(async () => (await import('../handlers/getPlace.http')).getPlaceFunction),
});
