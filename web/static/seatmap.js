// A schedule's seat map: one button per seat, in rows of `COLUMNS`, each
// with an accessible name that says its number and state. Arrow keys, Home
// and End move between seats (one seat is in the tab order at a time);
// Enter or Space picks one. States: available, held (by someone else),
// sold, and yours (held or bought by this buyer).

import { h } from './dom.js';

const COLUMNS = 10;

const LABELS = {
  available: 'available',
  held: 'held by another buyer',
  sold: 'sold',
  yours: 'yours',
};

export class SeatMap {
  /**
   * `onPick(seatNumber, state)` is called when a seat is activated.
   */
  constructor({ seatCount, label, onPick }) {
    this.onPick = onPick;
    this.statuses = new Array(seatCount).fill('AVAILABLE');
    this.mine = new Set();
    this.focusIndex = 0;
    this.buttons = [];
    this.element = h('div', { class: 'seatmap', role: 'group', 'aria-label': label });
    const rows = Math.ceil(seatCount / COLUMNS);
    for (let row = 0; row < rows; row += 1) {
      const line = h('div', { class: 'seat-row' });
      for (let col = 0; col < COLUMNS; col += 1) {
        const number = row * COLUMNS + col + 1;
        if (number > seatCount) break;
        const button = h('button', {
          type: 'button',
          class: 'seat',
          'data-seat': number,
          tabindex: number === 1 ? 0 : -1,
          onclick: () => this.pick(number),
          onkeydown: (event) => this.key(event, number),
          onfocus: () => this.roveTo(number - 1, false),
        }, String(number));
        this.buttons.push(button);
        line.append(button);
      }
      this.element.append(line);
    }
    this.paintAll();
  }

  /** A seat's state as shown: yours wins over the server's status. */
  state(number) {
    if (this.mine.has(number)) return 'yours';
    return (this.statuses[number - 1] || 'AVAILABLE').toLowerCase();
  }

  /** Applies `[{seatNumber, status}]` from a snapshot or a change event. */
  update(seats, { flash = false } = {}) {
    for (const { seatNumber, status } of seats) {
      if (seatNumber < 1 || seatNumber > this.statuses.length) continue;
      const before = this.state(seatNumber);
      this.statuses[seatNumber - 1] = status;
      if (this.state(seatNumber) !== before) this.paint(seatNumber, flash);
    }
  }

  /** Marks the buyer's own seats. */
  setMine(numbers) {
    const before = this.mine;
    this.mine = new Set(numbers);
    for (const n of new Set([...before, ...this.mine])) this.paint(n, false);
  }

  paintAll() {
    for (let n = 1; n <= this.buttons.length; n += 1) this.paint(n, false);
  }

  paint(number, flash) {
    const button = this.buttons[number - 1];
    if (!button) return;
    const state = this.state(number);
    button.className = `seat seat--${state}`;
    button.dataset.state = state;
    button.setAttribute('aria-label', `Seat ${number}, ${LABELS[state]}`);
    if (state === 'held' || state === 'sold') button.setAttribute('aria-disabled', 'true');
    else button.removeAttribute('aria-disabled');
    if (flash) {
      button.classList.add('seat--changed');
      setTimeout(() => button.classList.remove('seat--changed'), 1200);
    }
  }

  pick(number) {
    this.roveTo(number - 1, false);
    this.onPick(number, this.state(number));
  }

  key(event, number) {
    const index = number - 1;
    const last = this.buttons.length - 1;
    const moves = {
      ArrowRight: index + 1,
      ArrowLeft: index - 1,
      ArrowDown: index + COLUMNS,
      ArrowUp: index - COLUMNS,
      Home: 0,
      End: last,
    };
    if (!(event.key in moves)) return;
    event.preventDefault();
    this.roveTo(Math.min(last, Math.max(0, moves[event.key])), true);
  }

  roveTo(index, focus) {
    if (this.buttons[this.focusIndex]) this.buttons[this.focusIndex].tabIndex = -1;
    this.focusIndex = index;
    this.buttons[index].tabIndex = 0;
    if (focus) this.buttons[index].focus();
  }

  /** Counts by shown state. */
  counts() {
    const counts = { available: 0, held: 0, sold: 0, yours: 0 };
    for (let n = 1; n <= this.buttons.length; n += 1) counts[this.state(n)] += 1;
    return counts;
  }
}

/** The legend that names every state the map uses. */
export function legend() {
  return h('ul', { class: 'legend', 'aria-label': 'Seat states' },
    ['available', 'held', 'sold', 'yours'].map((state) => h('li', {},
      h('span', { class: `swatch seat--${state}`, 'aria-hidden': 'true' }),
      state === 'held' ? 'Held' : state[0].toUpperCase() + state.slice(1))));
}
