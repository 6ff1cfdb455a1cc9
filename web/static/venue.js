// A venue with a layout: the overview (every section drawn to scale from
// the layout's geometry, in seat units, coloured by how much of it is free,
// with its prices and the stage) and one section zoomed in (rows labelled,
// a button per seat). A 10,000-seat hall is never drawn seat by seat: the
// overview is one shape per section, and only the open section has buttons.
//
// Seat states live in one array for the whole schedule (seat n at n - 1):
// `A`vailable, `H`eld, `S`old, the letters of the status endpoint. Updates
// (a snapshot or a change from the seat stream) write the array, recount the
// sections they touch and repaint on the next frame, so a burst of changes
// costs one paint.
//
// Keyboard: the overview's sections are buttons (Tab, Enter); in a section
// the arrow keys move between seats (one seat is in the tab order at a
// time), Home and End go to the row's ends, Enter or Space picks.

import { h, number } from './dom.js';

const SVG = 'http://www.w3.org/2000/svg';
const STATE_OF = { A: 'available', H: 'held', S: 'sold' };
const LETTER_OF = { AVAILABLE: 'A', HELD: 'H', SOLD: 'S' };
const SAYS = { available: 'available', held: 'held by another buyer', sold: 'sold', yours: 'yours' };

function svg(tag, attributes = {}, ...children) {
  const element = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') element.addEventListener(key.slice(2), value);
    else element.setAttribute(key, String(value));
  }
  for (const child of children) if (child) element.append(child);
  return element;
}

/** "150 points", "80–150 points". */
export function priceRange(low, high) {
  return low === high ? `${number(low)} points` : `${number(low)}–${number(high)} points`;
}

/** Where each seat number is: section, row and label, from a layout body. */
export class Places {
  constructor(layout) {
    this.layout = layout;
    this.tiers = new Map(layout.tiers.map((t) => [t.tierId, t]));
    // Row starts, in seat-number order, for a binary search.
    this.rows = [];
    for (const section of layout.sections) {
      for (const row of section.rows) this.rows.push({ section, row });
    }
  }

  /** `{ section, row, seat, tier }` of seat `n`, or null. */
  of(n) {
    let lo = 0;
    let hi = this.rows.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const { row } = this.rows[mid];
      if (n < row.firstSeat) hi = mid - 1;
      else if (n >= row.firstSeat + row.seats) lo = mid + 1;
      else {
        const { section } = this.rows[mid];
        return { section, row, seat: n - row.firstSeat + 1, tier: this.tiers.get(row.tierId) };
      }
    }
    return null;
  }

  /** "Floor A, row 3, seat 12" (or "Seat 7" in a numbered hall). */
  name(n) {
    if (this.layout.numberedHall) return `Seat ${n}`;
    const place = this.of(n);
    return place ? `${place.section.name}, row ${place.row.label}, seat ${place.seat}` : `Seat ${n}`;
  }

  price(n) {
    return this.of(n)?.tier?.price ?? 0;
  }
}

/** The column (seat units from the row's left end) of label `seat`. */
function columnOf(row, seat) {
  return seat - 1 + row.gaps.filter((gap) => gap < seat).length;
}

export class Venue {
  /**
   * `layout` is the layout body; `onPick(n, state)` is called when a seat
   * is activated; `onOpen(section)` when a section is opened.
   */
  constructor({ layout, label, onPick, onOpen = () => {} }) {
    this.layout = layout;
    this.places = new Places(layout);
    this.onPick = onPick;
    this.onOpen = onOpen;
    this.letters = new Uint8Array(layout.seatCount + 1).fill(65); // 'A'
    this.mine = new Set();
    this.free = new Map(layout.sections.map((s) => [s.sectionId, s.seatCount]));
    this.dirty = new Set();
    this.frame = 0;
    this.open = null;
    this.buttons = new Map();
    this.focused = null;

    this.overview = h('div', { class: 'venue-overview' });
    this.shapes = new Map();
    this.drawOverview(label);
    this.tierList = h('ul', { class: 'tier-legend', 'aria-label': 'Prices' });
    this.sectionView = h('section', { class: 'section-view', 'aria-labelledby': 'section-title' });
    this.sectionView.hidden = true;
    this.element = h('div', { class: 'venue' },
      h('div', { class: 'venue-map' }, this.overview, this.tierList),
      this.sectionView);
    this.paintTiers();
  }

  /** The section with this id. */
  section(id) {
    return this.layout.sections.find((s) => s.sectionId === id);
  }

  drawOverview(label) {
    const { sections, stage } = this.layout;
    // The stage is a marker: at least four units deep, grown away from the
    // sections, so its name fits.
    const depth = Math.max(4, stage.height);
    const sectionsTop = Math.min(...sections.map((s) => s.area.y));
    const stageY = stage.y < sectionsTop ? stage.y + stage.height - depth : stage.y;
    const marker = { x: stage.x, y: stageY, width: stage.width, height: depth };
    const boxes = [...sections.map((s) => s.area), marker];
    const left = Math.min(...boxes.map((b) => b.x)) - 1;
    const top = Math.min(...boxes.map((b) => b.y)) - 1;
    const right = Math.max(...boxes.map((b) => b.x + b.width)) + 1;
    const bottom = Math.max(...boxes.map((b) => b.y + b.height)) + 1;
    const root = svg('svg', {
      viewBox: `${left} ${top} ${right - left} ${bottom - top}`,
      class: 'venue-svg',
      role: 'group',
      'aria-label': label,
      preserveAspectRatio: 'xMidYMid meet',
    });
    // Text is in seat units, sized to the hall (a thirtieth of its width at
    // most) and shrunk to fit each section's width, so every name fits its
    // shape at any zoom.
    this.fontSize = Math.max(1, (right - left) / 30);
    const fit = (text, width, most) => Math.min(most, (0.92 * width) / (0.6 * Math.max(1, text.length)));
    root.append(svg('g', { class: 'venue-stage', 'aria-hidden': 'true' },
      svg('rect', { x: stage.x, y: stageY, width: stage.width, height: depth, rx: 0.8 }),
      this.text(stage.x + stage.width / 2, stageY + depth / 2, 'STAGE', 'stage-label', fit('STAGE', stage.width, depth * 0.75))));
    const labels = svg('g', { class: 'section-labels', 'aria-hidden': 'true' });
    for (const section of sections) {
      const { x, y, width, height } = section.area;
      const [low, high] = this.prices(section);
      const price = low === high ? `${number(low)} pts` : `${number(low)}–${number(high)} pts`;
      const lines = Math.min(3, Math.max(1, Math.floor(height / (this.fontSize * 0.9))));
      const line = Math.min(this.fontSize, height / (lines + 0.5));
      const nameSize = fit(section.name, width, line);
      const smallSize = fit(`${number(section.seatCount)} free`, width, line * 0.8);
      const first = y + height / 2 - ((lines - 1) * line) / 2;
      const count = lines >= 3
        ? this.text(x + width / 2, first + 2 * line, '', 'section-count', smallSize) : null;
      const shape = svg('g', {
        class: 'venue-section',
        role: 'button',
        tabindex: 0,
        'data-section': section.sectionId,
        onclick: () => this.openSection(section.sectionId, true),
        onkeydown: (event) => {
          if (event.key === 'Enter' || event.key === ' ') {
            event.preventDefault();
            this.openSection(section.sectionId, true);
          }
        },
      },
      svg('rect', { x, y, width, height, rx: Math.min(1, width / 4) }));
      // The words are drawn over the shape but are not part of the button:
      // its name says them in full ("… seats free, 120 points").
      labels.append(svg('g', { 'data-label': section.sectionId },
        this.text(x + width / 2, first, section.name, 'section-name', nameSize),
        lines >= 2 ? this.text(x + width / 2, first + line, price, 'section-price', fit(price, width, line * 0.8)) : null,
        count));
      this.shapes.set(section.sectionId, { shape, count });
      root.append(shape);
    }
    root.append(labels);
    this.overview.append(root);
    this.svg = root;
    for (const section of sections) this.paintSection(section);
  }

  text(x, y, words, kind, size) {
    return svg('text', {
      x, y, 'text-anchor': 'middle', 'dominant-baseline': 'central', 'font-size': size, class: kind, 'aria-hidden': 'true',
    }, document.createTextNode(words));
  }

  /** Prices of a section, from its rows' tiers. */
  prices(section) {
    const prices = section.rows.map((r) => this.places.tiers.get(r.tierId)?.price ?? 0);
    return [Math.min(...prices), Math.max(...prices)];
  }

  paintSection(section) {
    const { shape, count } = this.shapes.get(section.sectionId);
    const free = this.free.get(section.sectionId);
    const share = free / Math.max(1, section.seatCount);
    const level = free === 0 ? 'none' : share < 0.1 ? 'few' : share < 0.5 ? 'some' : 'many';
    const [low, high] = this.prices(section);
    shape.setAttribute('class', `venue-section venue-section--${level}${this.open === section.sectionId ? ' is-open' : ''}`);
    shape.dataset.free = free;
    shape.setAttribute('aria-label', `${section.name}: ${number(free)} of ${number(section.seatCount)} seats free, ${priceRange(low, high)}`);
    if (this.open === section.sectionId) shape.setAttribute('aria-current', 'true');
    else shape.removeAttribute('aria-current');
    if (count) count.textContent = `${number(free)} free`;
  }

  paintTiers() {
    const tiers = this.layout.tiers.map((t) => ({ ...t, free: 0 }));
    const byId = new Map(tiers.map((t) => [t.tierId, t]));
    for (const section of this.layout.sections) {
      for (const row of section.rows) {
        let free = 0;
        for (let n = row.firstSeat; n < row.firstSeat + row.seats; n += 1) if (this.letters[n] === 65) free += 1;
        byId.get(row.tierId).free += free;
      }
    }
    this.tierList.replaceChildren(...tiers.map((t) => h('li', { 'data-tier': t.tierId },
      h('strong', {}, t.name), ` ${number(t.price)} points · ${number(t.free)} free`)));
    this.tierFree = byId;
  }

  /** A seat's state as shown: yours wins over the server's status. */
  state(n) {
    if (this.mine.has(n)) return 'yours';
    return STATE_OF[String.fromCharCode(this.letters[n])] || 'sold';
  }

  /** Applies a section's status letters from `firstSeat` (the status endpoint). */
  applyLetters(firstSeat, letters) {
    for (let i = 0; i < letters.length; i += 1) this.set(firstSeat + i, letters.charCodeAt(i));
    this.schedulePaint();
  }

  /** Applies `[{seatNumber, status}]` from a snapshot or a change event. */
  update(seats, { flash = false } = {}) {
    for (const { seatNumber, status } of seats) {
      const changed = this.set(seatNumber, (LETTER_OF[status] || 'S').charCodeAt(0));
      if (changed && flash) this.flash(seatNumber);
    }
    this.schedulePaint();
  }

  set(n, letter) {
    if (n < 1 || n > this.layout.seatCount || this.letters[n] === letter) return false;
    const section = this.places.of(n)?.section;
    if (!section) return false;
    const was = this.letters[n];
    this.letters[n] = letter;
    if (was === 65) this.free.set(section.sectionId, this.free.get(section.sectionId) - 1);
    if (letter === 65) this.free.set(section.sectionId, this.free.get(section.sectionId) + 1);
    this.dirty.add(section.sectionId);
    if (this.buttons.has(n)) this.paintSeat(n);
    return true;
  }

  flash(n) {
    const button = this.buttons.get(n);
    if (!button) return;
    button.classList.add('seat--changed');
    setTimeout(() => button.classList.remove('seat--changed'), 1200);
  }

  /** Marks the buyer's own seats. */
  setMine(numbers) {
    const before = this.mine;
    this.mine = new Set(numbers);
    for (const n of new Set([...before, ...this.mine])) if (this.buttons.has(n)) this.paintSeat(n);
  }

  schedulePaint() {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      for (const id of this.dirty) this.paintSection(this.section(id));
      if (this.dirty.size) this.paintTiers();
      this.dirty.clear();
      this.onCounts?.();
    });
  }

  /** Counts of the whole schedule by shown state. */
  counts() {
    const counts = { available: 0, held: 0, sold: 0, yours: 0 };
    for (let n = 1; n <= this.layout.seatCount; n += 1) counts[this.state(n)] += 1;
    return counts;
  }

  /**
   * The section to show first where there is room for two columns: the
   * one with free seats nearest the stage (its centre line, then its
   * front), as best available scores seats.
   */
  nearestStage() {
    const { stage } = this.layout;
    const centre = stage.x + stage.width / 2;
    const front = stage.y + stage.height;
    const distance = (s) => Math.abs(s.area.x + s.area.width / 2 - centre) + 2 * Math.abs(s.area.y - front);
    const open = this.layout.sections.filter((s) => this.free.get(s.sectionId) > 0);
    return (open.length ? open : this.layout.sections).reduce((a, b) => (distance(b) < distance(a) ? b : a));
  }

  /** Opens a section: its rows and seat buttons, the focus on its heading when `focus`. */
  openSection(id, focus) {
    const section = this.section(id);
    if (!section) return;
    const previous = this.open;
    this.open = id;
    if (previous && previous !== id) this.paintSection(this.section(previous));
    this.paintSection(section);
    this.buttons = new Map();
    const [low, high] = this.prices(section);
    const title = h('h2', { id: 'section-title', tabindex: '-1' }, section.name);
    const rows = h('div', { class: 'section-seats', role: 'group', 'aria-label': `Seats in ${section.name}` });
    rows.style.setProperty('--columns', String(section.area.width));
    let first = null;
    for (const row of section.rows) {
      const line = h('div', { class: 'section-row', 'data-row': row.label });
      line.append(h('span', { class: 'row-label', 'aria-hidden': 'true' }, row.label));
      const seats = h('div', { class: 'row-seats' });
      seats.style.setProperty('--offset', String(row.offset));
      for (let seat = 1; seat <= row.seats; seat += 1) {
        const n = row.firstSeat + seat - 1;
        const button = h('button', {
          type: 'button',
          class: 'seat',
          'data-seat': n,
          tabindex: -1,
          onclick: () => this.pick(n),
          onkeydown: (event) => this.key(event, n),
          onfocus: () => this.rove(n, false),
        }, String(seat));
        button.style.gridColumn = String(row.offset + columnOf(row, seat) + 1);
        this.buttons.set(n, button);
        seats.append(button);
        if (first === null) first = n;
      }
      line.append(seats, h('span', { class: 'row-label', 'aria-hidden': 'true' }, row.label));
      rows.append(line);
    }
    this.sectionView.hidden = false;
    this.sectionView.replaceChildren(
      h('div', { class: 'row spread section-head' },
        title,
        h('button', { type: 'button', class: 'secondary small', onclick: () => this.closeSection() }, 'All sections')),
      h('p', { class: 'muted small', id: 'section-note' },
        `${priceRange(low, high)} · rows front (nearest the stage) to back. Tap a free seat to hold it.`),
      h('div', { class: 'section-scroll' }, rows));
    for (const n of this.buttons.keys()) this.paintSeat(n);
    // A section wider than the screen scrolls sideways, starting at its
    // middle, where the best seats are.
    const scroller = this.sectionView.querySelector('.section-scroll');
    scroller.scrollLeft = (scroller.scrollWidth - scroller.clientWidth) / 2;
    this.focused = first;
    if (first !== null) this.buttons.get(first).tabIndex = 0;
    this.onOpen(section);
    if (focus) {
      title.focus({ preventScroll: true });
      this.sectionView.scrollIntoView({ block: 'start', behavior: 'instant' });
    }
  }

  closeSection() {
    const id = this.open;
    this.open = null;
    this.buttons = new Map();
    this.sectionView.hidden = true;
    this.sectionView.replaceChildren();
    if (id) {
      this.paintSection(this.section(id));
      this.shapes.get(id).shape.focus();
    }
  }

  paintSeat(n) {
    const button = this.buttons.get(n);
    const state = this.state(n);
    button.className = `seat seat--${state}`;
    button.dataset.state = state;
    button.setAttribute('aria-label', `${this.places.name(n)}, ${number(this.places.price(n))} points, ${SAYS[state]}`);
    if (state === 'held' || state === 'sold') button.setAttribute('aria-disabled', 'true');
    else button.removeAttribute('aria-disabled');
  }

  pick(n) {
    this.rove(n, false);
    this.onPick(n, this.state(n));
  }

  rove(n, focus) {
    if (this.focused !== null && this.buttons.has(this.focused)) this.buttons.get(this.focused).tabIndex = -1;
    this.focused = n;
    const button = this.buttons.get(n);
    if (!button) return;
    button.tabIndex = 0;
    if (focus) button.focus();
  }

  /** Arrow keys: along the row, or to the nearest seat of the row in front or behind. */
  key(event, n) {
    const place = this.places.of(n);
    if (!place) return;
    const { section, row } = place;
    const index = section.rows.indexOf(row);
    const column = row.offset + columnOf(row, place.seat);
    const nearest = (other) => {
      if (!other) return n;
      let best = other.firstSeat;
      let distance = Infinity;
      for (let seat = 1; seat <= other.seats; seat += 1) {
        const d = Math.abs(other.offset + columnOf(other, seat) - column);
        if (d < distance) {
          distance = d;
          best = other.firstSeat + seat - 1;
        }
      }
      return best;
    };
    const last = row.firstSeat + row.seats - 1;
    const moves = {
      ArrowRight: Math.min(last, n + 1),
      ArrowLeft: Math.max(row.firstSeat, n - 1),
      ArrowDown: nearest(section.rows[index + 1]),
      ArrowUp: nearest(section.rows[index - 1]),
      Home: row.firstSeat,
      End: last,
    };
    if (!(event.key in moves)) return;
    event.preventDefault();
    this.rove(moves[event.key], true);
  }
}

/** What the overview's colours and the seats' look say. */
export function sectionLegend() {
  const item = (kind, words) => h('li', {}, h('span', { class: `swatch ${kind}`, 'aria-hidden': 'true' }), words);
  return h('ul', { class: 'legend', 'aria-label': 'Colours' },
    item('venue-swatch--many', 'Many free'),
    item('venue-swatch--few', 'Few free'),
    item('venue-swatch--none', 'None free'),
    item('seat--available', 'Available seat'),
    item('seat--held', 'Held'),
    item('seat--sold', 'Sold'),
    item('seat--yours', 'Yours'));
}
