// A 10,000-seat hall with sections, rows and three price tiers, in real
// Chromium: on a 390×844 phone one buyer picks a quantity, takes "Best
// available" and pays; another opens a section on the overview and holds a
// seat by its name; a seat another buyer takes turns the section's colour
// and count live; axe-core finds nothing serious; and the page stays short
// (no 18,000 px of seats). Screenshots of the overview and a section at
// 390×844 and 1366×900 go to output/screenshots/ (and, with
// FRONTROW_DOC_SCREENSHOTS=1, to docs/screenshots/).

import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Api, audit, eventually, launch, repo, screenshot, signUp, startServer } from './harness.js';

const browser = await launch();
after(() => browser.close());

const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1366, height: 900 };

/**
 * 20 sections of 20 rows × 25 seats: five across and four deep, an aisle of
 * two seats between them; the front five are the floor (180), the next five
 * the lower bowl (120), the back ten the balcony (60). 10,000 seats.
 */
function hall() {
  const depths = [['F', 'Floor', 'floor'], ['L', 'Lower', 'lower'], ['B', 'Balcony', 'balcony'], ['U', 'Upper balcony', 'balcony']];
  const sections = [];
  depths.forEach(([prefix, name, tier], depth) => {
    for (let i = 0; i < 5; i += 1) {
      sections.push({
        id: `${prefix}${i + 1}`, name: `${name} ${String.fromCharCode(65 + i)}`, tier,
        x: i * 27, y: depth * 22, rowCount: 20, seatsPerRow: 25,
      });
    }
  });
  return {
    tiers: [
      { id: 'floor', name: 'Floor', price: 180 },
      { id: 'lower', name: 'Lower bowl', price: 120 },
      { id: 'balcony', name: 'Balcony', price: 60 },
    ],
    sections,
  };
}

/**
 * A concert of one performance in the hall, or null on a server that takes
 * no layouts (the seat screen is the web side of the venues work; until
 * both are in one build these tests say so and stand aside).
 */
async function concertWithLayout(api, title) {
  let created;
  try {
    created = await api.call('/api/v1/admin/concerts', {
      method: 'POST',
      admin: true,
      body: { title, schedules: [{ startsAt: '2031-06-01T19:00:00Z', layout: hall() }] },
    });
  } catch (error) {
    if (/: 400 /.test(error.message)) return null;
    throw error;
  }
  await api.policy(created.concertId, { capacity: 1000 });
  return { concertId: created.concertId, scheduleId: created.schedules[0].scheduleId, title };
}

/** Whether the server has the best-available route (a 401 without a token, not a 404). */
async function hasBestAvailable(server, schedule) {
  const response = await fetch(`${server.base}/api/v1/schedules/${schedule}/best-available`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"quantity":2}',
  });
  return response.status !== 404 && response.status !== 405;
}

const NO_LAYOUTS = 'this server takes no venue layouts (needs the venues branch: layouts, overview, status)';

async function shot(page, name) {
  // No hover left on a section the pointer last passed.
  await page.mouse.move(0, 0);
  await screenshot(page, name);
  if (process.env.FRONTROW_DOC_SCREENSHOTS) {
    const dir = join(repo, 'docs', 'screenshots');
    mkdirSync(dir, { recursive: true });
    await page.screenshot({ path: join(dir, `${name}.png`) });
  }
}

/** A buyer at `viewport`, signed up on the page with `points`, on the concert's seat screen. */
async function buyerAt(server, api, concert, name, viewport, points) {
  const context = await browser.newContext({ baseURL: server.base, viewport, deviceScaleFactor: 1 });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (error) => errors.push(error.message));
  await signUp(page, name);
  const token = await page.evaluate(() => JSON.parse(localStorage.getItem('frontrow.user')).accessToken);
  if (points) await api.call('/api/v1/points/charge', { method: 'POST', token, body: { amount: points } });
  await page.getByRole('button', { name: `Get tickets for ${concert.title}` }).click();
  await page.getByRole('heading', { name: "It's your turn!" }).waitFor({ timeout: 15000 });
  await page.getByRole('link', { name: /^Choose seats/ }).click();
  await page.locator('.venue-section').first().waitFor();
  return { page, token, errors };
}

/** The free count a section shape shows, once painted from the status. */
const free = (page, id) => page.locator(`.venue-section[data-section="${id}"]`).getAttribute('data-free');

describe('a 10,000-seat hall with sections (embedded backend)', () => {
  let server;
  let api;
  let concert;
  before(async () => {
    server = await startServer('embedded');
    api = new Api(server.base);
    concert = await concertWithLayout(api, 'Arena night');
  });
  after(() => server?.stop());

  test('on a phone: two seats by quantity and Best available, then paid', { timeout: 120000 }, async (t) => {
    if (!concert) return t.skip(NO_LAYOUTS);
    if (!(await hasBestAvailable(server, concert.scheduleId))) {
      return t.skip('this server has no POST /api/v1/schedules/{id}/best-available (needs the venues branch)');
    }
    const { page, token, errors } = await buyerAt(server, api, concert, 'Quinn', PHONE, 1000);
    assert.equal(await page.locator('.venue-section').count(), 20, 'one shape per section');
    assert.equal(await page.locator('.seat').count(), 0, 'no seat buttons before a section is opened');
    assert.equal(await page.getByLabel('Seats', { exact: true }).inputValue(), '2', 'two seats to start, as box offices do');
    await shot(page, 'venue-overview-390');
    assert.deepEqual(await audit(page), [], 'the overview');

    await page.getByLabel('Where').selectOption({ label: 'Floor · 180 points' });
    await page.getByRole('button', { name: 'Best available' }).click();
    await page.getByRole('heading', { name: '2 seats are held for you' }).waitFor();
    const lines = await page.locator('#cart li span').allTextContents();
    assert.equal(lines.length, 2);
    // Priced by the server (the tier's price, once holds take it from the seat).
    for (const line of lines) assert.match(line, /^Floor [A-E], row \d+, seat \d+ · [\d,]+ points$/);
    // Together: one row, neighbouring labels.
    const seats = lines.map((l) => l.match(/^(.*), row (\d+), seat (\d+)/).slice(1));
    assert.equal(seats[0][0], seats[1][0]);
    assert.equal(seats[0][1], seats[1][1]);
    assert.equal(Math.abs(Number(seats[0][2]) - Number(seats[1][2])), 1, `${lines} are side by side`);
    // The section of the seats opens, with them marked as yours.
    await eventually(async () => (await page.locator('.section-view .seat--yours').count()) === 2, 'the two seats shown as yours');
    assert.ok(await page.locator('#countdown').isVisible(), 'the hold timer');
    assert.deepEqual(await audit(page), [], 'the section with a cart');
    await shot(page, 'venue-best-available-390');

    // No 18,000 px of seats: the whole page is a few screens at most.
    const height = await page.evaluate(() => document.documentElement.scrollHeight);
    assert.ok(height < 3 * PHONE.height, `the page is ${height} px tall`);

    const pay = page.getByRole('button', { name: /^Pay for 2 seats: [\d,]+ points$/ });
    const total = Number((await pay.textContent()).match(/([\d,]+) points$/)[1].replace(/,/g, ''));
    await pay.click();
    await page.getByRole('heading', { name: 'Your 2 tickets are confirmed' }).waitFor();
    // The receipt says where the seats are.
    for (const line of await page.locator('#receipt-lines li').allTextContents()) {
      assert.match(line, /^Floor [A-E], row \d+, seat \d+ · [\d,]+ points · reservation #\d+$/);
    }
    const { balance } = await api.call('/api/v1/points', { token });
    assert.equal(balance, 1000 - total, 'the page showed what was charged');
    assert.deepEqual(errors, []);
    await page.context().close();
  });

  test('on a phone: a section opened on the overview, a seat held by its name, paid; live colours', { timeout: 120000 }, async (t) => {
    if (!concert) return t.skip(NO_LAYOUTS);
    const { page, token, errors } = await buyerAt(server, api, concert, 'Sam', PHONE, 500);
    await eventually(async () => (await free(page, 'F1')) === '500', 'the overview painted from the status');
    await shot(page, 'venue-overview-390');
    const lowerB = page.getByRole('button', { name: /^Lower B: [\d,]+ of 500 seats free, 120 points$/ });
    await lowerB.click();
    await page.getByRole('heading', { name: 'Lower B' }).waitFor();
    assert.equal(await page.locator('.section-view .seat').count(), 500);
    assert.deepEqual(await audit(page), [], 'a section');
    await shot(page, 'venue-section-390');

    // Keyboard: the arrows move along the row and to the row behind.
    const first = page.getByRole('button', { name: 'Lower B, row 1, seat 1, 120 points, available' });
    await first.focus();
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowDown');
    assert.equal(await page.evaluate(() => document.activeElement.getAttribute('aria-label')),
      'Lower B, row 2, seat 2, 120 points, available');

    // Another buyer takes a seat of this section: its colour and count change live.
    const before = Number(await free(page, 'L2'));
    const other = await api.buyer('other', 500);
    const otherQueue = await api.join(other, concert.concertId, 'ACTIVE');
    const schedule = concert.scheduleId;
    const layout = await api.call(`/api/v1/schedules/${schedule}/layout`);
    const row3 = layout.sections.find((s) => s.sectionId === 'L2').rows[2];
    await api.call('/api/v1/reservations', {
      method: 'POST', token: other.token, queueToken: otherQueue, body: { scheduleId: schedule, seatNumber: row3.firstSeat + 4 },
    });
    const taken = page.getByRole('button', { name: 'Lower B, row 3, seat 5, 120 points, held by another buyer' });
    await taken.waitFor({ timeout: 10000 });
    await eventually(async () => Number(await free(page, 'L2')) === before - 1, 'the count of Lower B to drop by one', 5000);

    await page.getByRole('button', { name: 'Lower B, row 3, seat 12, 120 points, available' }).click();
    await page.getByRole('heading', { name: 'Lower B, row 3, seat 12 is held for you' }).waitFor();
    const pay = page.getByRole('button', { name: /^Pay [\d,]+ points$/ });
    const total = Number((await pay.textContent()).match(/([\d,]+) points$/)[1].replace(/,/g, ''));
    await pay.click();
    await page.getByRole('heading', { name: 'Your ticket is confirmed' }).waitFor();
    assert.equal(await page.locator('.facts dd').first().textContent(), 'Lower B, row 3, seat 12');
    const { balance } = await api.call('/api/v1/points', { token });
    assert.equal(balance, 500 - total, 'the page showed what was charged');
    assert.deepEqual(errors, []);
    await page.context().close();
  });

  test('on a desktop: the overview beside the open section, the width used', { timeout: 120000 }, async (t) => {
    if (!concert) return t.skip(NO_LAYOUTS);
    const { page, errors } = await buyerAt(server, api, concert, 'Dee', DESKTOP, 0);
    // The section nearest the stage opens beside the overview at once.
    await page.locator('.section-view .seat').first().waitFor();
    const map = await page.locator('.venue-svg').boundingBox();
    const section = await page.locator('.section-view').boundingBox();
    assert.ok(section.x > map.x + map.width - 1, 'the section is beside the overview');
    assert.ok(section.x + section.width > DESKTOP.width - 100, `the page uses the width (ends at ${section.x + section.width})`);
    assert.ok(section.y < DESKTOP.height / 2, 'the section is on the first screen');
    assert.equal(await page.locator('.section-view h2').textContent(), 'Floor C');
    await shot(page, 'venue-overview-1366');
    // By keyboard: a section's shape takes Enter.
    await page.locator('.venue-section[data-section="B2"]').focus();
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Balcony B' }).waitFor();
    assert.deepEqual(await audit(page), [], 'the desktop seat screen');
    await shot(page, 'venue-section-1366');
    assert.deepEqual(errors, []);
    await page.context().close();
  });
});
