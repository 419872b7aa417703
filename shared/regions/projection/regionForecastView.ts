import type { RecordedEvent } from '../../kernel/event';
import { regionEventSchemas } from '../domain/regionEventSchemas';
import { isRegionEvent } from '../domain/region';
import { PoisonEventError } from '../../kernel/errors';
import { regionForecastKey, type RegionForecastView } from './regionForecastDocument';
import { hoursWorthKeeping, toStoredHourly, type StoredHourly } from '../domain/forecastColumns';

/**
 * Folds one region event into the region's forecast view. Pure, idempotent and independent of the
 * order events arrive in — unlike the place view it is not guarded by stream version: forecast
 * events expire (TTL), and a region whose forecast events have all expired starts numbering them
 * again after `RegionActivated`, so a version can come round twice. Instead the newest forecast
 * wins by (issuedAt, occurredAt), the newest failure by occurredAt. Returns the same object when the
 * event changes nothing, so a caller can tell whether to save. Unknown region events are ignored.
 */
export function evolveRegionForecastView(view: RegionForecastView | null, event: RecordedEvent, region: string): RegionForecastView | null {
  if (!isRegionEvent(event)) return view;
  const current: RegionForecastView = view ?? emptyRegionForecastView(region);
  const next = applyEvent(current, event);
  const latestEvent = latestOf(current.latestEvent, event);
  if (next === current && latestEvent === current.latestEvent) return view;
  return { ...next, version: Math.max(current.version, event.version), latestEvent };
}

/** The later of the two by occurredAt (then version): a redelivered or older event leaves it as it was. */
function latestOf(latest: RegionForecastView['latestEvent'], event: RecordedEvent): RegionForecastView['latestEvent'] {
  const at = event.metadata.occurredAt;
  if (latest) {
    const difference = Date.parse(at) - Date.parse(latest.at);
    if (difference < 0 || (difference === 0 && event.version <= latest.version)) return latest;
  }
  return { version: event.version, at };
}

function applyEvent(view: RegionForecastView, event: RecordedEvent): RegionForecastView {
  switch (event.type) {
    case 'RegionActivated': {
      const { centre } = parse('RegionActivated', event.data);
      return view.centre ? view : { ...view, centre };
    }
    case 'ForecastUpdated': {
      const { source, issuedAt, cycleId, hourly } = parse('ForecastUpdated', event.data);
      const updatedAt = event.metadata.occurredAt;
      if (view.issuedAt !== null && compare([issuedAt, updatedAt], [view.issuedAt, view.updatedAt ?? '']) <= 0) return view;
      return { ...view, source, issuedAt, updatedAt, cycleId, hourly: compacted(hourly, updatedAt) };
    }
    case 'ForecastFetchFailed': {
      const { cycleId, reason } = parse('ForecastFetchFailed', event.data);
      const at = event.metadata.occurredAt;
      if (view.lastFailure && Date.parse(view.lastFailure.at) >= Date.parse(at)) return view;
      return { ...view, lastFailure: { cycleId, reason, at } };
    }
    default:
      return view;
  }
}

export function emptyRegionForecastView(region: string): RegionForecastView {
  return {
    ...regionForecastKey(region),
    type: 'regionForecast',
    region,
    centre: null,
    version: 0,
    source: null,
    issuedAt: null,
    updatedAt: null,
    cycleId: null,
    hourly: [],
    lastFailure: null,
  };
}

/** An event recorded before columns holds hourly objects: its view is written as columns all the same. */
function compacted(hourly: StoredHourly, recordedAt: string): StoredHourly {
  return Array.isArray(hourly) ? toStoredHourly(hoursWorthKeeping(hourly, new Date(recordedAt))) : hourly;
}

/** Compares ISO 8601 instants pairwise (as times, so offsets and precision do not matter). */
function compare(a: readonly [string, string], b: readonly [string, string]): number {
  for (let i = 0; i < a.length; i++) {
    const difference = (Date.parse(a[i] ?? '') || 0) - (Date.parse(b[i] ?? '') || 0);
    if (difference !== 0) return difference;
  }
  return 0;
}

function parse<K extends keyof typeof regionEventSchemas>(type: K, data: unknown) {
  const result = regionEventSchemas[type].safeParse(data);
  if (!result.success)
    throw new PoisonEventError(
      `Malformed ${type}: ${result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`,
    );
  return result.data as ReturnType<(typeof regionEventSchemas)[K]['parse']>;
}
