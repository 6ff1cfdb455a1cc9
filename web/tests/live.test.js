// The one stream-or-poll rule (web/static/live.js), on its own: fetch is
// replaced by a scripted server and the waits between attempts are
// recorded instead of slept.

import assert from 'node:assert/strict';
import { afterEach, beforeEach, test } from 'node:test';
import { streamOrPoll } from '../static/live.js';

const STREAM = '/api/v1/queue/stream';
const POLL = '/api/v1/queue/status';
const realFetch = globalThis.fetch;
const realNow = Date.now;
let clock;
let asked;

beforeEach(() => {
  clock = 1_000_000;
  Date.now = () => clock;
  asked = [];
});
afterEach(() => {
  globalThis.fetch = realFetch;
  Date.now = realNow;
});

const json = (status, body) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
const problem = (status, code) => json(status, { code, status });

/** An event stream that sends `events` and ends, `lived` ms after it opened. */
function events(list, lived = 0) {
  const bytes = new TextEncoder().encode(list.map((e) => `data: ${JSON.stringify(e)}\n\n`).join(''));
  let sent = false;
  return new Response(new ReadableStream({
    pull(controller) {
      if (!sent) {
        sent = true;
        controller.enqueue(bytes);
        return;
      }
      clock += lived;
      controller.close();
    },
  }), { status: 200, headers: { 'content-type': 'text/event-stream' } });
}

/** Answers each request to `path` with the next of `answers[path]`. */
function serve(answers) {
  globalThis.fetch = async (path) => {
    asked.push(path);
    const next = answers[path].shift();
    assert.ok(next, `an unexpected request to ${path}`);
    return next();
  };
}

function follow(options = {}) {
  const waits = [];
  const seen = [];
  const done = streamOrPoll({
    stream: STREAM,
    poll: POLL,
    signal: new AbortController().signal,
    pace: 2,
    onData: (data) => seen.push(data.status),
    until: (s) => s.status === 'ACTIVE',
    wait: async (ms) => { waits.push(ms); },
    ...options,
  });
  return { done, waits, seen };
}

test('a server without the stream is polled at the pace its answers give', async () => {
  serve({
    [STREAM]: [() => problem(404, 'NOT_FOUND')],
    [POLL]: [
      () => json(200, { status: 'WAITING', refreshIntervalSeconds: 7 }),
      () => json(200, { status: 'WAITING', refreshIntervalSeconds: 7 }),
      () => json(200, { status: 'ACTIVE', refreshIntervalSeconds: 30 }),
    ],
  });
  const { done, waits, seen } = follow();
  assert.equal((await done).status, 'ACTIVE');
  assert.deepEqual(seen, ['WAITING', 'WAITING', 'ACTIVE']);
  assert.deepEqual(waits, [2000, 7000, 7000]);
});

test('a stream that fails three times in a row gives way to polling, each failure doubling the wait', async () => {
  serve({
    [STREAM]: [() => problem(503, 'STORE_UNAVAILABLE'), () => problem(503, 'STORE_UNAVAILABLE'), () => problem(503, 'STORE_UNAVAILABLE')],
    [POLL]: [() => json(200, { status: 'ACTIVE', refreshIntervalSeconds: 30 })],
  });
  const { done, waits } = follow();
  assert.equal((await done).status, 'ACTIVE');
  assert.deepEqual(asked, [STREAM, STREAM, STREAM, POLL]);
  assert.deepEqual(waits, [4000, 8000, 16000]);
});

test('a stream that ends at once is a failure; one that lived is reopened within two seconds', async () => {
  serve({
    [STREAM]: [
      () => events([{ status: 'WAITING', refreshIntervalSeconds: 3 }]),
      () => events([{ status: 'WAITING', refreshIntervalSeconds: 3 }], 60_000),
      () => events([{ status: 'WAITING', refreshIntervalSeconds: 3 }, { status: 'ACTIVE', refreshIntervalSeconds: 30 }]),
    ],
  });
  const { done, waits, seen } = follow();
  assert.equal((await done).status, 'ACTIVE');
  assert.deepEqual(seen, ['WAITING', 'WAITING', 'WAITING', 'ACTIVE']);
  assert.equal(waits.length, 2);
  assert.equal(waits[0], 6000, 'the pace heard, doubled once');
  assert.ok(waits[1] >= 1000 && waits[1] < 2000, `reopened after ${waits[1]} ms`);
});

test("any other refusal is the caller's to read", async () => {
  serve({ [STREAM]: [() => problem(403, 'QUEUE_TOKEN_EXPIRED')] });
  await assert.rejects(follow().done, (error) => error.code === 'QUEUE_TOKEN_EXPIRED' && error.status === 403);
});

test('aborting ends it without another request', async () => {
  const stop = new AbortController();
  serve({ [STREAM]: [() => problem(503, 'STORE_UNAVAILABLE')] });
  const { done } = follow({ signal: stop.signal, wait: async () => stop.abort() });
  assert.equal(await done, null);
  assert.deepEqual(asked, [STREAM]);
});
