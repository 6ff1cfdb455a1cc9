// Starts the real frontrow binary on a free port against either backend,
// drives the admin and buyer API from Node for the "other people" in a
// scenario, and launches Debian's Chromium through playwright-core.
//
// - embedded: SQLite in a fresh temporary directory, in-process room;
// - mysql: a fresh MariaDB/MySQL database on FRONTROW_TEST_MYSQL (default
//   mysql://root@127.0.0.1:3306, created with the `mysql` client and dropped
//   at the end) and Redis at FRONTROW_TEST_REDIS (default
//   redis://127.0.0.1:6379) under a fresh key prefix.
//
// The binary is FRONTROW_BIN, or target/debug/frontrow of this repository
// (or of CARGO_TARGET_DIR). Without MariaDB or Redis the mysql backend is
// skipped with a message, unless CI is set, where that fails.

import { spawn, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
export const repo = resolve(here, '..', '..');
export const output = join(here, 'output');
export const ADMIN_KEY = 'browser-test-admin-key';

export function binary() {
  if (process.env.FRONTROW_BIN) return process.env.FRONTROW_BIN;
  const target = process.env.CARGO_TARGET_DIR ? resolve(repo, process.env.CARGO_TARGET_DIR) : join(repo, 'target');
  return join(target, 'debug', 'frontrow');
}

const unique = () => randomBytes(6).toString('hex');

function reachable(url, fallbackPort) {
  const { hostname, port } = new URL(url);
  return new Promise((done) => {
    const socket = connect({ host: hostname, port: Number(port || fallbackPort) });
    socket.setTimeout(1000);
    socket.once('connect', () => { socket.destroy(); done(true); });
    socket.once('error', () => done(false));
    socket.once('timeout', () => { socket.destroy(); done(false); });
  });
}

const mysqlServer = () => process.env.FRONTROW_TEST_MYSQL || 'mysql://root@127.0.0.1:3306';
const redisUrl = () => process.env.FRONTROW_TEST_REDIS || 'redis://127.0.0.1:6379';

function mysql(sql) {
  const url = new URL(mysqlServer());
  const args = ['--protocol=tcp', '-h', url.hostname, '-P', url.port || '3306', '-u', decodeURIComponent(url.username || 'root')];
  if (url.password) args.push(`-p${decodeURIComponent(url.password)}`);
  execFileSync('mysql', [...args, '-e', sql], { stdio: ['ignore', 'ignore', 'pipe'] });
}

/**
 * The backends to run on: `embedded` always; `mysql` when MariaDB and
 * Redis answer (or CI is set, where a missing store fails the run).
 * FRONTROW_WEB_BACKENDS=embedded (or mysql) narrows it.
 */
export async function backends() {
  const wanted = (process.env.FRONTROW_WEB_BACKENDS || 'embedded,mysql').split(',').map((b) => b.trim());
  const found = [];
  if (wanted.includes('embedded')) found.push('embedded');
  if (wanted.includes('mysql')) {
    const up = (await reachable(mysqlServer(), 3306)) && (await reachable(redisUrl(), 6379));
    if (up || process.env.CI) found.push('mysql');
    else console.log('SKIPPED: the mysql backend (MariaDB or Redis not reachable; CI fails here instead)');
  }
  return found;
}

/** A running frontrow: `base` URL, `stop()`. */
export async function startServer(backend, { holdSeconds = 300, args = [] } = {}) {
  const bin = binary();
  if (!existsSync(bin)) throw new Error(`no frontrow binary at ${bin}: run \`cargo build\` first or set FRONTROW_BIN`);
  const dataDir = mkdtempSync(join(tmpdir(), 'frontrow-web-'));
  const flags = [
    'serve', '--listen', '127.0.0.1:0', '--data-dir', dataDir,
    '--admin-key', ADMIN_KEY, '--jwt-secret', `web-tests-${unique()}`,
    '--hold-seconds', String(holdSeconds), '--drain-ms', '0',
    // Generous defaults; each scenario sets its own room's capacity.
    '--queue-capacity', '1000', '--admit-per-second', '1000', '--active-idle-seconds', '0',
    // Every scenario signs up its buyers from 127.0.0.1: the rate limits
    // (tested in tests/tests/rate_limits.rs) are off here.
    '--rate-limits-scale', '0',
    // ... and within the hour, holding on one show: one household, whose
    // limit (tested in tests/tests/households.rs) is off here too.
    '--household-seats', '0',
    ...args,
  ];
  let database = null;
  if (backend === 'mysql') {
    database = `frontrow_web_${unique()}`;
    mysql(`CREATE DATABASE ${database}`);
    flags.push('--database-url', `${mysqlServer()}/${database}`, '--redis-url', redisUrl(),
      '--redis-prefix', `frontrow-web:${unique()}:`);
  }
  const child = spawn(bin, flags, {
    env: { ...process.env, RUST_LOG: 'warn,frontrow=info,poem::server=info', NO_COLOR: '1' },
    // Logs go to stdout (tracing's default writer), errors to stderr.
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  const base = await new Promise((done, failed) => {
    const timer = setTimeout(() => failed(new Error(`frontrow did not start:\n${log}`)), 30000);
    const read = (chunk) => {
      log += chunk.toString();
      // eslint-disable-next-line no-control-regex
      const match = log.replace(/\x1b\[[0-9;]*m/g, '').match(/listening addr=socket:\/\/(127\.0\.0\.1:\d+)/);
      if (match) {
        clearTimeout(timer);
        done(`http://${match[1]}`);
      }
    };
    child.stdout.on('data', read);
    child.stderr.on('data', read);
    child.once('exit', (code) => failed(new Error(`frontrow exited (${code}):\n${log}`)));
  });
  child.removeAllListeners('exit');
  return {
    backend,
    base,
    log: () => log,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((done) => child.once('exit', done));
        child.kill('SIGTERM');
        await Promise.race([exited, new Promise((done) => setTimeout(done, 5000))]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
      rmSync(dataDir, { recursive: true, force: true });
      if (database) {
        try {
          mysql(`DROP DATABASE ${database}`);
        } catch {
          // Left behind; names are unique.
        }
      }
    },
  };
}

/** The API as a script would use it (for the other buyers and the setup). */
export class Api {
  constructor(base) {
    this.base = base;
  }

  async call(path, { method = 'GET', body, token, queueToken, admin } = {}) {
    const headers = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (token) headers.authorization = `Bearer ${token}`;
    if (queueToken) headers['x-queue-token'] = queueToken;
    if (admin) headers['x-admin-key'] = ADMIN_KEY;
    const response = await fetch(`${this.base}${path}`, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    const json = text ? JSON.parse(text) : null;
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
    return json;
  }

  /**
   * A concert with one performance: { concertId, scheduleId, title };
   * `opensAt` schedules its sale, `preQueueMinutes` before it.
   */
  async concert({ seats = 10, price = 120, capacity = 1000, title = `Browser test ${unique()}`, opensAt, preQueueMinutes } = {}) {
    const created = await this.call('/api/v1/admin/concerts', {
      method: 'POST',
      admin: true,
      body: { title, schedules: [{ startsAt: '2031-05-01T19:30:00Z', seatCount: seats, price }], opensAt, preQueueMinutes },
    });
    await this.policy(created.concertId, { capacity });
    return { concertId: created.concertId, scheduleId: created.schedules[0].scheduleId, title };
  }

  policy(concert, { capacity = 1000, admitPerSecond = 1000, paused = false }) {
    return this.call(`/api/v1/admin/concerts/${concert}/queue`, {
      method: 'PUT', admin: true, body: { capacity, admitPerSecond, paused },
    });
  }

  /** A buyer: { token, name }, with `points` charged. */
  async buyer(name, points = 0) {
    const created = await this.call('/api/v1/users', { method: 'POST', body: { name } });
    if (points) {
      await this.call('/api/v1/points/charge', { method: 'POST', token: created.accessToken, body: { amount: points } });
    }
    return { token: created.accessToken, name };
  }

  /** Joins; resolves to the queue token once the status is `until`. */
  async join(buyer, concert, until = null) {
    const ticket = await this.call('/api/v1/queue/tokens', { method: 'POST', token: buyer.token, body: { concertId: concert } });
    if (!until) return ticket.token;
    await eventually(async () => {
      const s = await this.call('/api/v1/queue/status', { token: buyer.token, queueToken: ticket.token });
      return s.status === until;
    }, `${buyer.name} reaches ${until}`);
    return ticket.token;
  }

  leave(buyer, queueToken) {
    return this.call('/api/v1/queue/tokens', { method: 'DELETE', token: buyer.token, queueToken });
  }
}

/** Polls `check` until it is truthy (at most `ms`). */
export async function eventually(check, what, ms = 15000) {
  const until = Date.now() + ms;
  for (;;) {
    if (await check()) return;
    if (Date.now() > until) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((done) => setTimeout(done, 200));
  }
}

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
}

/** A buyer's browser: a phone-sized context with notifications recorded. */
export async function phone(browser, base) {
  const context = await browser.newContext({ baseURL: base, viewport: { width: 360, height: 780 }, deviceScaleFactor: 1 });
  // Records notifications instead of showing them (headless has no tray).
  await context.addInitScript(() => {
    window.__notifications = [];
    window.Notification = class {
      static permission = 'granted';
      static requestPermission() { return Promise.resolve('granted'); }
      constructor(title, options) { window.__notifications.push({ title, ...options }); }
    };
  });
  const page = await context.newPage();
  page.on('pageerror', (error) => console.error(`page error: ${error.message}`));
  return page;
}

export async function screenshot(page, name) {
  const dir = join(output, 'screenshots');
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: join(dir, `${name}.png`), fullPage: true });
}

/** The password the browser tests sign up with. */
export const PASSWORD = 'correct horse battery';

/** Signs up on the page (name and password) and waits for the concerts list. */
export async function signUp(page, name, password = PASSWORD) {
  await page.goto('/');
  await page.getByLabel('Your name').fill(name);
  await page.getByLabel('Choose a password').fill(password);
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.getByRole('heading', { name: 'Concerts' }).waitFor();
}

/** Runs axe-core on the page; returns serious and critical violations. */
export async function audit(page) {
  const axe = join(repo, 'web', 'tests', 'node_modules', 'axe-core', 'axe.min.js');
  // Evaluated through the driver, so the page's CSP does not block it.
  await page.evaluate(readFileSync(axe, 'utf8'));
  const result = await page.evaluate(async () => window.axe.run(document, { resultTypes: ['violations'] }));
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}
