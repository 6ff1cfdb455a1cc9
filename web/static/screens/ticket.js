// One paid ticket: seat, date, the signed code as text and as a QR code.
// The door checks the code with the service's published key (see
// docs/architecture.md), so this screen is all a buyer needs to show.

import { call } from '../api.js';
import { date, h } from '../dom.js';
import { fail, focusHeading, heading, setTitle, show } from '../shell.js';
import { store } from '../store.js';
import { loadConcerts } from './concerts.js';

const SVG = 'http://www.w3.org/2000/svg';
// What the server's QR renderer draws; anything else is dropped, so the
// string from the API can never bring in script, links or styles.
const ELEMENTS = new Set(['svg', 'rect', 'path']);
const ATTRIBUTES = new Set(['width', 'height', 'viewBox', 'x', 'y', 'fill', 'd', 'shape-rendering']);

/**
 * The QR as an inline SVG element, rebuilt node by node from the parsed
 * document (parsing as XML runs nothing; copying only known elements and
 * attributes keeps it inert and within the page's CSP: no inline style).
 */
function qr(svgText, label) {
  const parsed = new DOMParser().parseFromString(svgText, 'image/svg+xml').documentElement;
  if (parsed.namespaceURI !== SVG || parsed.localName !== 'svg') return null;
  const copy = (from) => {
    const to = document.createElementNS(SVG, from.localName);
    for (const attribute of from.attributes) {
      if (ATTRIBUTES.has(attribute.name)) to.setAttribute(attribute.name, attribute.value);
    }
    for (const child of from.children) {
      if (child.namespaceURI === SVG && ELEMENTS.has(child.localName)) to.append(copy(child));
    }
    return to;
  };
  const svg = copy(parsed);
  svg.removeAttribute('width');
  svg.removeAttribute('height');
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', label);
  svg.setAttribute('class', 'qr');
  return svg;
}

export async function ticketScreen(reservation) {
  setTitle('Ticket');
  let ticket;
  try {
    [ticket] = await Promise.all([
      call(`/api/v1/reservations/${reservation}/ticket`, { auth: store.auth() }),
      loadConcerts().catch(() => {}),
    ]);
  } catch (error) {
    fail(error);
    return;
  }
  const title = store.concerts.get(ticket.concertId)?.title || `Concert ${ticket.concertId}`;
  show(heading(`Seat ${ticket.seatNumber}`),
    h('div', { class: 'card ticket ticket-detail', id: 'ticket', 'data-state': 'paid' },
      h('h2', {}, title),
      h('dl', { class: 'facts' },
        h('dt', {}, 'Date'), h('dd', {}, date(ticket.startsAt)),
        h('dt', {}, 'Seat'), h('dd', {}, String(ticket.seatNumber)),
        h('dt', {}, 'Reservation'), h('dd', {}, `#${ticket.reservationId}`)),
      qr(ticket.qrSvg, `QR code of your ticket for seat ${ticket.seatNumber}`),
      h('p', { class: 'small muted' }, 'Show this code at the door. It is signed, so it can be checked without a connection.'),
      h('p', { class: 'ticket-code', id: 'ticket-code' }, ticket.code)),
    h('div', { class: 'row' },
      h('a', { class: 'button secondary', href: '#/tickets' }, 'My tickets')));
  focusHeading();
}
