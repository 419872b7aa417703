/**
 * A place's history, for its owner and admins: who did what, and when, from the place's events
 * (`GET /api/manage/places/{id}`), behind a "Show history" button.
 */
import { callApi, type HistoryEntry, type ManagedPlace } from './api.js';
import { h, say } from './dom.js';
import { actorText, momentText } from './format.js';

const EVENT_WORDS: Readonly<Record<string, string>> = {
  PlaceProposed: 'Proposed',
  PlaceLocationValidated: 'Location confirmed',
  PlaceLocationRejected: 'Location not accepted',
  PlaceApproved: 'Approved',
  PlaceRejected: 'Rejected',
  PlaceDetailsUpdated: 'Details changed',
  PlaceWithdrawn: 'Withdrawn',
  PlaceRevisionProposed: 'Change proposed',
  PlaceRevisionApproved: 'Change approved',
  PlaceRevisionRejected: 'Change rejected',
};

/** Steps the app takes by itself: with no one named, they are said to be automatic. */
const AUTOMATIC = new Set(['PlaceLocationValidated', 'PlaceLocationRejected']);

/** "Proposed by Ann", "Location confirmed (automatic)", "Approved" (an event from before sign-in names no one). */
export function historyText(entry: HistoryEntry): string {
  const what = EVENT_WORDS[entry.type] ?? readable(entry.type);
  if (entry.actor) return `${what} by ${actorText(entry.actor)}`;
  return AUTOMATIC.has(entry.type) ? `${what} (automatic)` : what;
}

/** An event type the page does not know yet, in words: "PlaceSomethingNew" → "Something new". */
function readable(type: string): string {
  const words = type
    .replace(/^Place/, '')
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** A "Show history" button and the list it opens, read afresh each time it is opened. */
export function historyToggle(placeId: string, idPrefix: string): HTMLElement {
  const panelId = `${idPrefix}-history-${placeId}`;
  const toggle = h('button', {
    class: 'button secondary small history-toggle',
    text: 'Show history',
    attrs: { type: 'button', 'aria-expanded': 'false', 'aria-controls': panelId },
  });
  const status = h('p', { class: 'message', attrs: { role: 'status' } });
  status.hidden = true;
  const list = h('ol', { class: 'history' });
  const panel = h('div', { class: 'history-panel', id: panelId }, status, list);
  panel.hidden = true;

  const load = async () => {
    list.replaceChildren();
    say(status, 'Loading the history…');
    panel.setAttribute('aria-busy', 'true');
    try {
      const place = await callApi<ManagedPlace>(`/api/manage/places/${encodeURIComponent(placeId)}`);
      list.replaceChildren(
        ...place.history.map((entry) =>
          h(
            'li',
            {},
            h('span', { class: 'history-what', text: historyText(entry) }),
            ' ',
            h('time', { class: 'history-when', text: momentText(entry.occurredAt), attrs: { datetime: entry.occurredAt } }),
          ),
        ),
      );
      say(status, place.history.length === 0 ? 'Nothing has happened to it yet.' : '');
    } catch (error) {
      say(status, error instanceof Error ? error.message : 'The history could not be loaded.', 'error');
    } finally {
      panel.removeAttribute('aria-busy');
    }
  };

  toggle.addEventListener('click', () => {
    const opening = panel.hidden;
    panel.hidden = !opening;
    toggle.setAttribute('aria-expanded', String(opening));
    toggle.textContent = opening ? 'Hide history' : 'Show history';
    if (opening) void load();
  });
  return h('div', { class: 'history-box' }, toggle, panel);
}
