import { app } from '@azure/functions';
import { lazyHandler } from '../shared/platform/composition/lazyHandler';

app.http('withdrawPlace', {
  methods: ['POST'],
  route: 'api/places/{id}/withdraw',
  authLevel: 'anonymous',
  handler: lazyHandler(async () => (await import('../handlers/withdrawPlace.http')).withdrawPlaceFunction),
});
