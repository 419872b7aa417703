/**
 * The editors' page. Who is signed in decides what it shows: a way to sign in; a request for editor
 * access; word that the request waits for an administrator, or that access is suspended; or, for an
 * approved editor (and an admin), the form to propose a place and the list of their own places.
 *
 * The form: field errors from the API's problem+json are shown next to their fields; every
 * submission carries an Idempotency-Key, reused only when the very same proposal is sent again (a
 * retry after a lost answer adds nothing).
 */
import {
  ApiProblem,
  callApi,
  type CommandAnswer,
  type EditorAccessAnswer,
  type FieldError,
  type ListedPlace,
  type ManagedPlace,
  type ManagedPlaceList,
  type Me,
  type OpeningDay,
  type OpeningWeek,
  type PlaceStatus,
} from './api.js';
import { byId, h, say } from './dom.js';
import { agoText, dayText, FACILITY_LABELS } from './format.js';
import { historyToggle } from './history.js';
import { showAccount, whoIsSignedIn } from './session.js';

const form = byId('proposal', HTMLFormElement);
const account = byId('account', HTMLElement);
const accessStatus = byId('access-status', HTMLDivElement);
const signedOut = byId('signed-out', HTMLDivElement);
const askForm = byId('ask-access', HTMLFormElement);
const askReason = byId('access-reason', HTMLTextAreaElement);
const askReasonError = byId('access-reason-error', HTMLParagraphElement);
const askSubmit = byId('ask-submit', HTMLButtonElement);
const pendingStep = byId('access-pending', HTMLDivElement);
const suspendedStep = byId('access-suspended', HTMLDivElement);
const myPlaces = byId('my-places', HTMLElement);
const mineStatus = byId('mine-status', HTMLDivElement);
const mineList = byId('mine-list', HTMLUListElement);
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
  const body = proposal();
  const serialised = JSON.stringify(body);
  if (pending?.body !== serialised) pending = { body: serialised, idempotencyKey: newIdempotencyKey() };
  submit.disabled = true;
  try {
    const answer = await callApi<CommandAnswer>('/api/places', {
      method: 'POST',
      body,
      headers: { 'idempotency-key': pending.idempotencyKey },
    });
    pending = undefined;
    const name = typeof body.name === 'string' ? body.name : 'The place';
    resetPlaceFields();
    say(outcome, `Thank you: “${name}” was proposed. Its location is being checked; an admin will then review it.`, 'success');
    outcome.focus();
    void loadMine();
    void followStatus(answer.placeId, name);
  } catch (error) {
    if (!(error instanceof ApiProblem)) throw error;
    if (error.status === 401 || error.status === 403) {
      // Signed out meanwhile, or no longer an editor: the page shows where they stand now, and says why.
      void refreshAccess(submit, error.message);
    } else if (error.status === 400) showErrors(error.errors, error.message);
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
  form.reset();
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
async function followStatus(placeId: string, name: string): Promise<void> {
  for (let attempt = 0; attempt < 20; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    let place: ManagedPlace;
    try {
      place = await callApi<ManagedPlace>(`/api/manage/places/${encodeURIComponent(placeId)}`);
    } catch {
      continue;
    }
    if (place.status === 'proposed') continue;
    if (place.status === 'locationValidated')
      say(outcome, `“${name}”: its location is confirmed. It now waits for an admin to approve it.`, 'success');
    else if (place.status === 'locationRejected')
      say(outcome, `“${name}”: the location was not accepted. ${place.statusReason ?? ''}`.trim(), 'error');
    void loadMine();
    return;
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

// --- Who is signed in, and what they may do -----------------------------------------------------

type Step = 'signedOut' | 'ask' | 'pending' | 'suspended' | 'editor' | 'unknown';

/** Shows the part of the page for where the person stands, and hides the rest. */
function show(step: Step): void {
  signedOut.hidden = step !== 'signedOut';
  askForm.hidden = step !== 'ask';
  pendingStep.hidden = step !== 'pending';
  suspendedStep.hidden = step !== 'suspended';
  form.hidden = step !== 'editor';
  myPlaces.hidden = step !== 'editor';
  if (step !== 'editor') {
    say(outcome, '');
    clearErrors();
  }
}

function stepOf(me: Me | undefined): Step {
  if (!me) return 'signedOut';
  if (me.isAdmin || me.editorStatus === 'approved') return 'editor';
  if (me.editorStatus === 'none') return 'ask';
  return me.editorStatus;
}

const HEADINGS: Readonly<Partial<Record<Step, string>>> = {
  signedOut: 'signed-out-heading',
  ask: 'ask-heading',
  pending: 'pending-heading',
  suspended: 'suspended-heading',
};

/**
 * Reads who is signed in and shows their part of the page. `focusAfter`: where the focus was (a
 * button that is now hidden, say), so it moves to the new part's heading rather than being lost.
 * `notice`: why access was checked again (a 401 or 403 in the middle of something), said above the
 * part now shown (the form's own messages being hidden with it), or beside the form if that stays.
 */
async function refreshAccess(focusAfter?: HTMLElement, notice?: string): Promise<void> {
  let me: Me | undefined;
  try {
    me = await whoIsSignedIn();
  } catch (error) {
    show('unknown');
    const unknown = error instanceof Error ? error.message : 'Who is signed in could not be told. Reload the page to try again.';
    say(accessStatus, notice === undefined ? unknown : `${notice} ${unknown}`, 'error');
    if (focusAfter) accessStatus.focus();
    return;
  }
  showAccount(account, me, 'Sign in to propose places');
  const step = stepOf(me);
  show(step);
  say(
    accessStatus,
    step === 'editor' && me?.isAdmin && me.editorStatus !== 'approved' ? 'You are an administrator: you may propose places too.' : '',
  );
  if (step === 'editor') void loadMine();
  if (notice !== undefined) {
    if (step === 'editor') {
      say(outcome, notice, 'error');
      outcome.focus();
      return;
    }
    say(accessStatus, notice, 'error');
  }
  const heading = HEADINGS[step];
  if (focusAfter && heading !== undefined) document.getElementById(heading)?.focus();
}

async function askForAccess(): Promise<void> {
  const reason = askReason.value.trim();
  askReasonError.hidden = true;
  askReason.removeAttribute('aria-invalid');
  askSubmit.disabled = true;
  try {
    await callApi<EditorAccessAnswer>('/api/editor-access', { method: 'POST', body: reason === '' ? {} : { reason } });
    await refreshAccess(askSubmit);
  } catch (error) {
    if (error instanceof ApiProblem && error.status === 400 && error.errors.length > 0) {
      askReasonError.textContent = capitalise(error.errors.map((e) => e.message).join('; '));
      askReasonError.hidden = false;
      askReason.setAttribute('aria-invalid', 'true');
      askReason.focus();
    } else if (error instanceof ApiProblem && (error.status === 401 || error.status === 409)) {
      await refreshAccess(askSubmit, error.message);
    } else {
      say(accessStatus, error instanceof Error ? error.message : 'Your request could not be sent. Try again.', 'error');
      accessStatus.focus();
    }
  } finally {
    askSubmit.disabled = false;
  }
}

askForm.addEventListener('submit', (event) => {
  event.preventDefault();
  void askForAccess();
});
byId('check-again', HTMLButtonElement).addEventListener('click', () => {
  say(accessStatus, 'Checking…');
  void refreshAccess().then(() => {
    if (!pendingStep.hidden) say(accessStatus, 'Still waiting for an administrator.');
  });
});

// --- My places --------------------------------------------------------------------------------

/** A place's status as its editor reads it. */
const STATUS_WORDS: Readonly<Record<PlaceStatus, string>> = {
  proposed: 'Location being checked',
  locationValidated: 'Waiting for approval',
  locationRejected: 'Location not accepted',
  approved: 'Approved: parents can find it',
  rejected: 'Rejected',
  withdrawn: 'Withdrawn',
};

let mineLoading: AbortController | undefined;

async function loadMine(): Promise<void> {
  mineLoading?.abort();
  const controller = new AbortController();
  mineLoading = controller;
  mineList.setAttribute('aria-busy', 'true');
  try {
    const answer = await callApi<ManagedPlaceList>('/api/manage/places?mine=true&limit=100', { signal: controller.signal });
    if (controller !== mineLoading) return;
    mineList.replaceChildren(...answer.results.map(minePlace));
    say(mineStatus, answer.results.length === 0 ? 'You have not proposed any places yet.' : '');
  } catch (error) {
    if (controller !== mineLoading || (error instanceof DOMException && error.name === 'AbortError')) return;
    say(mineStatus, error instanceof Error ? error.message : 'Your places could not be loaded.', 'error');
  } finally {
    if (controller === mineLoading) mineList.removeAttribute('aria-busy');
  }
}

function minePlace(place: ListedPlace): HTMLLIElement {
  const headingId = `mine-${place.placeId}`;
  const pending = place.pendingRevision;
  return h(
    'li',
    { class: 'card moderation-item' },
    h(
      'article',
      { attrs: { 'aria-labelledby': headingId } },
      h('h3', { id: headingId, text: place.name }),
      h('p', { class: `status-line status-${place.status}` }, h('span', { class: 'status-tag', text: STATUS_WORDS[place.status] })),
      pending &&
        h('p', {
          class: 'revision-note',
          text: `Change waiting for approval (revision ${pending.revision}): parents see the approved details until an administrator approves it.`,
        }),
      lastRevisionNote(place),
      place.statusReason !== undefined && h('p', { class: 'hint', text: `Reason: ${place.statusReason}` }),
      h('p', { class: 'hint', text: `Proposed ${agoText(place.proposedAt)}` }),
      historyToggle(place.placeId, 'mine'),
    ),
  );
}

/**
 * What became of the owner's latest decided change: approved, or not (with the admin's reason). An
 * approved or superseded one is not repeated once a newer change waits; a rejected one is, for its reason.
 */
function lastRevisionNote(place: ListedPlace): HTMLParagraphElement | false {
  const last = place.lastRevision;
  if (!last || (last.outcome !== 'rejected' && place.pendingRevision)) return false;
  const change = `Your change (revision ${last.revision})`;
  const said =
    last.outcome === 'approved'
      ? `${change} was approved: parents see it.`
      : last.outcome === 'rejected'
        ? `${change} was not approved${last.reason === undefined || last.reason === '' ? '.' : `: ${last.reason}`}`
        : `${change} was replaced by a later change.`;
  return h(
    'p',
    { class: `revision-note revision-${last.outcome}` },
    h('span', { class: 'revision-said', text: said }),
    h('span', { class: 'revision-when' }, 'Decided ', h('time', { text: agoText(last.decidedAt), attrs: { datetime: last.decidedAt } })),
  );
}

void refreshAccess();
