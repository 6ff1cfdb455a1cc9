// A performance's seat map, followed live through `streamOrPoll`, and the
// buyer's hold: a countdown to `holdExpiresAt`, pay (offering to add the
// points that are missing), cancel, and what happens when it lapses.

import { call, serverNow } from '../api.js';
import { clock, date, h, number, replace } from '../dom.js';
import { streamOrPoll } from '../live.js';
import { clearNotice, fail, go, heading, say, setTitle, show, showNotice } from '../shell.js';
import { charge, refreshBalance, setBalance } from '../points.js';
import { SeatMap, legend } from '../seatmap.js';
import { store } from '../store.js';
import { concertTitle } from './concerts.js';
import { joinScreen, turnEnded } from './join.js';

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
  const sale = { concert, schedule, title, token, info, signal };
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
    panel.show(mine.find((r) => r.status === 'HELD' && Date.parse(r.holdExpiresAt) > serverNow()) || null);
  } catch (error) {
    fail(error);
    panel.show(null);
  }

  async function pick(seat, state) {
    clearNotice();
    if (state === 'held' || state === 'sold') {
      showNotice(`Seat ${seat} is ${state === 'held' ? 'held by another buyer' : 'sold'}. Please pick an available seat.`, 'info');
      return;
    }
    if (state === 'yours') return;
    if (panel.hold) {
      showNotice(`You are holding seat ${panel.hold.seatNumber}. Pay for it or cancel the hold to pick another.`, 'info');
      return;
    }
    try {
      const hold = await call('/api/v1/reservations', {
        method: 'POST', auth: store.auth(), queueToken: token, body: { scheduleId: schedule, seatNumber: seat },
      });
      map.update([{ seatNumber: seat, status: 'HELD' }]);
      map.setMine([...map.mine, seat]);
      say(`Seat ${seat} is held for you for ${clock(Date.parse(hold.holdExpiresAt) - serverNow())}.`);
      panel.show(hold);
      updateSummary();
    } catch (error) {
      if (turnEnded(concert, title, error)) return;
      if (error.code === 'SEAT_UNAVAILABLE') map.update([{ seatNumber: seat, status: 'HELD' }], { flash: true });
      fail(error);
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

/**
 * The panel under the map: nothing held, a hold (countdown, pay, cancel,
 * the points missing) or a hold that lapsed. `show(hold)` draws it; `hold`
 * is the reservation held now, or null.
 */
function holdPanel(sale, map, updateSummary) {
  const { concert, title, token, info, signal } = sale;
  const element = h('aside', { class: 'hold-panel', 'aria-label': 'Your seat', 'aria-live': 'polite' });
  const panel = { element, hold: null, show: draw };
  let ticking = null;
  signal.addEventListener('abort', () => clearInterval(ticking), { once: true });
  // Adding points from the bar draws the balance line and the offer again.
  const redraw = () => { if (panel.hold) draw(panel.hold); };
  document.addEventListener('balance', redraw);
  signal.addEventListener('abort', () => document.removeEventListener('balance', redraw), { once: true });

  function released(seat) {
    map.setMine([...map.mine].filter((n) => n !== seat));
    map.update([{ seatNumber: seat, status: 'AVAILABLE' }]);
    panel.hold = null;
  }

  function draw(hold) {
    clearInterval(ticking);
    panel.hold = hold;
    if (!hold) {
      replace(element, h('p', { class: 'muted' }, 'Pick an available seat to hold it for a few minutes while you pay.'));
      element.dataset.state = 'none';
      return;
    }
    const seat = hold.seatNumber;
    const until = Date.parse(hold.holdExpiresAt);
    const left = h('strong', { class: 'countdown', id: 'countdown', role: 'timer', 'aria-label': 'Time left on your hold' }, clock(until - serverNow()));
    const payButton = h('button', { class: 'primary', type: 'button', onclick: () => pay() }, `Pay ${number(hold.price)} points`);
    const shortfall = h('div', { class: 'shortfall', hidden: true });
    element.dataset.state = 'held';
    replace(element,
      h('h2', {}, `Seat ${seat} is held for you`),
      h('p', { class: 'countdown-line' }, 'Time left to pay: ', left),
      h('p', { class: 'muted small' }, `Your balance: ${number(store.balance)} points.`),
      shortfall,
      h('div', { class: 'row' },
        payButton,
        h('button', { class: 'secondary', type: 'button', onclick: () => cancel() }, 'Cancel hold')));
    const short = hold.price - store.balance;
    if (short > 0) offerCharge(short);
    ticking = setInterval(() => {
      const ms = until - serverNow();
      left.textContent = clock(ms);
      left.classList.toggle('countdown--soon', ms < 60000);
      if (ms <= 0) expired();
    }, 250);

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
          method: 'POST', auth: store.auth(), queueToken: token, body: { reservationId: hold.reservationId },
        });
        clearInterval(ticking);
        sessionStorage.setItem(`frontrow.receipt.${receipt.reservationId}`, JSON.stringify({
          ...receipt, seatNumber: seat, concert, title, startsAt: info.startsAt,
        }));
        // Paying spends the place in line.
        store.forgetPlace(concert);
        setBalance(receipt.balance);
        go(`#/receipt/${receipt.reservationId}`);
      } catch (error) {
        payButton.disabled = false;
        if (error.code === 'INSUFFICIENT_POINTS') {
          await refreshBalance().catch(() => {});
          offerCharge(Math.max(1, hold.price - store.balance));
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
        await call(`/api/v1/reservations/${hold.reservationId}`, { method: 'DELETE', auth: store.auth() });
        released(seat);
        say(`Your hold on seat ${seat} is cancelled.`);
        draw(null);
        updateSummary();
      } catch (error) {
        if (error.code === 'HOLD_EXPIRED') return expired();
        fail(error);
      }
    }

    function expired() {
      clearInterval(ticking);
      released(seat);
      element.dataset.state = 'expired';
      replace(element,
        h('h2', {}, 'Your hold has expired'),
        h('p', {}, `Time ran out, so seat ${seat} was released for other buyers. You can pick a seat again.`));
      showNotice(`Your hold on seat ${seat} has expired. The seat is free for others again.`, 'info');
      say(`Your hold on seat ${seat} has expired.`);
      updateSummary();
    }
  }

  return panel;
}
