// The places in line the buyer is not looking at. A place is kept by its
// holder being seen: the waiting room's stream does that, but on My tickets
// or the concerts list nothing would, and the place would lapse. So every
// other screen keeps a light status poll for each place in store.js, at the
// server's `refreshIntervalSeconds`, and shows a banner above the screen:
// "You're in line for …: position N · Back to the line". A place seen to end
// is marked `ended` (its own screen says why); a lost one is forgotten.

import { ApiError, call, sleep } from './api.js';
import { h, number, replace } from './dom.js';
import { store } from './store.js';
import { concertTitle } from './screens/concerts.js';

const banner = document.getElementById('in-line');
const ENDED = new Set(['EXPIRED', 'SOLD_OUT']);
const LOST = new Set(['QUEUE_TOKEN_INVALID', 'QUEUE_TOKEN_MISSING', 'QUEUE_TOKEN_NOT_YOURS']);

/** Polls every place but `except`'s (the concert on screen) until `signal` aborts. */
export function keepPlaces(signal, except = null) {
  replace(banner);
  banner.hidden = true;
  if (!store.auth()) return;
  for (const concert of store.placesHeld()) {
    if (concert !== except && !store.place(concert)?.ended) keep(concert, signal);
  }
}

function line(concert, title, s) {
  const back = (text) => h('a', { href: `#/concerts/${concert}` }, text);
  if (s.status === 'WAITING') {
    return [`You're in line for ${title}: position ${number(s.position)} · `, back('Back to the line')];
  }
  if (s.status === 'PRE_QUEUE') return [`You're in the pre-queue for ${title} · `, back('Back to the line')];
  if (s.status === 'ACTIVE') return [`It's your turn for ${title} · `, back('Choose your seats')];
  return null;
}

async function keep(concert, signal) {
  const slot = h('p', { class: 'in-line-item', 'data-concert': concert, hidden: true });
  banner.append(slot);
  const done = () => {
    slot.remove();
    banner.hidden = !banner.querySelector('p:not([hidden])');
  };
  const title = await concertTitle(concert);
  while (!signal.aborted) {
    const place = store.place(concert);
    if (!place || place.ended) break;
    try {
      const s = await call('/api/v1/queue/status', { auth: store.auth(), queueToken: place.token });
      if (signal.aborted) break;
      if (ENDED.has(s.status)) {
        store.setPlace(concert, { ...place, ended: s.status });
        break;
      }
      if (s.refreshIntervalSeconds > 0 && s.refreshIntervalSeconds !== place.pace) {
        store.setPlace(concert, { ...place, pace: s.refreshIntervalSeconds });
      }
      const shown = line(concert, title, s);
      slot.hidden = !shown;
      slot.dataset.status = s.status;
      if (shown) replace(slot, shown);
      banner.hidden = !banner.querySelector('p:not([hidden])');
    } catch (error) {
      if (signal.aborted) break;
      if (error instanceof ApiError && LOST.has(error.code)) {
        store.forgetPlace(concert);
        break;
      }
      // A network or server failure: ask again at the pace.
    }
    await sleep(Math.max(1, store.place(concert)?.pace || 5) * 1000, signal);
  }
  done();
}
