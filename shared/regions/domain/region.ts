import { z } from 'zod';
import type { Decider } from '../../kernel/decider';
import { IllegalStateError } from '../../kernel/errors';
import type { Event } from '../../kernel/event';
import type { HourlyForecast } from '../../kernel/forecast';
import { type Geolocation } from '../../kernel/geolocation';
import { toStoredHourly, type StoredHourly } from './forecastColumns';

/**
 * A region is a geohash cell (`REGION_PRECISION` characters, default 5: about 4.9 km × 4.9 km) that
 * holds at least one validated place. Its stream `region-<geohash>` has one owner, this decider: it
 * starts with `RegionActivated`, then each refresh cycle records one outcome, `ForecastUpdated` or
 * `ForecastFetchFailed`.
 */
export type RegionActivated = Event<'RegionActivated', { region: string; centre: Geolocation }>;
/** `hourly` is stored as columns; events recorded before columns hold hourly objects. */
export type ForecastUpdated = Event<
  'ForecastUpdated',
  { region: string; source: string; issuedAt: string; cycleId: string; hourly: StoredHourly }
>;
export type ForecastFetchFailed = Event<'ForecastFetchFailed', { region: string; cycleId: string; reason: string }>;
export type ForecastEvent = ForecastUpdated | ForecastFetchFailed;
export type RegionEvent = RegionActivated | ForecastEvent;

export const REGION_EVENT_TYPES = [
  'RegionActivated',
  'ForecastUpdated',
  'ForecastFetchFailed',
] as const satisfies readonly RegionEvent['type'][];

export function isRegionEvent(event: Event): event is RegionEvent {
  return (REGION_EVENT_TYPES as readonly string[]).includes(event.type);
}

export { FORECAST_EVENT_TTL_SECONDS } from './forecastRetention';

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

export interface RegionState {
  readonly active: boolean;
  /** Refresh cycles with a recorded outcome (while their events live: see the TTL). */
  readonly recordedCycles: ReadonlySet<string>;
}

/**
 * Activating a region; a refresh cycle's outcome for it, recorded once per (cycle, region), so a
 * retried or replayed activity, or a redelivered queue message, never records twice.
 */
export type RegionCommand =
  | { type: 'ActivateRegion'; data: { region: string; centre: Geolocation } }
  | {
      type: 'RecordForecast';
      data: { region: string; cycleId: string; source: string; issuedAt: string; hourly: readonly HourlyForecast[] };
    }
  | { type: 'RecordForecastFailure'; data: { region: string; cycleId: string; reason: string } };

export function evolveRegion(state: RegionState, event: RegionEvent): RegionState {
  switch (event.type) {
    case 'RegionActivated':
      return state.active ? state : { ...state, active: true };
    case 'ForecastUpdated':
    case 'ForecastFetchFailed':
      return { ...state, recordedCycles: new Set([...state.recordedCycles, event.data.cycleId]) };
  }
}

export function decideRegion(command: RegionCommand, state: RegionState): RegionEvent[] {
  switch (command.type) {
    case 'ActivateRegion':
      // Only a region's first validated place activates it: activating an active region changes nothing.
      return state.active ? [] : [{ type: 'RegionActivated', data: { region: command.data.region, centre: command.data.centre } }];
    case 'RecordForecast': {
      if (!recordable(command.data, state)) return [];
      const { region, source, issuedAt, cycleId, hourly } = command.data;
      return [{ type: 'ForecastUpdated', data: { region, source, issuedAt, cycleId, hourly: toStoredHourly(hourly) } }];
    }
    case 'RecordForecastFailure': {
      if (!recordable(command.data, state)) return [];
      const { region, cycleId, reason } = command.data;
      return [{ type: 'ForecastFetchFailed', data: { region, cycleId, reason } }];
    }
  }
}

/** Only active regions get forecasts, and a cycle's first outcome stands. */
function recordable({ region, cycleId }: { region: string; cycleId: string }, state: RegionState): boolean {
  if (!state.active) throw new IllegalStateError(`Region ${region} is not active: only active regions get forecasts.`);
  return !state.recordedCycles.has(cycleId);
}

export const regionDecider: Decider<RegionCommand, RegionState, RegionEvent> = {
  decide: decideRegion,
  evolve: evolveRegion,
  initialState: () => ({ active: false, recordedCycles: new Set() }),
};
