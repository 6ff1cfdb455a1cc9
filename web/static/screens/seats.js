// A performance's seats and the buyer's cart. Quantity first: "Best
// available" asks the server for that many seats together (in a tier or a
// section) and holds them at once. Or by hand: a schedule with a venue
// layout shows its overview (sections to scale, by availability, with
// prices) and one section at a time (see venue.js); a numbered hall (a
// schedule created without a layout) shows its seats as before (seatmap.js).
// The layout is fetched once and kept by the browser (it never changes,
// `ETag` and `immutable`); the first paint takes the compact status (a
// letter per seat); the seat stream, followed through `streamOrPoll`, keeps
// it live. The cart: every seat held here, one countdown (to the first
// hold's `holdExpiresAt`: the cart is only whole until then), one payment
// for all of them (offering to add the points that are missing), releasing
// one seat, and what happens when a hold lapses.

import { ApiError, call, serverNow } from '../api.js';
import { clock, date, h, number, replace } from '../dom.js';
import { streamOrPoll } from '../live.js';
import { clearNotice, fail, go, heading, say, setTitle, show, showNotice, view } from '../shell.js';
import { charge, refreshBalance, setBalance } from '../points.js';
import { SeatMap, legend } from '../seatmap.js';
import { Venue, priceRange, sectionLegend } from '../venue.js';
import { store } from '../store.js';
import { concertTitle } from './concerts.js';
import { joinScreen, turnEnded } from './join.js';
import { turnTimer } from './schedules.js';

/** Seats a buyer may hold or own per performance, unless the server says (`--max-seats-per-user`). */
const DEFAULT_SEAT_LIMIT = 4;
/** The quantity the picker starts at, as box offices do. */
const DEFAULT_QUANTITY = 2;

/** The buyer's live holds and seats bought, in one schedule. */
async function myReservations(schedule) {
  const { reservations } = await call('/api/v1/reservations?limit=100', { auth: store.auth() });
  return reservations.filter((r) => r.scheduleId === schedule && (r.status === 'HELD' || r.status === 'CONFIRMED'));
}

/**
 * The schedule's layout, or null when the server has none to give (an older
 * server). Not `no-store`: the browser keeps it (it is immutable) and asks
 * again with `If-None-Match` at most.
 */
async function layoutOf(schedule) {
  try {
    const response = await fetch(`/api/v1/schedules/${schedule}/layout`);
    return response.ok ? await response.json() : null;
  } catch {
    return null;
  }
}

/** Seat names for people: "Floor A, row 3, seat 12", or "Seat 7" in a numbered hall. */
function seatNames(venue) {
  return (n) => (venue ? venue.places.name(n) : `Seat ${n}`);
}

export async function seatsScreen(concert, schedule, signal) {
  const title = await concertTitle(concert);
  const place = store.place(concert);
  if (signal.aborted) return;
  if (!place) return joinScreen(concert, title, null);
  const token = place.token;
  setTitle('Choose your seats');
  let schedules;
  let layout;
  try {
    [{ schedules }, layout] = await Promise.all([
      call(`/api/v1/concerts/${concert}/schedules`, { auth: store.auth(), queueToken: token }),
      layoutOf(schedule),
    ]);
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
  let seatLimit = DEFAULT_SEAT_LIMIT;
  try {
    const status = await call('/api/v1/queue/status', { auth: store.auth(), queueToken: token });
    turnEndsAt = status.turnEndsAt;
    if (status.maxSeatsPerUser > 0) seatLimit = status.maxSeatsPerUser;
  } catch {
    // The seat map still works; a refusal at the gate says the rest.
  }
  if (signal.aborted) return;
  if (info.maxSeatsPerUser > 0) seatLimit = info.maxSeatsPerUser;
  const sections = layout && !layout.numberedHall;
  const summary = h('p', { class: 'muted small', id: 'seat-summary' });
  let venue = null;
  let map;
  if (sections) {
    venue = new Venue({
      layout,
      label: `Sections for ${date(info.startsAt)}: choose one to see its seats`,
      onPick: (seat, state) => pick(seat, state),
    });
    map = venue;
  } else {
    map = new SeatMap({
      seatCount: info.seatCount,
      label: `Seats for ${date(info.startsAt)}`,
      onPick: (seat, state) => pick(seat, state),
    });
  }
  const name = seatNames(venue);
  const sale = { concert, schedule, title, token, info, signal, turnEndsAt, name, sections };
  const updateSummary = () => {
    const c = map.counts();
    summary.textContent = `${number(c.available)} available · ${number(c.held)} held · ${number(c.sold)} sold${c.yours ? ` · ${c.yours} yours` : ''}`;
  };
  if (venue) venue.onCounts = updateSummary;
  const panel = holdPanel(sale, map, updateSummary);
  const best = bestAvailable(sale, layout, seatLimit, (holds) => {
    map.update(holds.map((r) => ({ seatNumber: r.seatNumber, status: 'HELD' })));
    map.setMine([...map.mine, ...holds.map((r) => r.seatNumber)]);
    panel.show([...panel.holds, ...holds]);
    if (venue) venue.openSection(venue.places.of(holds[0].seatNumber).section.sectionId, false);
    updateSummary();
  });
  const prices = sections
    ? `${priceRange(Math.min(...layout.tiers.map((t) => t.price)), Math.max(...layout.tiers.map((t) => t.price)))} per seat. Choose a section to see its seats; colours change live as others take them.`
    : `${number(info.price)} points per seat. Seats change colour live as others take them.`;
  view.classList.toggle('full', Boolean(sections));
  show(
    h('p', { class: 'eyebrow' }, `${title} · ${date(info.startsAt)}`),
    heading('Choose your seats'),
    h('p', { class: 'muted small' }, prices),
    best,
    h('div', { class: sections ? 'seat-screen' : 'seat-screen seat-screen--numbered' },
      h('div', { class: 'seat-screen-map' },
        sections ? sectionLegend() : legend(),
        sections ? null : h('div', { class: 'stage', 'aria-hidden': 'true' }, 'Stage'),
        map.element,
        summary),
      panel.element),
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
      showNotice(`${name(seat)} is ${state === 'held' ? 'held by another buyer' : 'sold'}. Please pick an available seat.`, 'info');
      return;
    }
    if (state === 'yours') return;
    try {
      const hold = await call('/api/v1/reservations', {
        method: 'POST', auth: store.auth(), queueToken: token, body: { scheduleId: schedule, seatNumber: seat },
      });
      map.update([{ seatNumber: seat, status: 'HELD' }]);
      map.setMine([...map.mine, seat]);
      say(`${name(seat)} is held for you for ${clock(Date.parse(hold.holdExpiresAt) - serverNow())}.`);
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

  // First paint of a big hall from the compact status: a letter per seat.
  if (sections) {
    try {
      const status = await call(`/api/v1/schedules/${schedule}/status`, { auth: store.auth(), queueToken: token });
      for (const s of status.sections) venue.applyLetters(s.firstSeat, s.status);
    } catch (error) {
      if (signal.aborted) return;
      if (turnEnded(concert, title, error)) return;
      // The stream's snapshot paints it instead.
    }
  }

  // A desktop has room for a section beside the overview: open the one
  // nearest the stage that has free seats (unless best available did).
  if (sections && !venue.open && matchMedia('(min-width: 1000px)').matches) {
    venue.openSection(venue.nearestStage().sectionId, false);
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
          if (taken.length === 1) say(`${name(taken[0].seatNumber)} was just taken.`);
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
 * Quantity first: how many seats (1 to the limit, 2 to start), optionally a
 * tier or a section, and "Best available", which holds that many seats
 * together. When none are together, the server offers the best single
 * seats instead; the buyer can hold those with one more tap.
 * `took(holds)` adds the new holds to the map and the cart.
 */
function bestAvailable(sale, layout, seatLimit, took) {
  const { schedule, token, concert, title, name } = sale;
  const quantity = h('select', { id: 'quantity', name: 'quantity' },
    Array.from({ length: seatLimit }, (_, i) => h('option', { value: i + 1, selected: i + 1 === Math.min(DEFAULT_QUANTITY, seatLimit) }, String(i + 1))));
  const tiers = layout && layout.tiers.length > 1 ? layout.tiers : [];
  const where = layout && !layout.numberedHall && (tiers.length || layout.sections.length > 1)
    ? h('select', { id: 'where', name: 'where' },
      h('option', { value: '' }, 'Anywhere'),
      tiers.length ? h('optgroup', { label: 'Price' }, tiers.map((t) => h('option', { value: `tier:${t.tierId}` }, `${t.name} · ${number(t.price)} points`))) : null,
      layout.sections.length > 1 ? h('optgroup', { label: 'Section' }, layout.sections.map((s) => h('option', { value: `section:${s.sectionId}` }, s.name))) : null)
    : null;
  const button = h('button', { type: 'submit', class: 'primary', id: 'best-available' }, 'Best available');
  const offer = h('div', { class: 'split-offer', 'aria-live': 'polite' });
  const form = h('form', { class: 'best card', 'aria-labelledby': 'best-title', onsubmit: (event) => { event.preventDefault(); ask(); } },
    h('h2', { id: 'best-title', class: 'visually-hidden' }, 'Best available seats'),
    h('div', { class: 'best-fields' },
      h('div', { class: 'field' }, h('label', { for: 'quantity' }, 'Seats'), quantity),
      where ? h('div', { class: 'field' }, h('label', { for: 'where' }, 'Where'), where) : null,
      button),
    offer);

  async function holdEach(seats) {
    const holds = [];
    for (const seat of seats) {
      try {
        holds.push(await call('/api/v1/reservations', {
          method: 'POST', auth: store.auth(), queueToken: token, body: { scheduleId: schedule, seatNumber: seat },
        }));
      } catch (error) {
        if (turnEnded(concert, title, error)) return;
        fail(error);
        break;
      }
    }
    if (holds.length) {
      took(holds);
      say(`${holds.length === 1 ? name(holds[0].seatNumber) : `${holds.length} seats`} held for you.`);
    }
  }

  async function ask() {
    clearNotice();
    replace(offer);
    const body = { quantity: Number(quantity.value) };
    const [kind, id] = (where?.value || '').split(':');
    if (kind === 'tier') body.tier = id;
    if (kind === 'section') body.section = id;
    button.disabled = true;
    try {
      const answer = await call(`/api/v1/schedules/${schedule}/best-available`, {
        method: 'POST', auth: store.auth(), queueToken: token, body,
      });
      const holds = Array.isArray(answer) ? answer : (answer.reservations || answer.holds || [answer]);
      took(holds);
      say(`${holds.length === 1 ? name(holds[0].seatNumber) : `${holds.length} seats together`} held for you.`);
    } catch (error) {
      if (turnEnded(concert, title, error)) return;
      const split = error instanceof ApiError ? error.body?.split : null;
      if (error.code === 'NO_ADJACENT_SEATS' && split?.length) {
        replace(offer,
          h('p', {}, `No ${body.quantity} seats together are left there. The best seats apart: ${split.map(name).join('; ')}.`),
          h('button', { type: 'button', class: 'secondary', onclick: () => { replace(offer); holdEach(split); } },
            `Hold these ${split.length} seats`));
      } else if (error.status === 404 && error.code === 'NOT_FOUND') {
        // A server without best available: the map is the way.
        form.hidden = true;
        showNotice('Best available is not offered for this performance: please pick seats on the map.', 'info');
      } else if (error.code === 'QUEUE_TURN_OVER') {
        showNotice(error.message, 'info');
      } else {
        fail(error);
      }
    } finally {
      button.disabled = false;
    }
  }

  return form;
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
  const { concert, title, token, info, signal, name, sections } = sale;
  // The turn's timer, while nothing is held.
  let turn = new AbortController();
  // Whether the last drawing showed holds: an emptied cart moves the turn's
  // end (the pick window opens again where the cart ended).
  let hadHolds = false;
  signal.addEventListener('abort', () => turn.abort(), { once: true });
  const element = h('aside', { class: 'hold-panel', 'aria-label': 'Your seats', 'aria-live': 'polite' });
  const panel = { element, holds: [], show: draw };
  let ticking = null;
  signal.addEventListener('abort', () => clearInterval(ticking), { once: true });
  // Adding points from the bar draws the balance line and the offer again.
  const redraw = () => { if (panel.holds.length) draw(panel.holds); };
  document.addEventListener('balance', redraw);
  signal.addEventListener('abort', () => document.removeEventListener('balance', redraw), { once: true });

  // "seat 7" in a sentence of a numbered hall, "Floor A, row 3, seat 12" with a layout.
  const seatInText = (n) => (sections ? name(n) : `seat ${n}`);
  /** "Seat 3 is held for you", "Seats 3 and 5 are…", "Floor A, row 3, seat 12 is…", "2 seats are…". */
  const heldTitle = (seats) => {
    if (seats.length === 1) return `${name(seats[0])} is held for you`;
    return sections ? `${seats.length} seats are held for you` : `Seats ${seatList(seats)} are held for you`;
  };

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
      const mine = turn;
      replace(element, turnTimer(sale.turnEndsAt, mine.signal),
        h('p', { class: 'muted' }, 'Pick available seats to hold them for a few minutes while you pay.'));
      element.dataset.state = 'none';
      if (hadHolds) {
        hadHolds = false;
        // The room says when the turn ends now; until it answers, the old end.
        call('/api/v1/queue/status', { auth: store.auth(), queueToken: token })
          .then((status) => {
            if (mine.signal.aborted || !status.turnEndsAt || status.turnEndsAt === sale.turnEndsAt) return;
            sale.turnEndsAt = status.turnEndsAt;
            draw([]);
          })
          .catch(() => {});
      }
      return;
    }
    hadHolds = true;
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
      h('h2', {}, heldTitle(seats)),
      h('p', { class: 'countdown-line' }, 'Time left to pay: ', left),
      one ? null : h('ul', { class: 'cart-lines', id: 'cart' }, holds.map((r) =>
        h('li', { class: 'row' },
          h('span', {}, `${name(r.seatNumber)} · ${number(r.price)} points`),
          h('button', { class: 'link', type: 'button', 'aria-label': `Release ${sections ? name(r.seatNumber) : `seat ${r.seatNumber}`}`, onclick: () => cancel(r) }, 'Release')))),
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
          // Where each seat is, for people ("Floor A, row 3, seat 12"), with a layout.
          lines: receipt.lines.map((line) => (sections ? { ...line, place: name(line.seatNumber) } : line)),
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
        say(`Your hold on ${seatInText(hold.seatNumber)} is cancelled.`);
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
      showNotice(`Your hold on ${seatInText(seat)} has expired. The seat is free for others again.`, 'info');
      say(`Your hold on ${seatInText(seat)} has expired.`);
      updateSummary();
      const rest = holds.filter((r) => r !== hold);
      if (rest.length) return draw(rest);
      panel.holds = [];
      element.dataset.state = 'expired';
      replace(element,
        h('h2', {}, 'Your hold has expired'),
        h('p', {}, `Time ran out, so ${seatInText(seat)} was released for other buyers. You can pick a seat again.`));
    }
  }

  return panel;
}
