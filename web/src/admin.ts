/**
 * The admins' moderation list: with the master key, the places in one status (by default those
 * whose location is confirmed and that wait for approval), each to approve or to reject with a reason.
 */
import { ApiProblem, callApi, type ManagedPlace, type ManagedPlaceList, type PlaceStatus } from './api.js';
import { byId, h, say } from './dom.js';
import { agesText, agoText, FACILITY_LABELS, KIND_LABELS, priceText } from './format.js';
import { keyField } from './keys.js';

const loadForm = byId('load', HTMLFormElement);
const key = keyField('key', 'forget-key', 'visitplannr.adminKey');
const keyError = byId('key-error', HTMLParagraphElement);
const keyInput = byId('key', HTMLInputElement);
const statusSelect = byId('status', HTMLSelectElement);
const listHeading = byId('list-heading', HTMLHeadingElement);
const banner = byId('admin-status', HTMLDivElement);
const list = byId('moderation-list', HTMLUListElement);

const HEADINGS: Readonly<Record<PlaceStatus, string>> = {
  locationValidated: 'Awaiting approval',
  proposed: 'Location still being checked',
  locationRejected: 'Location not accepted',
  approved: 'Approved',
  rejected: 'Rejected',
  withdrawn: 'Withdrawn',
};

function showKeyError(message: string): void {
  keyError.textContent = message;
  keyError.hidden = message === '';
  if (message === '') keyInput.removeAttribute('aria-invalid');
  else {
    keyInput.setAttribute('aria-invalid', 'true');
    keyInput.focus();
  }
}

function chosenStatus(): PlaceStatus {
  const value = statusSelect.value;
  return Object.hasOwn(HEADINGS, value) ? (value as PlaceStatus) : 'locationValidated';
}

async function load(): Promise<void> {
  showKeyError('');
  const masterKey = key.value();
  if (masterKey === '') {
    showKeyError('Type the admin key.');
    return;
  }
  const status = chosenStatus();
  listHeading.textContent = HEADINGS[status];
  say(banner, 'Loading…');
  try {
    const answer = await callApi<ManagedPlaceList>(`/api/manage/places?status=${status}&limit=100`, { key: masterKey });
    list.replaceChildren(...answer.results.map((place) => item(place, masterKey)));
    const count = answer.results.length;
    say(
      banner,
      count === 0
        ? status === 'locationValidated'
          ? 'Nothing waits for approval.'
          : 'No places.'
        : `${count} ${count === 1 ? 'place' : 'places'}.`,
    );
  } catch (error) {
    if (error instanceof ApiProblem && error.status === 401) {
      say(banner, '');
      showKeyError('That key was not accepted.');
      return;
    }
    say(banner, error instanceof Error ? error.message : 'The list could not be loaded.', 'error');
  }
}

function item(place: ManagedPlace, masterKey: string): HTMLLIElement {
  const headingId = `m-${place.placeId}`;
  const where = [place.address, place.geolocation && `${place.geolocation.latitude.toFixed(4)}, ${place.geolocation.longitude.toFixed(4)}`]
    .filter(Boolean)
    .join(' · ');
  const facts: [string, Node | string | undefined][] = [
    ['Where', where || undefined],
    ['Kind', place.kind && KIND_LABELS[place.kind]],
    ['Ages', place.ageRange && agesText(place.ageRange)],
    ['Price', place.price && priceText(place.price)],
    [
      'Facilities',
      place.facilities && place.facilities.length > 0
        ? place.facilities.map((facility) => FACILITY_LABELS[facility] ?? facility).join(', ')
        : undefined,
    ],
    ['Opening hours', place.openingHours && h('code', { text: place.openingHours })],
    [
      'Website',
      place.website && h('a', { text: place.website, attrs: { href: place.website, rel: 'noopener noreferrer', target: '_blank' } }),
    ],
    ['About', place.description],
    ['Proposed', agoText(place.proposedAt)],
    ['Reason', place.statusReason],
  ];
  const article = h(
    'article',
    { attrs: { 'aria-labelledby': headingId } },
    h('h3', { id: headingId, text: place.name }),
    h(
      'dl',
      { class: 'facts' },
      ...facts.flatMap(([term, value]) => (value === undefined || value === '' ? [] : [h('dt', { text: term }), h('dd', {}, value)])),
    ),
  );
  const li = h('li', { class: 'card moderation-item' }, article);
  if (place.status === 'locationValidated') article.append(actions(place, masterKey, li));
  return li;
}

function actions(place: ManagedPlace, masterKey: string, li: HTMLLIElement): HTMLElement {
  const approve = h('button', {
    class: 'button primary small',
    text: 'Approve',
    attrs: { type: 'button', 'aria-describedby': `m-${place.placeId}` },
  });
  const reject = h('button', {
    class: 'button danger small',
    text: 'Reject…',
    attrs: { type: 'button', 'aria-describedby': `m-${place.placeId}`, 'aria-expanded': 'false' },
  });
  const reasonId = `reason-${place.placeId}`;
  const reason = h('textarea', { id: reasonId, attrs: { name: 'reason', maxlength: '500', 'aria-describedby': `${reasonId}-error` } });
  const reasonError = h('p', { class: 'field-error', id: `${reasonId}-error` });
  reasonError.hidden = true;
  const confirm = h('button', { class: 'button danger small', text: 'Reject this place', attrs: { type: 'submit' } });
  const cancel = h('button', { class: 'button secondary small', text: 'Cancel', attrs: { type: 'button' } });
  const rejectForm = h(
    'form',
    { class: 'reject-form', attrs: { novalidate: '' } },
    h('label', { text: `Why reject “${place.name}”?`, attrs: { for: reasonId } }),
    reason,
    reasonError,
    h('div', { class: 'actions' }, confirm, cancel),
  );
  rejectForm.hidden = true;

  const done = (message: string) => {
    const next = li.nextElementSibling ?? li.previousElementSibling;
    li.remove();
    say(banner, message, 'success');
    const heading = next?.querySelector('h3');
    if (heading) {
      heading.tabIndex = -1;
      heading.focus();
    } else banner.focus();
  };
  const failed = (error: unknown) => {
    if (error instanceof ApiProblem && error.status === 401) showKeyError('That key was not accepted.');
    else if (error instanceof ApiProblem && error.status === 409)
      say(banner, `“${place.name}” cannot be changed any more: ${error.message} Show the list again to see where it is now.`, 'error');
    else say(banner, error instanceof Error ? error.message : 'That did not work.', 'error');
  };

  approve.addEventListener('click', () => {
    approve.disabled = true;
    callApi(`/api/places/${encodeURIComponent(place.placeId)}/approve`, { method: 'POST', key: masterKey, body: {} }).then(
      () => done(`“${place.name}” is approved: parents can find it now.`),
      (error: unknown) => {
        approve.disabled = false;
        failed(error);
      },
    );
  });
  reject.addEventListener('click', () => {
    rejectForm.hidden = !rejectForm.hidden;
    reject.setAttribute('aria-expanded', String(!rejectForm.hidden));
    if (!rejectForm.hidden) reason.focus();
  });
  cancel.addEventListener('click', () => {
    rejectForm.hidden = true;
    reject.setAttribute('aria-expanded', 'false');
    reject.focus();
  });
  const showReasonError = (message: string) => {
    reasonError.textContent = message;
    reasonError.hidden = message === '';
    if (message === '') reason.removeAttribute('aria-invalid');
    else {
      reason.setAttribute('aria-invalid', 'true');
      reason.focus();
    }
  };
  reason.addEventListener('input', () => {
    if (!reasonError.hidden && reason.value.trim() !== '') showReasonError('');
  });
  rejectForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const text = reason.value.trim();
    if (text === '') {
      showReasonError('Give a reason: the editor reads it.');
      return;
    }
    showReasonError('');
    confirm.disabled = true;
    callApi(`/api/places/${encodeURIComponent(place.placeId)}/reject`, { method: 'POST', key: masterKey, body: { reason: text } }).then(
      () => done(`“${place.name}” is rejected.`),
      (error: unknown) => {
        confirm.disabled = false;
        if (error instanceof ApiProblem && error.status === 400 && error.errors.length > 0)
          showReasonError(error.errors.map((e) => e.message).join('; '));
        else failed(error);
      },
    );
  });
  return h('div', {}, h('div', { class: 'actions' }, approve, reject), rejectForm);
}

loadForm.addEventListener('submit', (event) => {
  event.preventDefault();
  void load();
});
statusSelect.addEventListener('change', () => {
  if (keyInput.value.trim() !== '') void load();
});
if (keyInput.value.trim() !== '') void load();
