// The operator's console: the admin key (kept for this tab only), a new
// concert, and a live view of one concert's sale: waiting, active,
// admissions per minute, seats per performance, a chart of the last five
// minutes, and the controls (pause, resume, capacity, rate). It reads the
// admin API every two seconds while open; it uses nothing the API does not
// offer to any operator's script.

import { ApiError, call, sleep } from './api.js';
import { countdown, date, h, number, replace, time } from './dom.js';
import { clearNotice, showError, showNotice } from './notice.js';

const view = document.getElementById('view');
const POLL_MS = 2000;
const WINDOW_MS = 5 * 60 * 1000;

const adminKey = () => sessionStorage.getItem('frontrow.adminKey');
let screen = new AbortController();

/** Shows an error as a sentence; a refused key goes back to the key screen. */
function fail(error) {
  showError(error, {
    onUnauthorized() {
      sessionStorage.removeItem('frontrow.adminKey');
      showNotice('That admin key was not accepted. Please enter it again.');
      route();
    },
  });
}

const plural = (n, one, many = `${one}s`) => `${number(n)} ${n === 1 ? one : many}`;

const admin = (path, options = {}) => call(path, { ...options, admin: adminKey() });

function route() {
  screen.abort();
  screen = new AbortController();
  document.getElementById('account').hidden = !adminKey();
  if (!adminKey()) return keyScreen();
  const path = location.hash.replace(/^#/, '') || '/';
  const match = path.match(/^\/concerts\/(\d+)$/);
  if (match) return consoleScreen(Number(match[1]), screen.signal);
  if (path === '/new') return newConcertScreen();
  return concertsScreen();
}

window.addEventListener('hashchange', () => {
  clearNotice();
  route();
});
document.getElementById('sign-out').addEventListener('click', () => {
  sessionStorage.removeItem('frontrow.adminKey');
  location.hash = '#/';
  route();
});

// ---------------------------------------------------------------- key

/**
 * Reads the first concert's room with `key`: 200 for a good key, 401 for
 * a wrong one. The admin API has no call that answers for no concert at
 * all, so on a deployment without concerts the key is taken as given and
 * checked by the first admin call (a 401 there brings back this screen).
 */
async function checkKey(key) {
  const { concerts } = await call('/api/v1/concerts');
  if (concerts.length) await call(`/api/v1/admin/concerts/${concerts[0].concertId}/queue`, { admin: key });
}

function keyScreen() {
  const input = h('input', { id: 'admin-key', type: 'password', autocomplete: 'off', required: true });
  const form = h('form', { class: 'card stack', onsubmit: async (event) => {
    event.preventDefault();
    const key = input.value.trim();
    try {
      await checkKey(key);
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) {
        showNotice('That admin key was not accepted.');
        return;
      }
      fail(error);
      return;
    }
    sessionStorage.setItem('frontrow.adminKey', key);
    clearNotice();
    route();
  } },
  h('label', { for: 'admin-key' }, 'Admin key'),
  input,
  h('p', { class: 'muted small' }, 'The X-Admin-Key of this deployment (embedded: frontrow-data/admin-key). Kept only in this tab.'),
  h('button', { class: 'primary', type: 'submit' }, 'Open the console'));
  replace(view, h('h1', {}, 'Operator console'), form);
  input.focus();
}

// ---------------------------------------------------------------- concerts

async function concertsScreen() {
  document.title = 'Concerts · frontrow console';
  try {
    const { concerts } = await call('/api/v1/concerts');
    replace(view,
      h('div', { class: 'row spread' }, h('h1', {}, 'Concerts'), h('a', { class: 'button primary', href: '#/new' }, 'New concert')),
      concerts.length ? h('ul', { class: 'list' }, concerts.map((c) => h('li', { class: 'card row spread' },
        h('div', {}, h('h2', {}, c.title), h('p', { class: 'muted small' },
          `${plural(c.dates.length, 'performance')} · ${number(c.availableSeats)} of ${plural(c.totalSeats, 'seat')} free`)),
        h('a', { class: 'button', href: `#/concerts/${c.concertId}`, 'aria-label': `Open console for ${c.title}` }, 'Open console'))))
        : h('p', { class: 'muted' }, 'No concerts yet.'));
  } catch (error) {
    fail(error);
  }
}

// ---------------------------------------------------------------- new concert

function scheduleFields(index) {
  const when = new Date(Date.now() + (30 + index) * 86400000);
  when.setHours(19, 30, 0, 0);
  const local = new Date(when.getTime() - when.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
  const id = (name) => `s${index}-${name}`;
  return h('fieldset', { class: 'schedule-fields', 'data-schedule': index },
    h('legend', {}, `Performance ${index + 1}`),
    h('div', {}, h('label', { for: id('at') }, 'Starts at'), h('input', { id: id('at'), name: 'startsAt', type: 'datetime-local', value: local, required: true })),
    h('div', {}, h('label', { for: id('seats') }, 'Seats'), h('input', { id: id('seats'), name: 'seatCount', type: 'number', min: 1, max: 10000, value: 50, required: true })),
    h('div', {}, h('label', { for: id('price') }, 'Price (points)'), h('input', { id: id('price'), name: 'price', type: 'number', min: 0, max: 1000000, value: 120, required: true })),
    h('div', { class: 'stack' },
      h('label', { for: id('layout') }, 'Venue layout (JSON, optional: replaces seats and price)'),
      h('textarea', { id: id('layout'), name: 'layout', rows: 6, spellcheck: 'false', placeholder: JSON.stringify(ARENA_PRESET) }),
      h('button', { type: 'button', class: 'secondary', onclick: (event) => {
        event.target.closest('fieldset').querySelector('[name=layout]').value = JSON.stringify(ARENA_PRESET, null, 1);
      } }, 'Use the arena preset')));
}

/** A small arena: a floor in two tiers' worth of rows (an aisle in row 1) and a balcony. */
const ARENA_PRESET = {
  tiers: [{ id: 'floor', name: 'Floor', price: 180 }, { id: 'balcony', name: 'Balcony', price: 60 }],
  sections: [
    { id: 'A', name: 'Floor A', tier: 'floor', x: 0, y: 2, rows: [{ label: '1', seats: 20, gaps: [10] }, { label: '2', seats: 20 }] },
    { id: 'B', name: 'Balcony', tier: 'balcony', x: 0, y: 6, rowCount: 10, seatsPerRow: 24 },
  ],
};

/** A performance as the API takes it: numbered seats at one price, or a layout. */
function scheduleBody(set) {
  const startsAt = new Date(set.querySelector('[name=startsAt]').value).toISOString();
  const layout = set.querySelector('[name=layout]').value.trim();
  if (layout) {
    return { startsAt, layout: JSON.parse(layout) };
  }
  return {
    startsAt,
    seatCount: Number(set.querySelector('[name=seatCount]').value),
    price: Number(set.querySelector('[name=price]').value),
  };
}

function newConcertScreen() {
  document.title = 'New concert · frontrow console';
  const schedules = h('div', { class: 'stack' }, scheduleFields(0));
  const form = h('form', { class: 'card stack', onsubmit: async (event) => {
    event.preventDefault();
    const opens = form.querySelector('#opens-at').value;
    let body;
    try {
      body = {
        opensAt: opens ? new Date(opens).toISOString() : undefined,
        preQueueMinutes: opens ? Number(form.querySelector('#pre-queue').value) : undefined,
        title: form.querySelector('#title').value.trim(),
        schedules: [...schedules.querySelectorAll('fieldset')].map(scheduleBody),
      };
    } catch (error) {
      showNotice(`The layout is not JSON: ${error.message}`, 'error');
      return;
    }
    try {
      const created = await admin('/api/v1/admin/concerts', { method: 'POST', body });
      showNotice(`Created “${body.title}”.`, 'ok');
      location.hash = `#/concerts/${created.concertId}`;
    } catch (error) {
      fail(error);
    }
  } },
  h('label', { for: 'title' }, 'Title'),
  h('input', { id: 'title', name: 'title', required: true, maxlength: 200 }),
  schedules,
  h('fieldset', { class: 'schedule-fields' },
    h('legend', {}, 'Scheduled sale (optional)'),
    h('div', {}, h('label', { for: 'opens-at' }, 'Sale opens at'), h('input', { id: 'opens-at', type: 'datetime-local' })),
    h('div', {}, h('label', { for: 'pre-queue' }, 'Pre-queue (minutes before)'), h('input', { id: 'pre-queue', type: 'number', min: 0, max: 1440, value: 30 })),
    h('p', { class: 'muted small' }, 'Empty: the sale opens at once. Otherwise buyers who join the pre-queue get random places at the opening.')),
  h('div', { class: 'row' },
    h('button', { type: 'button', class: 'secondary', onclick: () => schedules.append(scheduleFields(schedules.children.length)) }, 'Add a performance'),
    h('button', { type: 'submit', class: 'primary' }, 'Create concert')));
  replace(view, h('h1', {}, 'New concert'), form);
  form.querySelector('#title').focus();
}

// ---------------------------------------------------------------- console

/**
 * Per concert: samples of the room. Seeded from the server's history
 * (`queue/history`: the reads it served, at most one per 1.5 s, the last five
 * minutes), so a reload keeps the chart; then one per poll.
 */
const history = new Map();

function perMinute(samples) {
  if (samples.length < 2) return null;
  const last = samples[samples.length - 1];
  const from = samples.find((s) => s.t >= last.t - 60000) || samples[0];
  const span = last.t - from.t;
  if (span < 1000) return null;
  return Math.round(((last.admitted - from.admitted) * 60000) / span);
}

/** The smallest 1, 2 or 5 times a power of ten at or above `n` (even, for a middle line). */
function niceCeiling(n) {
  const power = 10 ** Math.floor(Math.log10(n));
  for (const step of [1, 2, 5, 10]) if (step * power >= n && (step * power) % 2 === 0) return step * power;
  return 10 * power;
}

/**
 * The chart, drawn `width` units wide: the box's own width in pixels (300
 * to 600), so its 11-unit labels stay 11 px on a phone instead of shrinking.
 */
function chart(samples, width = 600) {
  const height = 180;
  const pad = { left: 40, right: 10, top: 10, bottom: 22 };
  const now = samples.length ? samples[samples.length - 1].t : Date.now();
  // The span shown grows with the history kept, from one minute to five.
  const span = Math.min(WINDOW_MS, Math.max(60000, now - (samples[0]?.t ?? now)));
  const start = now - span;
  const top = niceCeiling(Math.max(4, ...samples.map((s) => Math.max(s.waiting, s.active))));
  const x = (t) => pad.left + ((t - start) / span) * (width - pad.left - pad.right);
  const y = (v) => height - pad.bottom - (v / top) * (height - pad.top - pad.bottom);
  const ns = 'http://www.w3.org/2000/svg';
  const el = (tag, attributes, text) => {
    const node = document.createElementNS(ns, tag);
    for (const [k, v] of Object.entries(attributes)) node.setAttribute(k, String(v));
    if (text !== undefined) node.textContent = text;
    return node;
  };
  const last = samples[samples.length - 1];
  const svg = el('svg', {
    viewBox: `0 0 ${width} ${height}`,
    role: 'img',
    'aria-label': last
      ? `Waiting and active over the last five minutes. Now ${last.waiting} waiting and ${last.active} active; the most was ${top}.`
      : 'No samples yet.',
  });
  for (const v of [0, top / 2, top]) {
    svg.append(el('line', { x1: pad.left, x2: width - pad.right, y1: y(v), y2: y(v), stroke: '#e5e7eb' }));
    svg.append(el('text', { x: pad.left - 6, y: y(v) + 4, 'text-anchor': 'end', 'font-size': 11, fill: '#4b5563' }, number(Math.round(v))));
  }
  svg.append(el('text', { x: pad.left, y: height - 5, 'font-size': 11, fill: '#4b5563' }, `${Math.round(span / 60000)} min ago`));
  svg.append(el('text', { x: width - pad.right, y: height - 5, 'font-size': 11, fill: '#4b5563', 'text-anchor': 'end' }, 'now'));
  for (const series of ['waiting', 'active']) {
    const points = samples.map((s) => `${x(s.t).toFixed(1)},${y(s[series]).toFixed(1)}`).join(' ');
    svg.append(el('polyline', { points, fill: 'none', class: series, 'stroke-width': 2.5, 'stroke-linejoin': 'round' }));
  }
  return svg;
}

async function consoleScreen(concert, signal) {
  let title = `Concert ${concert}`;
  try {
    const { concerts } = await call('/api/v1/concerts');
    title = concerts.find((c) => c.concertId === concert)?.title || title;
  } catch {
    // The console still works from the admin API alone.
  }
  document.title = `${title} · frontrow console`;
  const samples = history.get(concert) || [];
  history.set(concert, samples);
  if (!samples.length) {
    try {
      const kept = await admin(`/api/v1/admin/concerts/${concert}/queue/history`);
      samples.push(...kept.samples.map((s) => ({ t: Date.parse(s.at), waiting: s.waiting, active: s.active, admitted: s.admitted })));
    } catch {
      // No history is a chart that starts now; the poll below reports errors.
    }
  }
  const tiles = h('div', { class: 'tiles', 'aria-live': 'off' });
  const pausedFlag = h('span', { class: 'paused-flag', hidden: true }, 'Paused');
  const chartBox = h('div', { class: 'chart' });
  const seats = h('div', {});
  const capacity = h('input', { id: 'capacity', type: 'number', min: 1, max: 1000000, required: true });
  const rate = h('input', { id: 'rate', type: 'number', min: 1, max: 100000, required: true });
  const pauseButton = h('button', { type: 'button', class: 'primary', id: 'pause' }, 'Pause');
  let state = null;
  let dirty = false;
  capacity.addEventListener('input', () => { dirty = true; });
  rate.addEventListener('input', () => { dirty = true; });

  const apply = async (policy, message, kind = 'ok') => {
    try {
      state = await admin(`/api/v1/admin/concerts/${concert}/queue`, { method: 'PUT', body: policy });
      dirty = false;
      showNotice(message, kind);
      render();
    } catch (error) {
      fail(error);
    }
  };
  // Pausing stops a sale for everyone in line, so it is asked for twice;
  // its report is a fact, not a success. Resuming needs no confirmation.
  const setPaused = (paused) => apply({ capacity: state.capacity, admitPerSecond: state.admitPerSecond, paused },
    paused ? 'Admissions are paused: nobody is admitted until you resume.' : 'Admissions have resumed.', 'neutral');
  const confirmPause = h('dialog', { id: 'pause-dialog', 'aria-labelledby': 'pause-title', 'aria-describedby': 'pause-what' },
    h('form', { method: 'dialog', class: 'stack' },
      h('h2', { id: 'pause-title' }, 'Pause admissions?'),
      h('p', { id: 'pause-what' }, 'Nobody in the line is admitted until you resume. Buyers already choosing seats carry on; those waiting are told the sale is paused and keep their places.'),
      h('div', { class: 'row' },
        h('button', { type: 'submit', value: 'keep', class: 'secondary' }, 'Keep admitting'),
        h('button', { type: 'submit', value: 'pause', class: 'primary' }, 'Pause admissions'))));
  confirmPause.addEventListener('close', () => {
    if (confirmPause.returnValue === 'pause' && state && !state.paused) setPaused(true);
  });
  pauseButton.addEventListener('click', () => {
    if (!state) return;
    if (state.paused) {
      setPaused(false);
      return;
    }
    confirmPause.returnValue = '';
    confirmPause.showModal();
  });
  const controls = h('form', { class: 'card controls', onsubmit: (event) => {
    event.preventDefault();
    apply({ capacity: Number(capacity.value), admitPerSecond: Number(rate.value), paused: state?.paused ?? false },
      `Capacity ${number(Number(capacity.value))}, ${plural(Number(rate.value), 'admission')} per second.`);
  } },
  h('h2', {}, 'Controls'),
  h('div', { class: 'row' }, pauseButton, pausedFlag),
  h('div', { class: 'fields' },
    h('div', {}, h('label', { for: 'capacity' }, 'Capacity (active at once)'), capacity),
    h('div', {}, h('label', { for: 'rate' }, 'Admissions per second'), rate)),
  h('button', { type: 'submit', class: 'secondary' }, 'Apply capacity and rate'));

  replace(view,
    h('p', { class: 'eyebrow' }, h('a', { href: '#/' }, 'Concerts'), ' / live console'),
    h('h1', {}, title),
    tiles,
    h('div', { class: 'console-grid' },
      h('section', { class: 'card', 'aria-labelledby': 'chart-title' },
        h('h2', { id: 'chart-title' }, 'Waiting and active, last minutes'),
        chartBox,
        h('p', { class: 'chart-legend' }, h('span', {}, h('i', { class: 'key-waiting' }), 'Waiting'), h('span', {}, h('i', { class: 'key-active' }), 'Active'))),
      controls),
    h('section', { class: 'card', 'aria-labelledby': 'seats-title' }, h('h2', { id: 'seats-title' }, 'Seats per performance'), seats),
    h('p', { class: 'muted small', id: 'updated' }),
    confirmPause);

  function tile(label, value, id) {
    return h('div', { class: 'tile' }, h('span', {}, label), h('strong', { id }, value));
  }

  function render(seatCounts) {
    if (!state) return;
    const rateNow = perMinute(samples);
    const list = [
      tile('Waiting', number(state.waiting), 'stat-waiting'),
      tile('Active', `${number(state.active)} / ${number(state.capacity)}`, 'stat-active'),
      tile('Admitted per minute', rateNow == null ? '…' : number(rateNow), 'stat-admitted'),
      tile('Admitted in all', number(state.admitted ?? 0), 'stat-admitted-total'),
    ];
    if (state.lapsed != null) list.push(tile('Lapsed places', number(state.lapsed), 'stat-lapsed'));
    if (state.longestWaitSeconds != null) list.push(tile('Longest wait', countdown(state.longestWaitSeconds * 1000), 'stat-longest-wait'));
    if (state.opensAt && Date.parse(state.opensAt) > Date.now()) {
      list.push(tile('Sale opens in', countdown(Date.parse(state.opensAt) - Date.now()), 'stat-opens'));
    }
    if (state.stock) list.push(tile('Seats left', `${number(state.stock.available)} / ${number(state.stock.total)}`, 'stat-stock'));
    replace(tiles, list);
    pausedFlag.hidden = !state.paused;
    pauseButton.textContent = state.paused ? 'Resume' : 'Pause';
    pauseButton.setAttribute('aria-pressed', state.paused ? 'true' : 'false');
    if (!dirty && document.activeElement !== capacity && document.activeElement !== rate) {
      capacity.value = state.capacity;
      rate.value = state.admitPerSecond;
    }
    replace(chartBox, chart(samples, Math.round(Math.min(600, Math.max(300, chartBox.clientWidth || 600)))));
    if (seatCounts) {
      replace(seats, h('table', {},
        h('thead', {}, h('tr', {}, ['Performance', 'Available', 'Held', 'Sold'].map((t) => h('th', { scope: 'col' }, t)),
          h('th', { scope: 'col', class: 'col-bar' }, h('span', { class: 'visually-hidden' }, 'Share sold and held')))),
        h('tbody', {}, seatCounts.map((s) => {
          const bar = h('div', { class: 'bars', role: 'img', 'aria-label': `${s.sold} sold, ${s.held} held of ${s.seatCount}` },
            h('span', { class: 'bar-sold' }), h('span', { class: 'bar-held' }));
          bar.children[0].style.width = `${(100 * s.sold) / s.seatCount}%`;
          bar.children[1].style.width = `${(100 * s.held) / s.seatCount}%`;
          return h('tr', { 'data-schedule': s.scheduleId },
            h('td', {}, date(s.startsAt)),
            h('td', { 'data-count': 'available' }, number(s.available)),
            h('td', { 'data-count': 'held' }, number(s.held)),
            h('td', { 'data-count': 'sold' }, number(s.sold)),
            h('td', { class: 'col-bar' }, bar));
        }))));
    }
    document.getElementById('updated').textContent = `Updated ${time(Date.now())}; refreshes every ${POLL_MS / 1000} s.`;
  }

  while (!signal.aborted) {
    try {
      const [room, counts] = await Promise.all([
        admin(`/api/v1/admin/concerts/${concert}/queue`),
        admin(`/api/v1/admin/concerts/${concert}/seats`),
      ]);
      if (signal.aborted) return;
      state = room;
      const t = Date.now();
      samples.push({ t, waiting: room.waiting, active: room.active, admitted: room.admitted ?? 0 });
      while (samples.length && samples[0].t < t - WINDOW_MS) samples.shift();
      render(counts.schedules);
    } catch (error) {
      if (signal.aborted) return;
      fail(error);
      if (error instanceof ApiError && error.status === 401) return;
    }
    await sleep(POLL_MS, signal);
  }
}

route();
