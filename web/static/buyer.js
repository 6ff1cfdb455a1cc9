// The buyer's app: sign up, points, concerts, the waiting room, seats, hold,
// pay, receipt and "My tickets". One page; the hash names the screen
// (#/, #/concerts/1, #/concerts/1/schedules/2, #/receipt/9, #/tickets), so
// Back works and a reload comes back to the same screen. Everything it
// knows comes from the public API; the access token and each concert's
// queue token are kept in localStorage, so a reload keeps the place in line.

import { ApiError, call, follow, idempotencyKey, serverNow, sleep } from './api.js';
import { clock, countdown, date, duration, h, number, replace, time } from './dom.js';
import { SeatMap, legend } from './seatmap.js';

const view = document.getElementById('view');
const notice = document.getElementById('notice');
const announcer = document.getElementById('announce');
const TITLE = 'frontrow';

// ---------------------------------------------------------------- storage

const storage = {
  user() {
    try {
      return JSON.parse(localStorage.getItem('frontrow.user') || 'null');
    } catch {
      return null;
    }
  },
  setUser(user) {
    localStorage.setItem('frontrow.user', JSON.stringify(user));
  },
  forgetUser() {
    localStorage.removeItem('frontrow.user');
  },
  key(concert) {
    return `frontrow.queue.${storage.user()?.userId}.${concert}`;
  },
  place(concert) {
    try {
      return JSON.parse(localStorage.getItem(storage.key(concert)) || 'null');
    } catch {
      return null;
    }
  },
  setPlace(concert, place) {
    localStorage.setItem(storage.key(concert), JSON.stringify(place));
  },
  forgetPlace(concert) {
    localStorage.removeItem(storage.key(concert));
  },
};

const auth = () => storage.user()?.accessToken;

// ---------------------------------------------------------------- shell

let screen = new AbortController();

function say(message) {
  announcer.textContent = '';
  // A new node each time, so the same sentence is announced again.
  setTimeout(() => { announcer.textContent = message; }, 50);
}

function showNotice(message, kind = 'error') {
  notice.textContent = message;
  notice.className = `notice notice--${kind}`;
  notice.hidden = false;
}

function clearNotice() {
  notice.hidden = true;
  notice.textContent = '';
}

/** Shows an API error as a sentence; a lost session goes back to sign-up. */
function fail(error) {
  if (!(error instanceof ApiError)) {
    console.error(error);
    showNotice('Something went wrong. Please reload the page.');
    return;
  }
  if (error.code === 'UNAUTHORIZED') {
    storage.forgetUser();
    showNotice(error.message);
    route();
    return;
  }
  showNotice(error.message);
}

function setTitle(text) {
  document.title = text ? `${text} · ${TITLE}` : `${TITLE} · concert tickets`;
}

function show(...children) {
  replace(view, ...children);
}

function heading(text) {
  return h('h1', { tabindex: '-1', class: 'screen-title' }, text);
}

function focusHeading() {
  view.querySelector('h1')?.focus({ preventScroll: false });
}

let balance = 0;

async function refreshBalance() {
  if (!auth()) return 0;
  const { balance: now } = await call('/api/v1/points', { auth: auth() });
  balance = now;
  document.getElementById('balance').textContent = number(now);
  return now;
}

function showAccount() {
  document.getElementById('account').hidden = !auth();
}

// ---------------------------------------------------------------- points

const dialog = document.getElementById('charge-dialog');
const chargeForm = document.getElementById('charge-form');
const chargeAmount = document.getElementById('charge-amount');
const chargeError = document.getElementById('charge-error');
/** One key per intended charge: a retry after a lost answer applies once. */
let pendingCharge = null;

/** Charges `amount` points with an Idempotency-Key; resolves to the balance. */
async function charge(amount) {
  if (!pendingCharge || pendingCharge.amount !== amount) {
    pendingCharge = { amount, key: idempotencyKey() };
  }
  const result = await call('/api/v1/points/charge', {
    method: 'POST',
    auth: auth(),
    body: { amount },
    headers: { 'idempotency-key': pendingCharge.key },
  });
  pendingCharge = null;
  balance = result.balance;
  document.getElementById('balance').textContent = number(balance);
  return balance;
}

function openCharge(suggested) {
  chargeError.hidden = true;
  if (suggested) chargeAmount.value = String(suggested);
  dialog.showModal();
  chargeAmount.focus();
  chargeAmount.select();
}

document.getElementById('balance-button').addEventListener('click', () => openCharge());
document.getElementById('charge-cancel').addEventListener('click', () => dialog.close());
chargeForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  const amount = Number(chargeAmount.value);
  const submit = document.getElementById('charge-submit');
  submit.disabled = true;
  try {
    const now = await charge(amount);
    dialog.close();
    showNotice(`Added ${number(amount)} points. Your balance is ${number(now)} points.`, 'ok');
    say(`Balance ${number(now)} points`);
    document.dispatchEvent(new CustomEvent('balance'));
  } catch (error) {
    chargeError.textContent = error instanceof ApiError ? error.message : 'Something went wrong.';
    chargeError.hidden = false;
  } finally {
    submit.disabled = false;
  }
});

// ---------------------------------------------------------------- routing

async function route() {
  screen.abort();
  screen = new AbortController();
  const signal = screen.signal;
  showAccount();
  const path = location.hash.replace(/^#/, '') || '/';
  if (!auth()) return signUp();
  refreshBalance().catch(fail);
  let match;
  if ((match = path.match(/^\/concerts\/(\d+)\/schedules\/(\d+)$/))) {
    return seatsScreen(Number(match[1]), Number(match[2]), signal);
  }
  if ((match = path.match(/^\/concerts\/(\d+)$/))) return roomScreen(Number(match[1]), signal);
  if ((match = path.match(/^\/receipt\/(\d+)$/))) return receiptScreen(Number(match[1]));
  if (path === '/tickets') return ticketsScreen(signal);
  return concertsScreen(signal);
}

function go(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

window.addEventListener('hashchange', () => {
  clearNotice();
  route();
});

// ---------------------------------------------------------------- sign up

function signUp() {
  setTitle('Sign up');
  const input = h('input', {
    id: 'name', name: 'name', autocomplete: 'nickname', required: true, maxlength: 100,
  });
  const form = h('form', { class: 'card stack', onsubmit: async (event) => {
    event.preventDefault();
    const button = form.querySelector('button');
    button.disabled = true;
    try {
      const created = await call('/api/v1/users', { method: 'POST', body: { name: input.value.trim() } });
      storage.setUser({ userId: created.userId, accessToken: created.accessToken, name: input.value.trim() });
      clearNotice();
      route();
    } catch (error) {
      fail(error);
      button.disabled = false;
    }
  } },
  h('label', { for: 'name' }, 'Your name'),
  input,
  h('p', { class: 'muted small' }, 'No password: this browser keeps your ticket wallet.'),
  h('button', { class: 'primary', type: 'submit' }, 'Start'));
  show(
    h('section', { class: 'hero' },
      heading('Tickets for the minute a show opens'),
      h('p', {}, 'A fair place in line, real seats, and a few minutes to pay.')),
    form,
  );
  input.focus();
}

// ---------------------------------------------------------------- concerts

let concertCache = new Map();

async function concerts() {
  const { concerts: list } = await call('/api/v1/concerts');
  concertCache = new Map(list.map((c) => [c.concertId, c]));
  return list;
}

async function concertTitle(id) {
  if (!concertCache.has(id)) await concerts().catch(() => {});
  return concertCache.get(id)?.title || `Concert ${id}`;
}

function saleState(concert) {
  if (concert.soldOut) return h('span', { class: 'badge badge--sold' }, 'Sold out');
  if (concert.availableSeats === 0) return h('span', { class: 'badge badge--held' }, 'All seats held now');
  if (concert.availableSeats <= Math.max(5, concert.totalSeats / 10)) {
    return h('span', { class: 'badge badge--few' }, `${number(concert.availableSeats)} seats left`);
  }
  return h('span', { class: 'badge badge--open' }, `On sale · ${number(concert.availableSeats)} seats`);
}

async function concertsScreen(signal) {
  setTitle('');
  show(heading('Concerts'), h('p', { class: 'muted' }, 'Loading concerts…'));
  let list;
  try {
    list = await concerts();
  } catch (error) {
    fail(error);
    return;
  }
  if (signal.aborted) return;
  const items = list.map((concert) => {
    const more = concert.dates.length > 1 ? ` and ${concert.dates.length - 1} more` : '';
    const opens = concert.opensAt && Date.parse(concert.opensAt) > serverNow();
    return h('li', { class: 'card concert' },
      h('h2', {}, concert.title),
      h('p', { class: 'muted' }, concert.dates.length ? `${date(concert.dates[0])}${more}` : 'Dates to be announced'),
      opens ? h('p', { class: 'small' }, `Sale opens ${date(concert.opensAt)}. `,
        Date.parse(concert.preQueueFrom || concert.opensAt) <= serverNow()
          ? 'The pre-queue is open: '
          : `Join the pre-queue from ${date(concert.preQueueFrom || concert.opensAt)}: `,
        'everyone in it gets a random place at the opening, so there is no need to rush.') : null,
      h('div', { class: 'row spread' },
        opens ? h('span', { class: 'badge badge--soon', 'data-opens': concert.opensAt }, '') : saleState(concert),
        h('button', {
          class: 'primary',
          type: 'button',
          disabled: concert.soldOut,
          'aria-label': `${opens ? 'Join the pre-queue' : 'Get tickets'} for ${concert.title}`,
          onclick: () => join(concert.concertId),
        }, concert.soldOut ? 'Sold out' : opens ? 'Join the pre-queue' : 'Get tickets')));
  });
  show(heading('Concerts'), list.length
    ? h('ul', { class: 'list' }, items)
    : h('p', { class: 'muted' }, 'No concerts yet.'));
  tickOpenings(signal);
}

/** Counts down every `[data-opens]` on the screen, once a second, locally. */
function tickOpenings(signal) {
  const tick = () => {
    for (const badge of view.querySelectorAll('[data-opens]')) {
      const left = Date.parse(badge.dataset.opens) - serverNow();
      badge.textContent = left > 0 ? `Opens in ${countdown(left)}` : 'Opening now';
    }
  };
  tick();
  const timer = setInterval(tick, 1000);
  signal.addEventListener('abort', () => clearInterval(timer), { once: true });
}

async function join(concert) {
  try {
    const ticket = await call('/api/v1/queue/tokens', { method: 'POST', auth: auth(), body: { concertId: concert } });
    storage.setPlace(concert, { token: ticket.token, firstPosition: Math.max(ticket.position, 1) });
    go(`#/concerts/${concert}`);
  } catch (error) {
    if (error instanceof ApiError && error.code === 'SALE_NOT_OPEN' && error.body?.opensAt) {
      const from = concertCache.get(concert)?.preQueueFrom;
      showNotice(`The sale opens ${date(error.body.opensAt)}.${from ? ` You can join the pre-queue from ${date(from)}.` : ''}`, 'info');
      return;
    }
    fail(error);
  }
}

// ---------------------------------------------------------------- waiting room

const ENDED = new Set(['EXPIRED', 'SOLD_OUT']);

/**
 * Follows the buyer's place: the queue stream, reconnecting at the pace the
 * server gives; polling `GET /queue/status` every `refreshIntervalSeconds`
 * instead when the stream cannot be had. Calls `onStatus` with each status;
 * returns on ACTIVE or an ended place, or when `signal` aborts.
 */
async function followPlace(token, signal, onStatus) {
  let last = null;
  let pace = 2;
  let failures = 0;
  let streaming = true;
  const seen = (status) => {
    last = status;
    pace = Math.max(1, status.refreshIntervalSeconds || pace);
    failures = 0;
    onStatus(status);
  };
  const done = () => signal.aborted || (last && (last.status === 'ACTIVE' || ENDED.has(last.status)));
  const stop = new AbortController();
  signal.addEventListener('abort', () => stop.abort(), { once: true });
  while (!done()) {
    try {
      if (streaming) {
        await follow('/api/v1/queue/stream', {
          auth: auth(),
          queueToken: token,
          signal: stop.signal,
          onEvent: (status) => {
            seen(status);
            if (done()) stop.abort();
          },
        });
      } else {
        seen(await call('/api/v1/queue/status', { auth: auth(), queueToken: token }));
      }
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      if (error.status === 404 || error.status === 405) {
        streaming = false; // a server without the stream: poll
      } else if (error.status >= 400 && error.status < 500) {
        throw error;
      } else {
        failures += 1;
        if (streaming && failures >= 3) streaming = false;
      }
    }
    if (done()) break;
    // Never faster than the server's pace; slower after failures.
    await sleep(pace * 1000 * 2 ** Math.min(failures, 4), signal);
  }
  return last;
}

let notified = false;

function yourTurn(title) {
  setTitle("It's your turn!");
  say("It's your turn! Choose your seats.");
  if (!notified && 'Notification' in window && Notification.permission === 'granted') {
    notified = true;
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

async function roomScreen(concert, signal) {
  const title = await concertTitle(concert);
  if (signal.aborted) return;
  const place = storage.place(concert);
  if (!place) return joinScreen(concert, title, null);
  const status = h('div', { class: 'room', 'aria-busy': 'true' }, h('p', { class: 'muted' }, 'Finding your place…'));
  show(h('p', { class: 'eyebrow' }, title), heading('Waiting room'), status);
  let lastSaid = 0;
  let lastStatus = null;
  let preTimer = null;
  signal.addEventListener('abort', () => clearInterval(preTimer), { once: true });
  const render = (s) => {
    if (s.status !== 'PRE_QUEUE') clearInterval(preTimer);
    status.removeAttribute('aria-busy');
    lastStatus = s;
    if (s.status === 'WAITING') {
      const first = Math.max(place.firstPosition || s.position, s.position);
      if (first !== place.firstPosition) {
        place.firstPosition = first;
        storage.setPlace(concert, place);
      }
      // The share of the line ahead at arrival that has gone in since.
      const percent = Math.max(3, Math.round(Math.min(1, Math.max(0, (first - s.position) / first)) * 100));
      setTitle(`#${s.position} in line`);
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
      replace(status,
        h('div', { class: 'position' },
          h('span', { class: 'position-label' }, 'Your place in line'),
          h('strong', { id: 'position', 'data-position': s.position }, `#${number(s.position)}`),
          h('span', { class: 'muted' }, s.position === 1 ? 'You are next.' : `${number(s.position - 1)} ahead of you`)),
        h('div', { class: 'progress', role: 'progressbar', 'aria-label': 'Progress through the line', 'aria-valuemin': 0, 'aria-valuemax': 100, 'aria-valuenow': percent },
          h('span', { class: 'progress-fill', style: null, 'data-percent': percent })),
        state,
        h('p', { class: 'muted small' }, 'Keep this tab open: it updates live, and a reload keeps your place.'),
        notifyButton(),
        h('button', { type: 'button', class: 'link', onclick: () => leave(concert) }, 'Leave the line'));
      status.querySelector('.progress-fill').style.width = `${percent}%`;
      if (Date.now() - lastSaid > 15000) {
        lastSaid = Date.now();
        say(s.paused ? 'The sale is paused. You keep your place.' : `You are number ${s.position} in line.`);
      }
    } else if (s.status === 'PRE_QUEUE') {
      setTitle('Waiting for the sale');
      const opensAt = s.opensAt || new Date(serverNow() + (s.secondsUntilOpen || 0) * 1000).toISOString();
      replace(status,
        h('div', { class: 'position', 'data-state': 'pre-queue' },
          h('span', { class: 'position-label' }, 'The sale opens in'),
          h('strong', { 'data-opens': opensAt, role: 'timer' }, ''),
          h('span', { class: 'muted' }, date(opensAt))),
        h('div', { class: 'state' },
          h('h2', {}, 'You are in the pre-queue'),
          h('p', {}, 'At the opening everyone in the pre-queue gets a place in random order, ahead of everyone who comes later. Arriving earlier or reloading gives no advantage, and you lose nothing by waiting calmly.')),
        h('p', { class: 'muted small' }, 'Keep this tab open: your place appears here when the sale opens.'),
        notifyButton(),
        h('button', { type: 'button', class: 'link', onclick: () => leave(concert) }, 'Leave the pre-queue'));
      const counter = status.querySelector('[data-opens]');
      const tick = () => {
        const left = Date.parse(opensAt) - serverNow();
        counter.textContent = left > 0 ? countdown(left) : 'now';
      };
      tick();
      clearInterval(preTimer);
      preTimer = setInterval(tick, 1000);
    }
  };
  let final;
  try {
    final = await followPlace(place.token, signal, render);
  } catch (error) {
    if (signal.aborted) return;
    if (error instanceof ApiError && ['QUEUE_TOKEN_INVALID', 'QUEUE_TOKEN_MISSING', 'QUEUE_TOKEN_NOT_YOURS'].includes(error.code)) {
      storage.forgetPlace(concert);
      return joinScreen(concert, title, error.message);
    }
    fail(error);
    return;
  }
  if (signal.aborted || !final) return;
  if (final.status === 'ACTIVE') {
    yourTurn(title);
    return schedulesScreen(concert, title, place.token, signal, lastStatus, true);
  }
  if (final.status === 'SOLD_OUT') {
    storage.forgetPlace(concert);
    setTitle('Sold out');
    show(h('p', { class: 'eyebrow' }, title), heading('Sold out'),
      h('div', { class: 'state state--sold', 'data-state': 'sold-out' },
        h('p', {}, 'Every seat for this concert is sold. Thank you for waiting.'),
        h('a', { class: 'button', href: '#/' }, 'Back to concerts')));
    focusHeading();
    return;
  }
  storage.forgetPlace(concert);
  return joinScreen(concert, title, 'Your place in line has expired. You can join the line again.');
}

function joinScreen(concert, title, message) {
  setTitle(message ? 'Place expired' : title);
  show(h('p', { class: 'eyebrow' }, title), heading(message ? 'Your place has expired' : 'Join the line'),
    h('div', { class: 'state', 'data-state': message ? 'expired' : 'join' },
      h('p', {}, message || 'Join the waiting room to get your place in line.'),
      h('button', { class: 'primary', type: 'button', onclick: () => join(concert) }, message ? 'Join again' : 'Join the line'),
      h('a', { class: 'button secondary', href: '#/' }, 'Back to concerts')));
  focusHeading();
}

async function leave(concert) {
  const place = storage.place(concert);
  try {
    if (place) await call('/api/v1/queue/tokens', { method: 'DELETE', auth: auth(), queueToken: place.token });
  } catch (error) {
    if (!(error instanceof ApiError) || error.status >= 500) {
      fail(error);
      return;
    }
  }
  storage.forgetPlace(concert);
  go('#/');
}

/** What a gate refusal means for a buyer who was ACTIVE. */
function turnEnded(concert, title, error) {
  if (error instanceof ApiError && ['QUEUE_TOKEN_EXPIRED', 'QUEUE_NOT_ACTIVE', 'QUEUE_TOKEN_INVALID', 'QUEUE_TOKEN_MISSING'].includes(error.code)) {
    if (error.code === 'QUEUE_NOT_ACTIVE') {
      go(`#/concerts/${concert}`);
      return true;
    }
    storage.forgetPlace(concert);
    joinScreen(concert, title, 'Your turn has ended. Join the line again to continue.');
    return true;
  }
  return false;
}

// ---------------------------------------------------------------- schedules

async function schedulesScreen(concert, title, token, signal, status, fresh) {
  const list = h('ul', { class: 'list' });
  show(
    h('p', { class: 'eyebrow' }, title),
    heading(fresh ? "It's your turn!" : 'Choose a performance'),
    h('p', { class: 'turn', 'data-state': 'active' }, 'You are in. Pick a performance, then your seats.'),
    list,
  );
  if (fresh) focusHeading();
  const pace = Math.max(5, status?.refreshIntervalSeconds || 30);
  while (!signal.aborted) {
    try {
      const { schedules } = await call(`/api/v1/concerts/${concert}/schedules`, { auth: auth(), queueToken: token });
      if (signal.aborted) return;
      replace(list, schedules.map((s) => h('li', { class: 'card schedule' },
        h('div', {},
          h('h2', {}, date(s.startsAt)),
          h('p', { class: 'muted' }, `${number(s.availableSeats)} of ${number(s.seatCount)} seats free · ${number(s.price)} points each`)),
        h('a', {
          class: 'button primary',
          href: `#/concerts/${concert}/schedules/${s.scheduleId}`,
          'aria-label': `Choose seats for ${date(s.startsAt)}, ${s.availableSeats} free`,
          'aria-disabled': s.availableSeats === 0 ? 'true' : null,
        }, 'Choose seats'))));
    } catch (error) {
      if (signal.aborted) return;
      if (turnEnded(concert, title, error)) return;
      fail(error);
    }
    await sleep(pace * 1000, signal);
  }
}

// ---------------------------------------------------------------- seats

/** The buyer's live holds and seats bought, by schedule (from the API). */
async function myReservations(schedule) {
  const { reservations } = await call('/api/v1/reservations?limit=100', { auth: auth() });
  return reservations.filter((r) => r.scheduleId === schedule && (r.status === 'HELD' || r.status === 'CONFIRMED'));
}

async function seatsScreen(concert, schedule, signal) {
  const title = await concertTitle(concert);
  const place = storage.place(concert);
  if (signal.aborted) return;
  if (!place) return joinScreen(concert, title, null);
  const token = place.token;
  setTitle('Choose your seat');
  let schedules;
  try {
    ({ schedules } = await call(`/api/v1/concerts/${concert}/schedules`, { auth: auth(), queueToken: token }));
  } catch (error) {
    if (turnEnded(concert, title, error)) return;
    fail(error);
    return;
  }
  const info = schedules.find((s) => s.scheduleId === schedule);
  if (!info) {
    showNotice('That performance does not exist.');
    return;
  }
  let hold = null;
  let ticking = null;
  const panel = h('aside', { class: 'hold-panel', 'aria-label': 'Your seat', 'aria-live': 'polite' });
  const summary = h('p', { class: 'muted small', id: 'seat-summary' });
  const map = new SeatMap({
    seatCount: info.seatCount,
    label: `Seats for ${date(info.startsAt)}`,
    onPick: (seat, state) => pick(seat, state),
  });
  show(
    h('p', { class: 'eyebrow' }, `${title} · ${date(info.startsAt)}`),
    heading('Choose your seat'),
    h('p', { class: 'muted small' }, `${number(info.price)} points per seat. Seats change colour live as others take them.`),
    legend(),
    h('div', { class: 'stage', 'aria-hidden': 'true' }, 'Stage'),
    map.element,
    summary,
    panel,
    h('p', {}, h('a', { href: `#/concerts/${concert}` }, 'Back to performances')),
  );
  const updateSummary = () => {
    const c = map.counts();
    summary.textContent = `${c.available} available · ${c.held} held · ${c.sold} sold${c.yours ? ` · ${c.yours} yours` : ''}`;
  };

  try {
    const mine = await myReservations(schedule);
    map.setMine(mine.map((r) => r.seatNumber));
    hold = mine.find((r) => r.status === 'HELD' && Date.parse(r.holdExpiresAt) > serverNow()) || null;
  } catch (error) {
    fail(error);
  }
  renderPanel();

  async function pick(seat, state) {
    clearNotice();
    if (state === 'held' || state === 'sold') {
      showNotice(`Seat ${seat} is ${state === 'held' ? 'held by another buyer' : 'sold'}. Please pick an available seat.`, 'info');
      return;
    }
    if (state === 'yours') return;
    if (hold) {
      showNotice(`You are holding seat ${hold.seatNumber}. Pay for it or cancel the hold to pick another.`, 'info');
      return;
    }
    try {
      hold = await call('/api/v1/reservations', {
        method: 'POST', auth: auth(), queueToken: token, body: { scheduleId: schedule, seatNumber: seat },
      });
      map.update([{ seatNumber: seat, status: 'HELD' }]);
      map.setMine([...map.mine, seat]);
      say(`Seat ${seat} is held for you for ${clock(Date.parse(hold.holdExpiresAt) - serverNow())}.`);
      renderPanel();
      updateSummary();
    } catch (error) {
      if (turnEnded(concert, title, error)) return;
      if (error.code === 'SEAT_UNAVAILABLE') map.update([{ seatNumber: seat, status: 'HELD' }], { flash: true });
      fail(error);
      updateSummary();
    }
  }

  function renderPanel() {
    clearInterval(ticking);
    if (!hold) {
      replace(panel, h('p', { class: 'muted' }, 'Pick an available seat to hold it for a few minutes while you pay.'));
      panel.dataset.state = 'none';
      return;
    }
    const seat = hold.seatNumber;
    const until = Date.parse(hold.holdExpiresAt);
    const left = h('strong', { class: 'countdown', id: 'countdown', role: 'timer', 'aria-label': 'Time left on your hold' }, clock(until - serverNow()));
    const payButton = h('button', { class: 'primary', type: 'button', onclick: () => pay() }, `Pay ${number(hold.price)} points`);
    const shortfall = h('div', { class: 'shortfall', hidden: true });
    panel.dataset.state = 'held';
    replace(panel,
      h('h2', {}, `Seat ${seat} is held for you`),
      h('p', { class: 'countdown-line' }, 'Time left to pay: ', left),
      h('p', { class: 'muted small' }, `Your balance: ${number(balance)} points.`),
      shortfall,
      h('div', { class: 'row' },
        payButton,
        h('button', { class: 'secondary', type: 'button', onclick: () => cancel() }, 'Cancel hold')));
    const short = hold.price - balance;
    if (short > 0) offerCharge(short);
    ticking = setInterval(() => {
      const ms = until - serverNow();
      left.textContent = clock(ms);
      left.classList.toggle('countdown--soon', ms < 60000);
      if (ms <= 0) expired();
    }, 250);
    signal.addEventListener('abort', () => clearInterval(ticking), { once: true });

    function offerCharge(missing) {
      shortfall.hidden = false;
      replace(shortfall,
        h('p', {}, `You need ${number(missing)} more points for this seat.`),
        h('button', { class: 'primary', type: 'button', onclick: async (event) => {
          event.target.disabled = true;
          try {
            await charge(missing);
            await pay();
          } catch (error) {
            fail(error);
            event.target.disabled = false;
          }
        } }, `Add ${number(missing)} points and pay`));
      payButton.hidden = true;
    }

    async function pay() {
      clearNotice();
      payButton.disabled = true;
      try {
        const receipt = await call('/api/v1/payments', {
          method: 'POST', auth: auth(), queueToken: token, body: { reservationId: hold.reservationId },
        });
        clearInterval(ticking);
        sessionStorage.setItem(`frontrow.receipt.${receipt.reservationId}`, JSON.stringify({
          ...receipt, seatNumber: seat, concert, title, startsAt: info.startsAt,
        }));
        // Paying spends the place in line.
        storage.forgetPlace(concert);
        balance = receipt.balance;
        document.getElementById('balance').textContent = number(balance);
        go(`#/receipt/${receipt.reservationId}`);
      } catch (error) {
        payButton.disabled = false;
        if (error.code === 'INSUFFICIENT_POINTS') {
          await refreshBalance().catch(() => {});
          offerCharge(Math.max(1, hold.price - balance));
          showNotice(error.message, 'info');
          return;
        }
        if (error.code === 'HOLD_EXPIRED') return expired();
        if (turnEnded(concert, title, error)) return;
        fail(error);
      }
    }

    async function cancel() {
      try {
        await call(`/api/v1/reservations/${hold.reservationId}`, { method: 'DELETE', auth: auth() });
        map.setMine([...map.mine].filter((n) => n !== seat));
        map.update([{ seatNumber: seat, status: 'AVAILABLE' }]);
        hold = null;
        say(`Your hold on seat ${seat} is cancelled.`);
        renderPanel();
        updateSummary();
      } catch (error) {
        if (error.code === 'HOLD_EXPIRED') return expired();
        fail(error);
      }
    }

    function expired() {
      clearInterval(ticking);
      map.setMine([...map.mine].filter((n) => n !== seat));
      map.update([{ seatNumber: seat, status: 'AVAILABLE' }]);
      hold = null;
      panel.dataset.state = 'expired';
      replace(panel,
        h('h2', {}, 'Your hold has expired'),
        h('p', {}, `Time ran out, so seat ${seat} was released for other buyers. You can pick a seat again.`));
      showNotice(`Your hold on seat ${seat} has expired. The seat is free for others again.`, 'info');
      say(`Your hold on seat ${seat} has expired.`);
      updateSummary();
    }
  }

  // Live seats: the seat stream, reconnecting after it ends; polling the
  // seat map at the server's pace if the stream cannot be had.
  let failures = 0;
  let streaming = true;
  while (!signal.aborted) {
    const opened = Date.now();
    try {
      if (streaming) {
        await follow(`/api/v1/schedules/${schedule}/seats/stream`, {
          auth: auth(),
          queueToken: token,
          signal,
          onEvent: (event) => {
            failures = 0;
            map.update(event.seats, { flash: !event.snapshot });
            if (!event.snapshot) {
              const taken = event.seats.filter((s) => s.status !== 'AVAILABLE' && !map.mine.has(s.seatNumber));
              if (taken.length === 1) say(`Seat ${taken[0].seatNumber} was just taken.`);
            }
            updateSummary();
          },
        });
        // A stream that keeps ending at once is reopened ever more slowly.
        if (Date.now() - opened < 5000) failures += 1;
      } else {
        const { seats } = await call(`/api/v1/schedules/${schedule}/seats`, { auth: auth(), queueToken: token });
        map.update(seats, { flash: true });
        updateSummary();
      }
    } catch (error) {
      if (signal.aborted) return;
      if (turnEnded(concert, title, error)) return;
      if (error.status === 404 || error.status === 405) streaming = false;
      else if (error.status >= 400 && error.status < 500) {
        fail(error);
        return;
      } else failures += 1;
    }
    const pace = streaming ? 1 : 10;
    await sleep(pace * 1000 * 2 ** Math.min(failures, 4), signal);
  }
}

// ---------------------------------------------------------------- receipt

async function receiptScreen(reservation) {
  setTitle('Ticket confirmed');
  let receipt = null;
  try {
    receipt = JSON.parse(sessionStorage.getItem(`frontrow.receipt.${reservation}`) || 'null');
  } catch {
    receipt = null;
  }
  if (!receipt) {
    try {
      const r = await call(`/api/v1/reservations/${reservation}`, { auth: auth() });
      receipt = { reservationId: r.reservationId, seatNumber: r.seatNumber, amount: r.price, status: r.status };
    } catch (error) {
      fail(error);
      return;
    }
  }
  show(heading('Your ticket is confirmed'),
    h('div', { class: 'card ticket', 'data-state': 'paid' },
      receipt.title ? h('h2', {}, receipt.title) : null,
      receipt.startsAt ? h('p', {}, date(receipt.startsAt)) : null,
      h('dl', { class: 'facts' },
        h('dt', {}, 'Seat'), h('dd', {}, String(receipt.seatNumber)),
        h('dt', {}, 'Paid'), h('dd', {}, `${number(receipt.amount)} points`),
        receipt.balance != null ? [h('dt', {}, 'Balance now'), h('dd', {}, `${number(receipt.balance)} points`)] : null,
        receipt.paymentId != null ? [h('dt', {}, 'Payment'), h('dd', {}, `#${receipt.paymentId}`)] : null,
        h('dt', {}, 'Reservation'), h('dd', {}, `#${receipt.reservationId}`))),
    h('div', { class: 'row' },
      h('a', { class: 'button primary', href: '#/tickets' }, 'My tickets'),
      h('a', { class: 'button secondary', href: '#/' }, 'Back to concerts')));
  focusHeading();
  say('Your ticket is confirmed.');
}

// ---------------------------------------------------------------- my tickets

const STATUS_TEXT = {
  CONFIRMED: 'Ticket',
  HELD: 'Held',
  CANCELLED: 'Cancelled',
  EXPIRED: 'Expired',
};

async function ticketsScreen(signal) {
  setTitle('My tickets');
  const list = h('ul', { class: 'list', id: 'tickets' });
  const more = h('button', { type: 'button', class: 'secondary', hidden: true }, 'Show older');
  show(heading('My tickets'), list, more);
  await concerts().catch(() => {});
  let after = null;
  const load = async () => {
    more.disabled = true;
    try {
      const page = await call(`/api/v1/reservations?limit=10${after ? `&after=${after}` : ''}`, { auth: auth() });
      if (signal.aborted) return;
      if (!after && page.reservations.length === 0) {
        list.replaceWith(h('p', { class: 'muted' }, 'No tickets yet. ', h('a', { href: '#/' }, 'Find a concert.')));
      }
      for (const r of page.reservations) {
        const concert = concertCache.get(r.concertId);
        list.append(h('li', { class: `card reservation reservation--${r.status.toLowerCase()}`, 'data-status': r.status },
          h('div', {},
            h('h2', {}, concert?.title || `Concert ${r.concertId}`),
            h('p', { class: 'muted' }, `${date(r.startsAt)} · Seat ${r.seatNumber} · ${number(r.price)} points`),
            r.status === 'HELD' ? h('p', { class: 'small' }, `Held until ${time(Date.parse(r.holdExpiresAt))} `,
              h('button', { type: 'button', class: 'link', onclick: async (event) => {
                try {
                  await call(`/api/v1/reservations/${r.reservationId}`, { method: 'DELETE', auth: auth() });
                  const item = event.target.closest('li');
                  item.dataset.status = 'CANCELLED';
                  replace(item.querySelector('.badge'), STATUS_TEXT.CANCELLED);
                  item.querySelector('.badge').className = 'badge badge--cancelled';
                  event.target.closest('p').replaceWith(h('p', { class: 'small' }, 'Hold cancelled; the seat is free again.'));
                  say(`Your hold on seat ${r.seatNumber} is cancelled.`);
                } catch (error) {
                  fail(error);
                }
              } }, 'Cancel hold')) : null),
          h('span', { class: `badge badge--${r.status.toLowerCase()}` }, STATUS_TEXT[r.status] || r.status)));
      }
      after = page.next ?? null;
      more.hidden = !after;
    } catch (error) {
      fail(error);
    } finally {
      more.disabled = false;
    }
  };
  more.addEventListener('click', load);
  await load();
  focusHeading();
}

// ---------------------------------------------------------------- start

document.addEventListener('balance', () => {
  // Re-render the hold panel's balance line and shortfall offer.
  if (/\/schedules\//.test(location.hash)) route();
});

route();
