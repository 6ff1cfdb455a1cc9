// A performance's seat map, followed live through `streamOrPoll`, and the
// buyer's cart: every seat held here, one countdown (to the first hold's
// `holdExpiresAt`: the cart is only whole until then), one payment for all
// of them (offering to add the points that are missing), releasing one
// seat, and what happens when a hold lapses.

import { call, serverNow } from '../api.js';
import { clock, date, h, number, replace } from '../dom.js';
import { streamOrPoll } from '../live.js';
import { clearNotice, fail, go, heading, say, setTitle, show, showNotice } from '../shell.js';
import { charge, refreshBalance, setBalance } from '../points.js';
import { SeatMap, legend } from '../seatmap.js';
import { store } from '../store.js';
import { concertTitle } from './concerts.js';
import { joinScreen, turnEnded } from './join.js';
import { turnTimer } from './schedules.js';

/** The buyer's live holds and seats bought, in one schedule. */
async function myReservations(schedule) {
  const { reservations } = await call('/api/v1/reservations?limit=100', { auth: store.auth() });
  return reservations.filter((r) => r.scheduleId === schedule && (r.status === 'HELD' || r.status === 'CONFIRMED'));
}

export async function seatsScreen(concert, schedule, signal) {
  const title = await concertTitle(concert);
  const place = store.place(concert);
  if (signal.aborted) return;
  if (!place) return joinScreen(concert, title, null);
  const token = place.token;
  setTitle('Choose your seat');
  let schedules;
  try {
    ({ schedules } = await call(`/api/v1/concerts/${concert}/schedules`, { auth: store.auth(), queueToken: token }));
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
  // When the turn ends (shown until the first hold); none if unknown.
  let turnEndsAt = null;
  try {
    ({ turnEndsAt } = await call('/api/v1/queue/status', { auth: store.auth(), queueToken: token }));
  } catch {
    // The seat map still works; a refusal at the gate says the rest.
  }
  if (signal.aborted) return;
  const sale = { concert, schedule, title, token, info, signal, turnEndsAt };
  const summary = h('p', { class: 'muted small', id: 'seat-summary' });
  const map = new SeatMap({
    seatCount: info.seatCount,
    label: `Seats for ${date(info.startsAt)}`,
    onPick: (seat, state) => pick(seat, state),
  });
  const updateSummary = () => {
    const c = map.counts();
    summary.textContent = `${c.available} available · ${c.held} held · ${c.sold} sold${c.yours ? ` · ${c.yours} yours` : ''}`;
  };
  const panel = holdPanel(sale, map, updateSummary);
  show(
    h('p', { class: 'eyebrow' }, `${title} · ${date(info.startsAt)}`),
    heading('Choose your seat'),
    h('p', { class: 'muted small' }, `${number(info.price)} points per seat. Seats change colour live as others take them.`),
    legend(),
    h('div', { class: 'stage', 'aria-hidden': 'true' }, 'Stage'),
    map.element,
    summary,
    panel.element,
    h('p', {}, h('a', { href: `#/concerts/${concert}` }, 'Back to performances')),
  );

  try {
    const mine = await myReservations(schedule);
    map.setMine(mine.map((r) => r.seatNumber));
    panel.show(mine.filter((r) => r.status === 'HELD' && Date.parse(r.holdExpiresAt) > serverNow()));
  } catch (error) {
    fail(error);
    panel.show([]);
  }

  async function pick(seat, state) {
    clearNotice();
    if (state === 'held' || state === 'sold') {
      showNotice(`Seat ${seat} is ${state === 'held' ? 'held by another buyer' : 'sold'}. Please pick an available seat.`, 'info');
      return;
    }
    if (state === 'yours') return;
    try {
      const hold = await call('/api/v1/reservations', {
        method: 'POST', auth: store.auth(), queueToken: token, body: { scheduleId: schedule, seatNumber: seat },
      });
      map.update([{ seatNumber: seat, status: 'HELD' }]);
      map.setMine([...map.mine, seat]);
      say(`Seat ${seat} is held for you for ${clock(Date.parse(hold.holdExpiresAt) - serverNow())}.`);
      // A covered hold reserves its points: the bar says so.
      await refreshBalance().catch(() => {});
      panel.show([...panel.holds, hold]);
      updateSummary();
    } catch (error) {
      if (turnEnded(concert, title, error)) return;
      if (error.code === 'SEAT_UNAVAILABLE') map.update([{ seatNumber: seat, status: 'HELD' }], { flash: true });
      // No fault of the buyer's: the held seats can still be paid.
      if (error.code === 'QUEUE_TURN_OVER') showNotice(error.message, 'info');
      else fail(error);
      updateSummary();
    }
  }

  // Live seats: a snapshot, then changes (a poll answers a whole map).
  try {
    await streamOrPoll({
      stream: `/api/v1/schedules/${schedule}/seats/stream`,
      poll: `/api/v1/schedules/${schedule}/seats`,
      auth: store.auth(),
      queueToken: token,
      signal,
      pace: place.pace || 10,
      onData: (event) => {
        map.update(event.seats, { flash: !event.snapshot });
        if (event.snapshot === false) {
          const taken = event.seats.filter((s) => s.status !== 'AVAILABLE' && !map.mine.has(s.seatNumber));
          if (taken.length === 1) say(`Seat ${taken[0].seatNumber} was just taken.`);
        }
        updateSummary();
      },
    });
  } catch (error) {
    if (signal.aborted) return;
    if (turnEnded(concert, title, error)) return;
    fail(error);
  }
}

/** "3", "3 and 5", "1, 2 and 4". */
function seatList(seats) {
  return seats.length < 2 ? String(seats[0]) : `${seats.slice(0, -1).join(', ')} and ${seats[seats.length - 1]}`;
}

/**
 * The panel under the map: nothing held, the cart (one countdown, one
 * payment for every seat, release one, the points missing) or a cart that
 * lapsed. `show(holds)` draws it; `holds` are the live holds here.
 */
function holdPanel(sale, map, updateSummary) {
  const { concert, title, token, info, signal, turnEndsAt } = sale;
  // The turn's timer, while nothing is held.
  let turn = new AbortController();
  signal.addEventListener('abort', () => turn.abort(), { once: true });
  const element = h('aside', { class: 'hold-panel', 'aria-label': 'Your seats', 'aria-live': 'polite' });
  const panel = { element, holds: [], show: draw };
  let ticking = null;
  signal.addEventListener('abort', () => clearInterval(ticking), { once: true });
  // Adding points from the bar draws the balance line and the offer again.
  const redraw = () => { if (panel.holds.length) draw(panel.holds); };
  document.addEventListener('balance', redraw);
  signal.addEventListener('abort', () => document.removeEventListener('balance', redraw), { once: true });

  function released(seat) {
    map.setMine([...map.mine].filter((n) => n !== seat));
    map.update([{ seatNumber: seat, status: 'AVAILABLE' }]);
  }

  function draw(holds) {
    clearInterval(ticking);
    turn.abort();
    holds = [...holds].sort((a, b) => a.seatNumber - b.seatNumber);
    panel.holds = holds;
    if (!holds.length) {
      turn = new AbortController();
      replace(element, turnTimer(turnEndsAt, turn.signal),
        h('p', { class: 'muted' }, 'Pick available seats to hold them for a few minutes while you pay.'));
      element.dataset.state = 'none';
      return;
    }
    const seats = holds.map((r) => r.seatNumber);
    const total = holds.reduce((sum, r) => sum + r.price, 0);
    // The cart's one timer: it is whole only until its first hold lapses.
    const first = holds.reduce((a, b) => (Date.parse(a.holdExpiresAt) <= Date.parse(b.holdExpiresAt) ? a : b));
    const until = Date.parse(first.holdExpiresAt);
    const one = holds.length === 1;
    const left = h('strong', { class: 'countdown', id: 'countdown', role: 'timer', 'aria-label': 'Time left on your hold' }, clock(until - serverNow()));
    const payButton = h('button', { class: 'primary', type: 'button', onclick: () => pay() },
      one ? `Pay ${number(total)} points` : `Pay for ${holds.length} seats: ${number(total)} points`);
    const shortfall = h('div', { class: 'shortfall', hidden: true });
    element.dataset.state = 'held';
    replace(element,
      h('h2', {}, one ? `Seat ${seats[0]} is held for you` : `Seats ${seatList(seats)} are held for you`),
      h('p', { class: 'countdown-line' }, 'Time left to pay: ', left),
      one ? null : h('ul', { class: 'cart-lines', id: 'cart' }, holds.map((r) =>
        h('li', { class: 'row' },
          h('span', {}, `Seat ${r.seatNumber} · ${number(r.price)} points`),
          h('button', { class: 'link', type: 'button', 'aria-label': `Release seat ${r.seatNumber}`, onclick: () => cancel(r) }, 'Release')))),
      holds.some((r) => r.covered === false)
        ? h('p', { class: 'uncovered', id: 'uncovered' },
          'Your points did not cover this seat, so it is held only briefly, once per concert. Add points and pay before the timer ends.')
        : null,
      h('p', { class: 'muted small' }, `Your balance: ${number(store.balance)} points${store.reserved > 0 ? ` (${number(store.reserved)} kept for your held seats)` : ''}. Pick more seats to pay for them together.`),
      shortfall,
      h('div', { class: 'row' },
        payButton,
        one ? h('button', { class: 'secondary', type: 'button', onclick: () => cancel(holds[0]) }, 'Cancel hold') : null));
    // The cart's covered holds have their points kept already.
    const kept = holds.filter((r) => r.covered !== false).reduce((sum, r) => sum + r.price, 0);
    const short = total - (store.balance - Math.max(0, store.reserved - kept));
    if (short > 0) offerCharge(short);
    ticking = setInterval(() => {
      const ms = until - serverNow();
      left.textContent = clock(ms);
      left.classList.toggle('countdown--soon', ms < 60000);
      if (ms <= 0) expired(first);
    }, 250);

    function offerCharge(missing) {
      shortfall.hidden = false;
      replace(shortfall,
        h('p', {}, one ? `You need ${number(missing)} more points for this seat.` : `You need ${number(missing)} more points for these seats.`),
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
          method: 'POST', auth: store.auth(), queueToken: token, body: { reservationIds: holds.map((r) => r.reservationId) },
        });
        clearInterval(ticking);
        sessionStorage.setItem(`frontrow.receipt.${receipt.reservationId}`, JSON.stringify({
          ...receipt, seatNumber: receipt.lines[0].seatNumber, concert, title, startsAt: info.startsAt,
        }));
        // A paid cart ends the place in line when nothing else is held.
        store.forgetPlace(concert);
        setBalance(receipt.balance);
        refreshBalance().catch(() => {});
        go(`#/receipt/${receipt.reservationId}`);
      } catch (error) {
        payButton.disabled = false;
        if (error.code === 'INSUFFICIENT_POINTS') {
          await refreshBalance().catch(() => {});
          offerCharge(Math.max(1, total - store.balance));
          showNotice(error.message, 'info');
          return;
        }
        const lapsed = holds.find((r) => r.reservationId === error.body?.reservationId);
        if (error.code === 'HOLD_EXPIRED') return expired(lapsed || first);
        if (turnEnded(concert, title, error)) return;
        fail(error);
      }
    }

    async function cancel(hold) {
      try {
        // The queue token tells the room the cart shrank.
        await call(`/api/v1/reservations/${hold.reservationId}`, { method: 'DELETE', auth: store.auth(), queueToken: token });
        released(hold.seatNumber);
        say(`Your hold on seat ${hold.seatNumber} is cancelled.`);
        // Its points, if it kept any, are free again.
        await refreshBalance().catch(() => {});
        draw(holds.filter((r) => r !== hold));
        updateSummary();
      } catch (error) {
        if (error.code === 'HOLD_EXPIRED') return expired(hold);
        fail(error);
      }
    }

    function expired(hold) {
      clearInterval(ticking);
      const seat = hold.seatNumber;
      released(seat);
      showNotice(`Your hold on seat ${seat} has expired. The seat is free for others again.`, 'info');
      say(`Your hold on seat ${seat} has expired.`);
      updateSummary();
      const rest = holds.filter((r) => r !== hold);
      if (rest.length) return draw(rest);
      panel.holds = [];
      element.dataset.state = 'expired';
      replace(element,
        h('h2', {}, 'Your hold has expired'),
        h('p', {}, `Time ran out, so seat ${seat} was released for other buyers. You can pick a seat again.`));
    }
  }

  return panel;
}
