// The concerts on sale: dates, what is left, and a scheduled sale's
// countdown. A sale whose pre-queue has not opened yet has its button
// disabled, saying next to it when it opens; the button comes alive at that
// moment, counted locally against the server's clock.

import { call, serverNow } from '../api.js';
import { countdown, date, h, number } from '../dom.js';
import { fail, heading, setTitle, show } from '../shell.js';
import { store } from '../store.js';
import { join } from './join.js';

/** Lists the concerts (and remembers them in the store). */
export async function loadConcerts() {
  const { concerts } = await call('/api/v1/concerts');
  store.concerts = new Map(concerts.map((c) => [c.concertId, c]));
  return concerts;
}

export async function concertTitle(id) {
  if (!store.concerts.has(id)) await loadConcerts().catch(() => {});
  return store.concerts.get(id)?.title || `Concert ${id}`;
}

function saleState(concert) {
  if (concert.soldOut) return h('span', { class: 'badge badge--sold' }, 'Sold out');
  if (concert.availableSeats === 0) return h('span', { class: 'badge badge--held' }, 'All seats held now');
  if (concert.availableSeats <= Math.max(5, concert.totalSeats / 10)) {
    return h('span', { class: 'badge badge--few' }, `${number(concert.availableSeats)} seats left`);
  }
  return h('span', { class: 'badge badge--open' }, `On sale · ${number(concert.availableSeats)} seats`);
}

/**
 * One concert's card, and `tick()`, which brings its countdown, button and
 * note up to the clock.
 */
function card(concert) {
  const opensAt = concert.opensAt ? Date.parse(concert.opensAt) : null;
  const preQueueFrom = Date.parse(concert.preQueueFrom || concert.opensAt);
  const noteId = `sale-note-${concert.concertId}`;
  const more = concert.dates.length > 1 ? ` and ${concert.dates.length - 1} more` : '';
  const badge = h('span', { class: 'badge badge--soon', 'data-opens': concert.opensAt });
  const note = h('p', { class: 'small sale-note', id: noteId, 'aria-live': 'polite' });
  const button = h('button', { class: 'primary', type: 'button', onclick: () => join(concert.concertId, note) });
  const scheduled = opensAt !== null && opensAt > serverNow();
  const item = h('li', { class: 'card concert' },
    h('h2', {}, concert.title),
    h('p', { class: 'muted' }, concert.dates.length ? `${date(concert.dates[0])}${more}` : 'Dates to be announced'),
    scheduled ? h('p', { class: 'small' }, `Sale opens ${date(concert.opensAt)}. `,
      'Everyone in the pre-queue gets a random place at the opening, so there is no need to rush.') : null,
    h('div', { class: 'row spread' },
      scheduled ? badge : saleState(concert),
      h('div', { class: 'sale-action' }, button, note)));

  const tick = () => {
    const now = serverNow();
    if (concert.soldOut) {
      button.disabled = true;
      button.textContent = 'Sold out';
      button.setAttribute('aria-label', `Sold out: ${concert.title}`);
      return;
    }
    const upcoming = opensAt !== null && opensAt > now;
    const waitForPreQueue = upcoming && preQueueFrom > now;
    const label = upcoming ? 'Join the pre-queue' : 'Get tickets';
    button.textContent = label;
    button.setAttribute('aria-label', `${label} for ${concert.title}`);
    button.disabled = waitForPreQueue;
    if (scheduled) {
      button.setAttribute('aria-describedby', noteId);
      badge.textContent = upcoming ? `Opens in ${countdown(opensAt - now)}` : 'Opening now';
      // Rewritten only when the fact changes, so a refusal said here stays.
      const fact = waitForPreQueue
        ? `The pre-queue opens in ${countdown(preQueueFrom - now)} (${date(concert.preQueueFrom)}).`
        : upcoming ? 'The pre-queue is open.' : 'The sale is open.';
      if (note.dataset.fact !== fact) {
        note.dataset.fact = fact;
        note.textContent = fact;
      }
    }
  };
  return { item, tick };
}

export async function concertsScreen(signal) {
  setTitle('');
  show(heading('Concerts'), h('p', { class: 'muted' }, 'Loading concerts…'));
  let list;
  try {
    list = await loadConcerts();
  } catch (error) {
    fail(error);
    return;
  }
  if (signal.aborted) return;
  const cards = list.map(card);
  show(heading('Concerts'), list.length
    ? h('ul', { class: 'list' }, cards.map((c) => c.item))
    : h('p', { class: 'muted' }, 'No concerts yet.'));
  const tick = () => cards.forEach((c) => c.tick());
  tick();
  const timer = setInterval(tick, 1000);
  signal.addEventListener('abort', () => clearInterval(timer), { once: true });
}
