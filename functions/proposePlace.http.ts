import { app } from '@azure/functions';
import { lazyHandler } from '../shared/platform/composition/lazyHandler';

app.http('proposePlace', {
  methods: ['POST'],
  route: 'api/places',
  authLevel: 'anonymous',
  handler: lazyHandler(async () => (await import('../handlers/proposePlace.http')).proposePlaceFunction),
});
