import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createCursorCodec } from '../../src/messages/cursor.ts';
import type { MatchFilter } from '../../src/storage/store.ts';

const NONE: MatchFilter = { from: null, since: null, until: null, q: null };
const key = randomBytes(32);
const codec = createCursorCodec(key);
const position = { tsKey: '2025-01-15T10:00:00.500000000Z', messageId: 'wamid.HBgM=="é👍' };

test('a cursor round-trips, is base64url, and hides nothing it should not need to', () => {
  const cursor = codec.encode(position, NONE);
  assert.match(cursor, /^[A-Za-z0-9_-]+$/);
  assert.deepEqual(codec.decode(cursor, NONE), position);
  assert.deepEqual(codec.decode(codec.encode({ tsKey: '', messageId: '' }, NONE), NONE), { tsKey: '', messageId: '' }, 'legacy rows: empty key');
  const long = { tsKey: position.tsKey, messageId: 'x'.repeat(3000) };
  assert.deepEqual(codec.decode(codec.encode(long, NONE), NONE), long);
});

test('the same key (read from the database by another process) decodes it; another key does not', () => {
  const cursor = codec.encode(position, NONE);
  assert.deepEqual(createCursorCodec(Uint8Array.from(key)).decode(cursor, NONE), position);
  assert.equal(createCursorCodec(randomBytes(32)).decode(cursor, NONE), null);
  assert.throws(() => createCursorCodec(new Uint8Array(16)));
});

test('a cursor is bound to its filters, instants compared as instants', () => {
  const filter: MatchFilter = { from: '+1555', since: '2025-01-15T10:00:00.000000000Z', until: null, q: 'hi' };
  const cursor = codec.encode(position, filter);
  assert.deepEqual(codec.decode(cursor, { ...filter }), position);
  for (const other of [NONE, { ...filter, from: '+1556' }, { ...filter, q: 'Hi' }, { ...filter, q: null }, { ...filter, until: '2026-01-01T00:00:00.000000000Z' }, { ...filter, since: null }]) {
    assert.equal(codec.decode(cursor, other), null, JSON.stringify(other));
  }
});

test('every altered byte, truncation or extension is refused', () => {
  const cursor = codec.encode(position, NONE);
  const bytes = Buffer.from(cursor, 'base64url');
  for (let i = 0; i < bytes.length; i += 1) {
    for (const bit of [1, 0x80]) {
      const changed = Buffer.from(bytes);
      changed[i] = (changed[i] ?? 0) ^ bit;
      assert.equal(codec.decode(changed.toString('base64url'), NONE), null, `byte ${i}`);
    }
  }
  for (let n = 0; n < bytes.length; n += 1) assert.equal(codec.decode(bytes.subarray(0, n).toString('base64url'), NONE), null);
  for (const extra of ['A', 'AA', '_', '=']) assert.equal(codec.decode(cursor + extra, NONE), null, extra);
});

test('garbage is refused, never thrown on', () => {
  for (const text of ['', ' ', '!!!', 'a b', 'AA==', '\u0000', 'é', 'A'.repeat(100_000), Buffer.alloc(40).toString('base64url'), Buffer.from([1, 200, ...new Array(40).fill(0)]).toString('base64url')]) {
    assert.equal(codec.decode(text, NONE), null, text.slice(0, 20));
  }
});
