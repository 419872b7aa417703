import { z } from 'zod';
import type { Decider } from '../../kernel/decider';
import type { Event } from '../../kernel/event';
import { type Geolocation } from '../../kernel/geolocation';

/**
 * A region is a geohash cell (`REGION_PRECISION` characters, default 5: about 4.9 km × 4.9 km) that
 * holds at least one validated place. Its stream `region-<geohash>` starts with `RegionActivated`;
 * forecasts for the region are appended to the same stream later.
 */
export type RegionActivated = Event<'RegionActivated', { region: string; centre: Geolocation }>;

/** The region events this domain decides; the forecast events of the stream are the forecast side's. */
export type RegionEvent = RegionActivated;

export const REGION_EVENT_TYPES = ['RegionActivated'] as const satisfies readonly RegionEvent['type'][];

export function isRegionEvent(event: Event): event is RegionEvent {
  return (REGION_EVENT_TYPES as readonly string[]).includes(event.type);
}

export const REGION_STREAM_PREFIX = 'region-';

/** The geohash alphabet (base 32 without a, i, l, o). */
const GEOHASH = /^[0-9b-hjkmnp-z]{1,12}$/;

/** A region's name, as the API shows and takes it. */
export const regionSchema = z.string().regex(GEOHASH).meta({ description: 'A geohash cell of 1–12 characters, e.g. gcw2j' });

export function isRegion(value: string): boolean {
  return GEOHASH.test(value);
}

export function toRegionStreamId(region: string): string {
  if (!isRegion(region)) throw new RangeError(`"${region}" is not a geohash region.`);
  return `${REGION_STREAM_PREFIX}${region}`;
}

export type RegionState =
  { readonly status: 'inactive' } | { readonly status: 'active'; readonly region: string; readonly centre: Geolocation };

export type RegionCommand = { type: 'ActivateRegion'; data: { region: string; centre: Geolocation } };

export function evolveRegion(state: RegionState, event: RegionEvent): RegionState {
  // RegionActivated is the only region event decided here; switch on the type when there are more.
  if (state.status === 'active') return state;
  return { status: 'active', region: event.data.region, centre: event.data.centre };
}

/** Activating an active region changes nothing: only a region's first validated place activates it. */
export function decideRegion(command: RegionCommand, state: RegionState): RegionEvent[] {
  if (state.status === 'active') return [];
  return [{ type: 'RegionActivated', data: { region: command.data.region, centre: command.data.centre } }];
}

export const regionDecider: Decider<RegionCommand, RegionState, RegionEvent> = {
  decide: decideRegion,
  evolve: evolveRegion,
  initialState: () => ({ status: 'inactive' }),
};
