import type { RecordedEvent } from '../../../shared/kernel/event';
import { forecastAt, type HourlyForecast } from '../../../shared/kernel/forecast';
import { conditionFromWmoCode } from '../../../shared/regions/adapters/weather/weatherCodes';
import { decideRegion, type ForecastUpdated } from '../../../shared/regions/domain/region';
import { regionEventSchemas } from '../../../shared/regions/domain/regionEventSchemas';
import { hoursWorthKeeping, hourlyFromColumns, toStoredHourly, type ForecastColumns } from '../../../shared/regions/domain/forecastColumns';
import {
  hasForecast,
  hourlyOf,
  hoursFrom,
  regionForecastAt,
  type RegionForecastView,
} from '../../../shared/regions/projection/regionForecastDocument';
import { emptyRegionForecastView, evolveRegionForecastView } from '../../../shared/regions/projection/regionForecastView';
import { weatherAt } from '../../../local/weather/syntheticWeather';

const HOUR = 60 * 60 * 1000;
const region = 'gcw2h';

/** A week as the local Open-Meteo server gives it (the provider's rows), from midnight of `day`. */
function week(day: string, latitude = 53.48, longitude = -2.24): HourlyForecast[] {
  return Array.from({ length: 7 * 24 }, (_, i) => {
    const at = new Date(Date.parse(day) + i * HOUR);
    const w = weatherAt(latitude, longitude, at);
    return {
      time: at.toISOString(),
      temperatureC: w.temperature_2m,
      precipitationProbability: w.precipitation_probability,
      precipitationMm: w.precipitation,
      weather: conditionFromWmoCode(w.weather_code) ?? 'cloudy',
      windKph: w.wind_speed_10m,
      gustKph: w.wind_gusts_10m,
      uvIndex: w.uv_index,
    };
  });
}

function recorded(hourly: unknown, occurredAt: string, version = 2): RecordedEvent {
  return {
    streamId: `region-${region}`,
    version,
    type: 'ForecastUpdated',
    data: { region, source: 'open-meteo', issuedAt: occurredAt, cycleId: `cycle-${version}`, hourly },
    metadata: { eventId: `e${version}`, correlationId: 'c', causationId: 'c', occurredAt },
  };
}

const view = (hourly: RegionForecastView['hourly']): RegionForecastView => ({ ...emptyRegionForecastView(region), hourly });

describe('forecast columns', () => {
  it('give back exactly the hours stored: negative, null, many-decimal and integer values, and gaps', () => {
    const odd: HourlyForecast[] = [
      { ...week('2026-01-20T00:00:00Z')[0]!, temperatureC: -3.25, gustKph: null, uvIndex: 0.05, precipitationMm: null },
      { ...week('2026-01-20T00:00:00Z')[1]!, temperatureC: 12.3456, precipitationProbability: null, windKph: 0 },
      { ...week('2026-01-20T00:00:00Z')[5]!, temperatureC: -0.1, gustKph: 101.7 },
    ];
    for (const hours of [week('2026-07-15T00:00:00Z'), week('2026-12-07T00:00:00Z', 58.6, -3.1), odd]) {
      const stored = toStoredHourly(hours);
      expect(Array.isArray(stored)).toBe(false);
      expect(hourlyFromColumns(stored)).toEqual(hours);
      // As stored: through JSON, as Cosmos DB keeps it.
      expect(hourlyFromColumns(JSON.parse(JSON.stringify(stored)) as typeof stored)).toEqual(hours);
    }
  });

  it('keep hours as objects when columns could not give them back exactly', () => {
    const hours = week('2026-07-15T00:00:00Z').slice(0, 3);
    const offset = [{ ...hours[0]!, time: '2026-07-15T00:00:00+00:00' }, ...hours.slice(1)];
    const halfHour = [hours[0]!, { ...hours[1]!, time: '2026-07-15T01:30:00.000Z' }];
    const descending = [hours[1]!, hours[0]!];
    const tooPrecise = [{ ...hours[0]!, temperatureC: 1 / 3 }];
    for (const rows of [offset, halfHour, descending, tooPrecise, []]) expect(toStoredHourly(rows)).toBe(rows);
  });

  it('keep the hours any answer can ask for: from three hours before the forecast was recorded', () => {
    const hours = week('2026-07-15T00:00:00Z');
    const kept = hoursWorthKeeping(hours, new Date('2026-07-15T10:20:00Z'));
    expect(kept[0]?.time).toBe('2026-07-15T08:00:00.000Z');
    expect(kept.at(-1)).toBe(hours.at(-1));
    expect(hoursWorthKeeping(hours, new Date('2026-07-15T01:00:00Z'))).toBe(hours);
  });

  it('are what a ForecastUpdated event carries, under 4 KiB with its envelope even for a summer week from midnight', () => {
    for (const [latitude, longitude] of [
      [50.1, -5.5],
      [53.48, -2.24],
      [58.6, -3.1],
    ] as const) {
      const hourly = week('2026-07-15T00:00:00Z', latitude, longitude);
      const [event] = decideRegion(
        {
          type: 'RecordForecast',
          data: { region, cycleId: '2026-07-15T00:10:00.000Z#1', source: 'open-meteo', issuedAt: '2026-07-15T00:10:02.000Z', hourly },
        },
        { active: true, recordedCycles: new Set() },
      ) as [ForecastUpdated];
      const document = {
        id: `region-${region}:2`,
        streamId: `region-${region}`,
        version: 2,
        ...event,
        metadata: {
          eventId: '6f1c0b1e-0c43-5a53-9d1b-9c1f2f7a4b55',
          correlationId: event.data.cycleId,
          causationId: event.data.cycleId,
          occurredAt: '2026-07-15T00:10:02.000Z',
        },
        ttl: 172800,
      };
      expect(JSON.stringify(document).length).toBeLessThanOrEqual(4096);
      expect(regionEventSchemas.ForecastUpdated.safeParse(JSON.parse(JSON.stringify(event.data))).success).toBe(true);
      expect(hourlyFromColumns(event.data.hourly)).toEqual(hourly);
    }
  });

  it('are refused as poison when malformed', () => {
    const stored = toStoredHourly(week('2026-07-15T00:00:00Z').slice(0, 4)) as ForecastColumns;
    const broken = [
      { ...stored, weather: 'ccxc' },
      { ...stored, windKph: [1, 2, 3] },
      { ...stored, precipitationProbability: [50, 60, 0, null] },
      { ...stored, at: [0, 2, 1, 3] },
    ];
    for (const hourly of broken)
      expect(() => evolveRegionForecastView(null, recorded(hourly, '2026-07-15T00:10:00Z'), region)).toThrow(/Malformed/);
  });
});

describe('region forecast readers: the same answers from columns, old events and old views', () => {
  const recordedAt = '2026-07-15T10:20:00.000Z';
  const hours = week('2026-07-15T00:00:00Z');
  const fromColumns = evolveRegionForecastView(
    null,
    recorded(toStoredHourly(hoursWorthKeeping(hours, new Date(recordedAt))), recordedAt),
    region,
  )!;
  // An event recorded before columns: every hour the provider gave, as objects.
  const fromOldEvent = evolveRegionForecastView(null, recorded(hours, recordedAt), region)!;
  // A view document written before columns, as the store still holds it.
  const oldView = { ...fromColumns, hourly: hours };

  it('given an old event, then the view is written as columns all the same', () => {
    expect(Array.isArray(fromOldEvent.hourly)).toBe(false);
    expect(fromOldEvent).toEqual(fromColumns);
  });

  it('answers every time a parent can ask about alike', () => {
    for (let minutes = 0; minutes <= 8 * 24 * 60; minutes += 30) {
      const now = Date.parse(recordedAt) + minutes * 60 * 1000;
      for (const at of [now - 60 * 60 * 1000, now, now + 25 * 60 * 1000, now + 6 * 24 * HOUR]) {
        const expected = forecastAt(hours, new Date(at));
        for (const candidate of [fromColumns, oldView]) expect(regionForecastAt(candidate, new Date(at))).toEqual(expected);
      }
      if (minutes % 120 === 0) {
        const expected = hours.filter((hour) => Date.parse(hour.time) >= now - 60 * 60 * 1000);
        for (const candidate of [fromColumns, oldView]) expect(hoursFrom(candidate, now - 60 * 60 * 1000)).toEqual(expected);
      }
    }
  });

  it('the earlier of two equally near hours, and nothing beyond half an hour, as forecastAt', () => {
    const gapped = [hours[10]!, hours[12]!, hours[13]!];
    for (const stored of [toStoredHourly(gapped), toStoredHourly(hours.slice(10, 14))]) {
      const rows = hourlyFromColumns(stored);
      for (let minutes = -120; minutes <= 300; minutes += 15) {
        const at = new Date(Date.parse(hours[10]!.time) + minutes * 60 * 1000);
        expect(regionForecastAt(view(stored), at)).toEqual(forecastAt(rows, at));
      }
    }
  });

  it('knows a region without a forecast, whatever its shape', () => {
    expect(hasForecast(emptyRegionForecastView(region))).toBe(false);
    expect(hourlyOf(emptyRegionForecastView(region))).toEqual([]);
    expect(regionForecastAt(emptyRegionForecastView(region), new Date(recordedAt))).toBeUndefined();
    expect(hasForecast(fromColumns)).toBe(true);
    expect(hasForecast(oldView)).toBe(true);
  });
});
