import { as, everyoneApproved, functionKeyCaller, testAccess } from '../support/callers';
/**
 * A correlation id from an HTTP request, followed in-process through every function it reaches: the
 * answer's header, the events' metadata, the CloudEvent `correlationid` extension, the subscribers'
 * result events, the forecast-refresh-requests message and the region's forecast event, and every
 * log line each function writes on the way.
 */
import { randomUUID } from 'node:crypto';
import { HttpRequest, HttpResponse, InvocationContext } from '@azure/functions';
import ngeohash from 'ngeohash';
import { activateRegionHandler } from '../../handlers/activateRegion.eventGrid';
import { fetchRegionForecastNowHandler } from '../../handlers/fetchRegionForecastNow.queue';
import { projectEventsHandler } from '../../handlers/projectEvents.cosmos';
import { proposePlaceHandler } from '../../handlers/proposePlace.http';
import { publishEventsHandler } from '../../handlers/publishEvents.cosmos';
import { validatePlaceLocationHandler } from '../../handlers/validatePlaceLocation.eventGrid';
import { toEventDocumentId } from '../../shared/platform/eventSourcing/adapters/cosmosEventStore';
import type { RecordedEvent } from '../../shared/kernel/event';
import { InMemoryEventStore } from '../../shared/platform/eventSourcing/adapters/inMemoryEventStore';
import type { Geocoder } from '../../shared/places/application/geocoder';
import { withProblemDetails } from '../../shared/platform/http/httpHandler';
import { HttpProblem } from '../../shared/platform/http/problem';
import { InMemoryEventPublisher } from '../../shared/platform/publishing/adapters/inMemoryEventPublisher';
import { InMemoryForecastRefreshQueue } from '../../shared/regions/application/forecastRefreshRequests';
import { InMemoryDeadLetterStore } from '../../shared/platform/views/deadLetters';
import { InMemoryViewStore } from '../../shared/platform/views/adapters/inMemoryViewStore';
import type { ForecastLocation, LocationForecast, WeatherProvider } from '../../shared/regions/application/weatherProvider';

/** Every line each function wrote, by function name. */
const lines: { fn: string; level: string; text: string }[] = [];
function contextFor(functionName: string, invocationId: string = randomUUID()): InvocationContext {
  return new InvocationContext({
    invocationId,
    functionName,
    logHandler: (level, ...args) => lines.push({ fn: functionName, level, text: args.map(String).join(' ') }),
  });
}

const noGeocoding: Geocoder = { geocode: () => Promise.reject(new Error('not used: the proposal has coordinates')) };

class FixedWeather implements WeatherProvider {
  readonly name = 'open-meteo';
  readonly maxLocationsPerRequest = 50;
  fetchForecasts(locations: readonly ForecastLocation[], options?: { onRequest?: (ms: number) => void }): Promise<LocationForecast[]> {
    options?.onRequest?.(12);
    return Promise.resolve(
      locations.map((location) => ({
        region: location.region,
        ok: true as const,
        source: this.name,
        issuedAt: new Date().toISOString(),
        hourly: [
          {
            time: '2026-11-27T10:00:00.000Z',
            temperatureC: 9,
            precipitationProbability: 10,
            precipitationMm: 0,
            weather: 'cloudy' as const,
            windKph: 12,
            gustKph: 20,
            uvIndex: 1,
          },
        ],
      })),
    );
  }
}

const asDocument = (event: RecordedEvent) => ({
  id: toEventDocumentId(event.streamId, event.version),
  streamId: event.streamId,
  version: event.version,
  type: event.type,
  data: event.data,
  metadata: event.metadata,
});

describe('a correlation id from the HTTP request to the forecast', () => {
  const store = new InMemoryEventStore();
  const publisher = new InMemoryEventPublisher();
  const queue = new InMemoryForecastRefreshQueue();
  const views = new InMemoryViewStore();
  const base = { eventStore: store, clock: () => new Date(), newId: randomUUID, editorAccess: everyoneApproved, ...testAccess };

  it('is echoed, stored, published, carried by every result and message, and in every log line', async () => {
    // POST /api/places with x-correlation-id.
    const request = new HttpRequest({
      method: 'POST',
      url: 'http://localhost:7071/api/places',
      headers: { 'content-type': 'application/json', 'x-correlation-id': 'corr-42', ...as(functionKeyCaller) },
      body: { string: JSON.stringify({ name: 'Science and Industry Museum', geolocation: { latitude: 53.4771, longitude: -2.2547 } }) },
    });
    const answer = new HttpResponse(await proposePlaceHandler(base)(request, contextFor('proposePlace')));
    expect(answer.status).toBe(202);
    expect(answer.headers.get('x-correlation-id')).toBe('corr-42');
    expect(answer.headers.get('etag')).toBe('"1"');

    // The change feed: projected and published.
    const proposed = [...store.allEvents()];
    await projectEventsHandler({ ...base, views, deadLetters: new InMemoryDeadLetterStore(), geohash: ngeohash.encode })(
      proposed.map(asDocument),
      contextFor('projectEvents'),
    );
    await publishEventsHandler({ eventPublisher: publisher })(proposed.map(asDocument), contextFor('publishEvents'));
    const [proposedCloudEvent] = publisher.published;
    expect(proposedCloudEvent).toMatchObject({ type: 'VisitPlannr.PlaceProposed', correlationid: 'corr-42' });

    // Event Grid → validate the location.
    await validatePlaceLocationHandler({ ...base, geocoder: noGeocoding, regionPrecision: 5 })(
      proposedCloudEvent,
      contextFor('validatePlaceLocation'),
    );
    const validated = store.allEvents().find((event) => event.type === 'PlaceLocationValidated');
    expect(validated?.metadata).toMatchObject({ correlationId: 'corr-42', causationId: proposedCloudEvent?.id });

    // The change feed again → Event Grid → activate the region.
    await publishEventsHandler({ eventPublisher: publisher })([asDocument(validated!)], contextFor('publishEvents'));
    const validatedCloudEvent = publisher.published.find((event) => event.type === 'VisitPlannr.PlaceLocationValidated');
    expect(validatedCloudEvent?.correlationid).toBe('corr-42');
    await activateRegionHandler({ ...base, forecastRefreshQueue: queue })(validatedCloudEvent, contextFor('activateRegion'));
    expect(store.allEvents().find((event) => event.type === 'RegionActivated')?.metadata.correlationId).toBe('corr-42');
    const [message] = queue.requests();
    expect(message?.correlationId).toBe('corr-42');

    // The queue → the forecast now.
    await fetchRegionForecastNowHandler(() => ({
      ...base,
      views,
      weather: new FixedWeather(),
      forecast: { refreshMinutes: 60, dailyCallBudget: 5000, parallelism: 4 },
    }))(message, contextFor('fetchRegionForecastNow'));
    expect(store.allEvents().find((event) => event.type === 'ForecastUpdated')?.metadata.correlationId).toBe('corr-42');

    // Every line of every function carries the id, as a key=value pair.
    const functions = [
      'proposePlace',
      'projectEvents',
      'publishEvents',
      'validatePlaceLocation',
      'activateRegion',
      'fetchRegionForecastNow',
    ];
    expect(new Set(lines.map((line) => line.fn))).toEqual(new Set(functions));
    for (const line of lines) expect(line.text).toMatch(/ correlationIds?=(\S+,)*corr-42(,\S+)*$/);
    expect(lines.map((line) => line.text.split(' ')[0])).toEqual([
      'PlaceCommand',
      'EventsProjected',
      'EventsPublished',
      'PlaceLocationChecked',
      'EventsPublished',
      'RegionActivation',
      'ForecastFetchNow',
    ]);
  });

  it('logs a malformed delivery under the correlationid extension it carries, and throws on', async () => {
    lines.length = 0;
    const malformed = {
      specversion: '1.0',
      id: 'x',
      type: 'VisitPlannr.PlaceProposed',
      correlationid: 'corr-bad',
      data: { hello: 'world' },
    };
    await expect(
      validatePlaceLocationHandler({ ...base, geocoder: noGeocoding, regionPrecision: 5 })(malformed, contextFor('validatePlaceLocation')),
    ).rejects.toThrow(/not a Visit Plannr event/);
    expect(lines).toEqual([
      {
        fn: 'validatePlaceLocation',
        level: 'error',
        text: expect.stringMatching(/^EventMalformed function=validatePlaceLocation error=".*" correlationId=corr-bad$/),
      },
    ]);
  });
});

describe('x-correlation-id on every answer', () => {
  const call = async (handler: Parameters<typeof withProblemDetails>[0], headers: Record<string, string> = {}) => {
    lines.length = 0;
    const request = new HttpRequest({ method: 'GET', url: 'http://localhost:7071/api/places/newest', headers });
    const response = new HttpResponse(await withProblemDetails(handler)(request, contextFor('newestPlaces', 'invocation-7')));
    return response;
  };

  it('echoes a well-formed id, and answers with the invocation id for a missing or malformed one', async () => {
    const ok = () => Promise.resolve({ status: 200, headers: { 'cache-control': 'public, max-age=60' }, jsonBody: { results: [] } });
    const echoed = await call(ok, { 'x-correlation-id': 'abc-123:x.y' });
    expect(echoed.headers.get('x-correlation-id')).toBe('abc-123:x.y');
    expect(echoed.headers.get('cache-control')).toBe('public, max-age=60');
    expect((await call(ok)).headers.get('x-correlation-id')).toBe('invocation-7');
    expect((await call(ok, { 'x-correlation-id': 'has spaces in it' })).headers.get('x-correlation-id')).toBe('invocation-7');
    expect((await call(ok, { 'x-correlation-id': 'x'.repeat(129) })).headers.get('x-correlation-id')).toBe('invocation-7');
  });

  it('carries it on problem answers and on a 500 too, and logs them under it', async () => {
    const problem = await call(() => Promise.reject(new HttpProblem(400, 'bad')), { 'x-correlation-id': 'c-400' });
    expect(problem.status).toBe(400);
    expect(problem.headers.get('content-type')).toBe('application/problem+json');
    expect(problem.headers.get('x-correlation-id')).toBe('c-400');
    expect(lines).toEqual([
      { fn: 'newestPlaces', level: 'information', text: 'HttpProblem function=newestPlaces method=GET status=400 correlationId=c-400' },
    ]);

    const failure = await call(() => Promise.reject(new Error('Cosmos said no')), { 'x-correlation-id': 'c-500' });
    expect(failure.status).toBe(500);
    expect(failure.headers.get('x-correlation-id')).toBe('c-500');
    expect(lines[0]).toEqual({
      fn: 'newestPlaces',
      level: 'error',
      text: expect.stringMatching(
        /^HttpFailed function=newestPlaces method=GET status=500 invocationId=invocation-7 correlationId=c-500 Error: Cosmos said no/,
      ),
    });
  });
});
