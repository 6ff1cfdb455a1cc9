// "It's your turn": the concert's performances with their free seats,
// refreshed at the ACTIVE pace the server gave.

import { call, sleep } from '../api.js';
import { date, h, number, replace } from '../dom.js';
import { fail, focusHeading, heading, show } from '../shell.js';
import { store } from '../store.js';
import { turnEnded } from './join.js';

export async function schedulesScreen(concert, title, token, signal, status, fresh) {
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
      const { schedules } = await call(`/api/v1/concerts/${concert}/schedules`, { auth: store.auth(), queueToken: token });
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
