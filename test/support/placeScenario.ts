import { adminActing, everyoneApproved, functionKeyCaller } from './callers';
import ngeohash from 'ngeohash';
import { randomUUID } from 'node:crypto';
import { executePlaceCommand, proposePlace, type EditingDeps } from '../../shared/places/application/placeCommands';
import type { NewEvent } from '../../shared/kernel/event';
import type { EventStore } from '../../shared/platform/eventSourcing/eventStore';
import { seededRandom } from '../../local/seededRandom';
import { type HourlyForecast } from '../../shared/kernel/forecast';

/** A deterministic pseudo-random sequence (mulberry32), so scenarios are the same every run. */
export { seededRandom };

const origin = { correlationId: 'scenario', requestId: 'scenario' };

/** Drives places through their lives with the real command side, so the events are the real ones. */
export async function placeLifecycles(store: EventStore, count: number, seed = 1): Promise<string[]> {
  const random = seededRandom(seed);
  let tick = Date.parse('2026-11-01T09:00:00Z');
  const deps: EditingDeps = {
    eventStore: store,
    clock: () => new Date((tick += 60_000)),
    newId: randomUUID,
    editorAccess: everyoneApproved,
  };
  const placeIds: string[] = [];
  for (let i = 0; i < count; i++) {
    const geolocation = { latitude: 50 + random() * 8, longitude: -5 + random() * 6.5 };
    const kind = (['indoor', 'outdoor', 'mixed'] as const)[i % 3];
    const { placeId } = await proposePlace(
      deps,
      { name: `Place ${i}`, geolocation, details: { kind, ageRange: { min: 0, max: 5 + (i % 12) }, price: { free: i % 2 === 0 } } },
      functionKeyCaller,
      origin,
    );
    placeIds.push(placeId);
    const fate = random();
    if (fate < 0.1) {
      await executePlaceCommand(deps, { type: 'RecordLocationRejected', data: { placeId, reason: 'outside the service area' } }, origin);
      continue;
    }
    const region = ngeohash.encode(geolocation.latitude, geolocation.longitude, 5);
    await executePlaceCommand(deps, { type: 'RecordLocationValidated', data: { placeId, geolocation, region } }, origin);
    if (fate < 0.2) continue;
    if (fate < 0.3) {
      await executePlaceCommand(
        deps,
        { type: 'RejectPlace', data: { placeId, reason: 'duplicate', now: deps.clock().toISOString() } },
        origin,
      );
      continue;
    }
    await executePlaceCommand(deps, { type: 'ApprovePlace', data: { placeId, now: deps.clock().toISOString() } }, origin);
    if (fate < 0.6)
      await executePlaceCommand(
        deps,
        {
          type: 'UpdatePlaceDetails',
          data: { ...adminActing(), placeId, changes: { description: `Updated ${i}`, name: `Place ${i} (renamed)` } },
        },
        origin,
      );
    if (fate > 0.9)
      await executePlaceCommand(
        deps,
        { type: 'WithdrawPlace', data: { ...adminActing(), placeId, reason: 'closed', now: deps.clock().toISOString() } },
        origin,
      );
  }
  return placeIds;
}

export function hourly(from: string, hours: number, rainPercent = 20): HourlyForecast[] {
  return Array.from({ length: hours }, (_, i) => ({
    time: new Date(Date.parse(from) + i * 3_600_000).toISOString(),
    temperatureC: 8 + (i % 6),
    precipitationProbability: rainPercent,
    precipitationMm: 0,
    weather: rainPercent >= 50 ? ('rain' as const) : ('partlyCloudy' as const),
    windKph: 12,
    gustKph: 20,
    uvIndex: 1,
  }));
}

/** Appends a region's activation and a forecast, as Parts 5 and 6 will. */
export async function regionWithForecast(store: EventStore, region: string, from: string, rainPercent = 20): Promise<void> {
  const meta = (): NewEvent['metadata'] => ({
    eventId: randomUUID(),
    correlationId: 'scenario',
    causationId: 'scenario',
    occurredAt: from,
  });
  const [lat, lon] = [ngeohash.decode(region).latitude, ngeohash.decode(region).longitude];
  await store.append(
    `region-${region}`,
    [
      { type: 'RegionActivated', data: { region, centre: { latitude: lat, longitude: lon } }, metadata: meta() },
      {
        type: 'ForecastUpdated',
        data: { region, source: 'open-meteo', issuedAt: from, cycleId: 'cycle-1', hourly: hourly(from, 48, rainPercent) },
        metadata: meta(),
      },
    ],
    0,
  );
}
