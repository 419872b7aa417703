import { app } from '@azure/functions';
import { lazyHandler } from '../shared/platform/composition/lazyHandler';

app.http('newestPlaces', {
  methods: ['GET'],
  route: 'api/places/newest',
  authLevel: 'anonymous',
  handler: lazyHandler(async () => (await import('../handlers/newestPlaces.http')).newestPlacesFunction),
});
