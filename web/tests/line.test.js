// The line and the turn as a buyer sees them: the turn's timer before the
// first hold and only the cart's countdown after, the refusal once the turn
// is over, leaving that says what it costs, an expired place that says why,
// and a place kept while the buyer looks at My tickets.
// FRONTROW_SHOTS=dir also saves each changed screen at 390×844 and 1366×900.

import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Api, audit, backends, eventually, launch, phone, screenshot, signUp, startServer } from './harness.js';

const browser = await launch();
after(() => browser.close());

const seat = (page, n) => page.locator(`.seatmap [data-seat="${n}"]`);
const ACTIVE_SECONDS = 15;
const WAITING_IDLE_SECONDS = 4;

/** Screenshots at a phone's and a laptop's size (FRONTROW_SHOTS), then back to the phone. */
async function sizes(page, name) {
  const dir = process.env.FRONTROW_SHOTS;
  if (!dir) return screenshot(page, name);
  mkdirSync(dir, { recursive: true });
  for (const [width, height] of [[390, 844], [1366, 900]]) {
    await page.setViewportSize({ width, height });
    await page.screenshot({ path: join(dir, `${name}-${width}.png`), fullPage: true });
  }
  await page.setViewportSize({ width: 360, height: 780 });
}

const placeOf = (page, concert) => page.evaluate((id) => {
  const user = JSON.parse(localStorage.getItem('frontrow.user'));
  return { access: user.accessToken, queue: JSON.parse(localStorage.getItem(`frontrow.queue.${user.userId}.${id}`)).token };
}, concert);

for (const backend of await backends()) {
  describe(`${backend} backend`, () => {
    let server;
    let api;
    before(async () => {
      server = await startServer(backend, {
        args: ['--active-seconds', String(ACTIVE_SECONDS), '--waiting-idle-seconds', String(WAITING_IDLE_SECONDS)],
      });
      api = new Api(server.base);
    });
    after(() => server?.stop());

    test("one timer: the turn's before the first hold, the cart's after; a hold after the turn is refused plainly", { timeout: 90000 }, async () => {
      const concert = await api.concert({ seats: 8, price: 10 });
      const page = await phone(browser, server.base);
      await signUp(page, `Timer ${backend}`);
      await page.getByRole('button', { name: `Get tickets for ${concert.title}` }).click();
      await page.getByRole('heading', { name: "It's your turn!" }).waitFor({ timeout: 15000 });
      const turn = page.getByRole('timer', { name: 'Time left in your turn' });
      await turn.waitFor();
      assert.match(await turn.textContent(), /^0:1\d$|^0:0\d$/);
      const endsAt = Date.parse(await page.locator('[data-turn-ends]').getAttribute('data-turn-ends'));
      assert.deepEqual(await audit(page), [], 'your turn, with its timer');
      await sizes(page, 'web2-your-turn');

      await page.getByRole('link', { name: /^Choose seats/ }).click();
      await eventually(async () => (await seat(page, 1).getAttribute('data-state')) === 'available', 'the seat map');
      await turn.waitFor();
      assert.equal(await page.locator('#countdown').count(), 0, 'no cart countdown before a hold');
      assert.deepEqual(await audit(page), [], 'seat map with the turn timer');
      await sizes(page, 'web2-seats-turn-timer');

      await seat(page, 1).click();
      await page.getByRole('heading', { name: 'Seat 1 is held for you' }).waitFor();
      await page.getByRole('timer', { name: 'Time left on your hold' }).waitFor();
      assert.equal(await turn.count(), 0, 'only the cart countdown once a seat is held');
      await sizes(page, 'web2-seats-cart-countdown');

      // The turn runs out under the hold: no new hold, but the held seat can be paid.
      await eventually(async () => Date.now() > endsAt + 1000, 'the turn to end', (ACTIVE_SECONDS + 5) * 1000);
      await seat(page, 2).click();
      await eventually(async () => /Your turn has ended: pay for or release the seats you hold/
        .test(await page.locator('#notice').textContent()), 'the turn-over refusal');
      assert.deepEqual(await audit(page), [], 'seat map, turn over');
      await sizes(page, 'web2-turn-over');
      await page.getByRole('button', { name: 'Add 10 points and pay' }).click();
      await page.getByRole('heading', { name: /confirmed/ }).waitFor();
      await page.context().close();
    });

    test('a place kept on My tickets with an in-line banner; leaving asks first; an expired place says why', { timeout: 90000 }, async () => {
      const concert = await api.concert({ seats: 8, price: 10, capacity: 1 });
      const blocker = await api.buyer(`blocker ${backend}`);
      await api.join(blocker, concert.concertId, 'ACTIVE');
      const page = await phone(browser, server.base);
      await signUp(page, `Waiter ${backend}`);
      await page.getByRole('button', { name: `Get tickets for ${concert.title}` }).click();
      await page.locator('#position').waitFor();

      // Away from the waiting room for longer than the idle limit: kept.
      await page.getByRole('link', { name: 'My tickets' }).first().click();
      await page.getByRole('heading', { name: 'My tickets' }).waitFor();
      const banner = page.locator('#in-line');
      await eventually(async () => /You're in line for .+: position 1/.test((await banner.textContent()) || ''), 'the in-line banner');
      assert.ok(await page.getByRole('link', { name: 'Back to the line' }).isVisible());
      assert.deepEqual(await audit(page), [], 'My tickets with the in-line banner');
      await sizes(page, 'web2-tickets-in-line');
      await new Promise((done) => setTimeout(done, (WAITING_IDLE_SECONDS + 3) * 1000));
      // The blocker's turn ends; the line reaches this buyer, still seen.
      await eventually(async () => (await banner.locator('[data-status]').getAttribute('data-status').catch(() => null)) === 'ACTIVE',
        'the place to become ACTIVE', (ACTIVE_SECONDS + 10) * 1000);
      assert.match(await banner.textContent(), /It's your turn for/);
      const kept = await placeOf(page, concert.concertId);
      const status = await api.call('/api/v1/queue/status', { token: kept.access, queueToken: kept.queue });
      assert.equal(status.status, 'ACTIVE');
      await page.getByRole('link', { name: 'Choose your seats' }).click();
      await page.getByRole('heading', { name: "It's your turn!" }).waitFor({ timeout: 15000 });
      assert.equal(await banner.isVisible(), false, 'no banner on the concert\'s own screen');

      // Leaving says what it costs and asks; "Stay in line" keeps the place.
      const second = await api.concert({ seats: 8, price: 10, capacity: 1 });
      await api.join(await api.buyer(`blocker two ${backend}`), second.concertId, 'ACTIVE');
      await page.goto('/');
      await page.getByRole('button', { name: `Get tickets for ${second.title}` }).click();
      await page.locator('#position').waitFor();
      assert.match(await page.locator('#leave-cost').textContent(), /You will lose your place in line/);
      await page.getByRole('button', { name: 'Leave the line' }).click();
      await page.getByRole('button', { name: 'Stay in line' }).waitFor();
      assert.match(await page.locator('.leave-confirm').textContent(), /You will lose your place in line/);
      assert.deepEqual(await audit(page), [], 'leaving, asked');
      await sizes(page, 'web2-leave-confirm');
      await page.getByRole('button', { name: 'Stay in line' }).click();
      await page.getByRole('button', { name: 'Leave the line' }).waitFor();

      // Given up elsewhere (another tab): the expired screen says why.
      const token = await placeOf(page, second.concertId);
      await api.leave({ token: token.access }, token.queue);
      await page.locator('[data-state="expired"][data-reason="LEFT"]').waitFor({ timeout: 15000 });
      assert.match(await page.locator('[data-state="expired"]').textContent(), /You left the line/);
      assert.ok(await page.getByRole('button', { name: 'Join again' }).isVisible());
      assert.deepEqual(await audit(page), [], 'place expired, with its reason');
      await sizes(page, 'web2-expired-left');

      // Leaving here, confirmed: back to the concerts, no place left.
      await page.getByRole('button', { name: 'Join again' }).click();
      await page.locator('#position').waitFor();
      await page.getByRole('button', { name: 'Leave the line' }).click();
      await page.getByRole('button', { name: 'Yes, leave the line' }).click();
      await page.getByRole('heading', { name: 'Concerts' }).waitFor();
      assert.equal(await page.evaluate((id) => Object.keys(localStorage).some((k) => k.endsWith(`.${id}`)), second.concertId), false);
      await page.context().close();
    });
  });
}
