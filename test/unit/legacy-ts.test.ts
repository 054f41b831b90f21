import { test } from 'node:test';
import assert from 'node:assert/strict';
import { legacyInstantKey } from '../../src/storage/sqlite/legacy-ts.ts';
import { instantKey } from '../../src/domain/timestamp.ts';

const TEN_UTC = '2025-01-15T10:00:00.000000000Z';

test('strict timestamps get the same key as instantKey', () => {
  for (const ts of ['2025-01-15T10:00:00Z', '2025-01-15T10:00:00.5Z', '2024-02-29T23:59:59.123456789Z']) {
    assert.equal(legacyInstantKey(ts), instantKey(ts), ts);
  }
});

test('offsets are converted to UTC', () => {
  assert.equal(legacyInstantKey('2025-01-15T12:00:00+02:00'), TEN_UTC);
  assert.equal(legacyInstantKey('2025-01-15T12:00:00+02:00'), instantKey('2025-01-15T10:00:00Z'));
  assert.equal(legacyInstantKey('2025-01-15T05:00:00-05:00'), TEN_UTC);
  assert.equal(legacyInstantKey('2025-01-15T10:00:00+00:00'), TEN_UTC);
  assert.equal(legacyInstantKey('2025-01-15T15:30:00+0530'), TEN_UTC);
});

test('an offset can move the instant to another day', () => {
  assert.equal(legacyInstantKey('2025-01-01T01:00:00+02:00'), '2024-12-31T23:00:00.000000000Z');
  assert.equal(legacyInstantKey('2024-12-31T23:00:00-02:00'), '2025-01-01T01:00:00.000000000Z');
});

test('fractions survive the offset conversion', () => {
  assert.equal(legacyInstantKey('2025-01-15T12:00:00.123456789+02:00'), '2025-01-15T10:00:00.123456789Z');
  assert.equal(legacyInstantKey('2025-01-15T12:00:00.5+02:00'), '2025-01-15T10:00:00.500000000Z');
});

test('lowercase z', () => {
  assert.equal(legacyInstantKey('2025-01-15T10:00:00z'), TEN_UTC);
});

test('a space instead of T', () => {
  assert.equal(legacyInstantKey('2025-01-15 10:00:00Z'), TEN_UTC);
  assert.equal(legacyInstantKey('2025-01-15 12:00:00+02:00'), TEN_UTC);
});

test('no seconds', () => {
  assert.equal(legacyInstantKey('2025-01-15T10:00Z'), TEN_UTC);
  assert.equal(legacyInstantKey('2025-01-15T12:00+02:00'), TEN_UTC);
});

test('no zone is read as UTC', () => {
  assert.equal(legacyInstantKey('2025-01-15T10:00:00'), TEN_UTC);
});

test('a converted legacy value orders correctly among strict keys', () => {
  const legacy = legacyInstantKey('2025-01-15T12:00:00.5+02:00');
  assert.equal(legacy > legacyInstantKey('2025-01-15T10:00:00Z'), true);
  assert.equal(legacy < legacyInstantKey('2025-01-15T10:00:01Z'), true);
});

test('garbage gets the empty key', () => {
  for (const ts of ['garbage', 'not a date', '', '   ', '2025-13-45T99:99:99Z', '2025-01-15T10:00:00+02', 'null']) {
    assert.equal(legacyInstantKey(ts), '', JSON.stringify(ts));
  }
});

// Date.parse, the last fallback, would roll impossible ISO dates over into the next month.
test('an impossible calendar date is unreadable, not rolled over to another day', () => {
  assert.equal(legacyInstantKey('2025-02-30T00:00:00+02:00'), '');
  assert.equal(legacyInstantKey('2025-02-30T00:00:00Z'), '');
});

test('the empty key sorts before every real key', () => {
  assert.equal('' < legacyInstantKey('0001-01-01T00:00:00Z'), true);
});
