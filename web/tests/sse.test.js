// The page's Server-Sent Events parser (web/static/api.js), on its own:
// the wire format split at any byte, CR/LF/CRLF line ends, heartbeats.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EventParser } from '../static/api.js';
import { sentence } from '../static/messages.js';

function parse(chunks) {
  const events = [];
  const parser = new EventParser((event) => events.push(event));
  for (const chunk of chunks) parser.push(chunk);
  return events;
}

test('events split across chunks at any point are parsed whole, heartbeats ignored', () => {
  const wire = ':\n\ndata: {"status":"WAITING","position":2}\n\n:\n\ndata: {"status":"ACTIVE"}\n\n';
  for (let cut = 0; cut <= wire.length; cut += 1) {
    const events = parse([wire.slice(0, cut), wire.slice(cut)]);
    assert.deepEqual(events, [{ status: 'WAITING', position: 2 }, { status: 'ACTIVE' }], `cut at ${cut}`);
  }
});

test('CRLF and CR end lines too, and data lines of one event are joined', () => {
  const wire = 'data: {"a":\r\ndata: 1}\r\n\r\n';
  for (let cut = 0; cut <= wire.length; cut += 1) {
    assert.deepEqual(parse([wire.slice(0, cut), wire.slice(cut)]), [{ a: 1 }], `cut at ${cut}`);
  }
  assert.deepEqual(parse(['data: {"a":\r\ndata: 1}\r\n\r\n']), [{ a: 1 }]);
  assert.deepEqual(parse(['data:{"b":2}\r\rdata:{"c":3}\n\n']), [{ b: 2 }, { c: 3 }]);
});

test('an unfinished event is not delivered, and a non-JSON one is skipped', () => {
  assert.deepEqual(parse(['data: {"a":1}\n']), []);
  assert.deepEqual(parse(['data: not json\n\ndata: {"ok":true}\n\n']), [{ ok: true }]);
});

test('every problem code becomes a sentence, unknown ones too', () => {
  assert.match(sentence('SEAT_UNAVAILABLE'), /someone else just took that seat/);
  assert.match(sentence('RATE_LIMITED'), /wait a little/);
  assert.match(sentence('HTTP_502'), /on our side/);
  assert.doesNotMatch(sentence('SOMETHING_NEW'), /[{}]/);
});
