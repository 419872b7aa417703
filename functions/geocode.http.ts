import { app } from '@azure/functions';
import { lazyHandler } from '../shared/platform/composition/lazyHandler';

app.http('geocode', {
  methods: ['GET'],
  route: 'api/geocode',
  authLevel: 'anonymous',
  handler: lazyHandler(async () => (await import('../handlers/geocode.http')).geocodeFunction),
});
