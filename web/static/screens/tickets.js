// "My tickets": the buyer's tickets and live holds, newest first, ten at a
// time. Cancelled and lapsed holds are history nobody can act on, so they
// are left out (the API lists them; this screen filters). A live hold links
// to its seat map, where it can be paid while the turn lasts, and can be
// cancelled here. A ticket shows the receipt it was paid with: every seat
// of that payment, so seats bought together read as one purchase, and
// links to its detail (screens/ticket.js): the code the door checks.

import { call, serverNow } from '../api.js';
import { date, h, number, time } from '../dom.js';
import { fail, focusHeading, heading, say, setTitle, show, showNotice } from '../shell.js';
import { store } from '../store.js';
import { loadConcerts } from './concerts.js';

const live = (r) => r.status === 'CONFIRMED' || (r.status === 'HELD' && Date.parse(r.holdExpiresAt) > serverNow());

/** The receipt line under a ticket: what its payment paid, in all. */
function receiptLine(receipt) {
  const seats = receipt.lines.map((l) => l.seatNumber);
  const what = seats.length > 1 ? `Paid together: seats ${seats.join(', ')}` : `Paid: seat ${seats[0]}`;
  return h('p', { class: 'small muted receipt-line' }, `${what} · ${number(receipt.amount)} points · payment #${receipt.paymentId}`);
}

function item(r, list) {
  const concert = store.concerts.get(r.concertId);
  const title = concert?.title || `Concert ${r.concertId}`;
  const held = r.status === 'HELD';
  const li = h('li', { class: `card reservation reservation--${r.status.toLowerCase()}`, 'data-status': r.status },
    h('div', {},
      h('h2', {}, title),
      h('p', { class: 'muted' }, `${date(r.startsAt)} · Seat ${r.seatNumber} · ${number(r.price)} points`),
      held ? h('p', { class: 'small row' }, `Held until ${time(Date.parse(r.holdExpiresAt))}.`,
        store.place(r.concertId) && !store.place(r.concertId).ended
          ? h('a', { href: `#/concerts/${r.concertId}/schedules/${r.scheduleId}`, 'aria-label': `Pay for seat ${r.seatNumber}, ${title}` }, 'Pay')
          : null,
        h('button', { type: 'button', class: 'link', 'aria-label': `Cancel hold on seat ${r.seatNumber}, ${title}`, onclick: async () => {
          try {
            await call(`/api/v1/reservations/${r.reservationId}`, { method: 'DELETE', auth: store.auth() });
            li.remove();
            if (!list.children.length) list.replaceWith(empty());
            showNotice(`Your hold on seat ${r.seatNumber} is cancelled; the seat is free again.`, 'ok');
            say(`Your hold on seat ${r.seatNumber} is cancelled.`);
          } catch (error) {
            fail(error);
          }
        } }, 'Cancel hold')) : null,
      held ? null : h('div', { class: 'receipt-slot' }),
      held ? null : h('a', { href: `#/tickets/${r.reservationId}`, class: 'ticket-link', 'aria-label': `Show ticket for seat ${r.seatNumber}, ${title}` }, 'Show ticket')),
    h('span', { class: `badge badge--${r.status.toLowerCase()}` }, held ? 'Held' : 'Ticket'));
  return li;
}

const empty = () => h('p', { class: 'muted', id: 'no-tickets' }, 'No tickets yet. ', h('a', { href: '#/' }, 'Find a concert.'));

export async function ticketsScreen(signal) {
  setTitle('My tickets');
  const list = h('ul', { class: 'list', id: 'tickets' });
  const more = h('button', { type: 'button', class: 'secondary', hidden: true }, 'Show older');
  show(heading('My tickets'), list, more);
  await loadConcerts().catch(() => {});
  let after = null;
  // Receipts already read, by each reservation they paid: a cart's other
  // tickets need no second request.
  const receipts = new Map();
  const showReceipt = async (r, li) => {
    if (!receipts.has(r.reservationId)) {
      const receipt = await call(`/api/v1/reservations/${r.reservationId}/receipt`, { auth: store.auth() });
      for (const line of receipt.lines) receipts.set(line.reservationId, receipt);
    }
    li.querySelector('.receipt-slot')?.replaceWith(receiptLine(receipts.get(r.reservationId)));
  };
  // A page may hold only history: read on until something is shown or
  // nothing is left.
  const load = async () => {
    more.disabled = true;
    try {
      let shown = 0;
      do {
        const page = await call(`/api/v1/reservations?limit=10${after ? `&after=${after}` : ''}`, { auth: store.auth() });
        if (signal.aborted) return;
        for (const r of page.reservations.filter(live)) {
          const li = item(r, list);
          list.append(li);
          if (r.status === 'CONFIRMED') await showReceipt(r, li).catch(() => {});
          shown += 1;
        }
        after = page.next ?? null;
      } while (shown === 0 && after);
      if (!list.children.length && list.isConnected) list.replaceWith(empty());
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
