/**
 * The administrators' page. Who is signed in decides what it shows: a way to sign in, word that the
 * page is for administrators, or, to an administrator, three tabs: editors waiting for access (and
 * approved or suspended ones), places in one status (by default those whose location is confirmed
 * and that wait for approval), and changes to approved places that wait for approval. Each place
 * can show its history: who did what, when.
 */
import {
  ApiProblem,
  callApi,
  type Editor,
  type EditorAccessAnswer,
  type EditorList,
  type EditorStatus,
  type Facility,
  ifMatch,
  type ListedPlace,
  type ManagedPlace,
  type ManagedPlaceList,
  type Me,
  type PlaceKind,
  type PlaceStatus,
  versionOf,
} from './api.js';
import { byId, h, say } from './dom.js';
import { actorText, agesText, agoText, FACILITY_LABELS, KIND_LABELS, momentText, priceText } from './format.js';
import { historyToggle } from './history.js';
import { showAccount, whoIsSignedIn } from './session.js';

const account = byId('account', HTMLElement);
const accessStatus = byId('access-status', HTMLDivElement);
const signedOut = byId('signed-out', HTMLDivElement);
const signedOutHeading = byId('signed-out-heading', HTMLHeadingElement);
const notAdmin = byId('not-admin', HTMLDivElement);
const notAdminHeading = byId('not-admin-heading', HTMLHeadingElement);
const tabList = byId('tabs', HTMLDivElement);

const loadForm = byId('load', HTMLFormElement);
const statusSelect = byId('status', HTMLSelectElement);
const listHeading = byId('list-heading', HTMLHeadingElement);
const placesBanner = byId('admin-status', HTMLDivElement);
const placeList = byId('moderation-list', HTMLUListElement);

const editorsHeading = byId('editors-heading', HTMLHeadingElement);
const editorsBanner = byId('editors-status', HTMLDivElement);
const editorList = byId('editor-list', HTMLUListElement);

const changesBanner = byId('changes-status', HTMLDivElement);
const changeList = byId('change-list', HTMLUListElement);

// --- Tabs ---------------------------------------------------------------------------------------

type Tab = 'editors' | 'places' | 'changes';
const TABS: readonly Tab[] = ['editors', 'places', 'changes'];
const tabButton = (tab: Tab) => byId(`tab-${tab}`, HTMLButtonElement);
const tabPanel = (tab: Tab) => byId(`panel-${tab}`, HTMLElement);
let chosenTab: Tab = 'editors';

/** Shows one tab's panel (the ARIA tabs pattern: the chosen tab alone is in the Tab order). */
function choose(tab: Tab, focus = false): void {
  chosenTab = tab;
  for (const other of TABS) {
    const selected = other === tab;
    tabButton(other).setAttribute('aria-selected', String(selected));
    tabButton(other).tabIndex = selected ? 0 : -1;
    tabPanel(other).hidden = !selected;
  }
  if (focus) tabButton(tab).focus();
}

for (const [index, tab] of TABS.entries()) {
  const button = tabButton(tab);
  button.addEventListener('click', () => choose(tab));
  button.addEventListener('keydown', (event) => {
    const next =
      event.key === 'ArrowRight'
        ? TABS[(index + 1) % TABS.length]
        : event.key === 'ArrowLeft'
          ? TABS[(index + TABS.length - 1) % TABS.length]
          : event.key === 'Home'
            ? TABS[0]
            : event.key === 'End'
              ? TABS[TABS.length - 1]
              : undefined;
    if (next === undefined) return;
    event.preventDefault();
    choose(next, true);
  });
}

/** How many wait in each tab (editors asking, places awaiting approval, changes), shown on the tabs. */
const waiting: Record<Tab, number | undefined> = { editors: undefined, places: undefined, changes: undefined };

function setWaiting(tab: Tab, count: number | undefined): void {
  waiting[tab] = count;
  const badge = byId(`count-${tab}`, HTMLSpanElement);
  badge.textContent = count === undefined || count === 0 ? '' : `(${count})`;
  badge.hidden = count === undefined || count === 0;
}

function oneFewerWaiting(tab: Tab): void {
  const count = waiting[tab];
  if (count !== undefined) setWaiting(tab, Math.max(0, count - 1));
}

// --- Shared pieces of every list ------------------------------------------------------------------

/** Facts as a description list, leaving out those with no value. */
function facts(entries: readonly [string, Node | string | undefined][]): HTMLDListElement {
  return h(
    'dl',
    { class: 'facts' },
    ...entries.flatMap(([term, value]) => (value === undefined || value === '' ? [] : [h('dt', { text: term }), h('dd', {}, value)])),
  );
}

/**
 * After an item is dealt with: it leaves the list, the banner says what happened, and the focus
 * goes to the next item's heading (or the banner when the list is now empty), not to the top.
 */
function done(li: HTMLLIElement, banner: HTMLElement, message: string): void {
  const next = li.nextElementSibling ?? li.previousElementSibling;
  li.remove();
  say(banner, message, 'success');
  const heading = next?.querySelector('h3');
  if (heading) {
    heading.tabIndex = -1;
    heading.focus();
  } else banner.focus();
}

/**
 * A 401 (signed out meanwhile) or 403 (no longer an administrator): the page shows where the person
 * stands now, with the message where they are taken to. True when it was one of those.
 */
function lostAccess(error: unknown, banner: HTMLElement): boolean {
  if (!(error instanceof ApiProblem) || (error.status !== 401 && error.status !== 403)) return false;
  void refreshAccess({ message: error.message, banner });
  return true;
}

/** An action that did not work: the API's own words (its problem's detail), never its raw answer. */
function failed(banner: HTMLElement, error: unknown, conflict: (detail: string) => string): void {
  if (lostAccess(error, banner)) return;
  if (error instanceof ApiProblem && error.status === 409) say(banner, conflict(error.message), 'error');
  else say(banner, error instanceof Error ? error.message : 'That did not work.', 'error');
  banner.focus();
}

interface ReasonFormOptions {
  readonly id: string;
  /** Opens and closes the form. */
  readonly toggle: HTMLButtonElement;
  readonly label: string;
  readonly hint?: string;
  readonly confirm: string;
  /** The message when the reason is left empty; undefined when it may be. */
  readonly required?: string;
  /** Sends the reason ('' for none); rejects with the API's problem. */
  readonly send: (reason: string) => Promise<void>;
  readonly failed: (error: unknown) => void;
}

/** A form that asks for a reason (to reject, or to suspend), opened by its toggle and closed by Cancel. */
function reasonForm(options: ReasonFormOptions): HTMLFormElement {
  const { id, toggle } = options;
  const described = [options.hint !== undefined && `${id}-hint`, `${id}-error`].filter(Boolean).join(' ');
  const reason = h('textarea', { id, attrs: { name: 'reason', maxlength: '500', 'aria-describedby': described } });
  const error = h('p', { class: 'field-error', id: `${id}-error` });
  error.hidden = true;
  const confirm = h('button', { class: 'button danger small', text: options.confirm, attrs: { type: 'submit' } });
  const cancel = h('button', { class: 'button secondary small', text: 'Cancel', attrs: { type: 'button' } });
  const form = h(
    'form',
    { class: 'reject-form', id: `${id}-form`, attrs: { novalidate: '' } },
    h(
      'div',
      {},
      h('label', { text: options.label, attrs: { for: id } }),
      reason,
      options.hint !== undefined && h('p', { class: 'hint', id: `${id}-hint`, text: options.hint }),
      error,
    ),
    h('div', { class: 'actions' }, confirm, cancel),
  );
  form.hidden = true;
  toggle.setAttribute('aria-expanded', 'false');
  toggle.setAttribute('aria-controls', form.id);

  const showError = (message: string) => {
    error.textContent = message;
    error.hidden = message === '';
    if (message === '') reason.removeAttribute('aria-invalid');
    else {
      reason.setAttribute('aria-invalid', 'true');
      reason.focus();
    }
  };
  toggle.addEventListener('click', () => {
    form.hidden = !form.hidden;
    toggle.setAttribute('aria-expanded', String(!form.hidden));
    if (!form.hidden) reason.focus();
  });
  cancel.addEventListener('click', () => {
    form.hidden = true;
    toggle.setAttribute('aria-expanded', 'false');
    toggle.focus();
  });
  reason.addEventListener('input', () => {
    if (!error.hidden && reason.value.trim() !== '') showError('');
  });
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const text = reason.value.trim();
    if (text === '' && options.required !== undefined) {
      showError(options.required);
      return;
    }
    showError('');
    confirm.disabled = true;
    options.send(text).then(
      () => undefined,
      (problem: unknown) => {
        confirm.disabled = false;
        if (problem instanceof ApiProblem && problem.status === 400 && problem.errors.length > 0)
          showError(capitalise(problem.errors.map((e) => e.message).join('; ')));
        else options.failed(problem);
      },
    );
  });
  return form;
}

function capitalise(sentence: string): string {
  return sentence.charAt(0).toUpperCase() + sentence.slice(1);
}

function button(text: string, tone: 'primary' | 'danger', describedBy: string): HTMLButtonElement {
  return h('button', { class: `button ${tone} small`, text, attrs: { type: 'button', 'aria-describedby': describedBy } });
}

/** Runs an action from a button: disabled while it runs, enabled again if it fails. */
function act(control: HTMLButtonElement, action: () => Promise<void>, onError: (error: unknown) => void): void {
  control.disabled = true;
  action().then(
    () => undefined,
    (error: unknown) => {
      control.disabled = false;
      onError(error);
    },
  );
}

const path = (...segments: string[]) => segments.map(encodeURIComponent).join('/');

// --- Editors --------------------------------------------------------------------------------------

const EDITOR_HEADINGS: Readonly<Record<EditorStatus, string>> = {
  pending: 'Editors waiting for access',
  approved: 'Approved editors',
  suspended: 'Suspended editors',
};

function chosenEditorStatus(): EditorStatus {
  const checked = document.querySelector<HTMLInputElement>('input[name="editor-status"]:checked')?.value;
  return checked === 'approved' || checked === 'suspended' ? checked : 'pending';
}

let editorsLoading = 0;

async function loadEditors(): Promise<void> {
  const status = chosenEditorStatus();
  const mine = ++editorsLoading;
  editorsHeading.textContent = EDITOR_HEADINGS[status];
  editorList.setAttribute('aria-busy', 'true');
  say(editorsBanner, 'Loading…');
  try {
    const answer = await callApi<EditorList>(`/api/manage/editors?status=${status}&limit=100`);
    if (mine !== editorsLoading) return;
    editorList.replaceChildren(...answer.editors.map(editorItem));
    const count = answer.editors.length;
    if (status === 'pending') setWaiting('editors', count);
    say(
      editorsBanner,
      count === 0
        ? { pending: 'Nobody is waiting for editor access.', approved: 'No approved editors.', suspended: 'No suspended editors.' }[status]
        : `${count} ${count === 1 ? 'person' : 'people'}.`,
    );
  } catch (error) {
    if (mine !== editorsLoading || lostAccess(error, editorsBanner)) return;
    say(editorsBanner, error instanceof Error ? error.message : 'The editors could not be loaded.', 'error');
  } finally {
    if (mine === editorsLoading) editorList.removeAttribute('aria-busy');
  }
}

function editorItem(editor: Editor): HTMLLIElement {
  const headingId = `e-${editor.userId}`;
  const decided =
    editor.decidedAt === undefined
      ? undefined
      : `${momentText(editor.decidedAt)}${editor.decidedBy ? ` by ${actorText(editor.decidedBy)}` : ''}`;
  const article = h(
    'article',
    { attrs: { 'aria-labelledby': headingId } },
    h('h3', { id: headingId, text: editor.name }),
    facts([
      ['User id', editor.userId],
      ['Why', editor.reason],
      ['Asked', agoText(editor.requestedAt)],
      [editor.status === 'suspended' ? 'Suspended' : 'Approved', editor.status === 'pending' ? undefined : decided],
      ['Reason', editor.suspendedReason],
    ]),
  );
  const li = h('li', { class: 'card moderation-item' }, article);
  const onError = (error: unknown) => failed(editorsBanner, error, (detail) => `${editor.name}: ${detail}`);
  const approve = (label: string) => {
    const control = button(label, 'primary', headingId);
    control.addEventListener('click', () =>
      act(
        control,
        async () => {
          await callApi<EditorAccessAnswer>(`/api/editors/${path(editor.userId)}/approve`, { method: 'POST', body: {} });
          if (editor.status === 'pending') oneFewerWaiting('editors');
          done(li, editorsBanner, `${editor.name} is an editor now: they can propose places.`);
        },
        onError,
      ),
    );
    return control;
  };
  const suspendForm = () => {
    const toggle = button('Suspend…', 'danger', headingId);
    const form = reasonForm({
      id: `suspend-${editor.userId}`,
      toggle,
      label: `Why suspend ${editor.name}? (optional)`,
      hint: 'They can no longer propose or change places; their places stay.',
      confirm: editor.status === 'pending' ? 'Refuse and suspend' : 'Suspend this editor',
      send: async (reason) => {
        await callApi<EditorAccessAnswer>(`/api/editors/${path(editor.userId)}/suspend`, {
          method: 'POST',
          body: reason === '' ? {} : { reason },
        });
        if (editor.status === 'pending') oneFewerWaiting('editors');
        done(li, editorsBanner, `${editor.name} is suspended.`);
      },
      failed: onError,
    });
    return { toggle, form };
  };
  if (editor.status === 'suspended') article.append(h('div', { class: 'actions' }, approve('Approve again')));
  else {
    const suspend = suspendForm();
    article.append(h('div', { class: 'actions' }, editor.status === 'pending' && approve('Approve'), suspend.toggle), suspend.form);
  }
  return li;
}

for (const radio of document.querySelectorAll<HTMLInputElement>('input[name="editor-status"]'))
  radio.addEventListener('change', () => void loadEditors());

// --- Places ---------------------------------------------------------------------------------------

const HEADINGS: Readonly<Record<PlaceStatus, string>> = {
  locationValidated: 'Awaiting approval',
  proposed: 'Location still being checked',
  locationRejected: 'Location not accepted',
  approved: 'Approved',
  rejected: 'Rejected',
  withdrawn: 'Withdrawn',
};

function chosenStatus(): PlaceStatus {
  const value = statusSelect.value;
  return Object.hasOwn(HEADINGS, value) ? (value as PlaceStatus) : 'locationValidated';
}

let placesLoading = 0;

async function loadPlaces(): Promise<void> {
  const status = chosenStatus();
  const mine = ++placesLoading;
  listHeading.textContent = HEADINGS[status];
  placeList.setAttribute('aria-busy', 'true');
  say(placesBanner, 'Loading…');
  try {
    const answer = await callApi<ManagedPlaceList>(`/api/manage/places?status=${status}&limit=100`);
    if (mine !== placesLoading) return;
    placeList.replaceChildren(...answer.results.map(placeItem));
    const count = answer.results.length;
    if (status === 'locationValidated') setWaiting('places', count);
    say(
      placesBanner,
      count === 0
        ? status === 'locationValidated'
          ? 'Nothing waits for approval.'
          : 'No places.'
        : `${count} ${count === 1 ? 'place' : 'places'}.`,
    );
  } catch (error) {
    if (mine !== placesLoading || lostAccess(error, placesBanner)) return;
    say(placesBanner, error instanceof Error ? error.message : 'The list could not be loaded.', 'error');
  } finally {
    if (mine === placesLoading) placeList.removeAttribute('aria-busy');
  }
}

function where(place: ListedPlace): string | undefined {
  const coordinates = place.geolocation && `${place.geolocation.latitude.toFixed(4)}, ${place.geolocation.longitude.toFixed(4)}`;
  return [place.address, coordinates].filter(Boolean).join(' · ') || undefined;
}

function placeItem(place: ListedPlace): HTMLLIElement {
  const headingId = `m-${place.placeId}`;
  const article = h(
    'article',
    { attrs: { 'aria-labelledby': headingId } },
    h('h3', { id: headingId, text: place.name }),
    facts([
      ['Where', where(place)],
      ['Kind', place.kind && KIND_LABELS[place.kind]],
      ['Ages', place.ageRange && agesText(place.ageRange)],
      ['Price', place.price && priceText(place.price)],
      ['Facilities', place.facilities && place.facilities.length > 0 ? facilitiesText(place.facilities) : undefined],
      ['Opening hours', place.openingHours && h('code', { text: place.openingHours })],
      [
        'Website',
        place.website && h('a', { text: place.website, attrs: { href: place.website, rel: 'noopener noreferrer', target: '_blank' } }),
      ],
      ['About', place.description],
      ['Proposed', `${agoText(place.proposedAt)}${place.owner ? ` by ${actorText(place.owner)}` : ''}`],
      ['Reason', place.statusReason],
      ['Change waiting', place.pendingRevision && `Revision ${place.pendingRevision.revision}: see “Changes waiting”`],
    ]),
  );
  const li = h('li', { class: 'card moderation-item' }, article);
  if (place.status === 'locationValidated') article.append(...placeActions(place, li));
  article.append(historyToggle(place.placeId, 'm'));
  return li;
}

/**
 * Approve and reject, each at the version of the place the admin read (If-Match): a place changed
 * since is not decided unseen, but shown again.
 */
function placeActions(place: ListedPlace, li: HTMLLIElement): HTMLElement[] {
  const headingId = `m-${place.placeId}`;
  const atVersion = ifMatch(place.version);
  const onError = (error: unknown) => {
    if (error instanceof ApiProblem && error.status === 412) void showChanged(place, li, versionOf(error.etag));
    else
      failed(
        placesBanner,
        error,
        (detail) => `“${place.name}” cannot be changed any more: ${detail} Show the list again to see where it is now.`,
      );
  };
  const approve = button('Approve', 'primary', headingId);
  approve.addEventListener('click', () =>
    act(
      approve,
      async () => {
        await callApi(`/api/places/${path(place.placeId)}/approve`, { method: 'POST', body: {}, headers: atVersion });
        oneFewerWaiting('places');
        done(li, placesBanner, `“${place.name}” is approved: parents can find it now.`);
      },
      onError,
    ),
  );
  const reject = button('Reject…', 'danger', headingId);
  const form = reasonForm({
    id: `reason-${place.placeId}`,
    toggle: reject,
    label: `Why reject “${place.name}”?`,
    confirm: 'Reject this place',
    required: 'Give a reason: the editor reads it.',
    send: async (reason) => {
      await callApi(`/api/places/${path(place.placeId)}/reject`, { method: 'POST', body: { reason }, headers: atVersion });
      oneFewerWaiting('places');
      done(li, placesBanner, `“${place.name}” is rejected.`);
    },
    failed: onError,
  });
  return [h('div', { class: 'actions' }, approve, reject), form];
}

/** The place as it is now, once its view has caught up with `version` (the one a 412 named), or after a few tries. */
async function placeNow(placeId: string, version: number | undefined): Promise<ManagedPlace> {
  for (let attempt = 1; ; attempt++) {
    const place = await callApi<ManagedPlace>(`/api/manage/places/${path(placeId)}`);
    if (version === undefined || place.version >= version || attempt === 10) return place;
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
}

/**
 * The place changed since the admin read it (412): they are told so, the focus goes to the message,
 * and the item is read again: shown as it is now (a reason being typed is kept), or taken out when
 * it no longer waits for approval.
 */
async function showChanged(place: ListedPlace, li: HTMLLIElement, version: number | undefined): Promise<void> {
  const changed = `This place, “${place.name}”, was changed since you opened it: check it again.`;
  say(placesBanner, changed, 'error');
  placesBanner.focus();
  li.setAttribute('aria-busy', 'true');
  try {
    const now = await placeNow(place.placeId, version);
    if (now.status !== place.status) {
      li.remove();
      if (place.status === 'locationValidated') oneFewerWaiting('places');
      say(
        placesBanner,
        `This place, “${place.name}”, was changed since you opened it: it is now in “${HEADINGS[now.status]}”, not in this list.`,
        'error',
      );
      return;
    }
    const typed = li.querySelector('textarea')?.value ?? '';
    const fresh = placeItem(now);
    li.replaceWith(fresh);
    const reason = fresh.querySelector('textarea');
    const form = reason?.form;
    if (typed !== '' && reason && form) {
      reason.value = typed;
      form.hidden = false;
      fresh.querySelector(`[aria-controls="${form.id}"]`)?.setAttribute('aria-expanded', 'true');
    }
  } catch (error) {
    li.removeAttribute('aria-busy');
    if (lostAccess(error, placesBanner)) return;
    say(placesBanner, `${changed} It could not be read again here: show the list again.`, 'error');
  }
}

function facilitiesText(facilities: readonly string[]): string {
  return facilities.map((facility) => FACILITY_LABELS[facility] ?? facility).join(', ');
}

loadForm.addEventListener('submit', (event) => {
  event.preventDefault();
  void loadPlaces();
});
statusSelect.addEventListener('change', () => void loadPlaces());

// --- Changes waiting ------------------------------------------------------------------------------

/** The fields a change may hold, in the order the editors' form asks for them. */
const FIELD_NAMES: Readonly<Record<string, string>> = {
  name: 'Name',
  address: 'Address',
  geolocation: 'Coordinates',
  kind: 'Indoors or out',
  ageRange: 'Ages',
  price: 'Price',
  facilities: 'Facilities',
  openingHours: 'Opening hours',
  website: 'Website',
  description: 'Description',
};

function isRecord(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const optionalNumber = (value: unknown): number | undefined => (typeof value === 'number' ? value : undefined);

/** A field's value as people read it: "Indoor", "Ages 1–8", "Free", "Removed" for null, "Not given" when absent. */
function valueText(field: string, value: unknown): Node | string {
  if (value === undefined) return h('span', { class: 'muted', text: 'Not given' });
  if (value === null) return h('span', { class: 'muted', text: 'Removed' });
  if (field === 'kind' && typeof value === 'string' && Object.hasOwn(KIND_LABELS, value)) return KIND_LABELS[value as PlaceKind];
  if (field === 'ageRange' && isRecord(value) && typeof value.min === 'number' && typeof value.max === 'number')
    return agesText({ min: value.min, max: value.max });
  if (field === 'price' && isRecord(value) && typeof value.free === 'boolean') {
    const adultGBP = optionalNumber(value.adultGBP);
    const childGBP = optionalNumber(value.childGBP);
    return priceText({ free: value.free, ...(adultGBP !== undefined && { adultGBP }), ...(childGBP !== undefined && { childGBP }) });
  }
  if (field === 'facilities' && Array.isArray(value))
    return value.length === 0 ? 'None' : facilitiesText(value.filter((item): item is Facility => typeof item === 'string'));
  if (field === 'geolocation' && isRecord(value) && typeof value.latitude === 'number' && typeof value.longitude === 'number')
    return `${value.latitude.toFixed(4)}, ${value.longitude.toFixed(4)}`;
  if (field === 'openingHours' && typeof value === 'string') return h('code', { text: value });
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

/** The place's approved value of a field (what parents see now). */
function currentValue(place: ListedPlace, field: string): unknown {
  const fields: Readonly<Record<string, unknown>> = { ...place };
  return Object.hasOwn(fields, field) ? fields[field] : undefined;
}

let changesLoading = 0;

async function loadChanges(): Promise<void> {
  const mine = ++changesLoading;
  changeList.setAttribute('aria-busy', 'true');
  say(changesBanner, 'Loading…');
  try {
    const answer = await callApi<ManagedPlaceList>('/api/manage/places?status=revisionPending&limit=100');
    if (mine !== changesLoading) return;
    const waitingChanges = answer.results.filter((place) => place.pendingRevision !== undefined);
    changeList.replaceChildren(...waitingChanges.map(changeItem));
    setWaiting('changes', waitingChanges.length);
    const count = waitingChanges.length;
    say(changesBanner, count === 0 ? 'No changes wait for approval.' : `${count} ${count === 1 ? 'change' : 'changes'}.`);
  } catch (error) {
    if (mine !== changesLoading || lostAccess(error, changesBanner)) return;
    say(changesBanner, error instanceof Error ? error.message : 'The changes could not be loaded.', 'error');
  } finally {
    if (mine === changesLoading) changeList.removeAttribute('aria-busy');
  }
}

function changeItem(place: ListedPlace): HTMLLIElement {
  const revision = place.pendingRevision;
  if (!revision) throw new Error(`${place.placeId} has no change waiting.`);
  const headingId = `c-${place.placeId}`;
  const ordered = Object.keys(FIELD_NAMES);
  const fields = Object.keys(revision.changes).sort((a, b) => {
    const [i, j] = [ordered.indexOf(a), ordered.indexOf(b)];
    return (i < 0 ? ordered.length : i) - (j < 0 ? ordered.length : j);
  });
  const table = h(
    'table',
    { class: 'changes' },
    h('caption', { class: 'visually-hidden', text: `What the change to “${place.name}” does` }),
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        h('th', { text: 'Field', attrs: { scope: 'col' } }),
        h('th', { text: 'Now', attrs: { scope: 'col' } }),
        h('th', { text: 'Proposed', attrs: { scope: 'col' } }),
      ),
    ),
    h(
      'tbody',
      {},
      ...fields.map((field) =>
        h(
          'tr',
          {},
          h('th', { text: FIELD_NAMES[field] ?? field, attrs: { scope: 'row' } }),
          h('td', { attrs: { 'data-label': 'Now' } }, valueText(field, currentValue(place, field))),
          h('td', { class: 'proposed', attrs: { 'data-label': 'Proposed' } }, valueText(field, revision.changes[field])),
        ),
      ),
    ),
  );
  const article = h(
    'article',
    { attrs: { 'aria-labelledby': headingId } },
    h('h3', { id: headingId, text: place.name }),
    h(
      'p',
      { class: 'hint' },
      `Revision ${revision.revision}, proposed by ${actorText(revision.proposedBy)}, `,
      h('time', { text: momentText(revision.proposedAt), attrs: { datetime: revision.proposedAt } }),
    ),
    table,
  );
  const li = h('li', { class: 'card moderation-item' }, article);
  const base = `/api/places/${path(place.placeId)}/revisions/${revision.revision}`;
  const onError = (error: unknown) =>
    failed(
      changesBanner,
      error,
      (detail) => `The change to “${place.name}” cannot be decided any more: ${detail} Show the list again to see where it is now.`,
    );
  const approve = button('Approve change', 'primary', headingId);
  approve.addEventListener('click', () =>
    act(
      approve,
      async () => {
        await callApi(`${base}/approve`, { method: 'POST', body: {} });
        oneFewerWaiting('changes');
        done(li, changesBanner, `The change to “${place.name}” is approved: parents see it now.`);
      },
      onError,
    ),
  );
  const reject = button('Reject change…', 'danger', headingId);
  const form = reasonForm({
    id: `change-reason-${place.placeId}`,
    toggle: reject,
    label: `Why reject the change to “${place.name}”?`,
    confirm: 'Reject this change',
    required: 'Give a reason: the editor reads it.',
    send: async (reason) => {
      await callApi(`${base}/reject`, { method: 'POST', body: { reason } });
      oneFewerWaiting('changes');
      done(li, changesBanner, `The change to “${place.name}” is rejected: parents keep seeing the approved details.`);
    },
    failed: onError,
  });
  article.append(h('div', { class: 'actions' }, approve, reject), form, historyToggle(place.placeId, 'c'));
  return li;
}

// --- Who is signed in -----------------------------------------------------------------------------

let loaded = false;

/** Why access was checked again: an action or a list answered 401 or 403; its message, and the banner it came from. */
interface AccessLost {
  readonly message: string;
  readonly banner: HTMLElement;
}

/**
 * Reads who is signed in and shows their part of the page. After `lost` (a 401 or 403 in the middle
 * of something), its message goes where the person now is: above "Sign in" (the tabs being hidden),
 * with the focus on that heading; or in the banner it came from when they are still an admin.
 */
async function refreshAccess(lost?: AccessLost): Promise<void> {
  let me: Me | undefined;
  try {
    me = await whoIsSignedIn();
  } catch (error) {
    say(
      accessStatus,
      error instanceof Error ? error.message : 'Who is signed in could not be told. Reload the page to try again.',
      'error',
    );
    if (lost) {
      say(lost.banner, lost.message, 'error');
      lost.banner.focus();
    }
    return;
  }
  showAccount(account, me, 'Sign in to moderate');
  const admin = me?.isAdmin === true;
  signedOut.hidden = me !== undefined;
  notAdmin.hidden = me === undefined || admin;
  tabList.hidden = !admin;
  say(accessStatus, '');
  if (!admin) {
    for (const tab of TABS) tabPanel(tab).hidden = true;
    if (lost) {
      say(accessStatus, lost.message, 'error');
      (me === undefined ? signedOutHeading : notAdminHeading).focus();
    }
    return;
  }
  if (lost) {
    say(lost.banner, lost.message, 'error');
    lost.banner.focus();
  }
  if (loaded) {
    choose(chosenTab);
    return;
  }
  loaded = true;
  choose('editors');
  void loadEditors();
  void loadPlaces();
  void loadChanges();
}

void refreshAccess();
