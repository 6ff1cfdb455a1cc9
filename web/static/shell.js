// The buyer's page around the screens: the view they render into, the
// title, headings, the screen-reader announcer, navigation and the one way
// an error is shown.

import { clearNotice, showError, showNotice } from './notice.js';
import { h, replace } from './dom.js';
import { store } from './store.js';

export const view = document.getElementById('view');
const announcer = document.getElementById('announce');
const TITLE = 'frontrow';

/** Announces `message` to screen readers (again, even if it is the same). */
export function say(message) {
  announcer.textContent = '';
  setTimeout(() => { announcer.textContent = message; }, 50);
}

export function setTitle(text) {
  document.title = text ? `${text} · ${TITLE}` : `${TITLE} · concert tickets`;
}

export function show(...children) {
  replace(view, ...children);
}

export function heading(text) {
  return h('h1', { tabindex: '-1', class: 'screen-title' }, text);
}

export function focusHeading() {
  view.querySelector('h1')?.focus({ preventScroll: false });
}

/** The event buyer.js routes on besides `hashchange` (see `go`). */
export const REROUTE = 'frontrow:route';

/** Shows the screen `hash` names, even when it is the one shown now. */
export function go(hash) {
  if (location.hash === hash) window.dispatchEvent(new Event(REROUTE));
  else location.hash = hash;
}

/**
 * Shows the screen `hash` names, then `message`: shown before, it would be
 * cleared by the navigation (buyer.js clears the notice on `hashchange`,
 * and its listener runs first, being older).
 */
export function goAndTell(hash, message, kind) {
  const tell = () => showNotice(message, kind);
  if (location.hash === hash) {
    go(hash);
    tell();
    return;
  }
  window.addEventListener('hashchange', tell, { once: true });
  go(hash);
}

/** Shows an API error as a sentence; a lost session goes to sign-in. */
export function fail(error) {
  showError(error, {
    onUnauthorized(lost) {
      store.forgetUser();
      goAndTell('#/sign-in', lost.message);
    },
  });
}

export { clearNotice, showNotice };
