import { app } from '@azure/functions';
import { lazyHandler } from '../shared/platform/composition/lazyHandler';

app.http('getManagedPlace', {
  methods: ['GET'],
  route: 'api/manage/places/{id}',
  authLevel: 'anonymous',
  handler: lazyHandler(async () => (await import('../handlers/getManagedPlace.http')).getManagedPlaceFunction),
});
