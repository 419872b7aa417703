import { app } from '@azure/functions';
import { lazyHandler } from '../shared/platform/composition/lazyHandler';

app.http('openingHoursWeek', {
  methods: ['GET'],
  route: 'api/opening-hours/week',
  authLevel: 'anonymous',
  handler: lazyHandler(async () => (await import('../handlers/openingHoursWeek.http')).openingHoursWeekFunction),
});
