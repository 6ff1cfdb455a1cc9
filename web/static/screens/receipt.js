// The receipt after paying: from this tab's memory of the payment, or from
// the reservation when the page was reloaded elsewhere.

import { call } from '../api.js';
import { date, h, number } from '../dom.js';
import { fail, focusHeading, heading, say, setTitle, show } from '../shell.js';
import { store } from '../store.js';

export async function receiptScreen(reservation) {
  setTitle('Ticket confirmed');
  let receipt = null;
  try {
    receipt = JSON.parse(sessionStorage.getItem(`frontrow.receipt.${reservation}`) || 'null');
  } catch {
    receipt = null;
  }
  if (!receipt) {
    try {
      const r = await call(`/api/v1/reservations/${reservation}`, { auth: store.auth() });
      receipt = { reservationId: r.reservationId, seatNumber: r.seatNumber, amount: r.price, status: r.status };
    } catch (error) {
      fail(error);
      return;
    }
  }
  const lines = receipt.lines || [];
  const many = lines.length > 1;
  const confirmed = many ? `Your ${lines.length} tickets are confirmed` : 'Your ticket is confirmed';
  show(heading(confirmed),
    h('div', { class: 'card ticket', 'data-state': 'paid' },
      receipt.title ? h('h2', {}, receipt.title) : null,
      receipt.startsAt ? h('p', {}, date(receipt.startsAt)) : null,
      many ? h('ul', { class: 'receipt-lines', id: 'receipt-lines' }, lines.map((line) =>
        h('li', {}, `${line.place || `Seat ${line.seatNumber}`} · ${number(line.amount)} points · reservation #${line.reservationId}`))) : null,
      h('dl', { class: 'facts' },
        many ? null : [h('dt', {}, 'Seat'), h('dd', {}, lines[0]?.place || String(receipt.seatNumber))],
        h('dt', {}, 'Paid'), h('dd', {}, `${number(receipt.amount)} points`),
        receipt.balance != null ? [h('dt', {}, 'Balance now'), h('dd', {}, `${number(receipt.balance)} points`)] : null,
        receipt.paymentId != null ? [h('dt', {}, 'Payment'), h('dd', {}, `#${receipt.paymentId}`)] : null,
        many ? null : [h('dt', {}, 'Reservation'), h('dd', {}, `#${receipt.reservationId}`)])),
    h('div', { class: 'row' },
      h('a', { class: 'button primary', href: '#/tickets' }, 'My tickets'),
      h('a', { class: 'button secondary', href: '#/' }, 'Back to concerts')));
  focusHeading();
  say(`${confirmed}.`);
}
