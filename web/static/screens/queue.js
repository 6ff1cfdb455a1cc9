// The waiting room: the pre-queue with its countdown, the buyer's place
// (position, estimate, progress; paused, every seat held), followed live
// through `streamOrPoll`, until the turn comes (then the performances), the
// place ends, or every seat is sold.

import { ApiError, call, serverNow } from '../api.js';
import { countdown, date, duration, h, number, replace } from '../dom.js';
import { streamOrPoll } from '../live.js';
import { fail, focusHeading, go, heading, say, setTitle, show } from '../shell.js';
import { store } from '../store.js';
import { concertTitle } from './concerts.js';
import { endedMessage, joinScreen } from './join.js';
import { schedulesScreen } from './schedules.js';

const ENDED = new Set(['EXPIRED', 'SOLD_OUT']);
const LOST = new Set(['QUEUE_TOKEN_INVALID', 'QUEUE_TOKEN_MISSING', 'QUEUE_TOKEN_NOT_YOURS']);

function yourTurn(title) {
  setTitle("It's your turn!");
  say("It's your turn! Choose your seats.");
  if (!store.notified && 'Notification' in window && Notification.permission === 'granted') {
    store.notified = true;
    try {
      new Notification("It's your turn on frontrow", { body: `Choose your seats for ${title}.`, tag: 'frontrow-turn' });
    } catch {
      // Some browsers only notify from a service worker; the page says it anyway.
    }
  }
}

function notifyButton() {
  if (!('Notification' in window) || Notification.permission !== 'default') return null;
  const button = h('button', { type: 'button', class: 'secondary small', onclick: async () => {
    const answer = await Notification.requestPermission();
    button.replaceWith(h('p', { class: 'muted small' }, answer === 'granted'
      ? 'We will notify you when it is your turn.'
      : 'No notification: keep this tab open and we will show it here.'));
  } }, 'Notify me when it is my turn');
  return button;
}

async function leave(concert) {
  const place = store.place(concert);
  try {
    if (place) await call('/api/v1/queue/tokens', { method: 'DELETE', auth: store.auth(), queueToken: place.token });
  } catch (error) {
    if (!(error instanceof ApiError) || error.status >= 500) {
      fail(error);
      return;
    }
  }
  store.forgetPlace(concert);
  go('#/');
}

/**
 * "Leave the line", saying what it costs and asking before it does it. One
 * node per screen, reused by every redraw, so a live update never closes a
 * question the buyer is answering.
 */
function leaveControl(concert, label) {
  const element = h('div', { class: 'leave' });
  const ask = () => {
    replace(element, h('div', { class: 'state state--held leave-confirm', role: 'group', 'aria-labelledby': 'leave-question' },
      h('p', { id: 'leave-question' }, h('strong', {}, `${label}?`), ' You will lose your place in line, and joining again puts you at the back.'),
      h('div', { class: 'row' },
        h('button', { type: 'button', class: 'secondary', onclick: () => leave(concert) }, `Yes, ${label.toLowerCase()}`),
        h('button', { type: 'button', class: 'primary', onclick: () => { offer(); element.querySelector('button')?.focus(); } }, 'Stay in line'))));
    element.querySelector('button.primary')?.focus();
  };
  const offer = () => replace(element,
    h('button', { type: 'button', class: 'link', 'aria-describedby': 'leave-cost', onclick: ask }, label),
    h('p', { class: 'muted small', id: 'leave-cost' }, 'You will lose your place in line.'));
  offer();
  return element;
}

/** The waiting part of the screen for a WAITING place. */
function waiting(concert, place, s, leaving) {
  const first = Math.max(place.firstPosition || s.position, s.position);
  // The share of the line ahead at arrival that has gone in since.
  const percent = Math.max(3, Math.round(Math.min(1, Math.max(0, (first - s.position) / first)) * 100));
  let state;
  if (s.paused) {
    state = h('div', { class: 'state state--paused', 'data-state': 'paused' },
      h('h2', {}, 'The sale is paused'),
      h('p', {}, 'The organiser paused admission for a moment. You keep your place; this page carries on by itself.'));
  } else if (s.soldOut) {
    state = h('div', { class: 'state state--held', 'data-state': 'all-held' },
      h('h2', {}, 'Every seat is held right now'),
      h('p', {}, `${s.heldSeats === 1 ? 'The last seat is held by a buyer who has' : `${number(s.heldSeats)} seats are held by buyers who have`} not paid yet. If a hold lapses, its seat comes back and the line moves again. You keep your place.`));
  } else {
    state = h('p', { class: 'eta', 'data-state': 'waiting' }, s.estimatedWaitSeconds != null
      ? `Estimated wait: ${duration(s.estimatedWaitSeconds)}`
      : 'Estimating your wait…');
  }
  const fill = h('span', { class: 'progress-fill', 'data-percent': percent });
  fill.style.width = `${percent}%`;
  return {
    first,
    nodes: [
      h('div', { class: 'position' },
        h('span', { class: 'position-label' }, 'Your place in line'),
        h('strong', { id: 'position', 'data-position': s.position }, `#${number(s.position)}`),
        h('span', { class: 'muted' }, s.position === 1 ? 'You are next.' : `${number(s.position - 1)} ahead of you`)),
      h('div', { class: 'progress', role: 'progressbar', 'aria-label': 'Progress through the line', 'aria-valuemin': 0, 'aria-valuemax': 100, 'aria-valuenow': percent }, fill),
      state,
      h('p', { class: 'muted small' }, 'Keep this tab open: it updates live, and a reload keeps your place.'),
      notifyButton(),
      leaving,
    ],
  };
}

/** The pre-queue part of the screen, with a local countdown to the opening. */
function preQueue(concert, s, signal, leaving) {
  const opensAt = s.opensAt || new Date(serverNow() + (s.secondsUntilOpen || 0) * 1000).toISOString();
  const counter = h('strong', { 'data-opens': opensAt, role: 'timer' }, '');
  const tick = () => {
    const left = Date.parse(opensAt) - serverNow();
    counter.textContent = left > 0 ? countdown(left) : 'now';
  };
  tick();
  const timer = setInterval(tick, 1000);
  signal.addEventListener('abort', () => clearInterval(timer), { once: true });
  return {
    stop: () => clearInterval(timer),
    nodes: [
      h('div', { class: 'position', 'data-state': 'pre-queue' },
        h('span', { class: 'position-label' }, 'The sale opens in'),
        counter,
        h('span', { class: 'muted' }, date(opensAt))),
      h('div', { class: 'state' },
        h('h2', {}, 'You are in the pre-queue'),
        h('p', {}, 'At the opening everyone in the pre-queue gets a place in random order, ahead of everyone who comes later. Arriving earlier or reloading gives no advantage, and you lose nothing by waiting calmly.')),
      h('p', { class: 'muted small' }, 'Keep this tab open: your place appears here when the sale opens.'),
      notifyButton(),
      leaving,
    ],
  };
}

function soldOutScreen(title) {
  setTitle('Sold out');
  show(h('p', { class: 'eyebrow' }, title), heading('Sold out'),
    h('div', { class: 'state state--sold', 'data-state': 'sold-out' },
      h('p', {}, 'Every seat for this concert is sold. Thank you for waiting.'),
      h('a', { class: 'button', href: '#/' }, 'Back to concerts')));
  focusHeading();
}

export async function roomScreen(concert, signal) {
  const title = await concertTitle(concert);
  if (signal.aborted) return;
  const place = store.place(concert);
  if (!place) return joinScreen(concert, title, null);
  const room = h('div', { class: 'room', 'aria-busy': 'true' }, h('p', { class: 'muted' }, 'Finding your place…'));
  show(h('p', { class: 'eyebrow' }, title), heading('Waiting room'), room);
  let lastSaid = 0;
  let countdownShown = null;
  let leaveLine = null;
  let leavePreQueue = null;
  const render = (s) => {
    room.removeAttribute('aria-busy');
    countdownShown?.stop();
    countdownShown = null;
    if (s.refreshIntervalSeconds > 0 && s.refreshIntervalSeconds !== place.pace) {
      place.pace = s.refreshIntervalSeconds;
      store.setPlace(concert, place);
    }
    if (s.status === 'WAITING') {
      leaveLine ||= leaveControl(concert, 'Leave the line');
      const shown = waiting(concert, place, s, leaveLine);
      if (shown.first !== place.firstPosition) {
        place.firstPosition = shown.first;
        store.setPlace(concert, place);
      }
      setTitle(`#${s.position} in line`);
      replace(room, shown.nodes);
      if (Date.now() - lastSaid > 15000) {
        lastSaid = Date.now();
        say(s.paused ? 'The sale is paused. You keep your place.' : `You are number ${s.position} in line.`);
      }
    } else if (s.status === 'PRE_QUEUE') {
      setTitle('Waiting for the sale');
      leavePreQueue ||= leaveControl(concert, 'Leave the pre-queue');
      countdownShown = preQueue(concert, s, signal, leavePreQueue);
      replace(room, countdownShown.nodes);
    }
  };
  let last;
  try {
    last = await streamOrPoll({
      stream: '/api/v1/queue/stream',
      poll: '/api/v1/queue/status',
      auth: store.auth(),
      queueToken: place.token,
      signal,
      pace: place.pace || 2,
      onData: render,
      until: (s) => s.status === 'ACTIVE' || ENDED.has(s.status),
    });
  } catch (error) {
    if (signal.aborted) return;
    if (error instanceof ApiError && LOST.has(error.code)) {
      store.forgetPlace(concert);
      return joinScreen(concert, title, error.message);
    }
    fail(error);
    return;
  }
  countdownShown?.stop();
  if (signal.aborted || !last) return;
  if (last.status === 'ACTIVE') {
    yourTurn(title);
    return schedulesScreen(concert, title, place.token, signal, last, true);
  }
  store.forgetPlace(concert);
  if (last.status === 'SOLD_OUT') return soldOutScreen(title);
  return joinScreen(concert, title, endedMessage(last.expiredReason), last.expiredReason);
}
