/**
 * The pages in a real browser (Chromium from npm, see support/chromium.ts, through playwright-core) against the compiled app
 * in the devhost (offline: local weather and geocoders). A parent on a phone searches by place name
 * and by location, with filters; people sign in through the devhost's stand-in for Entra ID sign-in:
 * one asks for editor access and an admin approves her, she proposes a place through the form, the
 * admin approves it, a change she makes waits for the admin, and parents find it; no page asks for or
 * shows a key; the search works with the keyboard alone; a parent sees which places are open when they
 * arrive and a place's best times this week; an editor sees the week their opening hours make as they
 * type them; and no page asks any other origin for anything. Screenshots at 375×812, 390×844 and
 * 1280×800 go to test-artifacts/screenshots/ for people to look at.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { chromiumExecutable } from '../support/chromium';
import { startDevhostProcess, type DevhostProcess } from '../support/devhostProcess';

const SCREENSHOTS = join(__dirname, '..', '..', 'test-artifacts', 'screenshots');
const PHONE = { width: 390, height: 844 };
/** The narrowest phone the pages are made for. */
const NARROW = { width: 375, height: 812 };
const DESKTOP = { width: 1280, height: 800 };
const CHESTER_ZOO_GATE = { latitude: 53.2262, longitude: -2.8822 };

interface Seed {
  readonly name: string;
  readonly geolocation: { latitude: number; longitude: number };
  readonly kind: 'indoor' | 'outdoor' | 'mixed';
  readonly ageRange: { min: number; max: number };
  readonly price: { free: boolean; adultGBP?: number; childGBP?: number };
  readonly openingHours?: string;
}

/** A few of local/data/uk-places.json: Manchester, with a mix of kinds, ages and prices, and Chester. */
const SEEDS: readonly Seed[] = [
  {
    name: 'Science and Industry Museum',
    geolocation: { latitude: 53.4771, longitude: -2.2547 },
    kind: 'indoor',
    ageRange: { min: 0, max: 16 },
    price: { free: true },
  },
  {
    name: 'Manchester Museum',
    geolocation: { latitude: 53.4664, longitude: -2.2341 },
    kind: 'indoor',
    ageRange: { min: 0, max: 16 },
    price: { free: true },
  },
  {
    name: 'Whitworth Art Gallery',
    geolocation: { latitude: 53.4603, longitude: -2.2295 },
    kind: 'mixed',
    ageRange: { min: 0, max: 16 },
    price: { free: true },
  },
  {
    name: 'Heaton Park',
    geolocation: { latitude: 53.5349, longitude: -2.2562 },
    kind: 'outdoor',
    ageRange: { min: 0, max: 16 },
    price: { free: true },
  },
  {
    name: 'LEGOLAND Discovery Centre Manchester',
    geolocation: { latitude: 53.4669, longitude: -2.3487 },
    kind: 'indoor',
    ageRange: { min: 3, max: 10 },
    price: { free: false, adultGBP: 22, childGBP: 22 },
  },
  {
    name: 'Chester Zoo',
    geolocation: { latitude: 53.227, longitude: -2.8847 },
    kind: 'outdoor',
    ageRange: { min: 0, max: 16 },
    price: { free: false, adultGBP: 36, childGBP: 27 },
  },
];

/**
 * Liverpool, far from the others so their searches do not change: one place open on weekdays only, one
 * open every day, and one whose hours are not known. (Made-up hours: what matters is that they differ.)
 */
const LIVERPOOL_SEEDS: readonly Seed[] = [
  {
    name: 'World Museum',
    geolocation: { latitude: 53.4101, longitude: -2.9815 },
    kind: 'indoor',
    ageRange: { min: 0, max: 16 },
    price: { free: true },
    openingHours: 'Mo-Fr 10:00-17:00',
  },
  {
    name: 'Museum of Liverpool',
    geolocation: { latitude: 53.404, longitude: -2.9953 },
    kind: 'indoor',
    ageRange: { min: 0, max: 16 },
    price: { free: true },
    openingHours: 'Mo-Su 10:00-17:00',
  },
  {
    name: 'Sefton Park',
    geolocation: { latitude: 53.3817, longitude: -2.9366 },
    kind: 'outdoor',
    ageRange: { min: 0, max: 16 },
    price: { free: true },
  },
];

/** People as the devhost's sign-in form takes them: roles comma-separated. */
interface Person {
  readonly userId: string;
  readonly name: string;
  readonly roles: string;
}

const ANN: Person = { userId: 'ann', name: 'Ann', roles: '' };
const BOB: Person = { userId: 'bob', name: 'Bob', roles: '' };
const ROOT: Person = { userId: 'root', name: 'Root', roles: 'admin' };

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

/**
 * The parents' page's day choice (days from today, London time) for the coming Saturday at noon: today
 * when it is Saturday morning, next Saturday when noon has passed (the page offers up to 7 days ahead).
 */
function nextSaturdayNoon(now = new Date()): string {
  const london = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', weekday: 'short', hour: '2-digit', hourCycle: 'h23' });
  const parts = london.formatToParts(now);
  const weekday = WEEKDAYS.indexOf(parts.find((part) => part.type === 'weekday')?.value ?? '');
  const hour = Number(parts.find((part) => part.type === 'hour')?.value);
  const offset = (6 - weekday + 7) % 7;
  return String(offset === 0 && hour >= 12 ? 7 : offset);
}

async function eventually<T>(probe: () => Promise<T>, accept: (value: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (accept(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Retries `check` on fresh values of `probe` until it passes or the time is up (then its failure stands). */
async function soon<T>(probe: () => Promise<T>, check: (value: T) => void, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    try {
      check(value);
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
}

/** The element's text, trimmed ('' when it has none). */
async function text(locator: Locator): Promise<string> {
  return ((await locator.textContent()) ?? '').trim();
}

describe('the pages in a browser', () => {
  let devhost: DevhostProcess;
  let browser: Browser | undefined;
  const requested: string[] = [];
  const policyViolations: string[] = [];
  const contexts: BrowserContext[] = [];

  const api = (method: string, path: string, key?: string, body?: unknown) =>
    fetch(`${devhost.url}${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...(key && { 'x-functions-key': key }) },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
  const placeAsScript = async (placeId: string) =>
    (await (await api('GET', `/api/manage/places/${placeId}`, devhost.keys.functionKey)).json()) as {
      status?: string;
      version?: number;
      description?: string;
    };
  const statusOf = async (placeId: string) => (await placeAsScript(placeId)).status;

  async function propose(place: Seed | { name: string; address: string }): Promise<string> {
    const answer = await api('POST', '/api/places', devhost.keys.functionKey, place);
    expect(answer.status).toBe(202);
    const { placeId } = (await answer.json()) as { placeId: string };
    expect(
      await eventually(
        () => statusOf(placeId),
        (status) => status === 'locationValidated',
      ),
    ).toBe('locationValidated');
    return placeId;
  }

  /** A browser context as a parent's phone or a desktop: British English, London time, every request recorded. */
  async function open(
    viewport: { width: number; height: number },
    options: { geolocation?: { latitude: number; longitude: number } } = {},
  ): Promise<Page> {
    const context = await browser!.newContext({
      viewport,
      locale: 'en-GB',
      timezoneId: 'Europe/London',
      ...(options.geolocation && { geolocation: options.geolocation }),
    });
    if (options.geolocation) await context.grantPermissions(['geolocation'], { origin: devhost.url });
    contexts.push(context);
    context.on('request', (request) => requested.push(request.url()));
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    page.on('console', (message) => {
      if (/Content Security Policy|Refused to/i.test(message.text())) policyViolations.push(message.text());
    });
    page.on('pageerror', (error) => policyViolations.push(`page error: ${error.message}`));
    return page;
  }

  /** Fills in the devhost's sign-in form (the page must be on it) and waits to be back on `returnTo`, signed in. */
  async function signInHere(page: Page, person: Person, returnTo: string): Promise<void> {
    await page.getByLabel('User id', { exact: true }).fill(person.userId);
    await page.getByLabel('Name or email', { exact: true }).fill(person.name);
    await page.getByLabel(/^Roles/).fill(person.roles);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL((url) => url.pathname === returnTo);
    await page
      .locator('#account')
      .filter({ hasText: `Signed in as ${person.name}` })
      .waitFor();
  }

  /** Signs a person in on /editor as an approved editor: they ask for access, the master key approves them. */
  async function approvedEditor(page: Page, person: Person): Promise<void> {
    await page.goto(`${devhost.url}/.auth/login/aad?post_login_redirect_uri=%2Feditor`);
    await signInHere(page, person, '/editor');
    expect([200, 202]).toContain((await page.request.post(`${devhost.url}/api/editor-access`, { data: {} })).status());
    expect((await api('POST', `/api/editors/${person.userId}/approve`, devhost.keys.masterKey, {})).status).toBe(200);
    await page.reload();
    await page.locator('#proposal').waitFor();
  }

  const shoot = (page: Page, name: string) => page.screenshot({ path: join(SCREENSHOTS, `${name}.png`) });
  const cards = (page: Page) => page.locator('#result-list > li');
  const cardNamed = (page: Page, name: string): Locator => cards(page).filter({ has: page.getByRole('heading', { name, exact: true }) });
  const cardNames = (page: Page) => cards(page).locator('h3').allTextContents();

  /** Waits for the results to be redrawn for a new search: the status leaves "Searching…". */
  async function settled(page: Page): Promise<void> {
    // Polled from here: the page's CSP (rightly) refuses the eval that waitForFunction would need.
    await soon(
      async () => ({
        busy: await page.locator('#result-list').getAttribute('aria-busy'),
        status: await text(page.locator('#results-status')),
      }),
      (state) => expect(state.busy === null && state.status !== 'Searching…').toBe(true),
    );
  }

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    devhost = await startDevhostProcess();
    const ids = await Promise.all([...LIVERPOOL_SEEDS, ...SEEDS].map((seed) => propose(seed)));
    // Approved in order, Liverpool first: the newest places, shown before any search, stay the ones in SEEDS.
    for (const placeId of ids) expect((await api('POST', `/api/places/${placeId}/approve`, devhost.keys.masterKey, {})).status).toBe(200);
    // Every seeded place listed nearby, each with its region's forecast (fetched at once on activation).
    for (const centre of [SEEDS[0]!.geolocation, SEEDS[5]!.geolocation, LIVERPOOL_SEEDS[0]!.geolocation]) {
      const listed = await eventually(
        async () =>
          (
            (await (await api('GET', `/api/places/nearby?lat=${centre.latitude}&lon=${centre.longitude}&radiusKm=15`)).json()) as {
              results: { forecast: unknown }[];
            }
          ).results,
        (results) => results.length > 0 && results.every((result) => result.forecast !== null),
        30_000,
      );
      expect(listed.every((result) => result.forecast !== null)).toBe(true);
    }
    browser = await chromium.launch({
      executablePath: await chromiumExecutable(),
      args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--lang=en-GB'],
      // Date and time fields draw in the process locale's format: a British parent's.
      env: { ...process.env, LANG: 'en_GB.UTF-8', LANGUAGE: 'en_GB' },
    });
  }, 120_000);

  afterAll(async () => {
    for (const context of contexts) await context.close().catch(() => undefined);
    await browser?.close();
    await devhost.stop();
  });

  it('a parent on a phone sees the newest places, then searches by place name: distance, weather, rain, suitability; the filters narrow it', async () => {
    const page = await open(PHONE);
    await page.goto(`${devhost.url}/`);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Find a day out');
    expect(await page.locator('html').getAttribute('lang')).toBe('en-GB');
    await page.getByRole('heading', { name: 'Newest places' }).waitFor();
    await cardNamed(page, 'Chester Zoo').waitFor();
    await shoot(page, 'parents-phone-newest');

    await page.getByLabel('Town or postcode', { exact: true }).fill('Manchester');
    await page.getByRole('button', { name: 'Find places' }).click();
    await page.getByRole('heading', { name: 'Places near Manchester' }).waitFor();
    await settled(page);
    expect((await cardNames(page)).sort()).toEqual([
      'Heaton Park',
      'LEGOLAND Discovery Centre Manchester',
      'Manchester Museum',
      'Science and Industry Museum',
      'Whitworth Art Gallery',
    ]);
    expect(await text(page.locator('#results-status'))).toContain('5 places within 10 km');

    const museum = cardNamed(page, 'Science and Industry Museum');
    expect(await text(museum.locator('.distance'))).toMatch(/^\d+(\.\d)? km$|^\d+ m$/);
    expect(await museum.locator('svg.wx[role="img"]').getAttribute('aria-label')).toMatch(
      /^(Sunny|Partly cloudy|Cloudy|Fog|Drizzle|Rain|Snow|Thunderstorms)$/,
    );
    expect(await text(museum.locator('.temperature'))).toMatch(/^-?\d+°C$/);
    expect(await text(museum.locator('.rain'))).toMatch(/^\d+%$/);
    expect(await text(museum.locator('.fit-score'))).toMatch(/^\d+\/10$/);
    // Indoors the weather hardly counts: the reason is that, unless the hour's (made-up, offline)
    // weather is bad enough to cost the score 5 % even indoors (rain ≥ 63 %, or thunder).
    const rain = Number((await text(museum.locator('.rain'))).replace('%', ''));
    const sky = await museum.locator('svg.wx[role="img"]').getAttribute('aria-label');
    const reason = await text(museum.locator('.fit-reason'));
    if (sky === 'Thunderstorms') expect(reason).toMatch(/^(Thunderstorms likely|\d+% chance of rain)$/);
    else expect(reason).toBe(rain >= 63 ? `${String(rain)}% chance of rain` : 'Indoors: fine whatever the weather');
    expect(await text(museum.locator('.tags'))).toContain('Free');
    // Every result has its weather icon drawn from the inline sprite, not an image request.
    const icons = await Promise.all((await cards(page).locator('svg.wx use').all()).map((use) => use.getAttribute('href')));
    expect(icons.map((href) => href?.startsWith('#wx-'))).toEqual([true, true, true, true, true]);
    expect(await page.locator('#attribution').isVisible()).toBe(true);
    expect(await text(page.locator('#attribution'))).toBe('Weather data by Open-Meteo.com (CC BY 4.0)');
    await shoot(page, 'parents-phone-results');

    // Filters: outdoor only; then free only; then a 13-year-old (LEGOLAND is for 3–10).
    await page.locator('label[for="kind-outdoor"]').click();
    await soon(
      () => cardNames(page),
      (names) => expect(names).toEqual(['Heaton Park']),
    );
    await page.locator('label[for="kind-any"]').click();
    await page.getByLabel('Free entry only', { exact: true }).check();
    await soon(
      () => cardNames(page),
      (names) => expect(names.sort()).toEqual(['Heaton Park', 'Manchester Museum', 'Science and Industry Museum', 'Whitworth Art Gallery']),
    );
    await page.getByLabel('Free entry only', { exact: true }).uncheck();
    await soon(
      () => cardNames(page),
      (names) => expect(names).toHaveLength(5),
    );
    await page.getByLabel('Child’s age', { exact: true }).selectOption('13');
    await soon(
      () => cardNames(page),
      (names) => expect(names.sort()).toEqual(['Heaton Park', 'Manchester Museum', 'Science and Industry Museum', 'Whitworth Art Gallery']),
    );
    await page.getByLabel('Child’s age', { exact: true }).selectOption('');

    // Another arrival time: tomorrow at 10:00, as the results then say.
    await page.getByLabel('Day', { exact: true }).selectOption({ label: 'Tomorrow' });
    await page.getByLabel('Time', { exact: true }).selectOption({ label: '10:00' });
    await soon(
      () => text(page.locator('#results-status')),
      (status) => expect(status).toMatch(/^5 places within 10 km, weather for \w{3} \d{1,2} \w{3},? 10:00\.$/),
    );
    expect(await page.getByLabel('Day', { exact: true }).locator('option').count()).toBeGreaterThanOrEqual(7);
  }, 90_000);

  it('a parent shares their (mocked) location and sees the places near them; at desktop width too', async () => {
    const page = await open(PHONE, { geolocation: CHESTER_ZOO_GATE });
    await page.goto(`${devhost.url}/`);
    await page.getByRole('button', { name: 'Use my location' }).click();
    await page.getByRole('heading', { name: 'Places near you' }).waitFor();
    await settled(page);
    expect(await cardNames(page)).toEqual(['Chester Zoo']);
    const zoo = cardNamed(page, 'Chester Zoo');
    expect(await text(zoo.locator('.distance'))).toMatch(/^\d+ m$/);
    expect(await text(zoo.locator('.temperature'))).toMatch(/°C$/);
    expect(await text(zoo.locator('.fit-reason'))).not.toBe('');
    expect(await text(page.locator('#where-status'))).toBe('Using your location.');
    await shoot(page, 'parents-phone-location');

    const desktop = await open(DESKTOP);
    await desktop.goto(`${devhost.url}/`);
    await desktop.getByLabel('Town or postcode', { exact: true }).fill('M3 4FP');
    await desktop.getByLabel('Town or postcode', { exact: true }).press('Enter');
    await desktop.getByRole('heading', { name: 'Places near M3 4FP' }).waitFor();
    await settled(desktop);
    expect(await cards(desktop).count()).toBe(5);
    await shoot(desktop, 'parents-desktop-results');
  }, 60_000);

  it('an unknown place name is told beside the field, not shown as an empty list', async () => {
    const page = await open(PHONE);
    await page.goto(`${devhost.url}/`);
    const field = page.getByLabel('Town or postcode', { exact: true });
    await field.fill('Atlantis');
    await page.getByRole('button', { name: 'Find places' }).click();
    await soon(
      () => text(page.locator('#where-status')),
      (message) => expect(message).toContain('Nothing matches "Atlantis"'),
    );
    expect(await field.getAttribute('aria-invalid')).toBe('true');
    expect(await page.locator(':focus').getAttribute('id')).toBe('place');
  }, 30_000);

  it('people sign in: Ann asks for editor access, an admin approves her; she proposes through the form and sees it in "My places"; the admin approves it; a change she makes waits for approval; parents see it once approved', async () => {
    // Ann, on a narrow phone, signed out: the page explains and offers sign-in, not the form.
    const ann = await open(NARROW);
    await ann.goto(`${devhost.url}/editor`);
    expect(await ann.getByRole('heading', { level: 1 }).textContent()).toBe('Propose a place');
    await ann.getByRole('heading', { name: 'Sign in to propose places' }).waitFor();
    expect(await text(ann.locator('#account'))).toBe('Sign in to propose places·Sign in');
    await shoot(ann, 'editor-phone-signed-out');
    expect(await ann.locator('#proposal').isHidden()).toBe(true);
    expect(await ann.locator('#my-places').isHidden()).toBe(true);
    await ann.locator('#signed-out').getByRole('link', { name: 'Sign in' }).click();
    await signInHere(ann, ANN, '/editor');
    expect(await text(ann.locator('#account'))).toBe('Signed in as Ann·Sign out');

    // Signed in with no editor access: she asks for it, with a reason.
    await ann.getByRole('heading', { name: 'Ask for editor access' }).waitFor();
    expect(await ann.locator('#proposal').isHidden()).toBe(true);
    await ann.getByLabel('Why would you like to be an editor? (optional)', { exact: true }).fill('I run a toddler group in Ancoats.');
    await ann.getByRole('button', { name: 'Ask for editor access' }).click();
    await ann.getByRole('heading', { name: 'Waiting for an administrator' }).waitFor();
    // The focus follows to what the page says now, not lost with the hidden button.
    expect(await ann.locator(':focus').getAttribute('id')).toBe('pending-heading');
    await shoot(ann, 'editor-phone-waiting');

    // Root, an administrator, on a desktop (a browser of their own).
    await eventually(
      async () =>
        (
          (await (await api('GET', '/api/manage/editors?status=pending', devhost.keys.masterKey)).json()) as {
            editors: { userId: string }[];
          }
        ).editors.map((editor) => editor.userId),
      (ids) => ids.includes(ANN.userId),
    );
    const admin = await open(DESKTOP);
    await admin.goto(`${devhost.url}/moderation`);
    await admin.getByRole('heading', { name: 'Sign in to moderate' }).waitFor();
    await admin.locator('#signed-out').getByRole('link', { name: 'Sign in' }).click();
    await signInHere(admin, ROOT, '/moderation');
    expect(await text(admin.locator('#account'))).toBe('Signed in as Root (administrator)·Sign out');
    expect(await admin.getByRole('tab', { name: /^Editors waiting/ }).getAttribute('aria-selected')).toBe('true');
    const editorItem = (name: string) =>
      admin.locator('#editor-list > li').filter({ has: admin.getByRole('heading', { name, exact: true }) });
    await editorItem('Ann').waitFor();
    expect(await text(editorItem('Ann'))).toContain('I run a toddler group in Ancoats.');
    await editorItem('Ann').getByRole('button', { name: 'Approve' }).click();
    await soon(
      () => text(admin.locator('#editors-status')),
      (message) => expect(message).toBe('Ann is an editor now: they can propose places.'),
    );

    // Ann checks again: the form, and her (empty) list of places.
    await ann.getByRole('button', { name: 'Check again' }).click();
    await ann.locator('#proposal').waitFor();
    await soon(
      () => text(ann.locator('#mine-status')),
      (message) => expect(message).toBe('You have not proposed any places yet.'),
    );
    const field = (label: string) => ann.getByLabel(label, { exact: true });
    await field('Website').fill('http://not-secure.example');
    await ann.getByRole('button', { name: 'Propose this place' }).click();
    // The API's problem+json: an empty name and a website that is not https, each beside its field.
    await soon(
      () => text(ann.locator('#name-error')),
      (message) => expect(message).toBe('Must not be empty'),
    );
    expect(await text(ann.locator('#website-error'))).toBe('Must be an https URL');
    expect(await text(ann.locator('#address-error'))).toBe('Give a postcode or place name, or the coordinates below');
    expect(await field('Name').getAttribute('aria-invalid')).toBe('true');
    expect(await ann.locator(':focus').getAttribute('id')).toBe('error-summary');
    await shoot(ann, 'editor-phone-errors');

    await field('Name').fill('Castlefield Play Barn');
    await field('Postcode or place name').fill('M3 4FP');
    await field('Indoors or out?').selectOption('indoor');
    await field('From age').fill('1');
    await field('To age').fill('8');
    await field('Free entry').check();
    await field('Pushchair friendly').check();
    await field('Café').check();
    await field('Website').fill('https://castlefield-play.example');
    await field('Description').fill('Soft play and a sand pit under the railway arches.');
    const proposed = ann.waitForResponse((response) => response.url().endsWith('/api/places') && response.request().method() === 'POST');
    await ann.getByRole('button', { name: 'Propose this place' }).click();
    const answer = await proposed;
    expect(answer.status()).toBe(202);
    expect(answer.request().headers()['idempotency-key']).toMatch(/^[0-9a-f-]{32,36}$/);
    // No key of any kind goes with it: the session cookie does (HttpOnly, so the page cannot read it).
    expect(answer.request().headers()['x-functions-key']).toBeUndefined();
    const barnId = ((await answer.json()) as { placeId: string }).placeId;
    await soon(
      () => text(ann.locator('#outcome')),
      (message) => expect(message).toContain('“Castlefield Play Barn”: its location is confirmed'),
      20_000,
    );
    expect(await field('Name').inputValue()).toBe('');
    expect(await ann.evaluate(`({ session: sessionStorage.length, local: localStorage.length, cookie: document.cookie })`)).toEqual({
      session: 0,
      local: 0,
      cookie: '',
    });
    const mine = (name: string) => ann.locator('#mine-list > li').filter({ has: ann.getByRole('heading', { name, exact: true }) });
    await soon(
      () => text(mine('Castlefield Play Barn').locator('.status-tag')),
      (status) => expect(status).toBe('Waiting for approval'),
    );
    await shoot(ann, 'editor-phone-proposed');
    await ann.locator('#mine-heading').scrollIntoViewIfNeeded();
    await shoot(ann, 'editor-phone-my-places');

    // A second place, proposed through the API, that the admin rejects with a reason.
    const doubtful = await propose({ name: 'Car Park Fun Zone', address: 'Knutsford' });

    await admin.getByRole('tab', { name: /^Places/ }).click();
    const item = (name: string) =>
      admin.locator('#moderation-list > li').filter({ has: admin.getByRole('heading', { name, exact: true }) });
    // Its location is checked by the app within seconds: the list is shown again until both wait there.
    await soon(
      async () => {
        await admin.getByRole('button', { name: 'Show places' }).click();
        await soon(
          () => text(admin.locator('#admin-status')),
          (status) => expect(status).not.toBe('Loading…'),
        );
        return admin.locator('#moderation-list h3').allTextContents();
      },
      (names) => expect(names).toEqual(expect.arrayContaining(['Castlefield Play Barn', 'Car Park Fun Zone'])),
      20_000,
    );
    const barnText = await text(item('Castlefield Play Barn'));
    for (const fact of ['M3 4FP', 'Ages 1–8', 'Pushchair friendly, Café', 'Free', 'Soft play', 'by Ann']) expect(barnText).toContain(fact);
    await shoot(admin, 'admin-desktop-list');
    await item('Car Park Fun Zone').getByRole('button', { name: 'Reject…' }).click();
    await item('Car Park Fun Zone').getByRole('button', { name: 'Reject this place' }).click();
    await soon(
      () => text(item('Car Park Fun Zone').locator('.field-error')),
      (message) => expect(message).toBe('Give a reason: the editor reads it.'),
    );
    await admin.getByLabel('Why reject “Car Park Fun Zone”?', { exact: true }).fill('Not a place for families: it is a car park.');
    expect(await item('Car Park Fun Zone').locator('.field-error').isHidden()).toBe(true);
    await shoot(admin, 'admin-desktop-reject');

    // Meanwhile the place changes (an administrator's script adds a description): the admin decides
    // at the version they read (If-Match), so the rejection is refused and the place shown again.
    const seen = (await placeAsScript(doubtful)).version ?? 0;
    const changedMeanwhile = await fetch(`${devhost.url}/api/places/${doubtful}`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json', 'x-functions-key': devhost.keys.masterKey, 'if-match': `"${seen}"` },
      body: JSON.stringify({ description: 'Now with a bouncy castle in bay 3.' }),
    });
    expect(changedMeanwhile.status).toBe(200);
    const refusal = admin.waitForResponse((response) => response.url().endsWith(`/api/places/${doubtful}/reject`));
    await item('Car Park Fun Zone').getByRole('button', { name: 'Reject this place' }).click();
    expect((await refusal).status()).toBe(412);
    expect((await refusal).request().headers()['if-match']).toBe(`"${seen}"`);
    await soon(
      () => text(admin.locator('#admin-status')),
      (message) => expect(message).toBe('This place, “Car Park Fun Zone”, was changed since you opened it: check it again.'),
    );
    expect(await admin.locator(':focus').getAttribute('id')).toBe('admin-status');
    // Read again: the change shows, the reason typed is kept, and the place still waits.
    await soon(
      () => text(item('Car Park Fun Zone')),
      (shown) => expect(shown).toContain('Now with a bouncy castle in bay 3.'),
    );
    expect(await admin.getByLabel('Why reject “Car Park Fun Zone”?', { exact: true }).inputValue()).toBe(
      'Not a place for families: it is a car park.',
    );
    expect(await statusOf(doubtful)).toBe('locationValidated');
    await shoot(admin, 'admin-desktop-changed-meanwhile');

    const rejection = admin.waitForRequest((request) => request.url().endsWith(`/api/places/${doubtful}/reject`));
    await item('Car Park Fun Zone').getByRole('button', { name: 'Reject this place' }).click();
    expect((await rejection).headers()['if-match']).toBe(`"${(await placeAsScript(doubtful)).version ?? 0}"`);
    await soon(
      () => text(admin.locator('#admin-status')),
      (message) => expect(message).toBe('“Car Park Fun Zone” is rejected.'),
    );
    const approval = admin.waitForRequest((request) => request.url().endsWith(`/api/places/${barnId}/approve`));
    const barnVersion = (await placeAsScript(barnId)).version ?? 0;
    await item('Castlefield Play Barn').getByRole('button', { name: 'Approve' }).click();
    expect((await approval).headers()['if-match']).toBe(`"${barnVersion}"`);
    await soon(
      () => text(admin.locator('#admin-status')),
      (message) => expect(message).toBe('“Castlefield Play Barn” is approved: parents can find it now.'),
    );
    expect(
      await eventually(
        () => statusOf(doubtful),
        (status) => status === 'rejected',
      ),
    ).toBe('rejected');

    // Bob asks too, and is approved likewise.
    const bob = await open(PHONE);
    await bob.goto(`${devhost.url}/editor`);
    await bob.locator('#signed-out').getByRole('link', { name: 'Sign in' }).click();
    await signInHere(bob, BOB, '/editor');
    await bob.getByRole('button', { name: 'Ask for editor access' }).click();
    await bob.getByRole('heading', { name: 'Waiting for an administrator' }).waitFor();
    await admin.getByRole('tab', { name: /^Editors waiting/ }).click();
    await soon(
      async () => {
        await admin.reload();
        await admin.locator('#editors-status').filter({ hasNotText: 'Loading…' }).waitFor();
        return admin.locator('#editor-list h3').allTextContents();
      },
      (names) => expect(names).toContain('Bob'),
    );
    await editorItem('Bob').getByRole('button', { name: 'Approve' }).click();
    await soon(
      () => text(admin.locator('#editors-status')),
      (message) => expect(message).toBe('Bob is an editor now: they can propose places.'),
    );

    // The approved place, as its owner reads it (with its version, for If-Match).
    const asOwner = async () =>
      (await (await ann.request.get(`${devhost.url}/api/manage/places/${barnId}`)).json()) as {
        status: string;
        version: number;
        description?: string;
        pendingRevision?: { revision: number };
      };
    const approved = await eventually(asOwner, (place) => place.status === 'approved');
    expect(approved.status).toBe('approved');

    // Bob, an editor but not its owner, may not change Ann's place.
    const bobs = await bob.request.patch(`${devhost.url}/api/places/${barnId}`, {
      headers: { 'if-match': `"${approved.version}"` },
      data: { description: 'Closed for good.' },
    });
    expect(bobs.status()).toBe(403);
    expect(bobs.headers()['content-type']).toContain('application/problem+json');
    expect(((await bobs.json()) as { type: string }).type).toMatch(/\/problems\/forbidden$/);

    // Ann changes her approved place: it waits for an admin, and parents keep the approved details.
    const newDescription = 'Soft play, a sand pit and a toddler corner under the railway arches.';
    const anns = await ann.request.patch(`${devhost.url}/api/places/${barnId}`, {
      headers: { 'if-match': `"${approved.version}"` },
      data: { description: newDescription },
    });
    expect(anns.status()).toBe(202);
    const revision = ((await anns.json()) as { pendingRevision?: number }).pendingRevision;
    expect(revision).toBe(1);
    const parentsSee = async () => ((await (await api('GET', `/api/places/${barnId}`)).json()) as { description?: string }).description;
    expect(await parentsSee()).toBe('Soft play and a sand pit under the railway arches.');
    await soon(
      async () => {
        await ann.reload();
        return text(mine('Castlefield Play Barn'));
      },
      (shown) => expect(shown).toContain('Change waiting for approval (revision 1)'),
    );
    expect(await text(mine('Castlefield Play Barn').locator('.status-tag'))).toBe('Approved: parents can find it');
    await mine('Castlefield Play Barn').scrollIntoViewIfNeeded();
    await shoot(ann, 'editor-phone-change-waiting');
    expect(await parentsSee()).toBe('Soft play and a sand pit under the railway arches.');

    // The admin reads the change (the field, what parents see now, what it would be) and approves it.
    const change = (name: string) => admin.locator('#change-list > li').filter({ has: admin.getByRole('heading', { name, exact: true }) });
    await soon(
      async () => {
        await admin.reload();
        await admin.getByRole('tab', { name: /^Changes waiting/ }).click();
        await admin.locator('#changes-status').filter({ hasNotText: 'Loading…' }).waitFor();
        return admin.locator('#change-list h3').allTextContents();
      },
      (names) => expect(names).toContain('Castlefield Play Barn'),
    );
    expect(await text(admin.getByRole('tab', { name: /^Changes waiting/ }))).toBe('Changes waiting (1)');
    const row = change('Castlefield Play Barn').locator('tbody tr');
    expect(await row.count()).toBe(1);
    expect(await text(row.locator('th'))).toBe('Description');
    expect(await row.locator('td').allTextContents()).toEqual(['Soft play and a sand pit under the railway arches.', newDescription]);
    expect(await text(change('Castlefield Play Barn'))).toContain('Revision 1, proposed by Ann');
    await shoot(admin, 'admin-desktop-changes');
    // The same on a narrow phone: each field's row stacks, "Now" and "Proposed" labelled.
    const phoneAdmin = await open(NARROW);
    await phoneAdmin.goto(`${devhost.url}/.auth/login/aad?post_login_redirect_uri=%2Fmoderation`);
    await signInHere(phoneAdmin, ROOT, '/moderation');
    await shoot(phoneAdmin, 'admin-phone-signed-in');
    await phoneAdmin.getByRole('tab', { name: /^Changes waiting/ }).click();
    await phoneAdmin.locator('#change-list > li').first().scrollIntoViewIfNeeded();
    await shoot(phoneAdmin, 'admin-phone-changes');
    await change('Castlefield Play Barn').getByRole('button', { name: 'Approve change' }).click();
    await soon(
      () => text(admin.locator('#changes-status')),
      (message) => expect(message).toBe('The change to “Castlefield Play Barn” is approved: parents see it now.'),
    );
    expect(await admin.locator('#change-list > li').count()).toBe(0);
    expect(await admin.locator(':focus').getAttribute('id')).toBe('changes-status');
    expect(
      await eventually(
        () => parentsSee(),
        (description) => description === newDescription,
      ),
    ).toBe(newDescription);

    // Its history: who did what, when.
    await admin.getByRole('tab', { name: /^Places/ }).click();
    await admin.getByLabel('Show', { exact: true }).selectOption('approved');
    await item('Castlefield Play Barn').waitFor();
    await item('Castlefield Play Barn').getByRole('button', { name: 'Show history' }).click();
    const history = item('Castlefield Play Barn').locator('.history > li .history-what');
    await soon(
      () => history.allTextContents(),
      (lines) =>
        expect(lines).toEqual([
          'Proposed by Ann',
          'Location confirmed (automatic)',
          'Approved by Root',
          'Change proposed by Ann',
          'Change approved by Root',
        ]),
    );
    await item('Castlefield Play Barn').locator('.history').scrollIntoViewIfNeeded();
    await shoot(admin, 'admin-desktop-history');

    // Ann reads in "My places" that her change was approved; a second one the admin rejects, with a
    // reason, and she reads that reason there.
    const mineNow = async () => {
      await ann.reload();
      await ann.locator('#mine-list > li').first().waitFor();
      return text(mine('Castlefield Play Barn'));
    };
    await soon(mineNow, (shown) => expect(shown).toContain('Your change (revision 1) was approved: parents see it.'));
    expect(await text(mine('Castlefield Play Barn'))).not.toContain('Change waiting for approval');
    const current = await eventually(asOwner, (place) => place.description === newDescription);
    const second = await ann.request.patch(`${devhost.url}/api/places/${barnId}`, {
      headers: { 'if-match': `"${current.version}"` },
      data: { description: 'Soft play, a sand pit, a toddler corner and a bar for the grown-ups.' },
    });
    expect(second.status()).toBe(202);
    expect(((await second.json()) as { pendingRevision?: number }).pendingRevision).toBe(2);
    await soon(
      async () => {
        await admin.reload();
        await admin.getByRole('tab', { name: /^Changes waiting/ }).click();
        await admin.locator('#changes-status').filter({ hasNotText: 'Loading…' }).waitFor();
        return admin.locator('#change-list h3').allTextContents();
      },
      (names) => expect(names).toContain('Castlefield Play Barn'),
    );
    expect(await text(change('Castlefield Play Barn'))).toContain('Revision 2, proposed by Ann');
    const refusedBecause = 'The description must be about what children can do there, not the bar.';
    await change('Castlefield Play Barn').getByRole('button', { name: 'Reject change…' }).click();
    await admin.getByLabel('Why reject the change to “Castlefield Play Barn”?', { exact: true }).fill(refusedBecause);
    await change('Castlefield Play Barn').getByRole('button', { name: 'Reject this change' }).click();
    await soon(
      () => text(admin.locator('#changes-status')),
      (message) => expect(message).toBe('The change to “Castlefield Play Barn” is rejected: parents keep seeing the approved details.'),
    );
    await soon(mineNow, (shown) => expect(shown).toContain(`Your change (revision 2) was not approved: ${refusedBecause}`));
    expect(await text(mine('Castlefield Play Barn').locator('.status-tag'))).toBe('Approved: parents can find it');
    expect(await mine('Castlefield Play Barn').locator('.revision-rejected').count()).toBe(1);
    await mine('Castlefield Play Barn').scrollIntoViewIfNeeded();
    await shoot(ann, 'editor-phone-change-rejected');
    expect(await parentsSee()).toBe(newDescription);

    // Approved editors can be suspended (Bob, with a reason), and suspended ones approved again.
    await admin.getByRole('tab', { name: /^Editors waiting/ }).click();
    await admin.locator('label[for="editors-approved"]').click();
    await editorItem('Bob').waitFor();
    expect(await text(editorItem('Bob'))).toContain('by Root');
    await editorItem('Bob').getByRole('button', { name: 'Suspend…' }).click();
    await admin.getByLabel('Why suspend Bob? (optional)', { exact: true }).fill('Changed other people’s places.');
    await editorItem('Bob').getByRole('button', { name: 'Suspend this editor' }).click();
    await soon(
      () => text(admin.locator('#editors-status')),
      (message) => expect(message).toBe('Bob is suspended.'),
    );
    await bob.reload();
    await bob.getByRole('heading', { name: 'Your editor access is suspended' }).waitFor();
    await soon(
      async () => {
        await admin.locator('label[for="editors-approved"]').click();
        await admin.locator('label[for="editors-suspended"]').click();
        await admin.locator('#editors-status').filter({ hasNotText: 'Loading…' }).waitFor();
        return admin.locator('#editor-list h3').allTextContents();
      },
      (names) => expect(names).toContain('Bob'),
    );
    expect(await text(editorItem('Bob'))).toContain('Changed other people’s places.');
    await shoot(admin, 'admin-desktop-suspended');
    await editorItem('Bob').getByRole('button', { name: 'Approve again' }).click();
    await soon(
      () => text(admin.locator('#editors-status')),
      (message) => expect(message).toBe('Bob is an editor now: they can propose places.'),
    );
    await bob.reload();
    await bob.locator('#proposal').waitFor();

    // The admin on a narrow phone: the rejected list, with the reason.
    await phoneAdmin.getByRole('tab', { name: /^Places/ }).click();
    await phoneAdmin.getByLabel('Show', { exact: true }).selectOption('rejected');
    await soon(
      async () => {
        await phoneAdmin.getByRole('button', { name: 'Show places' }).click();
        await soon(
          () => text(phoneAdmin.locator('#admin-status')),
          (status) => expect(status).not.toBe('Loading…'),
        );
        return text(phoneAdmin.locator('#moderation-list'));
      },
      (list) => expect(list).toContain('Not a place for families: it is a car park.'),
    );
    await shoot(phoneAdmin, 'admin-phone-rejected');

    // Signed out in the middle of an action (the sign-in ended): each page says so where the person
    // now is, above "Sign in", and the focus goes there, not lost with the hidden tabs or form.
    await phoneAdmin.getByRole('tab', { name: /^Editors waiting/ }).click();
    await phoneAdmin.locator('label[for="editors-approved"]').click();
    const annItem = phoneAdmin.locator('#editor-list > li').filter({ has: phoneAdmin.getByRole('heading', { name: 'Ann', exact: true }) });
    await annItem.getByRole('button', { name: 'Suspend…' }).click();
    await phoneAdmin.context().clearCookies();
    await annItem.getByRole('button', { name: 'Suspend this editor' }).click();
    await phoneAdmin.getByRole('heading', { name: 'Sign in to moderate' }).waitFor();
    expect(await text(phoneAdmin.locator('#access-status'))).toBe(
      'You are not signed in, or your sign-in has ended. Sign in again to carry on.',
    );
    expect(await phoneAdmin.locator(':focus').getAttribute('id')).toBe('signed-out-heading');
    expect(await phoneAdmin.locator('#tabs').isHidden()).toBe(true);
    expect(await phoneAdmin.locator('#panel-editors').isHidden()).toBe(true);
    await shoot(phoneAdmin, 'admin-phone-signed-out-midway');
    await ann.context().clearCookies();
    await ann.getByLabel('Name', { exact: true }).fill('Ancoats Sand Pit');
    await ann.getByRole('button', { name: 'Propose this place' }).click();
    await ann.getByRole('heading', { name: 'Sign in to propose places' }).waitFor();
    expect(await text(ann.locator('#access-status'))).toBe('You are not signed in, or your sign-in has ended. Sign in again to carry on.');
    expect(await ann.locator(':focus').getAttribute('id')).toBe('signed-out-heading');
    expect(await ann.locator('#proposal').isHidden()).toBe(true);

    const parent = await open(PHONE);
    await parent.goto(`${devhost.url}/`);
    await parent.getByLabel('Town or postcode', { exact: true }).fill('Manchester');
    await soon(
      async () => {
        await parent.getByRole('button', { name: 'Find places' }).click();
        await parent.getByRole('heading', { name: 'Places near Manchester' }).waitFor();
        await settled(parent);
        return cardNames(parent);
      },
      (names) => expect(names).toContain('Castlefield Play Barn'),
    );
    expect(await text(cardNamed(parent, 'Castlefield Play Barn').locator('.tags'))).toContain('Ages 1–8');
  }, 180_000);

  it('a signed-in person who is not an administrator is told /moderation is not for them, and nothing else is asked for', async () => {
    const page = await open(PHONE);
    const asked: string[] = [];
    page.on('request', (request) => {
      if (new URL(request.url()).pathname.startsWith('/api/')) asked.push(new URL(request.url()).pathname);
    });
    await page.goto(`${devhost.url}/.auth/login/aad?post_login_redirect_uri=%2Fmoderation`);
    await signInHere(page, { userId: 'dee', name: 'Dee', roles: '' }, '/moderation');
    await page.getByRole('heading', { name: 'This page is for administrators' }).waitFor();
    expect(await page.getByRole('tablist').count()).toBe(0);
    expect(asked).toEqual(['/api/me']);
    // A suspended editor is told so, and is not shown the form.
    await page.request.post(`${devhost.url}/api/editor-access`, { data: {} });
    expect((await api('POST', '/api/editors/dee/suspend', devhost.keys.masterKey, { reason: 'Testing.' })).status).toBe(200);
    await page.goto(`${devhost.url}/editor`);
    await page.getByRole('heading', { name: 'Your editor access is suspended' }).waitFor();
    expect(await page.locator('#proposal').isHidden()).toBe(true);
    // Signing out comes back to the page, signed out.
    await page.getByRole('link', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in to propose places' }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/editor');
  }, 30_000);

  it('no page asks for, or shows, a key: no password field, no "key" in a label or in the text, signed out or in', async () => {
    const signedOut = await open(PHONE);
    const editor = await open(NARROW);
    await approvedEditor(editor, { userId: 'erin', name: 'Erin', roles: '' });
    const admin = await open(NARROW);
    await admin.goto(`${devhost.url}/.auth/login/aad?post_login_redirect_uri=%2Fmoderation`);
    await signInHere(admin, { userId: 'root-2', name: 'Rita', roles: 'admin' }, '/moderation');
    await admin.locator('#tabs').waitFor();
    await shoot(admin, 'admin-phone-editors');
    const adminDesktop = await open(DESKTOP);
    await adminDesktop.goto(`${devhost.url}/.auth/login/aad?post_login_redirect_uri=%2Fmoderation`);
    await signInHere(adminDesktop, { userId: 'root-2', name: 'Rita', roles: 'admin' }, '/moderation');
    await adminDesktop.locator('#tabs').waitFor();
    await adminDesktop.locator('#editors-status').filter({ hasNotText: 'Loading…' }).waitFor();
    await shoot(adminDesktop, 'admin-desktop-signed-in');
    // The tabs work from the keyboard: arrows move between them (and wrap), Home and End go to the ends.
    const tab = (name: RegExp) => adminDesktop.getByRole('tab', { name });
    await tab(/^Editors waiting/).focus();
    await adminDesktop.keyboard.press('ArrowRight');
    expect(await tab(/^Places/).getAttribute('aria-selected')).toBe('true');
    expect(await adminDesktop.locator(':focus').getAttribute('id')).toBe('tab-places');
    expect(await adminDesktop.locator('#panel-places').isVisible()).toBe(true);
    expect(await adminDesktop.locator('#panel-editors').isHidden()).toBe(true);
    await adminDesktop.keyboard.press('End');
    expect(await adminDesktop.locator(':focus').getAttribute('id')).toBe('tab-changes');
    await adminDesktop.keyboard.press('ArrowRight');
    expect(await adminDesktop.locator(':focus').getAttribute('id')).toBe('tab-editors');
    expect(await adminDesktop.locator('#panel-editors').isVisible()).toBe(true);
    const editorDesktop = await open(DESKTOP);
    await approvedEditor(editorDesktop, { userId: 'erin', name: 'Erin', roles: '' });
    await shoot(editorDesktop, 'editor-desktop-signed-in');
    await shoot(editor, 'editor-phone-signed-in');

    const pages: [Page, string][] = [
      [signedOut, '/'],
      [signedOut, '/editor'],
      [signedOut, '/moderation'],
      [editor, '/editor'],
      [editor, '/'],
      [admin, '/moderation'],
      [admin, '/editor'],
    ];
    for (const [page, path] of pages) {
      if (new URL(page.url()).pathname !== path) await page.goto(`${devhost.url}${path}`);
      // The editors' and admins' pages say who is signed in once they know.
      if (path !== '/') await page.locator('#account').waitFor();
      expect(await page.locator('input[type="password"]').count()).toBe(0);
      const labels = await page.locator('label, legend').allTextContents();
      expect(labels.filter((label) => /key/i.test(label))).toEqual([]);
      const shown = String(await page.evaluate('document.body.innerText'));
      expect(shown.match(/\bkeys?\b/gi) ?? []).toEqual([]);
      expect(await page.evaluate('sessionStorage.length + localStorage.length')).toBe(0);
    }
  }, 60_000);

  it('the search can be done with the keyboard alone, with the focus visible', async () => {
    const page = await open(DESKTOP);
    await page.goto(`${devhost.url}/`);
    const focused = async () => String(await page.evaluate(`document.activeElement ? document.activeElement.id : ''`));
    for (let presses = 0; (await focused()) !== 'place' && presses < 10; presses++) await page.keyboard.press('Tab');
    expect(await focused()).toBe('place');
    // Reached by keyboard, so :focus-visible holds and the stylesheet draws its 3px outline.
    expect(await page.locator('#place:focus-visible').count()).toBe(1);
    expect(await page.evaluate('getComputedStyle(document.activeElement).outlineStyle')).toBe('solid');
    await page.keyboard.type('Chester');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Places near Chester' }).waitFor();
    await settled(page);
    expect(await cardNames(page)).toEqual(['Chester Zoo']);

    // On to the kind of place, and an arrow key: indoor only, and there is none near Chester.
    // The date-time field takes a Tab per part (day, month, year, hours, minutes).
    for (let presses = 0; !(await focused()).startsWith('kind-') && presses < 20; presses++) await page.keyboard.press('Tab');
    expect(await focused()).toBe('kind-any');
    await page.keyboard.press('ArrowRight');
    expect(await focused()).toBe('kind-indoor');
    await soon(
      () => text(page.locator('#results-status')),
      (status) => expect(status).toBe('No places within 10 km match. Try a wider distance or fewer filters.'),
    );
    expect(await cards(page).count()).toBe(0);
    await shoot(page, 'parents-desktop-keyboard');
  }, 60_000);

  /** Searches from a town; `day` and `time` are the values of the page's options (days from today, an hour). */
  async function searchFrom(page: Page, town: string, when?: { day: string; time: string }): Promise<void> {
    await page.goto(`${devhost.url}/`);
    if (when) {
      await page.getByLabel('Day', { exact: true }).selectOption(when.day);
      await page.getByLabel('Time', { exact: true }).selectOption(when.time);
    }
    await page.getByLabel('Town or postcode', { exact: true }).fill(town);
    await page.getByRole('button', { name: 'Find places' }).click();
    await page.getByRole('heading', { name: `Places near ${town}` }).waitFor();
    await settled(page);
  }

  it('a parent searching for Saturday noon sees which places are open then; "Open when we arrive" leaves the closed one out; best suited first', async () => {
    const saturdayNoon = { day: nextSaturdayNoon(), time: '12' };
    const page = await open(PHONE);
    await searchFrom(page, 'Liverpool', saturdayNoon);
    expect((await cardNames(page)).sort()).toEqual(['Museum of Liverpool', 'Sefton Park', 'World Museum']);
    expect(await text(page.locator('#results-status'))).toMatch(/^3 places within 10 km, weather for Sat \d{1,2} \w{3},? 12:00\.$/);

    const weekdaysOnly = cardNamed(page, 'World Museum');
    expect(await text(weekdaysOnly.locator('.opening'))).toBe('Closed at that time — opens Mon 10:00');
    // Closed then: the API scores it 0, whatever the weather.
    expect(await text(weekdaysOnly.locator('.fit-score'))).toBe('0/10');
    expect(await text(cardNamed(page, 'Museum of Liverpool').locator('.opening'))).toBe('Open at that time');
    // Hours not known: nothing said rather than a guess.
    expect(await cardNamed(page, 'Sefton Park').locator('.opening').count()).toBe(0);
    await shoot(page, 'parents-phone-opening');

    const searched = page.waitForRequest((request) => request.url().includes('/api/places/nearby') && request.url().includes('open=true'));
    await page.getByLabel('Open when we arrive', { exact: true }).check();
    await searched;
    await settled(page);
    const openNames = await cardNames(page);
    expect(openNames).toContain('Museum of Liverpool');
    expect(openNames).not.toContain('World Museum');
    expect(await text(page.locator('#results-status'))).toMatch(/^\d places? within 10 km open then, weather for /);
    await page.locator('.search-card').screenshot({ path: join(SCREENSHOTS, 'parents-phone-filters.png') });
    await page.getByLabel('Open when we arrive', { exact: true }).uncheck();
    await soon(
      () => cardNames(page),
      (names) => expect(names).toHaveLength(3),
    );

    // Best suited first: the scores read down the list never rise, and the closed museum (0/10) is last.
    const sorted = page.waitForRequest(
      (request) => request.url().includes('/api/places/nearby') && request.url().includes('sort=suitability'),
    );
    await page.locator('label[for="sort-suitability"]').click();
    await sorted;
    await settled(page);
    const scores = (await cards(page).locator('.fit-score').allTextContents()).map((score) => Number(score.split('/')[0]));
    expect(scores).toHaveLength(3);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
    // Unless the park's made-up weather scores it 0 too (a tie), the closed museum is last.
    if (scores[1] !== 0) expect((await cardNames(page))[2]).toBe('World Museum');

    const desktop = await open(DESKTOP);
    await searchFrom(desktop, 'Liverpool', saturdayNoon);
    expect(await text(cardNamed(desktop, 'World Museum').locator('.opening'))).toBe('Closed at that time — opens Mon 10:00');
    await shoot(desktop, 'parents-desktop-opening');
  }, 90_000);

  it('a place with no forecast yet shows its suitability as unknown, not as a number', async () => {
    const page = await open(PHONE);
    // The local weather always answers, so the state of a region not yet forecast is made here: the
    // app's real answer, with one place's forecast taken away as the API then gives it.
    await page.route('**/api/places/nearby?*', async (route) => {
      const response = await route.fetch();
      const answer = (await response.json()) as { results: Record<string, unknown>[] };
      const results = answer.results.map((result) =>
        result.name === 'Sefton Park'
          ? {
              ...result,
              forecast: null,
              forecastNote: 'No forecast for this area yet',
              suitability: { score: null, reason: 'No forecast yet' },
            }
          : result,
      );
      await route.fulfill({ response, json: { ...answer, results } });
    });
    await searchFrom(page, 'Liverpool');
    const park = cardNamed(page, 'Sefton Park');
    expect(await text(park.locator('.fit-score'))).toBe('Unknown — no forecast yet');
    expect(await park.locator('meter').count()).toBe(0);
    expect(await text(park.locator('.weather'))).toBe('No forecast for this area yet');
    await park.scrollIntoViewIfNeeded();
    await shoot(page, 'parents-phone-unknown-suitability');
  }, 30_000);

  it('a parent opens "Best times this week" on a card, with the keyboard, and sees its best windows', async () => {
    const page = await open(DESKTOP);
    await searchFrom(page, 'Liverpool');
    const card = cardNamed(page, 'Museum of Liverpool');
    const toggle = card.getByRole('button', { name: 'Best times this week' });
    expect(await toggle.getAttribute('aria-expanded')).toBe('false');
    const panel = page.locator(`#${(await toggle.getAttribute('aria-controls')) ?? 'missing'}`);
    expect(await panel.isHidden()).toBe(true);

    await toggle.focus();
    const answered = page.waitForResponse((response) => /\/api\/places\/[^/]+\/best-times/.test(response.url()));
    await page.keyboard.press('Enter');
    expect((await answered).status()).toBe(200);
    expect(await toggle.getAttribute('aria-expanded')).toBe('true');
    const windows = panel.locator('.best-list > li');
    await windows.first().waitFor();
    const lines = (await windows.allTextContents()).map((line) => line.trim());
    expect(lines.length).toBeGreaterThanOrEqual(1);
    expect(lines.length).toBeLessThanOrEqual(3);
    // "Sat 10:00–13:00 · 9/10 · Dry and bright": today and tomorrow by name, a week ahead with its date.
    for (const line of lines)
      expect(line).toMatch(
        /^(Today|Tomorrow|(Mon|Tue|Wed|Thu|Fri|Sat|Sun)( \d{1,2} \w{3})?) \d\d:\d\d–(\w{3} )?\d\d:\d\d · (10|\d)\/10 · \S.*$/,
      );
    // Best first, as the API orders them.
    const scores = lines.map((line) => Number(/ · (\d+)\/10 · /.exec(line)?.[1]));
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
    await shoot(page, 'parents-desktop-best-times');

    // Space closes it again (a real button), and the focus stays on it.
    await page.keyboard.press('Space');
    expect(await toggle.getAttribute('aria-expanded')).toBe('false');
    expect(await panel.isHidden()).toBe(true);
    expect(await page.evaluate('document.activeElement && document.activeElement.textContent')).toBe('Best times this week');

    const phone = await open(PHONE);
    await searchFrom(phone, 'Liverpool');
    const phoneCard = cardNamed(phone, 'Museum of Liverpool');
    await phoneCard.getByRole('button', { name: 'Best times this week' }).click();
    await phoneCard.locator('.best-list > li').first().waitFor();
    await phoneCard.scrollIntoViewIfNeeded();
    await shoot(phone, 'parents-phone-best-times');
  }, 60_000);

  it('an editor types opening hours and sees the week they make, holidays named; an invalid value shows the parser’s message', async () => {
    const editor = await open(PHONE);
    // Christmas week, on the editor's clock: the week read back has public holidays in it.
    await editor.clock.setFixedTime(new Date('2026-12-21T09:00:00Z'));
    const carol: Person = { userId: 'carol', name: 'Carol', roles: '' };
    await approvedEditor(editor, carol);
    const weeks: string[] = [];
    editor.on('request', (request) => {
      if (request.url().includes('/api/opening-hours/week')) weeks.push(request.url());
    });
    await editor.goto(`${devhost.url}/editor`);
    const field = (label: string) => editor.getByLabel(label, { exact: true });
    await field('Latitude').fill('53.4771');
    await field('Longitude').fill('-2.2547');
    const hours = field('Opening hours');
    await hours.pressSequentially('Mo-Fr 10:00-17:00; Sa,Su 09:30-18:00; PH off', { delay: 15 });

    const rows = editor.locator('#opening-preview tbody tr');
    const week = async () =>
      Promise.all((await rows.all()).map(async (row) => `${await text(row.locator('th'))}: ${await text(row.locator('td'))}`));
    await soon(week, (days) =>
      expect(days).toEqual([
        'Mon 21 Dec: 10:00–17:00',
        'Tue 22 Dec: 10:00–17:00',
        'Wed 23 Dec: 10:00–17:00',
        'Thu 24 Dec: 10:00–17:00',
        expect.stringMatching(/^Fri 25 Dec: Closed \S/),
        expect.stringMatching(/^Sat 26 Dec: Closed \S/),
        'Sun 27 Dec: 09:30–18:00',
      ]),
    );
    // Closed on Christmas Day and Boxing Day for being public holidays, and the preview says so.
    expect(await rows.locator('.holiday').count()).toBe(2);
    expect(await text(rows.nth(4).locator('.holiday'))).not.toBe('');
    // Typed a key at a time, read once it settled (300 ms): not a request per key, and from where the place is.
    // (Some slack: on a busy machine a key can come more than 300 ms after the one before.)
    expect(weeks.length).toBeLessThanOrEqual(8);
    const asked = new URL(weeks[weeks.length - 1]!);
    expect(Object.fromEntries(asked.searchParams)).toMatchObject({
      value: 'Mo-Fr 10:00-17:00; Sa,Su 09:30-18:00; PH off',
      lat: '53.4771',
      lon: '-2.2547',
    });
    expect(await editor.locator('#openingHours-error').isHidden()).toBe(true);
    await editor.locator('#opening-preview').scrollIntoViewIfNeeded();
    await shoot(editor, 'editor-phone-hours-preview');

    const refused = editor.waitForResponse((response) => response.url().includes('/api/opening-hours/week') && response.status() === 400);
    await hours.fill('Mo-Fr 10:00-17:00; Sa 25:99-26:00');
    const problem = (await (await refused).json()) as { errors?: { field: string; message: string }[] };
    const parserSays = problem.errors?.find((error) => error.field === 'value')?.message ?? '';
    expect(parserSays).not.toBe('');
    await soon(
      () => text(editor.locator('#openingHours-error')),
      (message) => expect(message.toLowerCase()).toBe(parserSays.trim().toLowerCase()),
    );
    expect(await hours.getAttribute('aria-invalid')).toBe('true');
    expect(await editor.locator('#opening-preview').isHidden()).toBe(true);
    await shoot(editor, 'editor-phone-hours-invalid');

    // Put right, the preview is back; proposed, the hours go as the string typed.
    await hours.fill('Tu-Su 10:00-17:00; Dec 25 off');
    await soon(
      async () => (await week())[0],
      (monday) => expect(monday).toBe('Mon 21 Dec: Closed'),
    );
    expect(await hours.getAttribute('aria-invalid')).toBeNull();
    const desktop = await open(DESKTOP);
    await desktop.clock.setFixedTime(new Date('2026-12-21T09:00:00Z'));
    await approvedEditor(desktop, carol);
    await desktop.getByLabel('Opening hours', { exact: true }).fill('Mo-Fr 10:00-17:00; Sa,Su 09:30-18:00; PH off');
    await desktop.locator('#opening-preview tbody tr').nth(6).waitFor();
    await desktop.locator('#opening-preview').scrollIntoViewIfNeeded();
    await shoot(desktop, 'editor-desktop-hours-preview');

    await field('Name').fill('Ancoats Play Loft');
    const proposed = editor.waitForResponse((response) => response.url().endsWith('/api/places') && response.request().method() === 'POST');
    await editor.getByRole('button', { name: 'Propose this place' }).click();
    const answer = await proposed;
    expect(answer.status()).toBe(202);
    expect((answer.request().postDataJSON() as { openingHours?: unknown }).openingHours).toBe('Tu-Su 10:00-17:00; Dec 25 off');
  }, 60_000);

  it('makes no request to any other origin, and breaks no rule of its Content-Security-Policy', () => {
    const origin = new URL(devhost.url).origin;
    expect(requested.length).toBeGreaterThan(20);
    expect(requested.filter((url) => new URL(url).origin !== origin)).toEqual([]);
    expect(policyViolations).toEqual([]);
  });
});
