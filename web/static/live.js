// Following something live: the waiting room's place and the seat map both
// come from here, under one rule.
//
// - The Server-Sent Events stream first (read with fetch, see api.js).
// - A stream that ended after living a while is reopened within one to two
//   seconds (an instance draining for a restart ends its streams; spread a
//   little, they reconnect elsewhere and start with a fresh snapshot). One
//   that ends within five seconds, or fails (network, 5xx), is a failure.
// - Polling instead, at the server's pace (`refreshIntervalSeconds`, the
//   last one heard), when the server has no stream (404, 405) or the stream
//   failed three times in a row.
// - Each failure in a row doubles the wait (up to 16 times), so nothing
//   loops faster than the server asks.
// - Any other 4xx is the caller's to read (a turn that ended, a lost place):
//   it is thrown.

import { ApiError, call, follow, sleep } from './api.js';

const LIVED_MS = 5000;
const STREAM_FAILURES_BEFORE_POLLING = 3;

/**
 * Follows `stream` (polling `poll` instead, see above) with the `auth` and
 * `queueToken` headers, calling `onData(data)` with each event or poll
 * answer. `pace` is the server's refresh interval in seconds until the data
 * carries its own (`refreshIntervalSeconds`). Resolves with the last data
 * once `until(data)` is true, or when `signal` aborts. `wait(ms, signal)`
 * is how it waits between attempts (a test passes its own clock).
 */
export async function streamOrPoll({
  stream, poll, auth, queueToken, signal, onData, pace = 5, until = () => false, wait = sleep,
}) {
  let last = null;
  let failures = 0;
  let streaming = true;
  const done = () => signal.aborted || (last !== null && until(last));
  const heard = (data) => {
    last = data;
    if (data && data.refreshIntervalSeconds > 0) pace = data.refreshIntervalSeconds;
    failures = 0;
    onData(data);
  };
  const stop = new AbortController();
  signal.addEventListener('abort', () => stop.abort(), { once: true });
  while (!done()) {
    let lived = false;
    try {
      if (streaming) {
        const opened = Date.now();
        await follow(stream, {
          auth,
          queueToken,
          signal: stop.signal,
          onEvent: (data) => {
            heard(data);
            if (done()) stop.abort();
          },
        });
        lived = Date.now() - opened >= LIVED_MS;
        if (!lived && !done()) failures += 1;
      } else {
        heard(await call(poll, { auth, queueToken }));
      }
    } catch (error) {
      if (signal.aborted) break;
      if (!(error instanceof ApiError)) throw error;
      if (error.status === 404 || error.status === 405) {
        streaming = false;
      } else if (error.status >= 400 && error.status < 500) {
        throw error;
      } else {
        failures += 1;
      }
    }
    if (streaming && failures >= STREAM_FAILURES_BEFORE_POLLING) streaming = false;
    if (done()) break;
    const seconds = streaming && lived ? 1 + Math.random() : Math.max(1, pace) * 2 ** Math.min(failures, 4);
    await wait(seconds * 1000, signal);
  }
  return last;
}
