/**
 * Who is signed in, for the editors' and admins' pages. People sign in with App Service
 * Authentication (Microsoft Entra ID; locally, the devhost's stand-in): the session is an HttpOnly
 * cookie that the page never sees and that same-origin requests carry. The page only asks
 * `GET /api/me` who that is, and sends people to `/.auth/*` to sign in or out.
 */
import { ApiProblem, callApi, type Me } from './api.js';
import { h } from './dom.js';

/** Where to sign in, coming back to this page afterwards. */
export function signInUrl(path = location.pathname): string {
  return `/.auth/login/aad?post_login_redirect_uri=${encodeURIComponent(path)}`;
}

/** Where to sign out, coming back to this page afterwards. */
export function signOutUrl(path = location.pathname): string {
  return `/.auth/logout?post_logout_redirect_uri=${encodeURIComponent(path)}`;
}

/** The signed-in person, or undefined when nobody is; an {@link ApiProblem} when the app cannot tell. */
export async function whoIsSignedIn(): Promise<Me | undefined> {
  try {
    return await callApi<Me>('/api/me');
  } catch (error) {
    if (error instanceof ApiProblem && error.status === 401) return undefined;
    throw error;
  }
}

/**
 * Fills the bar at the top of the page: "Signed in as Ann · Sign out", or what signing in is for
 * and a way to do it.
 */
export function showAccount(bar: HTMLElement, me: Me | undefined, signedOutText: string): void {
  if (me) {
    bar.replaceChildren(
      h('p', { class: 'account-who' }, 'Signed in as ', h('strong', { text: me.name }), me.isAdmin ? ' (administrator)' : ''),
      h('span', { class: 'account-dot', text: '·', attrs: { 'aria-hidden': 'true' } }),
      h('a', { class: 'account-link', text: 'Sign out', attrs: { href: signOutUrl() } }),
    );
  } else {
    bar.replaceChildren(
      h('p', { class: 'account-who', text: signedOutText }),
      h('span', { class: 'account-dot', text: '·', attrs: { 'aria-hidden': 'true' } }),
      h('a', { class: 'account-link', text: 'Sign in', attrs: { href: signInUrl() } }),
    );
  }
  bar.hidden = false;
}
