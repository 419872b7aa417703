import { startDevhostProcess, type DevhostProcess } from '../support/devhostProcess';

/** Polls until `accept` holds or the time is up; returns the last value. */
async function within<T>(ms: number, probe: () => Promise<T>, accept: (value: T) => boolean): Promise<{ value: T; elapsedMs: number }> {
  const started = Date.now();
  for (;;) {
    const value = await probe();
    if (accept(value) || Date.now() - started > ms) return { value, elapsedMs: Date.now() - started };
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The next Saturday 12:00 in London at least an hour away (and so within the 7 days a search may look ahead). */
function nextSaturdayNoonInLondon(now: Date): Date {
  for (let days = 0; days <= 7; days++) {
    const date = new Date(now.getTime() + days * 24 * 3_600_000);
    if (date.getUTCDay() !== 6) continue;
    const day = date.toISOString().slice(0, 10);
    // Noon in London is 12:00 UTC in winter and 11:00 UTC in summer.
    const offsetHours = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', timeZoneName: 'shortOffset' })
      .formatToParts(new Date(`${day}T12:00:00Z`))
      .some((part) => part.type === 'timeZoneName' && part.value === 'GMT+1')
      ? 1
      : 0;
    const noon = new Date(`${day}T${String(12 - offsetHours).padStart(2, '0')}:00:00Z`);
    if (noon.getTime() > now.getTime() + 3_600_000) return noon;
  }
  throw new Error('no Saturday within a week');
}

describe('parents find approved places through the devhost', () => {
  let devhost: DevhostProcess;
  beforeAll(async () => {
    devhost = await startDevhostProcess();
  });
  afterAll(async () => {
    await devhost.stop();
  });

  const send = (method: string, path: string, key: string | undefined, body?: unknown) =>
    fetch(`${devhost.url}${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...(key && { 'x-functions-key': key }) },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
  const statusOf = async (placeId: string) =>
    ((await (await send('GET', `/api/manage/places/${placeId}`, devhost.keys.functionKey)).json()) as { status?: string }).status;
  const nearbyIds = async () =>
    (
      (await (await send('GET', '/api/places/nearby?lat=53.48&lon=-2.24&radiusKm=5', undefined)).json()) as {
        results: { placeId: string }[];
      }
    ).results.map((r) => r.placeId);
  const newestIds = async () =>
    ((await (await send('GET', '/api/places/newest?limit=50', undefined)).json()) as { results: { placeId: string }[] }).results.map(
      (r) => r.placeId,
    );

  it('propose → location validated → approve: the place appears in nearby and newest within 5 s; withdrawn, it disappears', async () => {
    const proposed = await send('POST', '/api/places', devhost.keys.functionKey, {
      name: 'Science and Industry Museum',
      geolocation: { latitude: 53.4771, longitude: -2.2547 },
      kind: 'indoor',
      ageRange: { min: 0, max: 16 },
      price: { free: true },
    });
    expect(proposed.status).toBe(202);
    const { placeId } = (await proposed.json()) as { placeId: string };

    // Not approved yet: parents get a 404, editors see it.
    expect((await send('GET', `/api/places/${placeId}`, undefined)).status).toBe(404);
    const validated = await within(
      10_000,
      () => statusOf(placeId),
      (status) => status === 'locationValidated',
    );
    expect(validated.value).toBe('locationValidated');

    expect((await send('POST', `/api/places/${placeId}/approve`, devhost.keys.masterKey, {})).status).toBe(200);
    const inNearby = await within(5000, nearbyIds, (ids) => ids.includes(placeId));
    expect(inNearby.value).toContain(placeId);
    const inNewest = await within(5000, newestIds, (ids) => ids.includes(placeId));
    expect(inNewest.value).toContain(placeId);
    expect(inNearby.elapsedMs).toBeLessThan(5000);

    const forParents = await send('GET', `/api/places/${placeId}`, undefined);
    expect(forParents.status).toBe(200);
    await expect(forParents.json()).resolves.toMatchObject({
      placeId,
      status: 'approved',
      kind: 'indoor',
      region: expect.stringMatching(/^gcw/),
    });

    expect(
      (await send('POST', `/api/places/${placeId}/withdraw`, devhost.keys.masterKey, { reason: 'Closed for refurbishment' })).status,
    ).toBe(200);
    const gone = await within(5000, nearbyIds, (ids) => !ids.includes(placeId));
    expect(gone.value).not.toContain(placeId);
    expect(await within(5000, newestIds, (ids) => !ids.includes(placeId)).then((r) => r.value)).not.toContain(placeId);
    expect((await send('GET', `/api/places/${placeId}`, undefined)).status).toBe(404);
  }, 60_000);

  it('from the search index: an approved place is found within 2 s of its view being written, and a withdrawn one gone within 2 s', async () => {
    // The first search of an instance loads the index (the store answers meanwhile).
    await nearbyIds();
    expect(
      (
        await within(
          10_000,
          () => Promise.resolve(devhost.output()),
          (output) => output.includes('SearchIndexLoaded'),
        )
      ).value,
    ).toContain('SearchIndexLoaded');
    const proposed = await send('POST', '/api/places', devhost.keys.functionKey, {
      name: 'Museum of Transport',
      geolocation: { latitude: 53.4781, longitude: -2.2411 },
      kind: 'indoor',
    });
    const { placeId } = (await proposed.json()) as { placeId: string };
    await within(
      10_000,
      () => statusOf(placeId),
      (status) => status === 'locationValidated',
    );
    expect((await send('POST', `/api/places/${placeId}/approve`, devhost.keys.masterKey, {})).status).toBe(200);
    // From the moment the place's own view (a point read of the store) says approved.
    expect(
      (
        await within(
          10_000,
          () => statusOf(placeId),
          (status) => status === 'approved',
        )
      ).value,
    ).toBe('approved');
    const found = await within(5_000, nearbyIds, (ids) => ids.includes(placeId));
    expect(found.value).toContain(placeId);
    expect(found.elapsedMs).toBeLessThanOrEqual(2_000);

    expect((await send('POST', `/api/places/${placeId}/withdraw`, devhost.keys.masterKey, { reason: 'Moved' })).status).toBe(200);
    expect(
      (
        await within(
          10_000,
          () => statusOf(placeId),
          (status) => status === 'withdrawn',
        )
      ).value,
    ).toBe('withdrawn');
    const gone = await within(5_000, nearbyIds, (ids) => !ids.includes(placeId));
    expect(gone.value).not.toContain(placeId);
    expect(gone.elapsedMs).toBeLessThanOrEqual(2_000);
  }, 60_000);

  it("answers parents' questions over HTTP: closed on arrival and when it opens, open=true, unknown hours, best times", async () => {
    // A weekday-only farm and a park whose hours nobody gave, a few hundred metres apart in Manchester.
    const propose = async (body: Record<string, unknown>) => {
      const answer = await send('POST', '/api/places', devhost.keys.functionKey, body);
      expect(answer.status).toBe(202);
      const { placeId } = (await answer.json()) as { placeId: string };
      await within(
        10_000,
        () => statusOf(placeId),
        (status) => status === 'locationValidated',
      );
      expect((await send('POST', `/api/places/${placeId}/approve`, devhost.keys.masterKey, {})).status).toBe(200);
      return placeId;
    };
    const farm = await propose({
      name: 'Weekday City Farm',
      geolocation: { latitude: 53.4601, longitude: -2.2301 },
      kind: 'outdoor',
      openingHours: 'Mo-Fr 10:00-17:00',
    });
    const park = await propose({ name: 'Hours Unknown Park', geolocation: { latitude: 53.4612, longitude: -2.2315 }, kind: 'outdoor' });

    const at = nextSaturdayNoonInLondon(new Date());
    type Result = {
      placeId: string;
      openingHours: string | null;
      openAt: boolean | null;
      opensAt?: string;
      suitability: { score: number | null; reason: string };
    };
    const search = async (extra = '') =>
      (
        (await (
          await send(
            'GET',
            `/api/places/nearby?lat=53.46&lon=-2.23&radiusKm=2&limit=100&at=${encodeURIComponent(at.toISOString())}${extra}`,
            undefined,
          )
        ).json()) as {
          results: Result[];
        }
      ).results;
    const found = await within(5000, search, (results) => [farm, park].every((id) => results.some((r) => r.placeId === id)));
    const farmResult = found.value.find((r) => r.placeId === farm);
    const monday = new Date(at.getTime() + 2 * 24 * 3_600_000);
    expect(farmResult).toMatchObject({
      openingHours: 'Mo-Fr 10:00-17:00',
      openAt: false,
      opensAt: expect.stringMatching(new RegExp(`^${monday.toISOString().slice(0, 10)}T10:00:00\\+0[01]:00$`)),
      suitability: { score: 0, reason: 'Closed at that time' },
    });
    expect(found.value.find((r) => r.placeId === park)).toMatchObject({ openingHours: null, openAt: null });
    expect((await search('&open=true')).map((r) => r.placeId)).not.toContain(farm);

    const bestTimes = await within(
      10_000,
      async () =>
        (await (await send('GET', `/api/places/${farm}/best-times?days=7`, undefined)).json()) as {
          windows: { start: string; end: string; score: number }[];
          note?: string;
        },
      (answer) => answer.windows.length > 0,
    );
    expect(bestTimes.value.windows.length).toBeGreaterThan(0);
    for (const window of bestTimes.value.windows) {
      const day = new Date(window.start).getUTCDay();
      expect([1, 2, 3, 4, 5]).toContain(day);
    }
    const scores = bestTimes.value.windows.map((w) => w.score);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
  }, 60_000);

  it("refuses opening hours the parser cannot read: 400 problem+json naming the field and the parser's message", async () => {
    const answer = await send('POST', '/api/places', devhost.keys.functionKey, {
      name: 'Typo Farm',
      geolocation: { latitude: 53.46, longitude: -2.23 },
      openingHours: 'Mo-Fx 10:00-17:00',
    });
    expect(answer.status).toBe(400);
    expect(answer.headers.get('content-type')).toBe('application/problem+json');
    const problem = (await answer.json()) as { errors: { field: string; message: string }[] };
    expect(problem.errors).toEqual([
      { field: 'openingHours', message: expect.stringMatching(/^is not valid opening_hours: Mo-F <--- \(Unexpected token/) },
    ]);
    const preview = await send('GET', '/api/opening-hours/week?value=Mo-Fx', undefined);
    expect(preview.status).toBe(400);
    expect(((await preview.json()) as { errors: { field: string }[] }).errors.map((e) => e.field)).toEqual(['value']);
  });

  it('answers a bad search with 400 problem+json naming the fields', async () => {
    const answer = await send('GET', '/api/places/nearby?lat=95&lon=x&radiusKm=80&colour=red', undefined);
    expect(answer.status).toBe(400);
    expect(answer.headers.get('content-type')).toBe('application/problem+json');
    const problem = (await answer.json()) as { errors: { field: string }[] };
    expect(problem.errors.map((e) => e.field).sort()).toEqual(['colour', 'lat', 'lon', 'radiusKm']);
  });

  it('lists the places awaiting moderation for key holders (GET /api/manage/places), earliest first; approved, a place moves list', async () => {
    const listed = async (status: string) =>
      (
        (await (await send('GET', `/api/manage/places?status=${status}&limit=100`, devhost.keys.functionKey)).json()) as {
          status: string;
          results: { placeId: string; name: string; status: string; description?: string }[];
        }
      ).results;
    const propose = async (name: string) =>
      (
        (await (
          await send('POST', '/api/places', devhost.keys.functionKey, {
            name,
            geolocation: { latitude: 53.4664, longitude: -2.2341 },
            description: `About ${name}`,
          })
        ).json()) as { placeId: string }
      ).placeId;
    const first = await propose('Waiting Museum A');
    const second = await propose('Waiting Museum B');
    const waiting = await within(
      10_000,
      () => listed('locationValidated'),
      (results) => [first, second].every((id) => results.some((r) => r.placeId === id)),
    );
    const ours = waiting.value.filter((r) => r.placeId === first || r.placeId === second);
    expect(ours).toEqual([
      expect.objectContaining({
        placeId: first,
        name: 'Waiting Museum A',
        status: 'locationValidated',
        description: 'About Waiting Museum A',
      }),
      expect.objectContaining({ placeId: second }),
    ]);
    expect(ours[0]).not.toHaveProperty('partitionKey');

    expect((await send('GET', '/api/manage/places', undefined)).status).toBe(401);
    const bad = await send('GET', '/api/manage/places?status=pending&limit=0', devhost.keys.functionKey);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { errors: { field: string }[] }).errors.map((e) => e.field).sort()).toEqual(['limit', 'status']);

    expect((await send('POST', `/api/places/${first}/approve`, devhost.keys.masterKey, {})).status).toBe(200);
    const after = await within(
      5000,
      () => listed('locationValidated'),
      (results) => !results.some((r) => r.placeId === first),
    );
    expect(after.value.map((r) => r.placeId)).not.toContain(first);
    expect((await listed('approved')).map((r) => r.placeId)).toContain(first);
  }, 60_000);
});
