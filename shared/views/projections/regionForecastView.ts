import type { RecordedEvent } from '../../eventSourcing/event';
import { regionEventSchemas } from '../../forecasts/forecast';
import { PoisonEventError } from '../../places/placeEventSchemas';
import { regionForecastKey, type RegionForecastView } from './documents';

/**
 * Folds one region event into the region's forecast view. Pure and version-guarded like the place
 * view. Unknown region events (there may be more later) are ignored, not poison.
 */
export function evolveRegionForecastView(view: RegionForecastView | null, event: RecordedEvent, region: string): RegionForecastView | null {
  if (view && event.version <= view.version) return view;
  const base: RegionForecastView = view ?? {
    ...regionForecastKey(region),
    type: 'regionForecast',
    region,
    centre: null,
    version: 0,
    source: null,
    issuedAt: null,
    cycleId: null,
    hourly: [],
    lastFailure: null,
  };
  const next = { ...base, version: event.version };
  switch (event.type) {
    case 'RegionActivated':
      return { ...next, centre: parse('RegionActivated', event.data).centre };
    case 'ForecastUpdated': {
      const { source, issuedAt, cycleId, hourly } = parse('ForecastUpdated', event.data);
      return { ...next, source, issuedAt, cycleId, hourly };
    }
    case 'ForecastFetchFailed': {
      const { cycleId, reason } = parse('ForecastFetchFailed', event.data);
      return { ...next, lastFailure: { cycleId, reason, at: event.metadata.occurredAt } };
    }
    default:
      return next;
  }
}

function parse<K extends keyof typeof regionEventSchemas>(type: K, data: unknown) {
  const result = regionEventSchemas[type].safeParse(data);
  if (!result.success) throw new PoisonEventError(`Malformed ${type}: ${result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`);
  return result.data as ReturnType<(typeof regionEventSchemas)[K]['parse']>;
}
