// The public HTTP API, as both pages use it: JSON calls that turn every
// problem+json answer into an ApiError with a human sentence, and
// Server-Sent Events read with fetch() so that the Authorization and
// X-Queue-Token headers can be sent (EventSource cannot send headers, and
// tokens do not belong in URLs).

import { sentence } from './messages.js';

export class ApiError extends Error {
  constructor(status, code, detail, body = null) {
    super(sentence(code, detail));
    this.status = status;
    this.code = code;
    /** The problem itself, for the fields some codes add (`opensAt`). */
    this.body = body;
  }
}

/** Milliseconds the server's clock is ahead of ours (from `Date` headers). */
export let clockSkew = 0;

function noteServerDate(response) {
  // `Date` has whole seconds: the server's clock is somewhere in the next
  // second. Only a clear difference is corrected, so a right clock is not
  // made half a second wrong.
  const date = Date.parse(response.headers.get('date') || '');
  if (Number.isNaN(date)) return;
  const skew = date + 500 - Date.now();
  clockSkew = Math.abs(skew) > 1500 ? skew : 0;
}

/** Our clock, set to the server's (to count down to its deadlines). */
export const serverNow = () => Date.now() + clockSkew;

/**
 * Calls the API. `auth` is an access token, `queueToken` an X-Queue-Token,
 * `admin` an X-Admin-Key. Resolves to the JSON body (null when empty);
 * rejects with an ApiError.
 */
export async function call(path, { method = 'GET', body, auth, queueToken, admin, headers = {} } = {}) {
  const sent = { ...headers };
  if (body !== undefined) sent['content-type'] = 'application/json';
  if (auth) sent.authorization = `Bearer ${auth}`;
  if (queueToken) sent['x-queue-token'] = queueToken;
  if (admin) sent['x-admin-key'] = admin;
  let response;
  try {
    response = await fetch(path, {
      method,
      headers: sent,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
    });
  } catch {
    throw new ApiError(0, 'NETWORK');
  }
  noteServerDate(response);
  const text = await response.text();
  let json = null;
  if (text) {
    try {
      json = JSON.parse(text);
    } catch {
      json = null;
    }
  }
  if (!response.ok) {
    throw new ApiError(response.status, json?.code || `HTTP_${response.status}`, json?.detail, json);
  }
  return json;
}

/**
 * Reads a `text/event-stream` and calls `onEvent(data)` with each event's
 * data parsed as JSON. Resolves when the server ends the stream; rejects
 * with an ApiError when it refuses to open it (a problem) or the network
 * fails. `signal` aborts it.
 */
export async function follow(path, { auth, queueToken, signal, onEvent }) {
  const headers = { accept: 'text/event-stream' };
  if (auth) headers.authorization = `Bearer ${auth}`;
  if (queueToken) headers['x-queue-token'] = queueToken;
  let response;
  try {
    response = await fetch(path, { headers, signal, cache: 'no-store' });
  } catch (error) {
    if (signal?.aborted) return;
    throw new ApiError(0, 'NETWORK');
  }
  if (!response.ok || !response.body) {
    let json = null;
    try {
      json = await response.json();
    } catch {
      json = null;
    }
    throw new ApiError(response.status, json?.code || `HTTP_${response.status}`, json?.detail);
  }
  const parser = new EventParser(onEvent);
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      parser.push(value);
    }
  } catch (error) {
    if (signal?.aborted) return;
    throw new ApiError(0, 'NETWORK');
  }
}

/**
 * The Server-Sent Events wire format, as far as this API uses it: lines of
 * `data:` make an event, a blank line ends it, lines starting with `:` are
 * comments (heartbeats). CR, LF and CRLF all end lines.
 */
export class EventParser {
  constructor(onEvent) {
    this.onEvent = onEvent;
    this.buffer = '';
    this.data = [];
  }

  push(text) {
    this.buffer += text;
    // A CR at the very end may be the first half of a CRLF: wait for more.
    const held = this.buffer.endsWith('\r') ? '\r' : '';
    const lines = (held ? this.buffer.slice(0, -1) : this.buffer).split(/\r\n|\r|\n/);
    this.buffer = lines.pop() + held;
    for (const line of lines) this.line(line);
  }

  line(line) {
    if (line === '') {
      if (this.data.length) {
        const data = this.data.join('\n');
        this.data = [];
        let parsed;
        try {
          parsed = JSON.parse(data);
        } catch {
          return;
        }
        this.onEvent(parsed);
      }
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') this.data.push(value);
  }
}

/** A fresh Idempotency-Key. */
export function idempotencyKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Waits `ms`, or less if `signal` aborts. */
export function sleep(ms, signal) {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });
}
