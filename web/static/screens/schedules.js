// "It's your turn": the concert's performances with their free seats,
// refreshed at the ACTIVE pace the server gave.

import { call, serverNow, sleep } from '../api.js';
import { clock, date, h, number, replace } from '../dom.js';
import { fail, focusHeading, heading, show } from '../shell.js';
import { store } from '../store.js';
import { turnEnded } from './join.js';

/**
 * How long the turn has left (to the status's `turnEndsAt`), ticking until
 * `signal` aborts; null without one. Shown only before the first hold: from
 * then on the cart's countdown is the one timer.
 */
export function turnTimer(turnEndsAt, signal) {
  if (!turnEndsAt) return null;
  const until = Date.parse(turnEndsAt);
  const left = h('strong', { class: 'countdown', id: 'turn-left', role: 'timer', 'aria-label': 'Time left in your turn' });
  const line = h('p', { class: 'turn-line', 'data-turn-ends': turnEndsAt });
  const tick = () => {
    const ms = until - serverNow();
    if (ms <= 0) {
      clearInterval(timer);
      replace(line, 'Your turn has ended.');
      return;
    }
    left.textContent = clock(ms);
    left.classList.toggle('countdown--soon', ms < 60000);
  };
  replace(line, 'Time left in your turn: ', left);
  const timer = setInterval(tick, 1000);
  tick();
  signal.addEventListener('abort', () => clearInterval(timer), { once: true });
  return line;
}

/** "120 points each", or per tier: "Floor 180 points (2,500 free) · Balcony 60 points (5,000 free)". */
function prices(schedule) {
  const tiers = schedule.tiers || [];
  if (tiers.length < 2) return `${number(schedule.price)} points each`;
  return tiers.map((t) => `${t.name} ${number(t.price)} points (${number(t.availableSeats)} free)`).join(' · ');
}

export async function schedulesScreen(concert, title, token, signal, status, fresh) {
  const list = h('ul', { class: 'list' });
  show(
    h('p', { class: 'eyebrow' }, title),
    heading(fresh ? "It's your turn!" : 'Choose a performance'),
    h('p', { class: 'turn', 'data-state': 'active' }, 'You are in. Pick a performance, then your seats.'),
    turnTimer(status?.turnEndsAt, signal),
    list,
  );
  if (fresh) focusHeading();
  const pace = Math.max(5, status?.refreshIntervalSeconds || 30);
  while (!signal.aborted) {
    try {
      const { schedules } = await call(`/api/v1/concerts/${concert}/schedules`, { auth: store.auth(), queueToken: token });
      if (signal.aborted) return;
      replace(list, schedules.map((s) => h('li', { class: 'card schedule' },
        h('div', {},
          h('h2', {}, date(s.startsAt)),
          h('p', { class: 'muted' }, `${number(s.availableSeats)} of ${number(s.seatCount)} seats free · ${prices(s)}`)),
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
