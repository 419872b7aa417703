import { app } from '@azure/functions';
import { lazyHandler } from '../shared/platform/composition/lazyHandler';

app.http('bestTimes', {
  methods: ['GET'],
  route: 'api/places/{id}/best-times',
  authLevel: 'anonymous',
  handler: lazyHandler(async () => (await import('../handlers/bestTimes.http')).bestTimesFunction),
});
