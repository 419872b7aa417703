/**
 * The parents' page: where from (the browser's location, or a town or postcode), when, and for
 * whom; then the places nearby with the weather when you arrive and how well each suits it.
 * Without a location it shows the newest places.
 */
import {
  ApiProblem,
  callApi,
  type BestTimesAnswer,
  type BestTimeWindow,
  type Located,
  type NearbyAnswer,
  type NearbyResult,
  type NewestAnswer,
} from './api.js';
import { byId, h, icon, say } from './dom.js';
import { agesText, agoText, distanceText, KIND_LABELS, opensText, outOfTen, spanText, WEATHER_LABELS, whenText } from './format.js';

const DAY_MS = 86_400_000;

interface Origin {
  readonly latitude: number;
  readonly longitude: number;
  /** "your location", or what the geocoder matched. */
  readonly label: string;
  /** The text it was found from; undefined for the browser's location. */
  readonly query?: string;
}

const form = byId('search', HTMLFormElement);
const placeInput = byId('place', HTMLInputElement);
const locateButton = byId('use-location', HTMLButtonElement);
const whereStatus = byId('where-status', HTMLParagraphElement);
const daySelect = byId('day', HTMLSelectElement);
const timeSelect = byId('time', HTMLSelectElement);
const ageSelect = byId('age', HTMLSelectElement);
const radiusSelect = byId('radius', HTMLSelectElement);
const freeBox = byId('free', HTMLInputElement);
const openBox = byId('open', HTMLInputElement);
const resultsHeading = byId('results-heading', HTMLHeadingElement);
const resultsStatus = byId('results-status', HTMLParagraphElement);
const resultList = byId('result-list', HTMLOListElement);
const attribution = byId('attribution', HTMLParagraphElement);
const resultsSection = byId('results', HTMLElement);

let origin: Origin | undefined;
/** Only the latest search may draw: an older one still in flight is cancelled. */
let inFlight: AbortController | undefined;

/** Hours a family might arrive somewhere. */
const FIRST_HOUR = 7;
const LAST_HOUR = 20;
const dayName = new Intl.DateTimeFormat('en-GB', { weekday: 'long', day: 'numeric', month: 'short' });

function startOfDay(offset: number, now = new Date()): Date {
  return new Date(now.getFullYear(), now.getMonth(), now.getDate() + offset);
}

/** The arrival hours open on a day: from the next full hour today, up to 7 days from now on the last. */
function hoursOn(offset: number, now = new Date()): number[] {
  const hours: number[] = [];
  for (let hour = FIRST_HOUR; hour <= LAST_HOUR; hour++) {
    const at = startOfDay(offset, now);
    at.setHours(hour);
    if (at.getTime() > now.getTime() && at.getTime() < now.getTime() + 7 * DAY_MS) hours.push(hour);
  }
  return hours;
}

/** Today (from now) and the next days, as far as the forecast reaches: 7 days. */
function fillDays(): void {
  const now = new Date();
  const options: HTMLOptionElement[] = [];
  for (let offset = 0; offset <= 7; offset++) {
    if (offset > 0 && hoursOn(offset, now).length === 0) continue;
    const label = offset === 0 ? 'Today' : offset === 1 ? 'Tomorrow' : dayName.format(startOfDay(offset, now));
    options.push(h('option', { text: label, attrs: { value: String(offset) } }));
  }
  daySelect.replaceChildren(...options);
  fillTimes();
}

function fillTimes(): void {
  const offset = Number(daySelect.value);
  const previous = timeSelect.value;
  const hour = (n: number) => `${String(n).padStart(2, '0')}:00`;
  const options = [
    ...(offset === 0 ? [h('option', { text: 'Now', attrs: { value: 'now' } })] : []),
    ...hoursOn(offset).map((n) => h('option', { text: hour(n), attrs: { value: String(n) } })),
  ];
  timeSelect.replaceChildren(...options);
  // Keep the hour chosen on another day when this day has it; otherwise mid-morning, or now.
  const keep = [previous, '10'].find((value) => options.some((option) => option.value === value));
  if (keep !== undefined) timeSelect.value = keep;
}

/** The arrival time chosen: now, or a full hour up to 7 days ahead (what the forecast covers). */
function arrival(): Date {
  const now = new Date();
  if (timeSelect.value === 'now' || timeSelect.value === '') return now;
  const at = startOfDay(Number(daySelect.value), now);
  at.setHours(Number(timeSelect.value));
  return at.getTime() < now.getTime() ? now : at;
}

function selectedKind(): string {
  const checked = form.querySelector<HTMLInputElement>('input[name="kind"]:checked');
  return checked?.value ?? '';
}

function selectedSort(): 'distance' | 'suitability' {
  return form.querySelector<HTMLInputElement>('input[name="sort"]:checked')?.value === 'suitability' ? 'suitability' : 'distance';
}

function showWhere(message: string, tone: 'info' | 'error' | 'success' = 'info'): void {
  say(whereStatus, message, tone);
}

async function useDeviceLocation(): Promise<void> {
  if (!('geolocation' in navigator)) {
    showWhere('This browser cannot share your location. Type a town or postcode instead.', 'error');
    placeInput.focus();
    return;
  }
  locateButton.disabled = true;
  showWhere('Finding where you are…');
  try {
    const position = await new Promise<GeolocationPosition>((resolve, reject) =>
      navigator.geolocation.getCurrentPosition(resolve, reject, { enableHighAccuracy: false, timeout: 15_000, maximumAge: 300_000 }),
    );
    origin = { latitude: position.coords.latitude, longitude: position.coords.longitude, label: 'your location' };
    placeInput.value = '';
    showWhere('Using your location.', 'success');
    await search(true);
  } catch (error) {
    const denied = error instanceof GeolocationPositionError && error.code === error.PERMISSION_DENIED;
    showWhere(
      denied
        ? 'Location sharing is turned off for this site. Type a town or postcode instead.'
        : 'Your location could not be found just now. Type a town or postcode instead.',
      'error',
    );
    placeInput.focus();
  } finally {
    locateButton.disabled = false;
  }
}

/** Where to search from: the typed place (looked up once per text) or the browser's location. */
async function resolveOrigin(): Promise<Origin | undefined> {
  const typed = placeInput.value.trim();
  if (typed === '') return origin;
  if (origin?.query === typed) return origin;
  showWhere(`Looking up ${typed}…`);
  try {
    const found = await callApi<Located>(`/api/geocode?q=${encodeURIComponent(typed)}`);
    // "Chester, England, GB": the country code says nothing to a parent in Great Britain.
    const label = found.label.replace(/, GB$/, '');
    origin = { ...found, label, query: typed };
    showWhere(`Searching from ${label}.`, 'success');
    return origin;
  } catch (error) {
    const message =
      error instanceof ApiProblem && error.status === 404
        ? error.message
        : error instanceof ApiProblem && error.status === 400
          ? 'Type at least two letters of a town, or a postcode.'
          : error instanceof Error
            ? error.message
            : 'That place could not be looked up.';
    showWhere(message, 'error');
    placeInput.setAttribute('aria-invalid', 'true');
    placeInput.focus();
    return undefined;
  }
}

/** `reveal`: the parent asked (submit, their location), so the results are brought into view and focus. */
async function search(reveal = false): Promise<void> {
  placeInput.removeAttribute('aria-invalid');
  inFlight?.abort();
  const controller = new AbortController();
  inFlight = controller;
  // Busy from the start: looking the place up is part of the search.
  resultList.setAttribute('aria-busy', 'true');
  try {
    const from = await resolveOrigin();
    if (controller !== inFlight) return;
    if (!from) {
      if (placeInput.value.trim() === '') {
        showWhere('Type a town or postcode, or use your location.', 'error');
        placeInput.focus();
      }
      return;
    }
    const at = arrival();
    const params = new URLSearchParams({
      lat: from.latitude.toFixed(5),
      lon: from.longitude.toFixed(5),
      radiusKm: radiusSelect.value,
      at: at.toISOString(),
      limit: '20',
    });
    const kind = selectedKind();
    if (kind !== '') params.set('kind', kind);
    if (ageSelect.value !== '') params.set('age', ageSelect.value);
    if (freeBox.checked) params.set('free', 'true');
    if (openBox.checked) params.set('open', 'true');
    // Distance is the API's own order: left out, the URL (and its cached answer) stays as it was.
    if (selectedSort() === 'suitability') params.set('sort', 'suitability');
    say(resultsStatus, 'Searching…');
    const answer = await callApi<NearbyAnswer>(`/api/places/nearby?${params.toString()}`, { signal: controller.signal });
    if (controller !== inFlight) return;
    renderNearby(answer, from, at);
    if (reveal) {
      // On a phone the results are below the form: bring them up. Beside the form (desktop) they are in view already.
      resultsSection.focus({ preventScroll: true });
      const top = resultsHeading.getBoundingClientRect().top;
      if (top < 0 || top > window.innerHeight * 0.5) resultsSection.scrollIntoView({ block: 'start' });
    }
  } catch (error) {
    if (controller !== inFlight || (error instanceof DOMException && error.name === 'AbortError')) return;
    say(resultsStatus, error instanceof Error ? error.message : 'The search failed.', 'error');
  } finally {
    if (controller === inFlight) resultList.removeAttribute('aria-busy');
  }
}

function renderNearby(answer: NearbyAnswer, from: Origin, at: Date): void {
  resultsHeading.textContent = from.label === 'your location' ? 'Places near you' : `Places near ${from.label.split(',')[0] ?? from.label}`;
  const radius = `${radiusSelect.value} km`;
  const count = answer.results.length;
  say(
    resultsStatus,
    count === 0
      ? `No places within ${radius} match. Try a wider distance or fewer filters.`
      : `${count} ${count === 1 ? 'place' : 'places'} within ${radius}${openBox.checked ? ' open then' : ''}, weather for ${whenText(at)}.`,
  );
  resultList.replaceChildren(...answer.results.map((place) => nearbyCard(place, at)));
  // The weather's source is credited wherever its forecasts are shown.
  if (count > 0) showAttribution(answer.attribution);
  else attribution.hidden = true;
}

function nearbyCard(place: NearbyResult, at: Date): HTMLLIElement {
  const headingId = `place-${place.placeId}`;
  const tags = h(
    'ul',
    { class: 'tags', attrs: { 'aria-label': 'About this place' } },
    place.kind && h('li', { class: `tag tag-${place.kind}`, text: KIND_LABELS[place.kind] }),
    place.ageRange && h('li', { class: 'tag', text: agesText(place.ageRange) }),
    place.free === true && h('li', { class: 'tag tag-free', text: 'Free' }),
  );
  return h(
    'li',
    { class: 'card place' },
    h(
      'article',
      { attrs: { 'aria-labelledby': headingId } },
      h(
        'div',
        { class: 'place-head' },
        h('h3', { id: headingId, text: place.name }),
        h('p', {
          class: 'distance',
          text: distanceText(place.distanceKm),
          attrs: { 'aria-label': `${distanceText(place.distanceKm)} away` },
        }),
      ),
      tags.childElementCount > 0 && tags,
      openingLine(place, at),
      weatherBlock(place),
      suitabilityBlock(place),
      bestTimes(place),
    ),
  );
}

/** Whether the doors are open when the family gets there. Unknown hours say nothing: most places have none yet. */
function openingLine(place: NearbyResult, at: Date): HTMLElement | false {
  if (place.openAt === null) return false;
  if (place.openAt) return h('p', { class: 'opening opening-open', text: 'Open at that time' });
  return h(
    'p',
    { class: 'opening opening-closed' },
    'Closed at that time',
    // Kept whole: "opens Mon" on one line and "10:00" on the next reads as two facts.
    place.opensAt !== undefined && ' ',
    place.opensAt !== undefined && h('span', { class: 'opens', text: `— opens ${opensText(place.opensAt, at)}` }),
  );
}

function weatherBlock(place: NearbyResult): HTMLElement {
  const forecast = place.forecast;
  if (!forecast)
    return h('p', { class: 'weather weather-none' }, icon('wx-unknown'), h('span', { text: place.forecastNote ?? 'No forecast yet' }));
  const label = WEATHER_LABELS[forecast.weather];
  return h(
    'div',
    { class: 'weather' },
    icon(`wx-${forecast.weather}`, label, `icon wx wx-${forecast.weather}`),
    h(
      'dl',
      { class: 'weather-facts' },
      h('div', {}, h('dt', { class: 'visually-hidden', text: 'Weather' }), h('dd', { class: 'weather-label', text: label })),
      h(
        'div',
        {},
        h('dt', { class: 'visually-hidden', text: 'Temperature' }),
        h('dd', { class: 'temperature', text: `${Math.round(forecast.temperatureC)}°C` }),
      ),
      forecast.precipitationProbability !== null &&
        h('div', {}, h('dt', { text: 'Rain' }), h('dd', { class: 'rain', text: `${Math.round(forecast.precipitationProbability)}%` })),
    ),
  );
}

/** What the API says when a place scores 0 for being closed: the opening line above says it already. */
const CLOSED_REASON = 'Closed at that time';

function suitabilityBlock(place: NearbyResult): HTMLElement {
  const { score, reason } = place.suitability;
  if (score === null) {
    // The weather block already says why; a reason that only repeats it is left out.
    const repeats = /^no forecast/i.test(reason);
    return h(
      'div',
      { class: 'fit fit-unknown' },
      h('p', { class: 'fit-line' }, h('span', { class: 'fit-score', text: 'Unknown — no forecast yet' })),
      !repeats && h('p', { class: 'fit-reason', text: reason }),
    );
  }
  const tenths = outOfTen(score);
  const grade =
    score >= 0.9
      ? { name: 'good', text: 'Great choice' }
      : score >= 0.7
        ? { name: 'good', text: 'Good choice' }
        : score >= 0.45
          ? { name: 'fair', text: 'Worth a look' }
          : { name: 'poor', text: 'Not ideal' };
  const meter = h('meter', { attrs: { min: '0', max: '1', low: '0.45', high: '0.7', optimum: '1', 'aria-hidden': 'true' } });
  meter.value = score;
  return h(
    'div',
    { class: `fit fit-${grade.name}` },
    h(
      'p',
      { class: 'fit-line' },
      h('span', { class: 'fit-grade', text: grade.text }),
      h('span', { class: 'fit-score', text: `${tenths}/10`, attrs: { 'aria-label': `suitability ${tenths} out of 10` } }),
    ),
    meter,
    !(place.openAt === false && reason === CLOSED_REASON) && h('p', { class: 'fit-reason', text: reason }),
  );
}

/** How many of a place's best windows a card shows: the top few are the answer, a week of them is not. */
const BEST_TIMES_SHOWN = 3;

/** "Best times this week": a disclosure button whose panel loads the place's best windows the first time it opens. */
function bestTimes(place: NearbyResult): HTMLElement {
  const panelId = `best-${place.placeId}`;
  const button = h('button', {
    class: 'button secondary small best-toggle',
    text: 'Best times this week',
    attrs: { type: 'button', 'aria-expanded': 'false', 'aria-controls': panelId },
  });
  // Polite live region: the windows are read out once they arrive, after "Finding the best times…".
  const panel = h('div', { id: panelId, class: 'best-times', attrs: { 'aria-live': 'polite' } });
  panel.hidden = true;
  let loaded = false;
  button.addEventListener('click', () => {
    const expand = button.getAttribute('aria-expanded') !== 'true';
    button.setAttribute('aria-expanded', String(expand));
    panel.hidden = !expand;
    if (expand && !loaded) {
      loaded = true;
      void loadBestTimes(place, panel).then((ok) => {
        // A failure is not kept: opening the panel again tries again.
        if (!ok) loaded = false;
      });
    }
  });
  return h('div', { class: 'best' }, button, panel);
}

async function loadBestTimes(place: NearbyResult, panel: HTMLElement): Promise<boolean> {
  panel.setAttribute('aria-busy', 'true');
  panel.replaceChildren(h('p', { class: 'message', text: 'Finding the best times…' }));
  try {
    // From now: "this week" is the parent's week, whatever arrival time the search is for.
    const answer = await callApi<BestTimesAnswer>(`/api/places/${encodeURIComponent(place.placeId)}/best-times?days=7`);
    const top = answer.windows.slice(0, BEST_TIMES_SHOWN);
    if (top.length === 0) panel.replaceChildren(h('p', { class: 'message', text: answer.note ?? 'No good times in the next 7 days.' }));
    else {
      panel.replaceChildren(
        h('ol', { class: 'best-list', attrs: { 'aria-label': `Best times at ${place.name}, best first` } }, ...top.map(windowItem)),
      );
      // Beside a list, the note says what to check (the hours are not known: these are daylight hours).
      if (answer.note !== undefined) panel.append(h('p', { class: 'message best-note', text: answer.note }));
    }
    return true;
  } catch (error) {
    const message = h('p', { class: 'message', text: error instanceof Error ? error.message : 'The best times could not be loaded.' });
    message.dataset.tone = 'error';
    panel.replaceChildren(message);
    return false;
  } finally {
    panel.removeAttribute('aria-busy');
  }
}

/** "Sat 10:00–13:00 · 9/10 · Dry and bright". */
function windowItem(best: BestTimeWindow): HTMLLIElement {
  const tenths = outOfTen(best.score);
  return h(
    'li',
    {},
    h('span', { class: 'best-when', text: spanText(best.start, best.end, new Date()) }),
    ' · ',
    h('span', { class: 'best-score', text: `${tenths}/10` }),
    ' · ',
    h('span', { class: 'best-reason', text: best.reason }),
  );
}

function showAttribution(text: string): void {
  const name = 'Open-Meteo.com';
  const at = text.indexOf(name);
  if (at < 0) attribution.replaceChildren(text);
  else
    attribution.replaceChildren(
      text.slice(0, at),
      h('a', { text: name, attrs: { href: 'https://open-meteo.com/', rel: 'noopener' } }),
      text.slice(at + name.length),
    );
  attribution.hidden = false;
}

async function showNewest(): Promise<void> {
  try {
    const answer = await callApi<NewestAnswer>('/api/places/newest?limit=6');
    if (origin) return;
    resultsHeading.textContent = 'Newest places';
    say(
      resultsStatus,
      answer.results.length === 0
        ? 'No places yet.'
        : 'Give a town, a postcode or your location to see places near you with their weather.',
    );
    resultList.replaceChildren(
      ...answer.results.map((place) =>
        h(
          'li',
          { class: 'card place' },
          h(
            'article',
            { attrs: { 'aria-labelledby': `new-${place.placeId}` } },
            h('div', { class: 'place-head' }, h('h3', { id: `new-${place.placeId}`, text: place.name })),
            h(
              'ul',
              { class: 'tags' },
              place.kind && h('li', { class: `tag tag-${place.kind}`, text: KIND_LABELS[place.kind] }),
              h('li', { class: 'tag tag-new', text: `Added ${agoText(place.approvedAt)}` }),
            ),
          ),
        ),
      ),
    );
  } catch (error) {
    say(resultsStatus, error instanceof Error ? error.message : 'The newest places could not be loaded.', 'error');
  }
}

fillDays();
daySelect.addEventListener('change', fillTimes);
locateButton.addEventListener('click', () => void useDeviceLocation());
placeInput.addEventListener('input', () => {
  if (origin?.query === undefined) origin = undefined;
  placeInput.removeAttribute('aria-invalid');
});
form.addEventListener('submit', (event) => {
  event.preventDefault();
  void search(true);
});
// Once there is somewhere to search from, a changed filter searches again at once.
for (const control of [
  daySelect,
  timeSelect,
  ageSelect,
  radiusSelect,
  freeBox,
  openBox,
  ...form.querySelectorAll<HTMLInputElement>('input[name="kind"], input[name="sort"]'),
]) {
  control.addEventListener('change', () => {
    if (origin && (placeInput.value.trim() === '' || origin.query === placeInput.value.trim())) void search();
  });
}
void showNewest();
