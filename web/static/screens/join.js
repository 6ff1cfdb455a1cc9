// Taking a place in a concert's line, the screen that offers it (first
// time, or after a place ended), and what a refusal at the gate means for a
// buyer whose turn it was.

import { ApiError, call } from '../api.js';
import { date, h } from '../dom.js';
import { fail, focusHeading, go, heading, setTitle, show } from '../shell.js';
import { store } from '../store.js';
import { DOOR_CODES, prepareJoin, spent } from '../door.js';

/**
 * Joins the line (or the pre-queue) and shows the waiting room. A sale
 * that is not open yet is said in `note` (next to the button pressed) when
 * given.
 */
export async function join(concert, note = null, retried = false) {
  const say = (text) => { if (note) note.textContent = text; };
  try {
    const paid = await prepareJoin(concert, say);
    const body = paid ? { concertId: concert, proofOfWork: paid.proof } : { concertId: concert };
    spent(concert);
    const ticket = await call('/api/v1/queue/tokens', { method: 'POST', auth: store.auth(), body });
    store.setPlace(concert, { token: ticket.token, firstPosition: Math.max(ticket.position, 1), pace: ticket.refreshIntervalSeconds });
    go(`#/concerts/${concert}`);
  } catch (error) {
    // The level rose, or the proof lapsed: one new challenge, then the refusal.
    if (error instanceof ApiError && DOOR_CODES.has(error.code) && !retried) {
      spent(concert);
      return join(concert, note, true);
    }
    if (error instanceof ApiError && error.code === 'SALE_NOT_OPEN' && error.body?.opensAt) {
      const from = store.concerts.get(concert)?.preQueueFrom;
      const message = `The sale opens ${date(error.body.opensAt)}.${from ? ` You can join the pre-queue from ${date(from)}.` : ''}`;
      if (note) note.textContent = message;
      else fail(error);
      return;
    }
    fail(error);
  }
}

/** Why a place ended, from the status's `expiredReason` (null: unknown). */
const REASONS = {
  PAID: 'Your place ended because you paid for your seats.',
  LEFT: 'You left the line, so your place was given up.',
  LAPSED: 'You were away longer than 5 minutes when your turn came, so your place went to the next buyer.',
  TURN_ENDED: 'Your turn ran out before you held a seat.',
};

/** The sentence for an ended place: why, when known, and what to do next. */
export function endedMessage(reason) {
  return `${REASONS[reason] || 'Your place in line has expired.'} You can join the line again.`;
}

/**
 * Offers to join; `message` says why a place ended (null: never had one),
 * `reason` is the status's `expiredReason` when the room said it.
 */
export function joinScreen(concert, title, message, reason = null) {
  setTitle(message ? 'Place expired' : title);
  const note = h('p', { class: 'small', id: 'join-note', 'aria-live': 'polite' });
  show(h('p', { class: 'eyebrow' }, title), heading(message ? 'Your place has expired' : 'Join the line'),
    h('div', { class: 'state', 'data-state': message ? 'expired' : 'join', 'data-reason': reason },
      h('p', {}, message || 'Join the waiting room to get your place in line.'),
      h('div', { class: 'row' },
        h('button', { class: 'primary', type: 'button', 'aria-describedby': 'join-note', onclick: () => join(concert, note) },
          message ? 'Join again' : 'Join the line'),
        h('a', { class: 'button secondary', href: '#/' }, 'Back to concerts')),
      note));
  focusHeading();
  // The buyer opened the concert: start the door's work now, so Join is
  // quick; a failure here is said when Join is pressed.
  prepareJoin(concert, (text) => { note.textContent = text; }).catch(() => {});
}

const GATE_REFUSALS = new Set(['QUEUE_TOKEN_EXPIRED', 'QUEUE_NOT_ACTIVE', 'QUEUE_TOKEN_INVALID', 'QUEUE_TOKEN_MISSING']);

/**
 * What a gate refusal means for a buyer who was ACTIVE: back to the line
 * when it is not the turn yet, the join screen when the turn ended. True
 * when `error` was such a refusal (and is handled).
 */
export function turnEnded(concert, title, error) {
  if (!(error instanceof ApiError) || !GATE_REFUSALS.has(error.code)) return false;
  if (error.code === 'QUEUE_NOT_ACTIVE') {
    go(`#/concerts/${concert}`);
    return true;
  }
  store.forgetPlace(concert);
  joinScreen(concert, title, 'Your turn has ended. Join the line again to continue.');
  return true;
}
