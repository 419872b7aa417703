import { app } from '@azure/functions';
import { lazyHandler } from '../shared/platform/composition/lazyHandler';

app.http('updatePlaceDetails', {
  methods: ['PATCH'],
  route: 'api/places/{id}',
  authLevel: 'anonymous',
  handler: lazyHandler(async () => (await import('../handlers/updatePlaceDetails.http')).updatePlaceDetailsFunction),
});
