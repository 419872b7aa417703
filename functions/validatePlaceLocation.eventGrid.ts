import { app } from '@azure/functions';
import { lazyHandler } from '../shared/platform/composition/lazyHandler';

app.eventGrid<unknown>('validatePlaceLocation', {
  handler: lazyHandler(async () => (await import('../handlers/validatePlaceLocation.eventGrid')).validatePlaceLocationFunction),
});
