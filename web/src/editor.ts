/**
 * The editors' form: proposes a place with the editor's function key. Field errors from the API's
 * problem+json are shown next to their fields; every submission carries an Idempotency-Key, reused
 * only when the very same proposal is sent again (a retry after a lost answer adds nothing).
 */
import {
  ApiProblem,
  callApi,
  type CommandAnswer,
  type FieldError,
  type OpeningDay,
  type OpeningWeek,
  type PlaceWithForecast,
} from './api.js';
import { byId, h, say } from './dom.js';
import { dayText, FACILITY_LABELS } from './format.js';
import { keyField } from './keys.js';

const form = byId('proposal', HTMLFormElement);
const key = keyField('key', 'forget-key', 'visitplannr.editorKey');
const outcome = byId('outcome', HTMLDivElement);
const summary = byId('error-summary', HTMLDivElement);
const errorList = byId('error-list', HTMLUListElement);
const submit = byId('submit', HTMLButtonElement);
const free = byId('free', HTMLInputElement);
const adultPrice = byId('adult-price', HTMLInputElement);
const childPrice = byId('child-price', HTMLInputElement);
const latitude = byId('latitude', HTMLInputElement);
const longitude = byId('longitude', HTMLInputElement);
const hereStatus = byId('here-status', HTMLParagraphElement);
const facilities = byId('facilities', HTMLDivElement);
const hoursInput = byId('opening-hours', HTMLInputElement);
const hoursError = byId('openingHours-error', HTMLParagraphElement);
const hoursPreview = byId('opening-preview', HTMLDivElement);

/** The field an API error names (its first path segment) → where its message goes and what to focus. */
const FIELDS: Readonly<Record<string, { readonly error: string; readonly inputs: readonly string[] }>> = {
  key: { error: 'key-error', inputs: ['key'] },
  name: { error: 'name-error', inputs: ['name'] },
  address: { error: 'address-error', inputs: ['address'] },
  geolocation: { error: 'geolocation-error', inputs: ['latitude', 'longitude'] },
  kind: { error: 'kind-error', inputs: ['kind'] },
  ageRange: { error: 'ageRange-error', inputs: ['age-min', 'age-max'] },
  price: { error: 'price-error', inputs: ['adult-price', 'child-price'] },
  facilities: { error: 'facilities-error', inputs: [] },
  openingHours: { error: 'openingHours-error', inputs: ['opening-hours'] },
  website: { error: 'website-error', inputs: ['website'] },
  description: { error: 'description-error', inputs: ['description'] },
};

const FIELD_NAMES: Readonly<Record<string, string>> = {
  key: 'Editor key',
  name: 'Name',
  address: 'Postcode or place name',
  geolocation: 'Coordinates',
  kind: 'Indoors or out',
  ageRange: 'Ages',
  price: 'Price',
  facilities: 'Facilities',
  openingHours: 'Opening hours',
  website: 'Website',
  description: 'Description',
};

let pending: { body: string; idempotencyKey: string } | undefined;

for (const [value, label] of Object.entries(FACILITY_LABELS)) {
  const id = `facility-${value}`;
  facilities.append(
    h(
      'div',
      { class: 'check' },
      h('input', { id, attrs: { type: 'checkbox', name: 'facilities', value } }),
      h('label', { text: label, attrs: { for: id } }),
    ),
  );
}

function syncPrices(): void {
  adultPrice.disabled = free.checked;
  childPrice.disabled = free.checked;
  if (free.checked) {
    adultPrice.value = '';
    childPrice.value = '';
  }
}

/** The trimmed value of a form control. */
function text(id: string): string {
  const control = document.getElementById(id);
  if (control instanceof HTMLInputElement || control instanceof HTMLSelectElement || control instanceof HTMLTextAreaElement)
    return control.value.trim();
  throw new Error(`The page has no form control #${id}.`);
}
/** A number when the text is one; otherwise the text itself, so the API names what is wrong with it. */
const numberOrText = (value: string): number | string => (/^[+-]?(\d+(\.\d*)?|\.\d+)$/.test(value) ? Number(value) : value);

function proposal(): Record<string, unknown> {
  const body: Record<string, unknown> = { name: text('name') };
  const [lat, lon] = [latitude.value.trim(), longitude.value.trim()];
  if (lat !== '' || lon !== '') body.geolocation = { latitude: numberOrText(lat), longitude: numberOrText(lon) };
  else if (text('address') !== '') body.address = text('address');
  if (text('kind') !== '') body.kind = text('kind');
  const [min, max] = [text('age-min'), text('age-max')];
  if (min !== '' || max !== '') body.ageRange = { min: numberOrText(min === '' ? '0' : min), max: numberOrText(max === '' ? '18' : max) };
  const [adult, child] = [adultPrice.value.trim(), childPrice.value.trim()];
  if (free.checked) body.price = { free: true };
  else if (adult !== '' || child !== '')
    body.price = {
      free: false,
      ...(adult !== '' && { adultGBP: numberOrText(adult) }),
      ...(child !== '' && { childGBP: numberOrText(child) }),
    };
  const chosen = [...facilities.querySelectorAll<HTMLInputElement>('input:checked')].map((box) => box.value);
  if (chosen.length > 0) body.facilities = chosen;
  if (hoursInput.value.trim() !== '') body.openingHours = hoursInput.value.trim();
  if (text('website') !== '') body.website = text('website');
  if (text('description') !== '') body.description = text('description');
  return body;
}

function clearErrors(): void {
  summary.hidden = true;
  errorList.replaceChildren();
  for (const field of Object.values(FIELDS)) {
    const message = byId(field.error, HTMLParagraphElement);
    message.hidden = true;
    message.textContent = '';
    for (const input of field.inputs) document.getElementById(input)?.removeAttribute('aria-invalid');
  }
}

function showErrors(errors: readonly FieldError[], fallback: string): void {
  const byField = new Map<string, string[]>();
  for (const error of errors) {
    // "Neither coordinates nor an address": said where editors usually answer it, at the address.
    if (error.field === 'geolocation' && latitude.value.trim() === '' && longitude.value.trim() === '') {
      byField.set('address', [...(byField.get('address') ?? []), 'give a postcode or place name, or the coordinates below']);
      continue;
    }
    const field = error.field.split('.')[0] ?? '';
    const known = Object.hasOwn(FIELDS, field) ? field : '';
    byField.set(known, [
      ...(byField.get(known) ?? []),
      known === '' && error.field !== '' ? `${error.field} ${error.message}` : error.message,
    ]);
  }
  if (byField.size === 0) byField.set('', [fallback]);
  const items: HTMLLIElement[] = [];
  for (const [field, messages] of byField) {
    const sentence = capitalise(messages.join('; '));
    const target = FIELDS[field];
    if (!target) {
      items.push(h('li', { text: sentence }));
      continue;
    }
    const message = byId(target.error, HTMLParagraphElement);
    message.textContent = sentence;
    message.hidden = false;
    for (const input of target.inputs) document.getElementById(input)?.setAttribute('aria-invalid', 'true');
    const focusId = target.inputs[0] ?? facilities.querySelector('input')?.id ?? 'name';
    const link = h('a', { text: `${FIELD_NAMES[field] ?? field}: ${sentence}`, attrs: { href: `#${focusId}` } });
    link.addEventListener('click', (event) => {
      event.preventDefault();
      document.getElementById(focusId)?.focus();
    });
    items.push(h('li', {}, link));
  }
  errorList.replaceChildren(...items);
  summary.hidden = false;
  summary.focus();
}

function capitalise(sentence: string): string {
  return sentence.charAt(0).toUpperCase() + sentence.slice(1);
}

function newIdempotencyKey(): string {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  return [...crypto.getRandomValues(new Uint8Array(16))].map((byte) => byte.toString(16).padStart(2, '0')).join('');
}

async function propose(): Promise<void> {
  clearErrors();
  say(outcome, '');
  const editorKey = key.value();
  if (editorKey === '') {
    showErrors([{ field: 'key', message: 'type your editor key' }], '');
    return;
  }
  const body = proposal();
  const serialised = JSON.stringify(body);
  if (pending?.body !== serialised) pending = { body: serialised, idempotencyKey: newIdempotencyKey() };
  submit.disabled = true;
  try {
    const answer = await callApi<CommandAnswer>('/api/places', {
      method: 'POST',
      key: editorKey,
      body,
      headers: { 'idempotency-key': pending.idempotencyKey },
    });
    pending = undefined;
    const name = typeof body.name === 'string' ? body.name : 'The place';
    resetPlaceFields();
    say(outcome, `Thank you: “${name}” was proposed. Its location is being checked; an admin will then review it.`, 'success');
    outcome.focus();
    void followStatus(answer.placeId, name, editorKey);
  } catch (error) {
    if (!(error instanceof ApiProblem)) throw error;
    if (error.status === 401) showErrors([{ field: 'key', message: 'that key was not accepted' }], '');
    else if (error.status === 400) showErrors(error.errors, error.message);
    else if (error.status === 422) {
      pending = undefined;
      showErrors([], 'This proposal could not be told apart from an earlier one; send it again.');
    } else {
      say(outcome, error.message, 'error');
      outcome.focus();
    }
  } finally {
    submit.disabled = false;
  }
}

function resetPlaceFields(): void {
  const keep = byId('key', HTMLInputElement).value;
  form.reset();
  byId('key', HTMLInputElement).value = keep;
  syncPrices();
  previewHours(0);
}

/** Long enough to wait out a word being typed, short enough to feel like it follows the typing. */
const PREVIEW_DELAY_MS = 300;
let previewTimer: ReturnType<typeof setTimeout> | undefined;
/** The preview request in flight: a newer value cancels it, so an older answer never draws over a newer one. */
let previewing: AbortController | undefined;

/** Reads the opening hours again after `delayMs`, cancelling the reading already waiting or in flight. */
function previewHours(delayMs = PREVIEW_DELAY_MS): void {
  clearTimeout(previewTimer);
  previewing?.abort();
  previewing = undefined;
  hoursPreview.removeAttribute('aria-busy');
  if (hoursInput.value.trim() === '') {
    showHoursError('');
    hoursPreview.hidden = true;
    hoursPreview.replaceChildren();
    return;
  }
  previewTimer = setTimeout(() => void showWeek(hoursInput.value.trim()), delayMs);
}

/** The form's coordinates when both are usable numbers: they set the time zone and the public holidays. */
function coordinates(): { lat: string; lon: string } | undefined {
  if (latitude.value.trim() === '' || longitude.value.trim() === '') return undefined;
  const [lat, lon] = [Number(latitude.value.trim()), Number(longitude.value.trim())];
  if (!Number.isFinite(lat) || !Number.isFinite(lon) || Math.abs(lat) > 90 || Math.abs(lon) > 180) return undefined;
  return { lat: String(lat), lon: String(lon) };
}

async function showWeek(value: string): Promise<void> {
  const controller = new AbortController();
  previewing = controller;
  // The week from the editor's today, as their own clock has it.
  const params = new URLSearchParams({ value, ...coordinates(), from: new Date().toISOString() });
  hoursPreview.setAttribute('aria-busy', 'true');
  try {
    const week = await callApi<OpeningWeek>(`/api/opening-hours/week?${params.toString()}`, { signal: controller.signal });
    if (controller !== previewing) return;
    showHoursError('');
    hoursPreview.replaceChildren(...weekTable(week));
    hoursPreview.hidden = false;
  } catch (error) {
    if (controller !== previewing || (error instanceof DOMException && error.name === 'AbortError')) return;
    if (error instanceof ApiProblem && error.status === 400) {
      // The parser's own words: they say where in the value it stopped understanding it.
      showHoursError(capitalise(error.errors.find((e) => e.field === 'value')?.message ?? error.message));
      hoursPreview.hidden = true;
      hoursPreview.replaceChildren();
    } else {
      // Not the value's fault: it may well be right, and the proposal can still be sent.
      showHoursError('');
      const message = h('p', {
        class: 'message',
        text: 'The week cannot be shown just now; the hours are checked again when you propose.',
      });
      hoursPreview.replaceChildren(message);
      hoursPreview.hidden = false;
    }
  } finally {
    if (controller === previewing) hoursPreview.removeAttribute('aria-busy');
  }
}

function showHoursError(message: string): void {
  hoursError.textContent = message;
  hoursError.hidden = message === '';
  if (message === '') hoursInput.removeAttribute('aria-invalid');
  else hoursInput.setAttribute('aria-invalid', 'true');
}

function weekTable(week: OpeningWeek): HTMLElement[] {
  const table = h(
    'table',
    { class: 'week' },
    h('caption', { text: 'The next 7 days' }),
    h(
      'tbody',
      {},
      ...week.days.map((day) =>
        h(
          'tr',
          { class: day.intervals.length === 0 ? 'closed' : '' },
          h('th', { text: dayText(day.date, day.weekday), attrs: { scope: 'row' } }),
          h(
            'td',
            {},
            hoursText(day),
            day.holiday !== undefined && ' ',
            day.holiday !== undefined && h('span', { class: 'holiday', text: day.holiday }),
          ),
        ),
      ),
    ),
  );
  const typed = week.value.trim();
  const parts: (HTMLElement | false)[] = [
    table,
    // How the parser read it, when that is not word for word what was typed: a check that it read what was meant.
    week.normalized !== '' && week.normalized !== typed && h('p', { class: 'hint' }, 'Read as ', h('code', { text: week.normalized })),
    week.warnings.length > 0 && h('ul', { class: 'hint warnings' }, ...week.warnings.map((warning) => h('li', { text: warning }))),
  ];
  return parts.filter((part): part is HTMLElement => part !== false);
}

/** "10:00–12:00, 13:00–17:00", "Closed", "10:00–17:00 (by appointment)". */
function hoursText(day: OpeningDay): string {
  if (day.intervals.length === 0) return 'Closed';
  return day.intervals
    .map((span) => {
      const note = span.comment ?? (span.unknown ? 'not certain' : undefined);
      return `${span.opens}–${span.closes}${note === undefined ? '' : ` (${note})`}`;
    })
    .join(', ');
}

/** Follows the new place until its location is checked, so the editor learns whether it was accepted. */
async function followStatus(placeId: string, name: string, editorKey: string): Promise<void> {
  for (let attempt = 0; attempt < 20; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    let place: PlaceWithForecast;
    try {
      place = await callApi<PlaceWithForecast>(`/api/manage/places/${encodeURIComponent(placeId)}`, { key: editorKey });
    } catch {
      continue;
    }
    if (place.status === 'locationValidated') {
      say(outcome, `“${name}”: its location is confirmed. It now waits for an admin to approve it.`, 'success');
      return;
    }
    if (place.status === 'locationRejected') {
      say(outcome, `“${name}”: the location was not accepted. ${place.statusReason ?? ''}`.trim(), 'error');
      return;
    }
    if (place.status !== 'proposed') return;
  }
}

async function useHere(): Promise<void> {
  if (!('geolocation' in navigator)) {
    say(hereStatus, 'This browser cannot share its location.', 'error');
    return;
  }
  say(hereStatus, 'Finding where you are…');
  try {
    const position = await new Promise<GeolocationPosition>((resolve, reject) =>
      navigator.geolocation.getCurrentPosition(resolve, reject, { enableHighAccuracy: true, timeout: 15_000 }),
    );
    latitude.value = position.coords.latitude.toFixed(5);
    longitude.value = position.coords.longitude.toFixed(5);
    say(hereStatus, 'Coordinates filled in from where you are.', 'success');
  } catch {
    say(hereStatus, 'Your location could not be found. Type the coordinates or an address instead.', 'error');
  }
}

free.addEventListener('change', syncPrices);
hoursInput.addEventListener('input', () => previewHours());
// Where the place is picks its time zone and public holidays: a changed place reads the hours again.
for (const coordinate of [latitude, longitude]) coordinate.addEventListener('change', () => previewHours(0));
byId('here', HTMLButtonElement).addEventListener('click', () => void useHere().then(() => previewHours(0)));
form.addEventListener('submit', (event) => {
  event.preventDefault();
  void propose();
});
syncPrices();
