// The operator's console in real Chromium, on every backend: the key, a new
// concert, the live numbers and chart (kept across a reload), and pause
// and resume reaching a waiting buyer's page at once.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ADMIN_KEY, Api, audit, backends, eventually, launch, phone, screenshot, signUp, startServer } from './harness.js';

const browser = await launch();
after(() => browser.close());

async function console_(base, viewport = { width: 1280, height: 860 }) {
  const context = await browser.newContext({ baseURL: base, viewport });
  const page = await context.newPage();
  page.on('pageerror', (error) => console.error(`page error: ${error.message}`));
  const missing = [];
  const note = (response) => { if (response.status() === 404) missing.push(response.url()); };
  page.on('response', note);
  await page.goto('/admin');
  await page.getByLabel('Admin key').fill(ADMIN_KEY);
  await page.getByRole('button', { name: 'Open the console' }).click();
  await page.getByRole('heading', { name: 'Concerts' }).waitFor();
  page.off('response', note);
  assert.deepEqual(missing, [], 'the key is checked with an endpoint that exists');
  return page;
}

const text = (page, selector) => page.locator(selector).textContent().catch(() => '');

for (const backend of await backends()) {
  describe(`${backend} backend`, () => {
    let server;
    let api;
    before(async () => {
      server = await startServer(backend);
      api = new Api(server.base);
    });
    after(() => server?.stop());

    test("the operator pauses a room: the waiting buyer's page says paused; resumed, the buyer is admitted", { timeout: 120000 }, async () => {
      const concert = await api.concert({ seats: 8, price: 10, capacity: 1 });
      const first = await api.buyer('first in');
      const firstToken = await api.join(first, concert.concertId, 'ACTIVE');
      const buyer = await phone(browser, server.base);
      await signUp(buyer, 'Waiting Wanda');
      await buyer.getByRole('button', { name: `Get tickets for ${concert.title}` }).click();
      await eventually(async () => (await buyer.locator('#position').getAttribute('data-position').catch(() => null)) === '1', 'first in line');

      const admin = await console_(server.base);
      await admin.getByRole('link', { name: `Open console for ${concert.title}` }).click();
      await eventually(async () => (await text(admin, '#stat-waiting')) === '1', 'one waiting on the console');
      assert.equal(await text(admin, '#stat-active'), '1 / 1');
      // The rate in force over the operator's, its ceiling.
      assert.match(await text(admin, '#stat-admission-rate'), /^[\d,]+ \/ [\d,]+ per s$/);

      // Pausing asks first; "Keep admitting" changes nothing.
      await admin.getByRole('button', { name: 'Pause' }).click();
      await admin.getByRole('dialog', { name: 'Pause admissions?' }).waitFor();
      await admin.getByRole('button', { name: 'Keep admitting' }).click();
      assert.equal((await api.call(`/api/v1/admin/concerts/${concert.concertId}/queue`, { admin: true })).paused, false);
      await admin.getByRole('button', { name: 'Pause' }).click();
      await admin.getByRole('button', { name: 'Pause admissions' }).click();
      await buyer.locator('[data-state="paused"]').waitFor({ timeout: 15000 });
      // Reported as a fact, not a success.
      await eventually(async () => /Admissions are paused/.test(await text(admin, '#notice')), 'the pause reported');
      assert.match(await admin.locator('#notice-box').getAttribute('class'), /notice--neutral/);
      assert.match(await text(buyer, '.room'), /The sale is paused/);
      await admin.locator('.paused-flag:not([hidden])').waitFor();

      // The slot frees while paused: nobody is admitted.
      await api.leave(first, firstToken);
      await new Promise((done) => setTimeout(done, 3000));
      assert.equal(await buyer.getByRole('heading', { name: "It's your turn!" }).count(), 0, 'not admitted while paused');

      await admin.getByRole('button', { name: 'Resume' }).click();
      await buyer.getByRole('heading', { name: "It's your turn!" }).waitFor({ timeout: 15000 });
      await eventually(async () => (await text(admin, '#stat-admitted-total')) === '2', 'two admitted in all');
      await eventually(async () => (await admin.locator('.chart polyline.waiting').getAttribute('points'))?.split(' ').length >= 4, 'a few samples on the chart');
      await eventually(async () => !/…/.test(await text(admin, '#stat-admitted')), 'an admission rate');
      if (backend === 'embedded') await screenshot(admin, '14-console');
      await buyer.context().close();
      await admin.context().close();
    });

    test("the console's chart keeps its points across a reload (from the server's history)", { timeout: 60000 }, async () => {
      const concert = await api.concert({ seats: 8, price: 10, capacity: 5 });
      const admin = await console_(server.base);
      await admin.getByRole('link', { name: `Open console for ${concert.title}` }).click();
      const points = async () => ((await admin.locator('.chart polyline.waiting').getAttribute('points').catch(() => null)) || '')
        .split(' ').filter(Boolean).length;
      const kept = async () => (await api.call(`/api/v1/admin/concerts/${concert.concertId}/queue/history`, { admin: true })).samples.length;
      await eventually(async () => (await kept()) >= 3, 'three samples kept by the server', 20000);
      await eventually(async () => (await points()) >= 3, 'three samples on the chart');
      await admin.reload();
      await admin.getByRole('heading', { name: concert.title }).waitFor();
      // Within the first poll (2 s), the chart already has the server's points.
      await eventually(async () => (await points()) >= 3, 'the chart redrawn from the history', 1500);
      if (backend === 'embedded') await screenshot(admin, '14b-console-after-reload');
      await admin.context().close();
    });

    test('the operator creates a concert and changes capacity and rate; buyers can join it', { timeout: 90000 }, async () => {
      const admin = await console_(server.base);
      await admin.getByRole('link', { name: 'New concert' }).first().click();
      await admin.getByLabel('Title').fill('Console Made Live');
      await admin.getByRole('button', { name: 'Add a performance' }).click();
      await admin.locator('#s1-seats').fill('12');
      await admin.locator('#s1-price').fill('75');
      if (backend === 'embedded') await screenshot(admin, '15-new-concert');
      await admin.getByRole('button', { name: 'Create concert' }).click();
      await admin.getByRole('heading', { name: 'Console Made Live' }).waitFor();
      await eventually(async () => (await admin.locator('tbody tr').count()) === 2, 'two performances');
      assert.match(await text(admin, 'tbody tr:nth-child(2)'), /12\s*0\s*0/);
      await admin.getByLabel('Capacity (active at once)').fill('5');
      await admin.getByLabel('Admissions per second').fill('7');
      await admin.getByRole('button', { name: 'Apply capacity and rate' }).click();
      await eventually(async () => (await text(admin, '#stat-active')) === '0 / 5', 'capacity 5');
      assert.match(await text(admin, '#notice'), /Capacity 5, 7 admissions per second/);
      const concertId = Number(admin.url().match(/concerts\/(\d+)/)[1]);
      const state = await api.call(`/api/v1/admin/concerts/${concertId}/queue`, { admin: true });
      assert.equal(state.capacity, 5);
      assert.equal(state.admitPerSecond, 7);
      if (backend === 'embedded') assert.deepEqual(await audit(admin), []);
      await admin.context().close();
    });

    if (backend === 'embedded') {
      test('every console screen fits a 390 px phone and has no serious or critical axe violations', { timeout: 90000 }, async () => {
        const concert = await api.concert({ seats: 30, price: 10, capacity: 2 });
        const page = await console_(server.base, { width: 390, height: 844 });
        const problems = [];
        const check = async (screen) => {
          const { scroll, width } = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, width: window.innerWidth }));
          if (scroll > width) problems.push(`${screen}: ${scroll} px wide on a ${width} px screen`);
          for (const violation of await audit(page)) problems.push(`${screen}: ${violation}`);
        };
        await check('concerts');
        await page.getByRole('link', { name: `Open console for ${concert.title}` }).click();
        await eventually(async () => (await text(page, '#stat-waiting')) === '0', 'the live numbers');
        await page.locator('tbody tr').first().waitFor();
        await check('live console');
        await screenshot(page, '21-console-phone');
        await page.getByRole('button', { name: 'Pause' }).click();
        await page.getByRole('dialog', { name: 'Pause admissions?' }).waitFor();
        await check('pause confirmation');
        await page.getByRole('button', { name: 'Keep admitting' }).click();
        await page.getByRole('link', { name: 'New concert' }).first().click();
        await page.getByLabel('Title').waitFor();
        await check('new concert');
        await page.getByRole('button', { name: 'Forget key' }).click();
        await page.getByLabel('Admin key').waitFor();
        await check('key');
        await page.getByLabel('Admin key').fill('not the key');
        await page.getByRole('button', { name: 'Open the console' }).click();
        await eventually(async () => /not accepted/.test(await text(page, '#notice')), 'a wrong key refused');
        await check('key refused');
        assert.deepEqual(problems, []);
        await page.context().close();
      });
    }
  });
}
