import { app } from '@azure/functions';
import { lazyHandler } from '../shared/platform/composition/lazyHandler';

app.http('nearbyPlaces', {
  methods: ['GET'],
  route: 'api/places/nearby',
  authLevel: 'anonymous',
  handler: lazyHandler(async () => (await import('../handlers/nearbyPlaces.http')).nearbyPlacesFunction),
});
