// An account that outlives the browser, in real Chromium on every backend:
// a buyer who signed up on one device signs in on another (a fresh browser
// context: no site data) and finds the same tickets; after signing out, the
// old access token is refused. Screenshots of the account screens at phone
// and desktop sizes go to output/screenshots/.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Api, PASSWORD, audit, backends, eventually, launch, phone, screenshot, signUp, startServer } from './harness.js';

const browser = await launch();
after(() => browser.close());

const SIZES = { phone: { width: 390, height: 844 }, desktop: { width: 1366, height: 900 } };

async function shots(page, name) {
  for (const [size, viewport] of Object.entries(SIZES)) {
    await page.setViewportSize(viewport);
    await screenshot(page, `${name}-${size}`);
  }
  await page.setViewportSize({ width: 360, height: 780 });
}

/** The access token this page keeps. */
const tokenOf = (page) => page.evaluate(() => JSON.parse(localStorage.getItem('frontrow.user')).accessToken);

for (const backend of await backends()) {
  describe(`${backend} backend`, () => {
    let server;
    let api;
    before(async () => {
      server = await startServer(backend);
      api = new Api(server.base);
    });
    after(() => server?.stop());

    test('a buyer signs in on a second device, sees the same tickets, and a signed-out token is refused', { timeout: 120000 }, async () => {
      const concert = await api.concert({ seats: 10, price: 100 });
      const name = `Lin ${Date.now() % 100000}`;
      const first = await phone(browser, server.base);
      await first.goto('/');
      await first.getByLabel('Choose a password').waitFor();
      const record = backend === 'embedded';
      if (record) await shots(first, 'account-01-sign-up');
      await signUp(first, name);
      if (record) await shots(first, 'account-02-signed-in-bar');

      // A ticket bought with the first device's token.
      const buyer = { token: await tokenOf(first), name };
      await api.call('/api/v1/points/charge', { method: 'POST', token: buyer.token, body: { amount: 300 } });
      const queueToken = await api.join(buyer, concert.concertId, 'ACTIVE');
      const held = await api.call('/api/v1/reservations', {
        method: 'POST', token: buyer.token, queueToken, body: { scheduleId: concert.scheduleId, seatNumber: 4 },
      });
      await api.call('/api/v1/payments', {
        method: 'POST', token: buyer.token, queueToken, body: { reservationId: held.reservationId },
      });

      // A second device: no site data, only the name and password.
      const second = await phone(browser, server.base);
      await second.goto('/');
      await second.getByRole('link', { name: 'Sign in' }).click();
      await second.getByRole('heading', { name: 'Sign in' }).waitFor();
      assert.deepEqual(await audit(second), [], 'the sign-in screen has no serious accessibility problem');
      await second.getByLabel('Your name').fill(name.toUpperCase());
      await second.getByLabel('Password').fill('not the password');
      await second.getByRole('button', { name: 'Sign in' }).click();
      await eventually(async () => /do not match an account/.test(await second.locator('#notice').textContent()), 'the wrong-password notice');
      if (record) await shots(second, 'account-03-wrong-password');
      await second.getByLabel('Password').fill(PASSWORD);
      await second.getByRole('button', { name: 'Sign in' }).click();
      await second.getByRole('heading', { name: 'Concerts' }).waitFor();
      await second.getByRole('link', { name: 'My tickets' }).first().click();
      const ticket = second.locator('#tickets li').first();
      await ticket.waitFor();
      assert.match(await ticket.textContent(), new RegExp(`${concert.title}.*Seat 4.*Ticket`));
      assert.notEqual(await tokenOf(second), buyer.token, 'each device has its own session');

      // Signing out on the first device ends its token, everywhere.
      await first.getByRole('button', { name: 'Sign out' }).click();
      await first.getByRole('heading', { name: 'Sign in' }).waitFor();
      assert.equal(await first.evaluate(() => localStorage.getItem('frontrow.user')), null);
      await eventually(async () => /You are signed out/.test(await first.locator('#notice').textContent()), 'the signed-out notice');
      if (record) await shots(first, 'account-04-signed-out');
      const refused = await fetch(`${server.base}/api/v1/points`, { headers: { authorization: `Bearer ${buyer.token}` } });
      assert.equal(refused.status, 401);
      assert.equal(refused.headers.get('content-type'), 'application/problem+json');
      // The second device's session goes on.
      const kept = await fetch(`${server.base}/api/v1/points`, { headers: { authorization: `Bearer ${await tokenOf(second)}` } });
      assert.equal(kept.status, 200);
      await first.context().close();
      await second.context().close();
    });

    test('a buyer whose account has no password is asked before signing out for good', { timeout: 60000 }, async () => {
      // What a browser kept before passwords: the token of a name-only sign-up.
      const created = await api.call('/api/v1/users', { method: 'POST', body: { name: 'Old Timer' } });
      const page = await phone(browser, server.base);
      await page.goto('/');
      await page.evaluate((user) => localStorage.setItem('frontrow.user', JSON.stringify(user)),
        { userId: created.userId, accessToken: created.accessToken, name: 'Old Timer' });
      await page.goto('/#/');
      await page.getByRole('heading', { name: 'Concerts' }).waitFor();

      const asked = [];
      page.once('dialog', (dialog) => { asked.push(dialog.message()); dialog.dismiss(); });
      await page.getByRole('button', { name: 'Sign out' }).click();
      await eventually(async () => asked.length === 1, 'the question');
      assert.match(asked[0], /no password/);
      assert.ok(await page.evaluate(() => localStorage.getItem('frontrow.user')), 'declined: still signed in');

      page.once('dialog', (dialog) => dialog.accept());
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByRole('heading', { name: 'Sign in' }).waitFor();
      const refused = await fetch(`${server.base}/api/v1/points`, { headers: { authorization: `Bearer ${created.accessToken}` } });
      assert.equal(refused.status, 401, 'its session ended too');
      await page.context().close();
    });
  });
}
