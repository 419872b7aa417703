import { app } from '@azure/functions';
import { lazyHandler } from '../shared/platform/composition/lazyHandler';

app.eventGrid<unknown>('activateRegion', {
  handler: lazyHandler(async () => (await import('../handlers/activateRegion.eventGrid')).activateRegionFunction),
});
