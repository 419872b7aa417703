import { app } from '@azure/functions';
import { lazyHandler } from '../shared/platform/composition/lazyHandler';

app.http('listManagedPlaces', {
  methods: ['GET'],
  route: 'api/manage/places',
  authLevel: 'anonymous',
  handler: lazyHandler(async () => (await import('../handlers/listManagedPlaces.http')).listManagedPlacesFunction),
});
