// A paid ticket's detail at phone size: seat, date, the signed code as
// text and its QR drawn inline (an <svg> rebuilt from the API's string,
// nothing else). The code is checked against the published key by the
// contract suite (tests/tests/tickets.rs); here, what the buyer sees.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Api, audit, backends, launch, screenshot, signUp, startServer } from './harness.js';

const browser = await launch();
after(() => browser.close());

for (const backend of await backends()) {
  describe(`${backend} backend`, () => {
    let server;
    let api;
    before(async () => {
      server = await startServer(backend);
      api = new Api(server.base);
    });
    after(() => server?.stop());

    test('My tickets opens a ticket with its seat, date, code and QR at 390×844', { timeout: 60000 }, async () => {
      const concert = await api.concert({ price: 100 });
      const context = await browser.newContext({ baseURL: server.base, viewport: { width: 390, height: 844 } });
      const page = await context.newPage();
      const errors = [];
      page.on('pageerror', (error) => errors.push(error.message));
      page.on('console', (message) => { if (message.type() === 'error') errors.push(message.text()); });
      await signUp(page, `Tess ${backend}`);
      const token = await page.evaluate(() => JSON.parse(localStorage.getItem('frontrow.user')).accessToken);
      const buyer = { token, name: 'Tess' };
      await api.call('/api/v1/points/charge', { method: 'POST', token, body: { amount: 500 } });
      const queueToken = await api.join(buyer, concert.concertId, 'ACTIVE');
      const held = await api.call('/api/v1/reservations', {
        method: 'POST', token, queueToken, body: { scheduleId: concert.scheduleId, seatNumber: 6 },
      });
      await api.call('/api/v1/payments', { method: 'POST', token, queueToken, body: { reservationId: held.reservationId } });

      await page.goto('/#/tickets');
      await page.getByRole('link', { name: `Show ticket for seat 6, ${concert.title}` }).click();
      await page.getByRole('heading', { name: 'Seat 6' }).waitFor();
      const detail = page.locator('#ticket');
      assert.match(await detail.textContent(), /May 1, 2031/);
      const code = await page.locator('#ticket-code').textContent();
      assert.match(code, /^FRT1\.[A-Za-z0-9_-]+$/);
      const qr = page.getByRole('img', { name: 'QR code of your ticket for seat 6' });
      await qr.waitFor();
      const box = await qr.boundingBox();
      assert.ok(box.width >= 200 && box.width <= 390, `the QR fits the phone: ${box.width}`);
      assert.equal(await page.locator('#ticket svg path').count(), 1, 'the QR modules are drawn');
      assert.equal(await page.locator('#ticket script, #ticket foreignObject').count(), 0);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth);
      assert.ok(overflow <= 390, `no sideways scroll: ${overflow}`);
      assert.deepEqual(await audit(page), [], 'the ticket detail');
      assert.deepEqual(errors, [], 'no page errors (a CSP refusal would show here)');
      if (backend === 'embedded') await screenshot(page, '12-ticket-detail');
      await context.close();
    });
  });
}
