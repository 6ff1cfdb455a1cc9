// The one notice both pages show: a sentence hanging under the sticky bar,
// over the page rather than in its flow, so showing or clearing it never
// moves what is under a finger (a refusal on the seat map leaves every seat
// where it was). Errors stay until dismissed (its button or Escape) or the
// next action; a success fades after a few seconds. The markup, in
// index.html and admin.html:
//
//   <div class="notice" id="notice-box" hidden>
//     <p id="notice" role="alert"></p>
//     <button type="button" class="notice-close" id="notice-close" aria-label="Dismiss the message">×</button>
//   </div>

import { ApiError } from './api.js';

const box = document.getElementById('notice-box');
const text = document.getElementById('notice');
const OK_FADES_MS = 6000;
let fading = null;

document.getElementById('notice-close').addEventListener('click', () => clearNotice());
// Escape dismisses it too (unless a dialog is open: Escape is the dialog's),
// so it never stays over what a keyboard user is focused on.
document.addEventListener('keydown', (event) => {
  if (event.key === 'Escape' && !box.hidden && !document.querySelector('dialog[open]')) clearNotice();
});

/**
 * Shows `message`. `kind`: `error` (red), `ok` (green), `info` (amber: a
 * refusal that is no fault, such as a seat someone else holds) or `neutral`
 * (a fact with no judgement, such as "the room is paused").
 */
export function showNotice(message, kind = 'error') {
  clearTimeout(fading);
  text.textContent = message;
  box.className = `notice notice--${kind}`;
  box.hidden = false;
  if (kind === 'ok') fading = setTimeout(() => clearNotice(), OK_FADES_MS);
}

export function clearNotice() {
  clearTimeout(fading);
  box.hidden = true;
  text.textContent = '';
}

/**
 * Shows an error as a sentence (an ApiError's message; anything else is a
 * bug, logged). A 401 goes to `onUnauthorized` when given: each page knows
 * which credential it has just lost.
 */
export function showError(error, { onUnauthorized } = {}) {
  if (error instanceof ApiError && error.status === 401 && onUnauthorized) {
    onUnauthorized(error);
    return;
  }
  if (!(error instanceof ApiError)) console.error(error);
  showNotice(error instanceof ApiError ? error.message : 'Something went wrong. Please reload the page.');
}
