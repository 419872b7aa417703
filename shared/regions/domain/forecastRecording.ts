import type { Decider } from '../../kernel/decider';
import { IllegalStateError } from '../../kernel/errors';
import type { Event } from '../../kernel/event';
import type { RegionActivated } from './region';
import { type HourlyForecast } from '../../kernel/forecast';

export type ForecastUpdated = Event<
  'ForecastUpdated',
  { region: string; source: string; issuedAt: string; cycleId: string; hourly: readonly HourlyForecast[] }
>;
export type ForecastFetchFailed = Event<'ForecastFetchFailed', { region: string; cycleId: string; reason: string }>;
export type ForecastEvent = ForecastUpdated | ForecastFetchFailed;

/** The events of a `region-<geohash>` stream that recording a forecast depends on. */
export type RegionStreamEvent = RegionActivated | ForecastEvent;

/**
 * Forecast events expire so the store does not grow without bound: two days keeps yesterday's
 * forecasts for support questions; today's is always re-fetched long before.
 */
export const FORECAST_EVENT_TTL_SECONDS = 2 * 24 * 60 * 60;

/**
 * A refresh cycle's outcome for one region: recorded once per (cycle, region), so a retried or
 * replayed activity, or a redelivered queue message, never records twice.
 */
export type ForecastCommand =
  | {
      type: 'RecordForecast';
      data: { region: string; cycleId: string; source: string; issuedAt: string; hourly: readonly HourlyForecast[] };
    }
  | { type: 'RecordForecastFailure'; data: { region: string; cycleId: string; reason: string } };

export interface RegionForecastState {
  readonly active: boolean;
  /** Cycles with a recorded outcome (while their events live: see the TTL). */
  readonly recordedCycles: ReadonlySet<string>;
}

export function evolveRegionForecast(state: RegionForecastState, event: RegionStreamEvent): RegionForecastState {
  switch (event.type) {
    case 'RegionActivated':
      return { ...state, active: true };
    case 'ForecastUpdated':
    case 'ForecastFetchFailed':
      return { ...state, recordedCycles: new Set([...state.recordedCycles, event.data.cycleId]) };
  }
}

export function decideForecast(command: ForecastCommand, state: RegionForecastState): ForecastEvent[] {
  if (!state.active) throw new IllegalStateError(`Region ${command.data.region} is not active: only active regions get forecasts.`);
  if (state.recordedCycles.has(command.data.cycleId)) return [];
  switch (command.type) {
    case 'RecordForecast': {
      const { region, source, issuedAt, cycleId, hourly } = command.data;
      return [{ type: 'ForecastUpdated', data: { region, source, issuedAt, cycleId, hourly } }];
    }
    case 'RecordForecastFailure': {
      const { region, cycleId, reason } = command.data;
      return [{ type: 'ForecastFetchFailed', data: { region, cycleId, reason } }];
    }
  }
}

export const regionForecastDecider: Decider<ForecastCommand, RegionForecastState, RegionStreamEvent> = {
  decide: decideForecast,
  evolve: evolveRegionForecast,
  initialState: () => ({ active: false, recordedCycles: new Set() }),
};
